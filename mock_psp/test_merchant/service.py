"""The merchant's use cases: take an order, pay, refund, sync, reconcile (webhooks: ``webhooks``).

Every use case follows one rule from the seeds: never hold a database
transaction across a call to the provider. Write what we intend, commit, call,
then record the answer in a new transaction. And never act on what a webhook
or a browser says: ask the provider's API, and act on its answer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from dataclasses import field

from . import orders as o
from . import strict
from .clock import MerchantClock
from .govpay_lk import GovpayLk
from .psp.base import PaymentTruth
from .psp.base import ProviderError
from .psp.clients import CLIENTS
from .psp.govpay_lk import CURRENCY as GOVPAY_LK_CURRENCY
from .psp.govpay_lk import DIALECT as GOVPAY_LK
from .store import Store
from .webhooks import Receiver
from .webhooks import has_orphan_refund

log = logging.getLogger(__name__)

DEFAULT_RECONCILE_AFTER = 15 * 60
CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass
class Wiring:
    """How this merchant reaches its provider (filled in by ``provision``)."""

    dialect: str
    psp_url: str
    namespace: str | None = None
    credentials: dict = field(default_factory=dict)
    scheme: str | None = None
    secret: str | None = None
    url: str | None = None  # where this merchant listens
    endpoint_id: str | None = None
    # The provider's control token, if it was started with one; never saved in the shop's database.
    control_token: str | None = None


class Merchant:
    def __init__(self, store: Store, wiring: Wiring, reconcile_after: float = DEFAULT_RECONCILE_AFTER):
        self.store = store
        self.wiring = wiring
        self.reconcile_after = reconcile_after
        self.clock = MerchantClock(wiring.psp_url, wiring.namespace, wiring.control_token)
        self.client = CLIENTS[wiring.dialect](self._api_base(), wiring.credentials) if wiring.credentials else None
        self.webhooks = Receiver(self)
        self.govpay = GovpayLk(self)  # GovPay+'s calls to the shop (presentment, update, OAuth2 tokens)

    def _api_base(self) -> str:
        return f"{self.wiring.psp_url.rstrip('/')}/{self.wiring.dialect}"

    def rewire(self, wiring: Wiring) -> None:
        self.wiring = wiring
        self.clock = MerchantClock(wiring.psp_url, wiring.namespace, wiring.control_token)
        self.client = CLIENTS[wiring.dialect](self._api_base(), wiring.credentials)

    @property
    def psp(self):
        if self.client is None:
            raise _not_connected()
        return self.client

    def now(self) -> float:
        return self.clock.now()

    # -- orders ----------------------------------------------------------------------------------

    def create_order(self, amount: object, currency: object, description: object = None, card: object = None,
                     idempotency_key: str | None = None) -> tuple[dict, bool]:
        """Create an order and its payment at the provider. With a card, pay at once by API.

        Returns the order and whether it was new (False: the idempotency key was seen before)."""
        if not strict.is_amount(amount):  # 2^63 would not even fit the shop's database
            raise o.OrderError(400, "invalid_amount", "amount must be a positive integer (minor units), at most "
                                                      f"{strict.MAX_AMOUNT}")
        if not isinstance(currency, str) or not CURRENCY.match(currency):
            raise o.OrderError(400, "invalid_currency", "currency must be a three-letter ISO 4217 code, e.g. GBP")
        if description is not None and not isinstance(description, str):
            raise o.OrderError(400, "invalid_description", "description must be a string")
        if self.wiring.dialect == GOVPAY_LK:
            if card is not None:
                raise o.OrderError(400, "card_not_supported", "GovPay+ payments are made on GovPay's page: create the "
                                                              "order without a card and send the customer to its "
                                                              "checkout.redirect_url")
            if currency != GOVPAY_LK_CURRENCY:
                raise o.OrderError(400, "invalid_currency", "GovPay+ takes LKR only")
        card_details = parse_card(card) if card is not None else None
        if self.wiring.dialect == "govuk" and currency != "GBP":
            raise o.OrderError(400, "invalid_currency", "GOV.UK Pay takes GBP only")
        if self.client is None:  # refuse before writing an order that could never be paid
            raise _not_connected()
        now = self.now()
        with self.store.write() as db:
            order, new = o.create_order(db, dialect=self.wiring.dialect, amount=amount, currency=currency,
                                        description=description or "Order", idempotency_key=idempotency_key,
                                        now=now)
        if not new and order["payment_id"]:
            return self.order(order["id"]), False
        self._start_payment(order, card_details)
        return self.order(order["id"]), new

    def _start_payment(self, order: dict, card: dict | None) -> None:
        return_url = f"{self.wiring.url}/orders/{order['id']}/return" if self.wiring.url else "http://127.0.0.1/"
        try:
            truth, checkout = self.psp.create_payment(order, return_url, card)
        except ProviderError as error:
            if error.uncertain:
                # The provider may have the payment; reconciliation will find it by the order id.
                log.warning("order %s: payment creation uncertain: %s", order["id"], error)
                return
            with self.store.write() as db:
                o.fail_unstarted_order(db, order["id"], str(error), f"provider refused the payment: {error}",
                                       self.now())
            return
        with self.store.write() as db:
            o.attach_payment(db, order["id"], truth.payment_id, checkout, self.now())
            o.record_payment(db, order["id"], truth, f"create payment: provider says {truth.provider_status}",
                             self.now())
        self.webhooks.process_inbox(payment_id=truth.payment_id)  # its webhooks may have come first

    def order(self, order_id: str) -> dict:
        with self.store.read() as db:
            return o.order_json(db, o.get_order(db, order_id))

    def orders(self, state: str | None = None, limit: int = 1000) -> list[dict]:
        if state is not None and state not in o.STATES:
            raise o.OrderError(400, "invalid_state", f"state must be one of {', '.join(o.STATES)}")
        with self.store.read() as db:
            where, args = ("WHERE state = ?", [state]) if state else ("", [])
            rows = db.execute(f"SELECT * FROM orders {where} ORDER BY created_at, id LIMIT ?", [*args, limit])
            return [o.order_json(db, dict(row)) for row in rows.fetchall()]

    def sync_order(self, order_id: str, cause: str) -> dict:
        """Ask the provider where the payment and its refunds stand, and apply it."""
        with self.store.read() as db:
            order = o.get_order(db, order_id)
        if order["payment_id"]:
            truth = self.payment_truth(order)
            with self.store.write() as db:
                o.record_payment(db, order_id, truth, f"{cause}: provider says {truth.provider_status}", self.now())
            self._sync_refunds(order, cause)
        return self.order(order_id)

    def payment_truth(self, order: dict) -> PaymentTruth:
        """What the provider says of the order's payment. GovPay+: its reference's transactions,
        a SUCCESS counting only for the order's own amount and currency."""
        if self.wiring.dialect == GOVPAY_LK:
            return self.psp.get_order_payment(order)
        return self.psp.get_payment(order["payment_id"])

    def _sync_refunds(self, order: dict, cause: str) -> None:
        for truth in self.psp.list_refunds(order["payment_id"]):
            with self.store.write() as db:
                if o.find_refund(db, order["id"], truth.refund_id) is None and has_orphan_refund(db, order["id"]):
                    continue  # may be one of ours whose answer is still on its way: reconcile adopts it
                o.record_refund(db, order["id"], truth, f"{cause}: refund {truth.refund_id} is "
                                f"{truth.provider_status}", self.now())

    # -- refunds ---------------------------------------------------------------------------------

    def refund(self, order_id: str, amount: object = None) -> dict:
        """Open a pending refund, ask the provider; only its webhook (or reconciliation) finalises it."""
        if self.wiring.dialect == GOVPAY_LK:
            self.order(order_id)  # 404 for an order that does not exist
            raise o.OrderError(409, "refunds_not_supported", "GovPay+ has no refund API: this shop cannot refund "
                                                              "a GovPay+ payment")
        with self.store.write() as db:
            refund, available = o.open_refund(db, order_id, amount, self.now())
            order = o.get_order(db, order_id)
        try:
            truth = self.psp.create_refund(order["payment_id"], refund["id"], refund["amount"], available)
        except ProviderError as error:
            if error.uncertain:
                log.warning("refund %s: outcome unknown (%s); reconciliation will settle it", refund["id"], error)
                with self.store.write() as db:
                    db.execute("UPDATE refunds SET error = ? WHERE id = ?", [str(error), refund["id"]])
            else:
                with self.store.write() as db:
                    o.fail_refund(db, refund["id"], str(error), f"provider refused refund {refund['id']}: {error}",
                                  self.now())
            return self.order(order_id)
        with self.store.write() as db:
            o.attach_refund(db, refund["id"], truth.refund_id, truth.provider_status, self.now())
        self.webhooks.process_inbox(payment_id=order["payment_id"])  # its webhook may have come first
        return self.order(order_id)

    # -- reconciliation --------------------------------------------------------------------------

    def reconcile(self, older_than: float | None = None) -> dict:
        """Sweep orders pending too long and refunds stuck pending; apply the provider's truth."""
        from .reconcile import sweep
        return sweep(self, self.reconcile_after if older_than is None else older_than)

    def reset(self) -> None:
        with self.store.write() as db:
            for table in ("webhook_log", "transitions", "refunds", "orders"):
                db.execute(f"DELETE FROM {table}")




def _not_connected() -> o.OrderError:
    # The shop's state, not a failure of the call: 409 (a 503 would invite a retry that cannot help).
    return o.OrderError(409, "not_connected", "the merchant is not connected to a provider yet")


def parse_card(card: object) -> dict:
    """A card given to POST /_merchant/orders: a number, or {number, expiry (MM/YY), cvc, name}."""
    if isinstance(card, str):
        card = {"number": card}
    if not isinstance(card, dict) or not isinstance(card.get("number"), str):
        raise o.OrderError(400, "invalid_card", 'card must be a card number or {"number", "expiry", "cvc", "name"}')
    unknown = set(card) - {"number", "expiry", "cvc", "name"}
    if unknown:
        raise o.OrderError(400, "invalid_card", f"unknown card field(s): {', '.join(sorted(unknown))}")
    number = card["number"].replace(" ", "")
    expiry = card.get("expiry", "12/34")
    match = re.fullmatch(r"([0-9]{2})/([0-9]{2})", expiry) if isinstance(expiry, str) else None
    if not strict.ascii_digits(number) or match is None:
        raise o.OrderError(400, "invalid_card", "card number must be digits and expiry MM/YY")
    cvc, name = card.get("cvc", "123"), card.get("name", "Test Cardholder")
    if not isinstance(cvc, str) or not isinstance(name, str):
        raise o.OrderError(400, "invalid_card", "cvc and name must be strings")
    return {"number": number, "exp_month": match[1], "exp_year": f"20{match[2]}", "cvc": cvc, "name": name}
