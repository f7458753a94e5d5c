"""The merchant's Hyperswitch client: payments, refunds, webhook events, the signed return.

Idempotency the Hyperswitch way: the merchant chooses ``payment_id`` (the order
id) and ``refund_id`` (its own refund id). Repeating a create after a lost
answer gives ``HE_01`` (already exists), and the client then reads the object.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

from .base import CANCELLED
from .base import FAILED
from .base import PAID
from .base import PENDING
from .base import REFUND_FAILED
from .base import REFUND_PENDING
from .base import REFUND_SUCCEEDED
from .base import Event
from .base import HttpClient
from .base import PaymentTruth
from .base import ProviderError
from .base import RefundTruth
from .base import body_of

PAYMENT_STATES = {
    "succeeded": PAID,
    "partially_captured": PAID,
    "failed": FAILED,
    "expired": FAILED,
    "cancelled": CANCELLED,
}  # everything else (requires_*, processing) is still pending

REFUND_STATES = {"succeeded": REFUND_SUCCEEDED, "failure": REFUND_FAILED, "failed": REFUND_FAILED,
                 "transaction_failure": REFUND_FAILED}

# What each event claims; only used to notice an event that arrives after the order moved on.
EVENT_CLAIMS = {
    "payment_succeeded": PAID, "payment_captured": PAID, "payment_failed": FAILED, "payment_expired": FAILED,
    "payment_cancelled": CANCELLED, "payment_processing": PENDING, "payment_authorized": PENDING,
    "action_required": PENDING, "refund_succeeded": REFUND_SUCCEEDED, "refund_failed": REFUND_FAILED,
}


class HyperswitchClient:
    dialect = "hyperswitch"
    default_scheme = "hyperswitch"

    def provider_calls(self, shop_url: str) -> str:
        """Where the provider reaches this shop, for the banner of `mock-psp up`."""
        return f"webhooks at {shop_url}/webhooks/{self.dialect}"

    def __init__(self, base_url: str, credentials: dict):
        self.credentials = credentials
        self.http = HttpClient(base_url, {"api-key": credentials["api_key"]})

    # -- payments ------------------------------------------------------------------------------

    def create_payment(self, order: dict, return_url: str, card: dict | None) -> tuple[PaymentTruth, dict]:
        body = {"payment_id": order["id"], "amount": order["amount"], "currency": order["currency"],
                "description": order["description"], "return_url": return_url, "capture_method": "automatic",
                "metadata": {"order_id": order["id"]}}
        if card:
            body.update(confirm=True, payment_method="card", payment_method_type="credit",
                        payment_method_data={"card": {
                            "card_number": card["number"], "card_exp_month": card["exp_month"],
                            "card_exp_year": card["exp_year"], "card_holder_name": card["name"],
                            "card_cvc": card["cvc"]}})
        else:
            body["payment_link"] = True  # the redirect flow's hosted page
        response = self.http.call("POST", "/payments", json=body, repeatable=True)
        payment = body_of(response)
        if response.status_code == 400 and _code(payment) == "HE_01":
            payment = self._payment_json(order["id"])  # created by an earlier try whose answer was lost
        elif response.status_code != 200:
            raise _error("create payment", response)
        return self._truth(payment), self._checkout(payment)

    def get_payment(self, payment_id: str) -> PaymentTruth:
        return self._truth(self._payment_json(payment_id))

    def find_payment_for_order(self, order_id: str) -> tuple[PaymentTruth, dict] | None:
        """The payment made for an order whose create answer was lost (its payment_id is the order id)."""
        response = self.http.call("GET", f"/payments/{order_id}", repeatable=True)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _error("find payment", response)
        payment = body_of(response)
        return self._truth(payment), self._checkout(payment)

    def _payment_json(self, payment_id: str) -> dict:
        response = self.http.call("GET", f"/payments/{payment_id}", repeatable=True)
        if response.status_code != 200:
            raise _error("get payment", response)
        return body_of(response)

    def _checkout(self, payment: dict) -> dict:
        link = payment.get("payment_link") or {}
        next_action = payment.get("next_action") or {}
        return {"client_secret": payment.get("client_secret"),
                "publishable_key": self.credentials.get("publishable_key"),
                "redirect_url": next_action.get("redirect_to_url") or link.get("link")}

    @staticmethod
    def _truth(payment: dict) -> PaymentTruth:
        status = payment.get("status", "")
        state = PAYMENT_STATES.get(status, PENDING)
        failure = None
        if state == FAILED:
            failure = payment.get("error_message") or payment.get("error_code") or status
        return PaymentTruth(payment_id=payment["payment_id"], state=state, provider_status=status,
                            amount=payment.get("amount", 0),
                            paid_amount=(payment.get("amount_received") or 0) if state == PAID else 0,
                            failure=failure)

    # -- refunds -------------------------------------------------------------------------------

    def create_refund(self, payment_id: str, refund_id: str, amount: int, available: int) -> RefundTruth:
        body = {"payment_id": payment_id, "refund_id": refund_id, "amount": amount, "reason": "requested by the shop",
                "refund_type": "instant", "metadata": {"refund_id": refund_id}}
        response = self.http.call("POST", "/refunds", json=body, repeatable=True)
        refund = body_of(response)
        if response.status_code == 400:
            # The call is retried after a lost answer, so a refusal may be about our own first
            # attempt: HE_01 (that id exists) or IR_13 (a full refund already took the amount).
            # The refund id is ours: ask for it before believing the refusal.
            existing = self.get_refund(payment_id, refund_id)
            if existing is not None:
                return existing
        if response.status_code != 200:
            raise _error("create refund", response)
        return self._refund_truth(refund)

    def get_refund(self, payment_id: str, refund_id: str) -> RefundTruth | None:
        """The refund, or None if the provider has never heard of it."""
        response = self.http.call("GET", f"/refunds/{refund_id}", repeatable=True)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _error("get refund", response)
        return self._refund_truth(body_of(response))

    def get_refund_by_merchant_id(self, payment_id: str, refund_id: str) -> RefundTruth | None:
        return self.get_refund(payment_id, refund_id)  # Hyperswitch keeps the merchant's refund_id

    def list_refunds(self, payment_id: str) -> list[RefundTruth]:
        response = self.http.call("POST", "/refunds/list", json={"payment_id": payment_id, "limit": 100},
                                  repeatable=True)
        if response.status_code != 200:
            raise _error("list refunds", response)
        return [self._refund_truth(item) for item in body_of(response).get("data", [])]

    @staticmethod
    def _refund_truth(refund: dict) -> RefundTruth:
        status = refund.get("status", "")
        return RefundTruth(refund_id=refund["refund_id"], payment_id=refund["payment_id"], amount=refund["amount"],
                           state=REFUND_STATES.get(status, REFUND_PENDING), provider_status=status,
                           error=refund.get("error_message"))

    # -- webhooks and returns ------------------------------------------------------------------

    def signing_secret(self) -> str:
        return self.credentials["payment_response_hash_key"]

    @staticmethod
    def parse_event(payload: dict) -> Event:
        """Raises KeyError/TypeError on a body that is not a Hyperswitch event."""
        content = payload["content"]
        obj = content["object"]
        kind = {"payment_details": "payment", "refund_details": "refund"}.get(content["type"], content["type"])
        object_id = obj["refund_id"] if kind == "refund" else obj.get("payment_id", "")
        event_type = payload["event_type"]
        return Event(event_id=str(payload["event_id"]), event_type=event_type, object_type=kind,
                     object_id=str(object_id), payment_id=obj.get("payment_id"), claims=EVENT_CLAIMS.get(event_type))

    def verify_return(self, url: str) -> bool | None:
        """Check the signature Hyperswitch appends to return_url (None: the URL carries none).

        The router signs every query pair, sorted, joined as k=v&k=v, HMAC-SHA512
        with the payment_response_hash_key (see docs/hyperswitch.md)."""
        pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
        given = [v for k, v in pairs if k == "signature"]
        if not given:
            return None
        signed = sorted((k, v) for k, v in pairs if k not in ("signature", "signature_algorithm"))
        message = "&".join(f"{k}={v}" for k, v in signed)
        expected = hmac.new(self.signing_secret().encode(), message.encode(), hashlib.sha512).hexdigest()
        return hmac.compare_digest(expected, given[0])


def _code(body: dict) -> str | None:
    error = body.get("error")
    return error.get("code") if isinstance(error, dict) else None


def _error(what: str, response) -> ProviderError:
    body = body_of(response)
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    message = error.get("message") or response.text[:200]
    return ProviderError(f"{what}: HTTP {response.status_code} {error.get('code', '')} {message}".strip(),
                         status=response.status_code, code=error.get("code"), uncertain=response.status_code >= 500)
