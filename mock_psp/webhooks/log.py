"""Reading what was sent: deliveries with every attempt (the control API, the dashboard), and
events with their delivery state (a dialect's own events API). Read-only."""

from __future__ import annotations

import json

from sqlite_utils import Database

from ..runtime.clock import iso_ms
from . import records
from .records import DELIVERED
from .records import FAILED
from .records import PENDING

_DELIVERY_COLUMNS = "d.*, e.event_type, e.object_id, e.object_type, e.payment_id, e.body, w.url"
_DELIVERY_JOINS = """FROM webhook_deliveries d JOIN webhook_events e ON e.namespace_id = d.namespace_id
                     AND e.id = d.event_id LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id"""


class DeliveryLog:
    def __init__(self, store):
        self.store = store

    def list_deliveries(self, namespace_id: str, status: str | None = None, event_type: str | None = None,
                        payment_id: str | None = None, object_id: str | None = None,
                        endpoint_id: str | None = None, limit: int = 100, offset: int = 0,
                        newest_first: bool = False) -> tuple[list[dict], int]:
        where, params = ["d.namespace_id = ?"], [namespace_id]
        for column, value in (("d.status", status), ("e.event_type", event_type), ("e.payment_id", payment_id),
                              ("e.object_id", object_id), ("d.endpoint_id", endpoint_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        clause = " AND ".join(where)
        order = "DESC" if newest_first else "ASC"
        with self.store.read() as db:
            total = db.execute(f"SELECT count(*) {_DELIVERY_JOINS} WHERE {clause}", params).fetchone()[0]
            rows = db.execute(
                f"""SELECT {_DELIVERY_COLUMNS} {_DELIVERY_JOINS} WHERE {clause}
                    ORDER BY d.created_at {order}, d.rowid {order} LIMIT ? OFFSET ?""",
                params + [limit, offset],
            ).fetchall()
            return [_delivery_json(db, row, with_payload=False) for row in rows], total

    def get_delivery(self, namespace_id: str, delivery_id: str) -> dict:
        """One delivery with its payload and its attempts' headers; DomainError not_found if there is none."""
        with self.store.read() as db:
            records.delivery_row(db, namespace_id, delivery_id)
            row = db.execute(f"SELECT {_DELIVERY_COLUMNS} {_DELIVERY_JOINS} WHERE d.namespace_id = ? AND d.id = ?",
                             [namespace_id, delivery_id]).fetchone()
            return _delivery_json(db, row, with_payload=True)

    def first_delivery_of(self, namespace_id: str, event_id: str) -> str | None:
        """The delivery a manual resend of the event goes to: the dialect's own (profile) endpoint's first."""
        with self.store.read() as db:
            row = db.execute(
                """SELECT d.id FROM webhook_deliveries d LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id
                   WHERE d.namespace_id = ? AND d.event_id = ?
                   ORDER BY w.source = 'profile' DESC, d.created_at, d.rowid LIMIT 1""",
                [namespace_id, event_id],
            ).fetchone()
        return row["id"] if row else None

    def list_events(self, namespace_id: str, dialect: str, created_after: int | None = None,
                    created_before: int | None = None, object_id: str | None = None, event_id: str | None = None,
                    event_types: list[str] | None = None, event_classes: list[str] | None = None,
                    is_delivered: bool | None = None, limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
        """Events newest first, each with whether any delivery of it succeeded (None before any attempt)."""
        where, params = ["e.namespace_id = ?", "e.dialect = ?"], [namespace_id, dialect]
        for clause, value in (("e.created_at > ?", created_after), ("e.created_at < ?", created_before),
                              ("e.object_id = ?", object_id), ("e.id = ?", event_id)):
            if value is not None:
                where.append(clause)
                params.append(value)
        for column, values in (("e.event_type", event_types), ("e.event_class", event_classes)):
            if values:
                where.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        delivered = f"""(SELECT CASE WHEN sum(d.attempt_count) IS NULL OR sum(d.attempt_count) = 0 THEN NULL
                             WHEN max(d.status = '{DELIVERED}') THEN 1 ELSE 0 END
                         FROM webhook_deliveries d WHERE d.namespace_id = e.namespace_id AND d.event_id = e.id)"""
        if is_delivered is not None:
            where.append(f"coalesce({delivered}, 0) = ?")
            params.append(int(is_delivered))
        clause = " AND ".join(where)
        with self.store.read() as db:
            total = db.execute(f"SELECT count(*) FROM webhook_events e WHERE {clause}", params).fetchone()[0]
            rows = db.execute(
                f"""SELECT e.*, {delivered} AS delivered FROM webhook_events e WHERE {clause}
                    ORDER BY e.created_at DESC, e.rowid DESC LIMIT ? OFFSET ?""",
                params + [limit, offset],
            ).fetchall()
        return [dict(r) for r in rows], total

    def get_event(self, namespace_id: str, event_id: str) -> dict | None:
        with self.store.read() as db:
            row = records.event_row(db, namespace_id, event_id)
        return dict(row) if row else None

    def event_attempts(self, namespace_id: str, event_id: str) -> list[dict]:
        """Every attempt at every delivery of the event, oldest first, with what was sent and received."""
        with self.store.read() as db:
            rows = db.execute(
                """SELECT a.*, d.status AS delivery_status FROM webhook_attempts a
                   JOIN webhook_deliveries d ON d.namespace_id = a.namespace_id AND d.id = a.delivery_id
                   WHERE d.namespace_id = ? AND d.event_id = ? ORDER BY a.id""",
                [namespace_id, event_id],
            ).fetchall()
        return [dict(r) for r in rows]


def _delivery_json(db: Database, row, with_payload: bool) -> dict:
    attempts = db.execute(
        "SELECT * FROM webhook_attempts WHERE namespace_id = ? AND delivery_id = ? ORDER BY id",
        [row["namespace_id"], row["id"]],
    ).fetchall()
    out = {
        "id": row["id"],
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "payment_id": row["payment_id"],
        "endpoint_id": row["endpoint_id"],
        "url": row["url"],
        "status": row["status"],
        "attempt_count": row["attempt_count"],
        "next_attempt_at": iso_ms(row["next_attempt_at"]) if row["status"] in (PENDING, FAILED) else None,
        "created_at": iso_ms(row["created_at"]),
        "attempts": [_attempt_json(a, with_payload) for a in attempts],
    }
    if with_payload:
        out["payload"] = row["body"]
    return out


def _attempt_json(row, with_headers: bool) -> dict:
    out = {
        "id": row["attempt_id"],
        "number": row["number"],
        "kind": row["kind"],
        "at": iso_ms(row["at"]),
        "sent": bool(row["sent"]),
        "status_code": row["status_code"],
        "latency_ms": row["latency_ms"],
        "error": row["error"],
        "fault": row["fault"],
        "response_excerpt": row["response_excerpt"],
    }
    if with_headers:
        out["request_headers"] = json.loads(row["request_headers"]) if row["request_headers"] else None
        out["response_headers"] = json.loads(row["response_headers"]) if row["response_headers"] else None
    return out
