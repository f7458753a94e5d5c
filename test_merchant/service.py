"""The merchant's use cases: take an order, pay, refund, receive a webhook, reconcile.

Every use case follows one rule from the seeds: never hold a database
transaction across a call to the provider. Write what we intend, commit, call,
then record the answer in a new transaction. And never act on what a webhook
or a browser says: ask the provider's API, and act on its answer.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from dataclasses import field

from . import orders as o
from .clock import MerchantClock
from .psp import CLIENTS
from .psp.base import PENDING
from .psp.base import REFUND_FAILED
from .psp.base import REFUND_PENDING
from .psp.base import Event
from .psp.base import ProviderError
from .signatures import SIGNATURE_HEADERS
from .signatures import SignatureInvalid
from .signatures import verify
from .store import Store

log = logging.getLogger("test_merchant")

MAX_WEBHOOK_BYTES = 256 * 1024
DEFAULT_RECONCILE_AFTER = 15 * 60
CURRENCY = re.compile(r"^[A-Z]{3}$")
# Results of a delivery that was refused before it reached the inbox.
REFUSED = ("signature_invalid", "too_large", "malformed")
INTERESTING_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "X-Request-Id", "X-Webhook-Signature-512",
                       "Pay-Signature", "webhook-id", "webhook-timestamp", "webhook-signature")


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


class Merchant:
    def __init__(self, store: Store, wiring: Wiring, reconcile_after: float = DEFAULT_RECONCILE_AFTER):
        self.store = store
        self.wiring = wiring
        self.reconcile_after = reconcile_after
        self.clock = MerchantClock(wiring.psp_url, wiring.namespace)
        self.client = CLIENTS[wiring.dialect](self._api_base(), wiring.credentials) if wiring.credentials else None

    def _api_base(self) -> str:
        return f"{self.wiring.psp_url.rstrip('/')}/{self.wiring.dialect}"

    def rewire(self, wiring: Wiring) -> None:
        self.wiring = wiring
        self.clock = MerchantClock(wiring.psp_url, wiring.namespace)
        self.client = CLIENTS[wiring.dialect](self._api_base(), wiring.credentials)

    @property
    def psp(self):
        if self.client is None:
            raise o.OrderError(503, "not_connected", "the merchant is not connected to a provider yet")
        return self.client

    def now(self) -> float:
        return self.clock.now()

    # -- orders ----------------------------------------------------------------------------------

    def create_order(self, amount: object, currency: object, description: object = None, card: object = None,
                     idempotency_key: str | None = None) -> tuple[dict, bool]:
        """Create an order and its payment at the provider. With a card, pay at once by API.

        Returns the order and whether it was new (False: the idempotency key was seen before)."""
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise o.OrderError(400, "invalid_amount", "amount must be a positive integer (minor units)")
        if not isinstance(currency, str) or not CURRENCY.match(currency):
            raise o.OrderError(400, "invalid_currency", "currency must be a three-letter ISO 4217 code, e.g. GBP")
        if description is not None and not isinstance(description, str):
            raise o.OrderError(400, "invalid_description", "description must be a string")
        card_details = parse_card(card) if card is not None else None
        if self.wiring.dialect == "govuk" and currency != "GBP":
            raise o.OrderError(400, "invalid_currency", "GOV.UK Pay takes GBP only")
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
            truth = self.psp.get_payment(order["payment_id"])
            with self.store.write() as db:
                o.record_payment(db, order_id, truth, f"{cause}: provider says {truth.provider_status}", self.now())
            self._sync_refunds(order, cause)
        return self.order(order_id)

    def _sync_refunds(self, order: dict, cause: str) -> None:
        for truth in self.psp.list_refunds(order["payment_id"]):
            with self.store.write() as db:
                if o.find_refund(db, order["id"], truth.refund_id) is None and _orphans(db, order["id"]):
                    continue  # may be one of ours whose answer is still on its way: reconcile adopts it
                o.record_refund(db, order["id"], truth, f"{cause}: refund {truth.refund_id} is "
                                f"{truth.provider_status}", self.now())

    # -- refunds ---------------------------------------------------------------------------------

    def refund(self, order_id: str, amount: object) -> dict:
        """Open a pending refund, ask the provider; only its webhook (or reconciliation) finalises it."""
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
        self.process_inbox(payment_id=order["payment_id"])  # its webhook may have come first
        return self.order(order_id)

    # -- webhooks --------------------------------------------------------------------------------

    def receive_webhook(self, dialect: str, body: bytes, headers, remote_addr: str | None,
                        declared_length: int | None = None) -> tuple[int, dict]:
        """Check, log and act on one delivery. Returns (HTTP status, JSON answer)."""
        entry = {"received_at": self.now(), "dialect": dialect, "scheme": self.wiring.scheme or dialect,
                 "request_id": headers.get("X-Request-Id") or f"req_{uuid.uuid4().hex}",
                 "source_ip": remote_addr, "size": len(body),
                 "headers": json.dumps({k: headers[k] for k in INTERESTING_HEADERS if k in headers})}
        if dialect != self.wiring.dialect:
            return self._refuse(entry, 404, "error", f"this merchant takes {self.wiring.dialect} webhooks")
        if (declared_length or 0) > MAX_WEBHOOK_BYTES or len(body) > MAX_WEBHOOK_BYTES:
            entry["size"] = max(len(body), declared_length or 0)
            return self._refuse(entry, 413, "too_large", f"body over {MAX_WEBHOOK_BYTES} bytes")
        entry["body"] = body.decode("utf-8", "replace")
        try:
            verify(entry["scheme"], self.wiring.secret or "", body, headers, self.now_for_signatures())
        except SignatureInvalid as why:
            entry["signature_valid"] = 0
            return self._refuse(entry, 401, "signature_invalid", str(why))
        entry["signature_valid"] = 1
        try:
            payload = json.loads(body)
            event = self.psp.parse_event(payload)
        except (ValueError, KeyError, TypeError, AttributeError) as why:
            return self._refuse(entry, 400, "malformed", f"not a {dialect} event: {why.__class__.__name__}: {why}")
        row_id, duplicate_of = self._accept(entry, event)
        if duplicate_of is not None:
            return 200, {"received": True, "result": "duplicate", "log_id": row_id}
        result = self._process(row_id)
        return 200, {"received": True, "result": result, "log_id": row_id}

    @staticmethod
    def now_for_signatures() -> float:
        # Standard Webhooks timestamps are the real sending time, even under a virtual clock.
        return time.time()

    def _refuse(self, entry: dict, status: int, result: str, detail: str) -> tuple[int, dict]:
        with self.store.write() as db:
            row_id = db["webhook_log"].insert({**entry, "result": result, "detail": detail,
                                               "processed_at": entry["received_at"]}).last_pk
        log.info("webhook %s refused: %s (%s)", row_id, result, detail)
        return status, {"error": {"code": result, "message": detail}}

    def _accept(self, entry: dict, event: Event) -> tuple[int, int | None]:
        """Put an accepted event in the inbox, or log it as a duplicate of one already there."""
        fields = {"event_id": event.event_id, "event_type": event.event_type, "object_type": event.object_type,
                  "object_id": event.object_id, "payment_id": event.payment_id}
        with self.store.write() as db:
            first = db.execute("SELECT id FROM webhook_log WHERE event_id = ? AND dialect = ? AND result NOT IN "
                               f"({', '.join('?' * len(REFUSED))}) AND result != 'duplicate' ORDER BY id LIMIT 1",
                               [event.event_id, entry["dialect"], *REFUSED]).fetchone()
            if first is not None:
                row_id = db["webhook_log"].insert({**entry, **fields, "result": "duplicate",
                                                   "detail": f"event {event.event_id} already received "
                                                             f"(log {first[0]})",
                                                   "processed_at": entry["received_at"]}).last_pk
                return row_id, first[0]
            row_id = db["webhook_log"].insert({**entry, **fields, "result": "pending", "detail": None,
                                               "processed_at": None}).last_pk
        return row_id, None

    def process_inbox(self, payment_id: str | None = None, limit: int = 500) -> int:
        """Act on accepted events not yet acted on (after an error, or waiting for a refund's id)."""
        with self.store.read() as db:
            where, args = ("AND payment_id = ?", [payment_id]) if payment_id else ("", [])
            rows = [r[0] for r in db.execute(f"SELECT id FROM webhook_log WHERE processed_at IS NULL {where} "
                                             "ORDER BY id LIMIT ?", [*args, limit])]
        done = 0
        for row_id in rows:
            if self._process(row_id) not in ("pending", "error"):
                done += 1
        return done

    def _process(self, row_id: int) -> str:
        with self.store.read() as db:
            row = dict(db.execute("SELECT * FROM webhook_log WHERE id = ?", [row_id]).fetchone())
        try:
            result, detail = self._act(row)
        except (ProviderError, o.OrderError) as error:
            result, detail = "error", f"error: {error}"
        except Exception as error:  # a bug must not lose the event: it stays in the inbox
            log.exception("webhook %s: processing failed", row_id)
            result, detail = "error", f"error: {error.__class__.__name__}: {error}"
        done = result not in ("pending", "error")
        with self.store.write() as db:
            db.execute("UPDATE webhook_log SET result = ?, detail = ?, processed_at = ? WHERE id = ? "
                       "AND processed_at IS NULL", [result, detail, self.now() if done else None, row_id])
        return result

    def _act(self, row: dict) -> tuple[str, str | None]:
        with self.store.read() as db:
            order = o.find_by_payment(db, row["payment_id"])
        if order is None:
            return "ok", f"no order for payment {row['payment_id']}: not this shop's, ignored"
        claims = self._claims(row)
        cause = f"webhook {row['event_type']} ({row['event_id']})"
        if row["object_type"] == "payment":
            return self._act_on_payment(order, claims, cause)
        if row["object_type"] == "refund":
            return self._act_on_refund(order, row["object_id"], claims, cause)
        return "ok", f"{row['object_type']} events are not handled by this shop"

    def _claims(self, row: dict) -> str | None:
        return self.psp.parse_event(json.loads(row["body"])).claims

    def _act_on_payment(self, order: dict, claims: str | None, cause: str) -> tuple[str, str | None]:
        if order["payment_state"] in o.FINAL_PAYMENT_STATES and claims == PENDING:
            return "stale", f"order is already {order['state']}; the event says the payment is still pending"
        truth = self.psp.get_payment(order["payment_id"])
        with self.store.write() as db:
            applied = o.record_payment(db, order["id"], truth, f"{cause}: provider says {truth.provider_status}",
                                       self.now())
            state = o.get_order(db, order["id"])["state"]
        if applied.ignored or (claims is not None and claims != truth.state and not applied.changed):
            return "stale", f"event says {claims}; provider says {truth.provider_status}; order stays {state}"
        return "ok", f"provider says {truth.provider_status}; order {'is now' if applied.changed else 'stays'} {state}"

    def _act_on_refund(self, order: dict, provider_refund_id: str, claims: str | None,
                       cause: str) -> tuple[str, str | None]:
        with self.store.read() as db:
            local = o.find_refund(db, order["id"], provider_refund_id)
            waiting = _orphans(db, order["id"])
        if local is None and waiting:
            # One of our refunds may not know its provider id yet (the provider's answer is in flight).
            return "pending", f"refund {provider_refund_id} not matched yet; waiting for the refund request to finish"
        if local is not None and local["state"] in o.FINAL_REFUND_STATES:
            result = "ok" if claims in (None, local["state"]) else "stale"
            return result, f"refund {local['id']} is already {local['state']}"
        truth = self.psp.get_refund(order["payment_id"], provider_refund_id)
        if truth is None:
            return "error", f"error: the provider does not know refund {provider_refund_id}"
        with self.store.write() as db:
            applied = o.record_refund(db, order["id"], truth, f"{cause}: refund {truth.refund_id} is "
                                      f"{truth.provider_status}", self.now())
            state = o.get_order(db, order["id"])["state"]
        return "ok", f"refund {truth.refund_id} is {truth.provider_status}; order {'is now' if applied.changed else 'stays'} {state}"

    def webhook_log(self, result: str | None = None, limit: int = 1000) -> list[dict]:
        with self.store.read() as db:
            if result:
                where, args = "WHERE result = ?", [result]
            else:
                where, args = "", []
            rows = db.execute(f"SELECT * FROM webhook_log {where} ORDER BY id LIMIT ?", [*args, limit]).fetchall()
        return [_log_json(dict(r)) for r in rows]

    # -- reconciliation --------------------------------------------------------------------------

    def reconcile(self, older_than: float | None = None) -> dict:
        """Sweep orders pending too long and refunds stuck pending; apply the provider's truth."""
        from .reconcile import sweep
        return sweep(self, self.reconcile_after if older_than is None else older_than)

    def reset(self) -> None:
        with self.store.write() as db:
            for table in ("webhook_log", "transitions", "refunds", "orders"):
                db.execute(f"DELETE FROM {table}")


def _orphans(db, order_id: str) -> bool:
    """Does the order have a refund of ours the provider has not given an id for yet?"""
    return db.execute("SELECT 1 FROM refunds WHERE order_id = ? AND state = ? AND provider_refund_id IS NULL "
                      "AND source = 'merchant'", [order_id, REFUND_PENDING]).fetchone() is not None


def _log_json(row: dict) -> dict:
    return {"id": row["id"], "received_at": row["received_at"], "dialect": row["dialect"], "scheme": row["scheme"],
            "request_id": row["request_id"], "source_ip": row["source_ip"], "headers": json.loads(row["headers"]),
            "size": row["size"], "signature_valid": None if row["signature_valid"] is None
            else bool(row["signature_valid"]), "event_id": row["event_id"], "event_type": row["event_type"],
            "object_type": row["object_type"], "object_id": row["object_id"], "payment_id": row["payment_id"],
            "result": row["result"], "detail": row["detail"], "processed_at": row["processed_at"]}


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
    match = re.fullmatch(r"(\d{2})/(\d{2})", expiry) if isinstance(expiry, str) else None
    if not number.isdigit() or match is None:
        raise o.OrderError(400, "invalid_card", "card number must be digits and expiry MM/YY")
    cvc, name = card.get("cvc", "123"), card.get("name", "Test Cardholder")
    if not isinstance(cvc, str) or not isinstance(name, str):
        raise o.OrderError(400, "invalid_card", "cvc and name must be strings")
    return {"number": number, "exp_month": match[1], "exp_year": f"20{match[2]}", "cvc": cvc, "name": name}
