"""Domain objects rendered as GOV.UK Pay's payment, refund and event representations."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from ...domain import outcomes
from ...domain import payments as p
from ...domain import refunds as r
from ...domain.payments import Payment
from ...domain.refunds import Refund
from ...domain.refunds import RefundTotals
from ...runtime.clock import iso_ms

PAYMENT_PROVIDER = "sandbox"

# (status, finished, code, message) -- pay-connector ExternalChargeState
CREATED = ("created", False, None, None)
STARTED = ("started", False, None, None)
SUBMITTED = ("submitted", False, None, None)
CAPTURABLE = ("capturable", False, None, None)
SUCCESS = ("success", True, None, None)
REJECTED = ("failed", True, "P0010", "Payment method rejected")
EXPIRED = ("failed", True, "P0020", "Payment expired")
USER_CANCELLED = ("failed", True, "P0030", "Payment was cancelled by the user")
SERVICE_CANCELLED = ("cancelled", True, "P0040", "Payment was cancelled by the service")
ERROR = ("error", True, "P0050", "Payment provider returned an error")

# Every state.status a payment can show.
PAYMENT_STATUSES = tuple(dict.fromkeys(state[0] for state in (CREATED, STARTED, SUBMITTED, CAPTURABLE, SUCCESS,
                                                              REJECTED, EXPIRED, USER_CANCELLED, SERVICE_CANCELLED,
                                                              ERROR)))

# Failure reasons the sandbox reports as a provider error rather than a rejection.
_ERRORS = {outcomes.PROCESSING_ERROR, outcomes.CARD_NOT_SUPPORTED}

CARD_BRANDS = {
    "Visa": "Visa", "Mastercard": "Mastercard", "AmericanExpress": "American Express",
    "DinersClub": "Diners Club", "Discover": "Discover", "JCB": "Jcb", "Maestro": "Maestro",
    "UnionPay": "Union Pay",
}

# What the search's `state` filter means in domain statuses.
def state_of(status: str, customer_action: str | None, failure_reason: str | None) -> tuple:
    if status == p.CREATED:
        return CREATED
    if status == p.CUSTOMER_ACTION:
        return STARTED
    if status == p.PROCESSING:
        return SUBMITTED
    if status == p.AUTHORIZED:
        return SUBMITTED if customer_action == p.CONFIRMATION else CAPTURABLE
    if status in (p.CAPTURED, p.PARTIALLY_CAPTURED):
        return SUCCESS
    if status == p.CANCELLED:
        return SERVICE_CANCELLED
    if status == p.EXPIRED:
        return EXPIRED
    if failure_reason == outcomes.CANCELLED_BY_USER:
        return USER_CANCELLED
    if failure_reason in _ERRORS:
        return ERROR
    return REJECTED


def payment_state(payment: Payment) -> tuple:
    return state_of(payment.status, payment.customer_action, payment.failure_reason)


def state_json(state: tuple) -> dict:
    status, finished, code, message = state
    body: dict[str, Any] = {"status": status, "finished": finished}
    if code:
        body["code"], body["message"] = code, message
    return body


def refund_summary(payment: Payment, totals: RefundTotals) -> dict:
    """``pending`` while the payment is in progress, ``available``/``full`` once captured,
    ``unavailable`` otherwise (failed, cancelled, error, and capturable)."""
    status = payment_state(payment)[0]
    if status == "success":
        available = payment.amount_captured - totals.submitted
        summary_status = "available" if available > 0 else "full"
    elif status in ("created", "started", "submitted"):
        available, summary_status = payment.amount - totals.submitted, "pending"
    else:
        available, summary_status = 0, "unavailable"
    return {"status": summary_status, "amount_available": available, "amount_submitted": totals.submitted}


def _date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def settlement_summary(payment: Payment) -> dict:
    """Capture times once captured; a captured payment is terminal, so its last change is the capture."""
    if payment.status not in (p.CAPTURED, p.PARTIALLY_CAPTURED):
        return {}
    return {"capture_submit_time": iso_ms(payment.updated_at), "captured_date": _date(payment.updated_at)}


def card_details(payment: Payment) -> dict | None:
    card = (payment.payment_method_data or {}).get("card")
    if card is None:
        return None
    return saved_card_details(card, payment.attributes.get("billing_address") or None)


def saved_card_details(card: dict, billing_address: dict | None = None) -> dict:
    # Every field present, null when unknown, as the real API shows card_details.
    return {
        "last_digits_card_number": card["last4"],
        "first_digits_card_number": card["bin"],
        "cardholder_name": card.get("holder_name"),
        "expiry_date": f"{card['exp_month']}/{card['exp_year'][-2:]}",
        "billing_address": billing_address,
        "card_brand": CARD_BRANDS.get(card.get("network") or "", card.get("network") or ""),
        "card_type": (card.get("type") or "").lower() or None,
    }


def payment_json(payment: Payment, totals: RefundTotals, links: dict | None) -> dict:
    """GET /v1/payments/{id}: the real field names; empty fields left out (but delayed_capture
    and moto always shown). Webhook resources carry no ``_links``."""
    attrs = payment.attributes
    body: dict[str, Any] = {
        "amount": payment.amount,
        "description": payment.description,
        "reference": payment.reference,
        "language": attrs.get("language", "en"),
        "email": attrs.get("email"),
        "metadata": payment.metadata,
        "state": {**state_json(payment_state(payment)), **can_retry(payment)},
        "payment_id": payment.id,
        "payment_provider": PAYMENT_PROVIDER,
        "created_date": iso_ms(payment.created_at),
        "refund_summary": refund_summary(payment, totals),
        "settlement_summary": settlement_summary(payment),
        "card_details": card_details(payment),
        "delayed_capture": payment.capture_method == p.MANUAL,
        "moto": attrs.get("moto", False),
        "return_url": payment.return_url,
        "authorisation_mode": attrs.get("authorisation_mode", "web"),
        "agreement_id": attrs.get("agreement_id"),
        "agreement_payment_type": attrs.get("agreement_payment_type"),
        "provider_id": payment.connector_transaction_id,
        "card_brand": (card_details(payment) or {}).get("card_brand"),
        "_links": links,
    }
    return {k: v for k, v in body.items() if v is not None and v != {} or k == "settlement_summary"}


def refund_json(refund: Refund, payment_href: str, self_href: str) -> dict:
    body = {
        "refund_id": refund.id,
        "created_date": iso_ms(refund.created_at),
        "amount": refund.amount,
        "status": refund_status(refund),
        "settlement_summary": {},
        "_links": {"self": {"href": self_href, "method": "GET"}, "payment": {"href": payment_href, "method": "GET"}},
    }
    return body


def refund_status(refund: Refund) -> str:
    return {r.PENDING: "submitted", r.SUCCEEDED: "success", r.FAILED: "error"}[refund.status]


def link(href: str, method: str = "GET") -> dict:
    return {"href": href, "method": method}


# Declines after which the saved card is no use (mock-psp's choice: the real rule is not public).
_FINAL_FOR_THE_CARD = {outcomes.LOST_CARD, outcomes.STOLEN_CARD, outcomes.EXPIRED_CARD}


def can_retry(payment: Payment) -> dict:
    """``can_retry``: only on a failed payment taken with an agreement."""
    if not is_agreement_payment(payment) or payment_state(payment)[0] not in ("failed", "error"):
        return {}
    return {"can_retry": payment.failure_reason not in _FINAL_FOR_THE_CARD}


def is_agreement_payment(payment: Payment) -> bool:
    """Taken with an agreement's saved card: no user journey, so no next_url and no cancel."""
    return payment.attributes.get("authorisation_mode") == "agreement"


def is_moto_api(payment: Payment) -> bool:
    """Paid by the service through POST /v1/auth, never through the payment pages."""
    return payment.attributes.get("authorisation_mode") == "moto_api"


def payment_links(payment: Payment, base: str, next_url_token: str | None = None) -> dict:
    """The links a payment shows in its state, as the real API shows them.

    ``next_url``/``next_url_post`` appear while the payment is created, started or
    submitted, if the caller minted a token for them; a ``moto_api`` payment shows
    ``auth_url_post`` (the token as ``one_time_token``) instead. ``cancel`` while
    it is unfinished; ``capture`` only when it is capturable.
    """
    self_href = f"{base}/v1/payments/{payment.id}"
    status, finished, _, _ = payment_state(payment)
    links = {"self": link(self_href)}
    if next_url_token is not None and status in ("created", "started", "submitted") \
            and not is_agreement_payment(payment):
        if is_moto_api(payment):
            links["auth_url_post"] = {"type": "application/json", "params": {"one_time_token": next_url_token},
                                      "href": f"{base}/v1/auth", "method": "POST"}
        else:
            links["next_url"] = link(f"{base}/secure/{next_url_token}")
            links["next_url_post"] = {"type": "application/x-www-form-urlencoded",
                                      "params": {"chargeTokenId": next_url_token},
                                      "href": f"{base}/secure", "method": "POST"}
    links["events"] = link(f"{self_href}/events")
    links["refunds"] = link(f"{self_href}/refunds")
    if not finished and not is_agreement_payment(payment):
        links["cancel"] = link(f"{self_href}/cancel", "POST")
    if status == "capturable":
        links["capture"] = link(f"{self_href}/capture", "POST")
    return links


def wants_next_url(payment: Payment) -> bool:
    return payment_state(payment)[0] in ("created", "started", "submitted") and not is_agreement_payment(payment)
