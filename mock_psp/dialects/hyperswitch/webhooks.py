"""Hyperswitch's outgoing webhooks: which change sends which event, and the payload.

Payload (``api_models/src/webhooks.rs::OutgoingWebhook``)::

    {"merchant_id", "event_id": "evt_...", "event_type",
     "content": {"type": "payment_details" | "refund_details", "object": {...}},
     "timestamp", "processor_merchant_id"}

``object`` is exactly what GET /payments/{id} (or GET /refunds/{id}) answers,
as the object stood when the change committed.
"""

from __future__ import annotations

import hashlib
import json

from ...domain.namespaces import Namespace
from ...domain.payments import Payment
from ...domain.refunds import Refund
from ...runtime.clock import iso_ms
from ...webhooks.events import EventDraft
from ...webhooks.ids import hex_id
from ...webhooks.schemes import Scheme
from ...webhooks.schemes import hex_hmac_header
from . import serialize
from .keys import NAME
from .keys import keys_of

DIALECT = NAME

# X-Webhook-Signature-512: lowercase hex HMAC-SHA512(the profile's payment_response_hash_key, raw body);
# retried after 1m, then 5m x2, 10m x5, 1h x5, 6h x3 -> 16 retries over about 24h.
SCHEME = Scheme(
    "hyperswitch", (60,) + (300,) * 2 + (600,) * 5 + (3600,) * 5 + (21600,) * 3, 5.0, "Hyperswitch-Backend-Server",
    NAME, hex_hmac_header("X-Webhook-Signature-512", hashlib.sha512),
    namespace_secret=lambda namespace: keys_of(namespace).payment_response_hash_key)

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


def describe(change: dict, namespace: Namespace, base_url: str) -> list[EventDraft]:
    """The events a committed change sends (Hyperswitch: at most one).

    ``change`` holds ``object_type``, ``from_status`` and ``to_status`` (domain
    names) and ``snapshot``, the object as it stood when its transaction
    committed. The event follows the status this change moved to; the body
    shows the object at commit.
    """
    if change["object_type"] == "payment":
        payment = Payment.from_snapshot(change["snapshot"])
        refunds = [Refund.from_snapshot(r) for r in change["snapshot"].get("refunds", [])]
        status = serialize.intent_status_name(change["to_status"], payment.payment_method_data is not None)
        event_type = EVENT_BY_STATUS.get(status)
        if event_type is None:
            return []
        obj = serialize.payment_response(payment, namespace, refunds, base_url)
        return [EventDraft(event_type, "payments", {"type": "payment_details", "object": obj})]
    event_type = REFUND_EVENTS.get(change["to_status"])
    if event_type is None:
        return []
    refund = Refund.from_snapshot(change["snapshot"])
    return [EventDraft(event_type, "refunds",
                       {"type": "refund_details", "object": serialize.refund_response(refund, namespace)})]


def new_event_id(created_at: int, seed: int, object_id: str, event_type: str) -> str:
    """Time-ordered like Hyperswitch's ``evt_`` + UUIDv7 hex, and the same for the same seed."""
    return hex_id("evt_", created_at, str(seed), object_id, event_type)


def render(event_id: str, draft: EventDraft, created_at: int, namespace: Namespace) -> bytes:
    merchant_id = keys_of(namespace).merchant_id
    body = {
        "merchant_id": merchant_id,
        "event_id": event_id,
        "event_type": draft.event_type,
        "content": draft.body,
        "timestamp": iso_ms(created_at),
        "processor_merchant_id": merchant_id,
    }
    return json.dumps(body, separators=(",", ":")).encode()
