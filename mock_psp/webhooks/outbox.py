"""From committed changes to events and scheduled deliveries.

The domain writes an outbox row in the transaction of each change, holding the
object as it stood at commit. :meth:`Outbox.dispatch` turns those rows into
events (one per object and event type, rendered by the payment's dialect from
that snapshot) and one delivery per endpoint that wants the event, each with a
``webhook.deliver`` job on the namespace clock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from ..domain import namespace_config
from ..domain import namespaces
from ..domain.namespaces import Namespace
from ..runtime.clock import system_now_ms
from . import endpoints
from . import records
from .endpoints import Endpoint
from .ids import hex_id
from .schemes import Scheme

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, store, renderers: Mapping[str, Any], schemes: Mapping[str, Scheme],
                 base_url: Callable[[], str]):
        """``renderers``: per dialect name, what turns a change into its events (describe,
        new_event_id, render); ``schemes``: the signing schemes by name (an endpoint's scheme says
        whose events it gets by default); ``base_url``: the provider's own URL, for links in bodies."""
        self.store = store
        self.renderers = renderers
        self.schemes = schemes
        self.base_url = base_url

    def dispatch(self, limit: int = 500) -> int:
        """Turn committed changes into events and scheduled deliveries; return how many rows."""
        with self.store.read() as db:
            if db.execute("SELECT 1 FROM outbox WHERE dispatched_at IS NULL LIMIT 1").fetchone() is None:
                return 0
        with self.store.write() as db:
            rows = db.execute(
                "SELECT * FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT ?", [limit]
            ).fetchall()
            namespaces_seen: dict[str, Namespace | None] = {}
            endpoints_seen: dict[str, list[Endpoint]] = {}
            for row in rows:
                namespace_id = row["namespace_id"]
                if namespace_id not in namespaces_seen:
                    namespaces_seen[namespace_id] = namespaces.find(self.store, namespace_id)
                    endpoints_seen[namespace_id] = [e for e in endpoints.list_for(db, namespace_id) if e.enabled]
                namespace = namespaces_seen[namespace_id]
                error = None
                if namespace is not None and endpoints_seen[namespace_id]:
                    try:
                        with db.atomic():
                            self._events_from(db, namespace, row, endpoints_seen[namespace_id])
                    except Exception as exc:  # one bad row must not block the outbox
                        log.exception("outbox row %s could not become an event", row["id"])
                        error = f"{type(exc).__name__}: {exc}"
                db.execute("UPDATE outbox SET dispatched_at = ?, dispatch_error = ? WHERE id = ?",
                           [system_now_ms(), error, row["id"]])
        return len(rows)

    def _events_from(self, db: Database, namespace: Namespace, row, targets: list[Endpoint]) -> None:
        renderer = self.renderers.get(row["dialect"])
        if renderer is None or not row["snapshot"]:
            return
        change = {"object_type": row["object_type"], "from_status": row["from_status"],
                  "to_status": row["status"], "snapshot": json.loads(row["snapshot"])}
        for draft in renderer.describe(change, namespace, self.base_url()):
            receivers = [e for e in targets
                         if e.accepts(self.schemes[e.scheme], row["dialect"], draft.event_type, draft.explicit_only)]
            if not receivers:
                continue  # no endpoint wants it: nothing to record or send
            created_at = row["created_at"]
            event_id = renderer.new_event_id(created_at, namespace.seed, row["object_id"], draft.event_type)
            body = renderer.render(event_id, draft, created_at, namespace)
            inserted = db.execute(
                """INSERT OR IGNORE INTO webhook_events (id, namespace_id, dialect, event_type, event_class,
                       object_type, object_id, payment_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [event_id, namespace.id, row["dialect"], draft.event_type, draft.event_class, row["object_type"],
                 row["object_id"], row["payment_id"], body.decode(), created_at],
            ).rowcount
            if not inserted:
                continue  # this object already sent this event type: once per (object, event type)
            for endpoint in receivers:
                _new_delivery(db, namespace, event_id, endpoint)


def _new_delivery(db: Database, namespace: Namespace, event_id: str, endpoint: Endpoint) -> None:
    now = namespace.now_ms()
    delivery_id = hex_id("whd_", now, event_id, endpoint.id)[:28]
    db.execute(
        """INSERT INTO webhook_deliveries (id, namespace_id, event_id, endpoint_id, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [delivery_id, namespace.id, event_id, endpoint.id, records.PENDING, now, now],
    )
    draws = records.fault_draws(db, namespace)
    delay = namespace_config.draw_delay_seconds(namespace.config["delays"]["webhook"], draws)
    records.save_fault_draws(db, namespace, draws)
    records.schedule_attempt(db, namespace.id, delivery_id, now + int(delay * 1000))
