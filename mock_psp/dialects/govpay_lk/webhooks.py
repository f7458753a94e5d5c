"""The GovPay+ update call, as a webhook: which change sends it, its body, and how it is sent.

The engine stores the body once; each attempt is prepared by ``send`` (a fresh
token and, with encryption, a fresh transaction key per call) and counts as
delivered only when the merchant acknowledges it with ``message: "Success"``.
"""

from __future__ import annotations

import json

from ...domain import payments as p
from ...domain.namespaces import Namespace
from ...domain.payments import Payment
from ...runtime.clock import iso_ms
from ...webhooks.delivery import Result
from ...webhooks.events import EventDraft
from ...webhooks.ids import hex_id
from ...webhooks.schemes import Scheme
from ...webhooks.schemes import unsigned
from . import serialize
from . import settings as gp_settings
from .keys import UPDATE_SCHEME

DIALECT = gp_settings.DIALECT
UPDATE = "govpay_update"
EVENT_TYPES = (UPDATE,)
# The update call is authenticated by the sender (a bearer token, or OAuth2), not signed. GovPay+
# publishes no retry schedule: the mock's choice (docs/govpay-lk.md) is 1m, 5m, 30m, 2h, 12h.
SCHEME = Scheme(UPDATE_SCHEME, (60, 300, 1800, 7200, 43200), 10.0, "GovPay+ (mock-psp)", DIALECT, unsigned,
                namespace_secret=lambda namespace: "", manual=False)


def describe(change: dict, namespace: Namespace, base_url: str) -> list[EventDraft]:
    """Success and failure send the update call; an expired session sends nothing (nobody paid)."""
    if change["object_type"] != "payment":
        return []
    to = change["to_status"]
    if to not in (p.CAPTURED, p.FAILED, p.CANCELLED):
        return []
    payment = Payment.from_snapshot(change["snapshot"])
    status = serialize.SUCCESS if to == p.CAPTURED else serialize.FAILED
    data = [("refNo", payment.reference or ""),
            ("amount", serialize.decimal_text(payment.amount, payment.currency)),
            ("currency", payment.currency),
            ("status", status),
            ("paymentMethod", serialize.METHODS.get(payment.payment_method or "", "CARD")),
            ("gatewayTransactionId", serialize.gateway_transaction_id(payment) or ""),
            ("timestamp", iso_ms(payment.updated_at))]
    body = serialize.request_envelope(payment.attributes, payment.id, data)
    return [EventDraft(UPDATE, "payments", body)]


def new_event_id(created_at: int, seed: int, object_id: str, event_type: str) -> str:
    return hex_id("gpe_", created_at, str(seed), object_id, event_type)


def render(event_id: str, draft: EventDraft, created_at: int, namespace: Namespace) -> bytes:
    return json.dumps(draft.body, separators=(",", ":")).encode()


def acknowledged(status: int | None, body) -> str | None:
    """None if the merchant acknowledged the update; otherwise why not."""
    if status != 200:
        return None if status is None else f"HTTP {status}"
    if not isinstance(body, dict):
        return "the answer is not a JSON acknowledgement"
    if str(body.get("message", "")).strip().lower() != "success":
        return f"acknowledgement message is {body.get('message')!r}, not 'Success'"
    return None


class UpdateSender:
    """Sends a stored update body as GovPay+ does: the namespace's auth, encryption per call,
    and an acknowledgement check. Used by the webhook engine for the ``govpay_lk`` scheme."""

    def __init__(self, caller):
        self.caller = caller

    def __call__(self, endpoint, namespace: Namespace, body: bytes, copies: int) -> list:
        config = gp_settings.current(namespace)
        config = {**config, "timeout_seconds": endpoint.timeout_seconds or config["timeout_seconds"]}
        request = json.loads(body)
        results = []
        for _ in range(copies):
            call = self.caller.call(config, endpoint.url, request)
            refusal = call.error or acknowledged(call.status, call.body)
            results.append(Result(sent=call.status is not None or call.latency_ms is not None,
                                  status_code=call.status, latency_ms=call.latency_ms, error=refusal,
                                  response_excerpt=call.response_excerpt, request_headers=call.request_headers,
                                  response_headers=call.response_headers, accepted=refusal is None))
        return results
