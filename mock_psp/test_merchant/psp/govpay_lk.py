"""The merchant's GovPay+ (Sri Lanka) client: references, the status inquiry, update events.

GovPay+ works the other way round from the other dialects (docs/govpay-lk.md):
there is no create call. The shop makes up a reference (``refNo``), sends the
citizen to ``/govpay-lk/pay?ref=...&return=...``, and GovPay+ asks the shop what
the reference costs (presentment) and later tells it the result (update); both
calls are served by ``test_merchant.govpay_lk``. What this client does is the
merchant's own call: the status inquiry, authenticated with the namespace's
``govpay_lk.api_key``, which is the only thing the shop acts on.

A reference may see several transactions (a failed card, then a good one). Its
truth is "paid" when one of them is ``SUCCESS`` for the order's reference, amount
and currency; a failed or expired attempt leaves the order pending, and the
reference payable again. GovPay+ has no refunds.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from .. import strict
from .base import FAILED
from .base import PAID
from .base import PENDING
from .base import Event
from .base import HttpClient
from .base import PaymentTruth
from .base import ProviderError
from .base import RefundTruth
from .base import body_of

DIALECT = "govpay-lk"
CURRENCY = "LKR"
REF_PREFIX = "TS"
REF_MAX_LENGTH = 20
REF_PATTERN = re.compile(rf"[A-Za-z0-9]{{1,{REF_MAX_LENGTH}}}")
_REF_ALPHABET = string.ascii_uppercase + string.digits

UPDATE = "govpay_update"
PRESENTMENT = "govpay_presentment"

# The provider's words for a transaction (the inquiry), and the update's, normalised.
TX_SUCCESS, TX_FAILED, TX_PENDING, TX_EXPIRED = "SUCCESS", "FAILED", "PENDING", "EXPIRED"
NO_TRANSACTION = "NO_TRANSACTION"  # our word: the reference has no transaction at the provider yet
UPDATE_STATUSES = {
    "SUCCESS": TX_SUCCESS, "PAID": TX_SUCCESS, "COMPLETED": TX_SUCCESS,
    "FAILED": TX_FAILED, "DECLINED": TX_FAILED, "REJECTED": TX_FAILED,
    "PENDING": TX_PENDING, "INITIATED": TX_PENDING,
}
# What an update claims about the order (used to spot one the inquiry contradicts).
CLAIMS = {TX_SUCCESS: PAID, TX_FAILED: FAILED, TX_PENDING: PENDING}

# The envelope's field names, with the variants GovPay+ environments send.
TRANSACTION_ID = ("transactionID", "transactionId")
SUBINST_ID = ("subinstId", "suinstId")
SERVICE_ID = ("serviceid", "serviceId", "serviced")
SERVICE_NAME = ("serviceName",)


class MalformedRequest(ValueError):
    """A presentment or update body that is not a GovPay+ request (the text says why)."""


@dataclass(frozen=True)
class GovpayRequest:
    """A GovPay+ presentment or update request, its fields in clear and as strings."""

    transaction_id: str
    subinst_id: str
    service_id: str
    service_name: str
    items: tuple[dict, ...]  # data[]: {"seq", "paramName", "value"}, strings

    def param(self, *names: str) -> str | None:
        """The value of the first data[] item named one of ``names`` (case-insensitive)."""
        wanted = [name.lower() for name in names]
        for name in wanted:
            for item in self.items:
                if item["paramName"].strip().lower() == name:
                    return item["value"]
        return None

    def ref_no(self) -> str:
        """The request's ``refNo``: alphanumeric, at most 20 characters, else MalformedRequest."""
        ref = (self.param("refNo") or "").strip()
        if not ref:
            raise MalformedRequest("data[] has no refNo")
        check_ref_no(ref)
        return ref


def check_ref_no(ref: str) -> None:
    if len(ref) > REF_MAX_LENGTH:
        raise MalformedRequest(f"refNo is {len(ref)} characters; at most {REF_MAX_LENGTH}")
    if not REF_PATTERN.fullmatch(ref):
        raise MalformedRequest("refNo must be letters and digits only")


def new_ref_no() -> str:
    """A reference for a new order: "TS" and 12 upper-case letters or digits."""
    return REF_PREFIX + "".join(secrets.choice(_REF_ALPHABET) for _ in range(12))


def _text(value: object, what: str) -> str:
    """A string field as GovPay+ may send it: a string, or a number for a string."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise MalformedRequest(f"{what} must be a string or a number, not {type(value).__name__}")
    return str(value)


def _field(payload: dict, names: tuple[str, ...]) -> str | None:
    for name in names:
        if payload.get(name) is not None:
            return _text(payload[name], name)
    return None


def parse_request(payload: object, decrypt_item=None) -> GovpayRequest:
    """The common request of both calls, tolerant of GovPay+'s variant field names and of
    numbers for strings. ``decrypt_item`` (from ``govpay_lk_crypto``) opens each data[] item
    first when the call is encrypted. Raises MalformedRequest (or DecryptionError)."""
    if not isinstance(payload, dict):
        raise MalformedRequest("the body must be a JSON object")
    transaction_id = (_field(payload, TRANSACTION_ID) or "").strip()
    if not transaction_id:
        raise MalformedRequest("transactionID is missing")
    data = payload.get("data")
    if not isinstance(data, list):
        raise MalformedRequest("data must be a list of {seq, paramName, value} items")
    items = []
    for position, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise MalformedRequest(f"data[{position - 1}] is not an object")
        if decrypt_item is not None:
            item = decrypt_item(item)
        name = item.get("paramName")
        if name is None:
            raise MalformedRequest(f"data[{position - 1}] has no paramName")
        value = item.get("value")
        items.append({"seq": _text(item["seq"], "seq") if item.get("seq") is not None else str(position),
                      "paramName": _text(name, "paramName"),
                      "value": "" if value is None else _text(value, f"the value of {name}").strip()})
    return GovpayRequest(transaction_id=transaction_id, subinst_id=_field(payload, SUBINST_ID) or "",
                         service_id=_field(payload, SERVICE_ID) or "", service_name=_field(payload, SERVICE_NAME) or "",
                         items=tuple(items))


def update_status(request: GovpayRequest) -> str:
    """The update's status, normalised to SUCCESS, FAILED or PENDING (case-insensitive)."""
    raw = (request.param("status", "paymentStatus") or "").strip()
    if not raw:
        raise MalformedRequest("data[] has no status")
    status = UPDATE_STATUSES.get(raw.upper())
    if status is None:
        raise MalformedRequest(f"unknown status {raw!r}")
    return status


def update_event(request: GovpayRequest) -> Event:
    """An update as the merchant's inbox holds it: its id is the transaction and the status."""
    ref, status = request.ref_no(), update_status(request)
    return Event(event_id=f"{request.transaction_id}:{status}", event_type=UPDATE, object_type="payment",
                 object_id=request.transaction_id, payment_id=ref, claims=CLAIMS[status])


def decimal_text(amount_minor: int) -> str:
    """150000 (LKR cents) -> "1500.00"."""
    return f"{Decimal(amount_minor) / 100:.2f}"


def minor_units(text: object) -> int | None:
    """"1500.00" -> 150000; None for anything that is not a whole number of cents."""
    return strict.amount_minor(str(text).strip())  # Decimal() would take "1e999999999" and "١٥٠٠"


def check_transaction(transaction: dict, ref_no: str, amount: int | None, currency: str | None) -> str | None:
    """Why a transaction does not belong to the order, or None if its reference, amount and
    currency all match."""
    if transaction.get("refNo") != ref_no:
        return f"transaction {transaction.get('transactionID')} is for reference {transaction.get('refNo')!r}, " \
               f"not {ref_no}"
    if amount is not None and minor_units(transaction.get("amount")) != amount:
        return f"transaction {transaction.get('transactionID')} is for {transaction.get('amount')}, " \
               f"the order is {decimal_text(amount)}"
    if currency is not None and transaction.get("currency") != currency:
        return f"transaction {transaction.get('transactionID')} is in {transaction.get('currency')}, " \
               f"the order in {currency}"
    return None


def reference_truth(ref_no: str, transactions: list[dict], amount: int | None = None,
                    currency: str | None = None) -> PaymentTruth:
    """The order's payment, from its reference's transactions (newest first)."""
    ours = [t for t in transactions if t.get("refNo") == ref_no]
    expected = amount if amount is not None else 0
    if not ours:
        return PaymentTruth(payment_id=ref_no, state=PENDING, provider_status=NO_TRANSACTION, amount=expected,
                            paid_amount=0)
    succeeded = [t for t in ours if t.get("status") == TX_SUCCESS]
    for transaction in succeeded:
        if check_transaction(transaction, ref_no, amount, currency) is None:
            return PaymentTruth(payment_id=ref_no, state=PAID, provider_status=TX_SUCCESS, amount=expected,
                                paid_amount=minor_units(transaction.get("amount")) or 0)
    if succeeded:
        why = check_transaction(succeeded[0], ref_no, amount, currency)
        return PaymentTruth(payment_id=ref_no, state=PENDING, provider_status=TX_SUCCESS, amount=expected,
                            paid_amount=0, failure=f"not accepted: {why}")
    latest = ours[0]
    status = str(latest.get("status") or TX_PENDING)
    failure = None
    if status in (TX_FAILED, TX_EXPIRED):
        failure = f"GovPay+ transaction {latest.get('transactionID')} {status}; the reference can be paid again"
    return PaymentTruth(payment_id=ref_no, state=PENDING, provider_status=status, amount=expected, paid_amount=0,
                        failure=failure)


class GovpayLkClient:
    dialect = DIALECT
    default_scheme = None  # GovPay+ authenticates its calls with a bearer token; it signs nothing

    def provider_calls(self, shop_url: str) -> str:
        """Where the provider reaches this shop, for the banner of `mock-psp up`."""
        return f"GovPay+ calls {shop_url}/govpay-lk/validate and /update"

    def __init__(self, base_url: str, credentials: dict):
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.http = HttpClient(base_url, {"Authorization": f"Bearer {credentials['api_key']}"})

    # -- payments ------------------------------------------------------------------------------

    def create_payment(self, order: dict, return_url: str, card: dict | None) -> tuple[PaymentTruth, dict]:
        """No call: GovPay+ pulls. The shop makes the reference and the URL that sends the
        citizen to GovPay+ with it."""
        if card is not None:
            raise ProviderError("GovPay+ takes payments on its own page only", status=400, code="card_not_supported")
        ref_no = new_ref_no()
        truth = PaymentTruth(payment_id=ref_no, state=PENDING, provider_status=NO_TRANSACTION,
                             amount=order["amount"], paid_amount=0)
        return truth, self.checkout(ref_no, return_url)

    def checkout(self, ref_no: str, return_url: str) -> dict:
        return {"ref_no": ref_no,
                "redirect_url": f"{self.base_url}/pay?ref={ref_no}&return={quote(return_url, safe=':/')}"}

    def get_payment(self, payment_id: str) -> PaymentTruth:
        """The reference's truth (``payment_id`` is the refNo), without the order's checks."""
        return reference_truth(payment_id, self.list_transactions(payment_id))

    def get_order_payment(self, order: dict) -> PaymentTruth:
        """The reference's truth, a SUCCESS counting only for the order's amount and currency."""
        return reference_truth(order["payment_id"], self.list_transactions(order["payment_id"]), order["amount"],
                               order["currency"])

    def find_payment_for_order(self, order_id: str) -> tuple[PaymentTruth, dict] | None:
        return None  # the shop makes the reference with the order: no call, so no lost answer to look for

    def list_transactions(self, ref_no: str) -> list[dict]:
        """``GET /v1/transactions?refNo=`` — the reference's transactions, newest first."""
        response = self.http.call("GET", f"/v1/transactions?refNo={quote(ref_no, safe='')}", repeatable=True)
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise _error("status inquiry by refNo", response)
        transactions = body_of(response).get("transactions")
        if not isinstance(transactions, list):
            raise ProviderError("status inquiry by refNo: the answer has no transactions list",
                                status=response.status_code)
        return [t for t in transactions if isinstance(t, dict)]

    def get_transaction(self, transaction_id: str) -> dict | None:
        """``GET /v1/transactions/{transactionID}`` — one transaction, or None if the provider has none."""
        response = self.http.call("GET", f"/v1/transactions/{quote(transaction_id, safe='')}", repeatable=True)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _error("status inquiry", response)
        return body_of(response)

    # -- refunds: GovPay+ has none -------------------------------------------------------------

    def create_refund(self, payment_id: str, refund_id: str, amount: int, available: int) -> RefundTruth:
        raise ProviderError("GovPay+ has no refund API", status=409, code="refunds_not_supported")

    @staticmethod
    def get_refund(payment_id: str, refund_id: str) -> RefundTruth | None:
        return None

    @staticmethod
    def get_refund_by_merchant_id(payment_id: str, refund_id: str) -> RefundTruth | None:
        return None

    @staticmethod
    def list_refunds(payment_id: str) -> list[RefundTruth]:
        return []

    # -- calls from the provider ---------------------------------------------------------------

    @staticmethod
    def parse_event(payload: dict) -> Event:
        """An update body (its data[] in clear) as an Event; MalformedRequest if it is not one."""
        return update_event(parse_request(payload))

    def verify_return(self, url: str) -> bool | None:
        return None  # GovPay+ adds nothing to the return URL: the shop asks the inquiry


def _error(what: str, response) -> ProviderError:
    body = body_of(response)
    code = body.get("error") if isinstance(body.get("error"), str) else None
    message = body.get("message") or response.text[:200]
    return ProviderError(f"{what}: HTTP {response.status_code} {code or ''} {message}".strip(),
                         status=response.status_code, code=code, uncertain=response.status_code >= 500)
