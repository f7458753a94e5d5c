"""The merchant's GOV.UK Pay client: payments, refunds, webhook events.

Idempotency the GOV.UK way: an ``Idempotency-Key`` header (the order id) on
create, so a retried create returns the same payment. Refunds carry
``refund_amount_available``, GOV.UK's guard against two refunds racing; they are
not retried blindly (a lost answer leaves the refund for reconciliation).
Card payments "by API" use GOV.UK's MOTO API: ``authorisation_mode: moto_api``,
then ``POST /v1/auth`` with the one-time token.
"""

from __future__ import annotations

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

USER_CANCELLED = "P0030"
REFUND_STATES = {"success": REFUND_SUCCEEDED, "error": REFUND_FAILED}
EVENT_CLAIMS = {
    "card_payment_succeeded": PAID, "card_payment_captured": PAID, "card_payment_failed": FAILED,
    "card_payment_expired": FAILED, "card_payment_started": PENDING, "card_payment_refunded": REFUND_SUCCEEDED,
}


class GovukClient:
    dialect = "govuk"
    default_scheme = "govuk"

    def provider_calls(self, shop_url: str) -> str:
        """Where the provider reaches this shop, for the banner of `mock-psp up`."""
        return f"webhooks at {shop_url}/webhooks/{self.dialect}"

    def __init__(self, base_url: str, credentials: dict):
        self.credentials = credentials
        self.http = HttpClient(base_url, {"Authorization": f"Bearer {credentials['api_key']}"})

    # -- payments ------------------------------------------------------------------------------

    def create_payment(self, order: dict, return_url: str, card: dict | None) -> tuple[PaymentTruth, dict]:
        body = {"amount": order["amount"], "reference": order["id"], "description": order["description"],
                "metadata": {"order_id": order["id"]}}
        if card:
            body["authorisation_mode"] = "moto_api"
        else:
            body["return_url"] = return_url
        response = self.http.call("POST", "/v1/payments", json=body, headers={"Idempotency-Key": order["id"]},
                                  repeatable=True)
        if response.status_code not in (200, 201):
            raise _error("create payment", response)
        payment = body_of(response)
        if card:
            try:
                self._authorise(payment, card)
            except ProviderError as error:
                if not error.uncertain:
                    raise
                # The payment exists and we hold its id; only the authorisation's outcome is
                # unknown (still under way, or a provider error). Keep the payment: its state
                # below, then its webhook or the sweep, settles the order.
            payment = self._payment_json(payment["payment_id"])
        return self._truth(payment), self._checkout(payment)

    def _authorise(self, payment: dict, card: dict) -> None:
        """The MOTO API: send the card details with the payment's one-time token."""
        auth = (payment.get("_links") or {}).get("auth_url_post") or {}
        token = (auth.get("params") or {}).get("one_time_token")
        if not token:
            return  # already authorised by an earlier try (the token is single use and no longer shown)
        path = urlsplit(auth["href"]).path.removeprefix(urlsplit(self.http.base_url).path)
        response = self.http.call("POST", path, json={
            "one_time_token": token, "card_number": card["number"], "cvc": card["cvc"],
            "expiry_date": f"{card['exp_month']}/{card['exp_year'][-2:]}", "cardholder_name": card["name"]})
        if response.status_code not in (204, 402):  # 402: declined, which the payment's state shows
            raise _error("authorise payment", response)

    def get_payment(self, payment_id: str) -> PaymentTruth:
        return self._truth(self._payment_json(payment_id))

    def find_payment_for_order(self, order_id: str) -> tuple[PaymentTruth, dict] | None:
        """The payment made for an order whose create answer was lost: searched by reference."""
        response = self.http.call("GET", f"/v1/payments?reference={order_id}", repeatable=True)
        if response.status_code != 200:
            raise _error("search payments", response)
        found = [p for p in body_of(response).get("results", []) if p.get("reference") == order_id]
        if not found:
            return None
        payment = self._payment_json(found[0]["payment_id"])
        return self._truth(payment), self._checkout(payment)

    def _payment_json(self, payment_id: str) -> dict:
        response = self.http.call("GET", f"/v1/payments/{payment_id}", repeatable=True)
        if response.status_code != 200:
            raise _error("get payment", response)
        return body_of(response)

    @staticmethod
    def _checkout(payment: dict) -> dict:
        next_url = ((payment.get("_links") or {}).get("next_url") or {}).get("href")
        return {"next_url": next_url, "redirect_url": next_url}

    @staticmethod
    def _truth(payment: dict) -> PaymentTruth:
        state = payment.get("state") or {}
        status = state.get("status", "")
        if status == "success":
            ours = PAID
        elif status == "cancelled" or (status == "failed" and state.get("code") == USER_CANCELLED):
            ours = CANCELLED
        elif status in ("failed", "error"):
            ours = FAILED
        else:
            ours = PENDING
        failure = f"{state.get('code')} {state.get('message')}" if ours in (FAILED, CANCELLED) else None
        return PaymentTruth(payment_id=payment["payment_id"], state=ours, provider_status=status,
                            amount=payment.get("amount", 0),
                            paid_amount=payment.get("amount", 0) if ours == PAID else 0,
                            failure=failure)

    # -- refunds -------------------------------------------------------------------------------

    def create_refund(self, payment_id: str, refund_id: str, amount: int, available: int) -> RefundTruth:
        response = self.http.call("POST", f"/v1/payments/{payment_id}/refunds",
                                  json={"amount": amount, "refund_amount_available": available})
        if response.status_code not in (200, 202):
            raise _error("create refund", response)
        return self._refund_truth(body_of(response), payment_id)

    def get_refund(self, payment_id: str, refund_id: str) -> RefundTruth | None:
        response = self.http.call("GET", f"/v1/payments/{payment_id}/refunds/{refund_id}", repeatable=True)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _error("get refund", response)
        return self._refund_truth(body_of(response), payment_id)

    @staticmethod
    def get_refund_by_merchant_id(payment_id: str, refund_id: str) -> RefundTruth | None:
        return None  # GOV.UK Pay chooses refund ids; the merchant's own id is not known to it

    def list_refunds(self, payment_id: str) -> list[RefundTruth]:
        response = self.http.call("GET", f"/v1/payments/{payment_id}/refunds", repeatable=True)
        if response.status_code != 200:
            raise _error("list refunds", response)
        refunds = (body_of(response).get("_embedded") or {}).get("refunds", [])
        return [self._refund_truth(item, payment_id) for item in refunds]

    @staticmethod
    def _refund_truth(refund: dict, payment_id: str) -> RefundTruth:
        status = refund.get("status", "")
        return RefundTruth(refund_id=refund["refund_id"], payment_id=refund.get("payment_id", payment_id),
                           amount=refund["amount"], state=REFUND_STATES.get(status, REFUND_PENDING),
                           provider_status=status)

    # -- webhooks ------------------------------------------------------------------------------

    def signing_secret(self) -> str:
        return self.credentials["webhook_signing_secret"]

    @staticmethod
    def parse_event(payload: dict) -> Event:
        """Raises KeyError/TypeError on a body that is not a GOV.UK Pay webhook message."""
        resource = payload["resource"]
        kind = payload["resource_type"]
        object_id = str(payload["resource_id"])
        payment_id = resource.get("payment_id") if kind == "refund" else object_id
        event_type = payload["event_type"]
        claims = EVENT_CLAIMS.get(event_type)
        if event_type == "card_payment_failed" and (resource.get("state") or {}).get("code") == USER_CANCELLED:
            claims = CANCELLED
        return Event(event_id=str(payload["webhook_message_id"]), event_type=event_type, object_type=kind,
                     object_id=object_id, payment_id=payment_id, claims=claims)

    def verify_return(self, url: str) -> bool | None:
        return None  # GOV.UK adds nothing to return_url: the merchant must ask the API


def _error(what: str, response) -> ProviderError:
    body = body_of(response)
    code = body.get("code")
    message = body.get("description") or response.text[:200]
    return ProviderError(f"{what}: HTTP {response.status_code} {code or ''} {message}".strip(),
                         status=response.status_code, code=code, uncertain=response.status_code >= 500)
