"""GOV.UK Pay's webhooks: which change sends which event, and the message body.

Body (pay-webhooks ``WebhookMessageBody``)::

    {"webhook_message_id", "created_date", "resource_id", "api_version": 1,
     "resource_type": "payment", "event_type", "resource": {...the payment...}}

For ``card_payment_refunded`` the resource is the refunded payment.
"""

from __future__ import annotations

import hashlib
import json
import string

from ...clock import iso_ms
from ...domain import payments as p
from ...domain import refunds as r
from ...domain.namespaces import Namespace
from ...domain.payments import Payment
from ...domain.refunds import Refund
from ...domain.refunds import RefundTotals
from ..hyperswitch.webhooks import EventDraft
from . import serialize

DIALECT = "govuk"
STARTED = "card_payment_started"
SUCCEEDED = "card_payment_succeeded"
CAPTURED = "card_payment_captured"
REFUNDED = "card_payment_refunded"
FAILED = "card_payment_failed"
EXPIRED = "card_payment_expired"
EVENT_TYPES = (STARTED, SUCCEEDED, CAPTURED, REFUNDED, FAILED, EXPIRED)

_ALPHABET = string.ascii_lowercase + string.digits


def _payment(snapshot: dict) -> Payment:
    return Payment(**{name: snapshot[name] for name in Payment.__dataclass_fields__})


def _totals(refund_rows: list[dict]) -> RefundTotals:
    submitted = sum(x["amount"] for x in refund_rows if x["status"] != r.FAILED)
    succeeded = sum(x["amount"] for x in refund_rows if x["status"] == r.SUCCEEDED)
    return RefundTotals(submitted, succeeded)


def _resource(payment: Payment, refund_rows: list[dict], base_url: str) -> dict:
    base = base_url + "/govuk"
    return serialize.payment_json(payment, _totals(refund_rows), serialize.payment_links(payment, base))


def events_for(change: dict) -> list[str]:
    """The events one committed change sends (duplicates are dropped per payment by the engine)."""
    to, came_from = change["to_status"], change["from_status"]
    if change["object_type"] == "refund":
        return [REFUNDED] if to == r.SUCCEEDED else []
    if to == p.CUSTOMER_ACTION and came_from == p.CREATED:
        return [STARTED]
    if to == p.AUTHORIZED and came_from == p.AUTHORIZED:
        return [SUCCEEDED]  # confirmed by the user, held for a delayed capture
    if to == p.PROCESSING and came_from == p.AUTHORIZED:
        return [SUCCEEDED]  # confirmed; the capture is under way
    if to in (p.CAPTURED, p.PARTIALLY_CAPTURED):
        return [SUCCEEDED, CAPTURED]
    if to in (p.FAILED, p.CANCELLED):
        return [FAILED]
    if to == p.EXPIRED:
        return [EXPIRED]
    return []


def describe(change: dict, namespace: Namespace, base_url: str) -> list[EventDraft]:
    snapshot = change["snapshot"]
    if change["object_type"] == "refund":
        payment, refund_rows = _payment(snapshot["payment"]), snapshot["payment_refunds"]
    else:
        payment, refund_rows = _payment(snapshot), snapshot["refunds"]
    resource = _resource(payment, refund_rows, base_url)
    return [EventDraft(event, "payments", {"resource_id": payment.id, "resource": resource})
            for event in events_for(change)]


def new_event_id(created_at: int, seed: int, object_id: str, event_type: str) -> str:
    """26 lowercase characters, the same for the same seed, object and event."""
    digest = hashlib.blake2b(f"{seed}:{object_id}:{event_type}".encode(), digest_size=32).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:26])


def render(event_id: str, draft: EventDraft, created_at: int, namespace: Namespace) -> bytes:
    body = {
        "webhook_message_id": event_id,
        "created_date": iso_ms(created_at),
        "resource_id": draft.body["resource_id"],
        "api_version": 1,
        "resource_type": "payment",
        "event_type": draft.event_type,
        "resource": draft.body["resource"],
    }
    return json.dumps(body, separators=(",", ":")).encode()
