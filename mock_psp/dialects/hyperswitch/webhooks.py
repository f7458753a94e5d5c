"""Hyperswitch's outgoing webhooks: which change sends which event, and the payload.

Payload (``api_models/src/webhooks.rs::OutgoingWebhook``)::

    {"merchant_id", "event_id": "evt_...", "event_type",
     "content": {"type": "payment_details" | "refund_details", "object": {...}},
     "timestamp", "processor_merchant_id"}

``object`` is exactly what GET /payments/{id} (or GET /refunds/{id}) answers,
as the object stood when the change committed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ...clock import iso_ms
from ...domain.namespaces import Namespace
from ...domain.payments import Payment
from ...domain.refunds import Refund
from . import serialize

DIALECT = "hyperswitch"

# common_enums/src/transformers.rs: payment status -> event type (None: no event)
EVENT_BY_STATUS = {
    "succeeded": "payment_succeeded",
    "failed": "payment_failed",
    "processing": "payment_processing",
    "partially_captured_and_processing": "payment_processing",
    "requires_capture": "payment_authorized",
    "partially_captured": "payment_captured",
    "partially_captured_and_capturable": "payment_captured",
    "requires_customer_action": "action_required",
    "requires_merchant_action": "action_required",
    "conflicted": "action_required",
    "review": "action_required",
    "cancelled": "payment_cancelled",
    "expired": "payment_expired",
}
REFUND_EVENTS = {"succeeded": "refund_succeeded", "failed": "refund_failed"}

EVENT_TYPES = tuple(sorted(set(EVENT_BY_STATUS.values()) | set(REFUND_EVENTS.values())))


@dataclass(frozen=True)
class EventDraft:
    event_type: str
    event_class: str
    body: dict


def payment_from_snapshot(snapshot: dict) -> tuple[Payment, list[Refund]]:
    data = dict(snapshot)
    refunds = [Refund(**r) for r in data.pop("refunds", [])]
    return Payment(**data), refunds


def describe(object_type: str, snapshot: dict, namespace: Namespace, base_url: str) -> EventDraft | None:
    """The event a committed change sends, or None if Hyperswitch sends none for it."""
    if object_type == "payment":
        payment, refunds = payment_from_snapshot(snapshot)
        event_type = EVENT_BY_STATUS.get(serialize.intent_status(payment))
        if event_type is None:
            return None
        obj = serialize.payment_response(payment, namespace, refunds, base_url)
        return EventDraft(event_type, "payments", {"type": "payment_details", "object": obj})
    refund = Refund(**snapshot)
    event_type = REFUND_EVENTS.get(refund.status)
    if event_type is None:
        return None
    return EventDraft(event_type, "refunds", {"type": "refund_details", "object": serialize.refund_response(refund, namespace)})


def render(event_id: str, draft: EventDraft, created_at: int, namespace: Namespace) -> bytes:
    merchant_id = namespace.hyperswitch.merchant_id
    body = {
        "merchant_id": merchant_id,
        "event_id": event_id,
        "event_type": draft.event_type,
        "content": draft.body,
        "timestamp": iso_ms(created_at),
        "processor_merchant_id": merchant_id,
    }
    return json.dumps(body, separators=(",", ":")).encode()
