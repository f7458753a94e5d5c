"""The scheduler's job kinds, the domain functions that run them, and what each would do now."""

from __future__ import annotations

from ..runtime.store import Store
from . import payments
from . import refunds
from .errors import DomainError

HANDLERS = {
    "payment.complete": payments.complete_pending,
    "payment.expire": payments.expire_session,
    "payment.capture_window": payments.expire_capture_window,
    "refund.complete": refunds.complete_pending,
    "payment.authorise_with_agreement": payments.authorise_with_agreement,
}


def describe(store: Store, namespace_id: str, kind: str, payload: dict) -> str | None:
    """What a waiting job would do if it ran now, in words (None: not a payment or refund job).

    Jobs are not withdrawn when a payment moves on; they check when they run. This says
    which of them still matter, using the same checks the handlers use."""
    if kind == "refund.complete":
        try:
            refund = refunds.get_refund(store, namespace_id, payload["refund_id"])
        except DomainError:
            return "nothing: the refund is gone"
        if refund.status != refunds.PENDING:
            return f"nothing: the refund is already {refund.status}"
        return "settles the refund (succeeds)" if payload.get("succeeds") else "settles the refund (fails)"
    if kind not in HANDLERS:
        return None
    payment = payments.find_payment(store, namespace_id, payload["payment_id"])
    if payment is None:
        return "nothing: the payment is gone"
    if kind == "payment.complete":
        acts = payments.completion_is_current(payment, payload.get("attempt_id"))
        action = f"completes the {(payment.pending or {}).get('operation', 'payment')}"
    elif kind == "payment.authorise_with_agreement":
        acts, action = payments.agreement_authorisation_is_queued(payment), "authorises with the agreement's card"
    elif kind == "payment.expire":
        acts, action = payments.session_can_expire(payment), "expires the unpaid payment"
    else:
        acts, action = payments.capture_window_can_expire(payment), "expires the uncaptured authorisation"
    return action if acts else f"nothing: the payment is already {payment.status}"
