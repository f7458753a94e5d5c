"""The webhook machinery of one provider, put together: from committed changes to signed
HTTP deliveries, retried on the namespace clock, and the log of what was sent.

- ``outbox`` (outbox.py): committed changes -> events and scheduled deliveries;
- ``delivery`` (delivery.py): one attempt when its job falls due, faults included;
- ``log`` (log.py): deliveries and events as the control API, the dashboard and a
  dialect's events API show them;
- ``endpoints`` (endpoints.py): where a namespace's events go.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from .delivery import Delivery
from .delivery import Sender
from .endpoints import Endpoints
from .log import DeliveryLog
from .outbox import Outbox
from .records import JOB_KIND
from .schemes import Scheme

__all__ = ["JOB_KIND", "WebhookEngine"]


class WebhookEngine:
    def __init__(self, store, renderers: Mapping[str, Any], schemes: Mapping[str, Scheme], default_scheme: str,
                 base_url: Callable[[], str], senders: Mapping[str, Sender] | None = None):
        """
        :param renderers: per dialect name, what turns its changes into events (``EVENT_TYPES``,
            ``describe``, ``new_event_id``, ``render``).
        :param schemes: the signing schemes endpoints may use, by name.
        :param default_scheme: the scheme of an endpoint registered without one.
        :param senders: per scheme, a sender for schemes that are more than a signed POST.
        """
        known_events = {name: tuple(renderer.EVENT_TYPES) for name, renderer in renderers.items()}
        self.outbox = Outbox(store, renderers, schemes, base_url)
        self.delivery = Delivery(store, schemes, senders)
        self.log = DeliveryLog(store)
        self.endpoints = Endpoints(store, dict(schemes), known_events, default_scheme)

    def dispatch_outbox(self) -> int:
        return self.outbox.dispatch()

    def deliver_job(self, store, job) -> None:
        self.delivery.deliver_job(store, job)

    def retry_now(self, namespace_id: str, delivery_id: str) -> dict:
        """Send again now, whatever the delivery's state (a manual retry); faults do not apply."""
        self.delivery.attempt(namespace_id, delivery_id, manual=True)
        return self.log.get_delivery(namespace_id, delivery_id)

    def retry_event(self, namespace_id: str, event_id: str) -> dict | None:
        """Manually resend an event to its first endpoint; None if it has no delivery to retry."""
        delivery_id = self.log.first_delivery_of(namespace_id, event_id)
        if delivery_id is None:
            return None
        self.delivery.attempt(namespace_id, delivery_id, manual=True)
        return self.log.event_attempts(namespace_id, event_id)[-1]
