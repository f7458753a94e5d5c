"""GOV.UK Pay's webhooks: which change sends which event, and the message body.

Body (pay-webhooks ``WebhookMessageBody``)::

    {"webhook_message_id", "created_date", "resource_id", "api_version": 1,
     "resource_type": "payment", "event_type", "resource": {...the payment...}}

For ``card_payment_refunded`` the resource is the refund (resource_type
``refund``), with its ``payment_id``.
"""

from __future__ import annotations

import hashlib
import json

from ...domain import payments as p
from ...domain import refunds as r
from ...domain.namespaces import Namespace
from ...domain.payments import Payment
from ...domain.refunds import Refund
from ...domain.refunds import RefundTotals
from ...runtime.clock import iso_ms
from ...webhooks.events import EventDraft
from ...webhooks.schemes import Scheme
from ...webhooks.schemes import hex_hmac_header
from . import serialize
from .keys import NAME
from .keys import keys_of

DIALECT = NAME
STARTED = "card_payment_started"
SUCCEEDED = "card_payment_succeeded"
CAPTURED = "card_payment_captured"
REFUNDED = "card_payment_refunded"
FAILED = "card_payment_failed"
EXPIRED = "card_payment_expired"
EVENT_TYPES = (STARTED, SUCCEEDED, CAPTURED, REFUNDED, FAILED, EXPIRED)

# Pay-Signature: lowercase hex HMAC-SHA256(the webhook signing secret, raw body); retried after
# 60s, 5m, 1h, 1d, 2d (6 attempts in all), with a 3 s timeout.
SCHEME = Scheme("govuk", (60, 300, 3600, 86400, 172800), 3.0, "GOV.UK Pay webhooks", NAME,
                hex_hmac_header("Pay-Signature", hashlib.sha256),
                namespace_secret=lambda namespace: keys_of(namespace).webhook_signing_secret)

# webhook_message_id: base 32, lowercase ([0-9a-v]), 26 characters.
_ALPHABET = "0123456789abcdefghijklmnopqrstuv"


def _totals(refund_rows: list[dict]) -> RefundTotals:
    submitted = sum(x["amount"] for x in refund_rows if x["status"] != r.FAILED)
    succeeded = sum(x["amount"] for x in refund_rows if x["status"] == r.SUCCEEDED)
    return RefundTotals(submitted, succeeded)


def _payment_resource(payment: Payment, refund_rows: list[dict]) -> dict:
    """The payment as the webhook describes it: the API representation without links."""
    return serialize.payment_json(payment, _totals(refund_rows), None)


def _refund_resource(refund: Refund) -> dict:
    return {"refund_id": refund.id, "created_date": iso_ms(refund.created_at), "amount": refund.amount,
            "status": serialize.refund_status(refund), "settlement_summary": {}, "payment_id": refund.payment_id}


def events_for(change: dict) -> list[str]:
    """The events one committed change sends (pay-webhooks EventMapper).

    ``card_payment_succeeded`` when the user confirms an immediate-capture payment
    (or the service captures a delayed one); ``card_payment_captured`` when the
    capture completes; both user and service cancellations are failures. A
    repeat of an event already sent for the payment is dropped by the engine.
    """
    to, came_from = change["to_status"], change["from_status"]
    if change["object_type"] == "refund":
        return [REFUNDED] if to == r.SUCCEEDED else []
    if to == p.CUSTOMER_ACTION and came_from == p.CREATED:
        return [STARTED]
    if to == p.PROCESSING and came_from == p.AUTHORIZED:
        return [SUCCEEDED]  # approved for capture; the capture is under way
    if to in (p.CAPTURED, p.PARTIALLY_CAPTURED):
        return [SUCCEEDED, CAPTURED]
    if to in (p.FAILED, p.CANCELLED):
        return [FAILED]
    if to == p.EXPIRED:
        return [EXPIRED]
    return []


def describe(change: dict, namespace: Namespace, base_url: str) -> list[EventDraft]:
    snapshot = change["snapshot"]
    drafts = []
    for event in events_for(change):
        if change["object_type"] == "refund":
            refund = Refund.from_snapshot(snapshot)
            body = {"resource_type": "refund", "resource_id": refund.id, "resource": _refund_resource(refund)}
        else:
            payment = Payment.from_snapshot(snapshot)
            body = {"resource_type": "payment", "resource_id": payment.id,
                    "resource": _payment_resource(payment, snapshot["refunds"])}
        # The event list names card_payment_started, but the real service's mapper
        # never sends it: here it goes only to endpoints that ask for it by name.
        drafts.append(EventDraft(event, "payments", body, explicit_only=event == STARTED))
    return drafts


def new_event_id(created_at: int, seed: int, object_id: str, event_type: str) -> str:
    """26 base-32 characters, the same for the same seed, object and event."""
    digest = hashlib.blake2b(f"{seed}:{object_id}:{event_type}".encode(), digest_size=32).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:26])


def render(event_id: str, draft: EventDraft, created_at: int, namespace: Namespace) -> bytes:
    body = {
        "webhook_message_id": event_id,
        "created_date": iso_ms(created_at),
        "resource_id": draft.body["resource_id"],
        "api_version": 1,
        "resource_type": draft.body["resource_type"],
        "event_type": draft.event_type,
        "resource": draft.body["resource"],
    }
    return json.dumps(body, separators=(",", ":")).encode()
