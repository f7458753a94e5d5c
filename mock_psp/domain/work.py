"""A unit of work: one transaction on one namespace, with its clock and random draws.

Every domain operation that changes state runs inside ``unit_of_work``. The
transition, its audit row, its outbox row and any job it schedules commit
together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlite_utils import Database

from ..runtime import scheduler
from ..runtime.store import Store
from . import namespaces
from .namespaces import Namespace
from .randomness import Draws


@dataclass
class Work:
    store: Store
    db: Database
    namespace: Namespace
    now: int
    draws: Draws
    # (object_type, object, from_status, to_status, dialect), in order of change
    changes: list[tuple[str, Any, str | None, str, str]] = field(default_factory=list)
    outcome_queue: list[str] = field(default_factory=list)
    outcomes_used: bool = False

    @property
    def config(self) -> dict:
        return self.namespace.config

    def record_transition(self, object_type: str, obj: Any, from_status: str | None, to_status: str,
                          reason: str, dialect: str) -> None:
        """Write the audit row now; the outbox row is written when the work commits."""
        payment_id = obj.payment_id if object_type == "refund" else obj.id
        self.db.execute(
            """INSERT INTO audit_events (namespace_id, object_type, object_id, payment_id,
                   from_status, to_status, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [self.namespace.id, object_type, obj.id, payment_id, from_status, to_status, reason, self.now],
        )
        self.changes.append((object_type, obj, from_status, to_status, dialect))

    def write_outbox(self) -> None:
        """One outbox row per change, holding the object as it stands at commit.

        Only while the namespace publishes events: nobody listening, nothing written.

        A payment's snapshot includes its refunds, since the payment body shows
        them; a refund's includes its payment, for dialects whose refund events
        describe the payment (GOV.UK Pay).
        """
        if not self.namespace.publishes_events:
            return
        snapshots: dict[tuple[str, str], str] = {}
        rows = []
        for object_type, obj, from_status, to_status, dialect in self.changes:
            payment_id = obj.payment_id if object_type == "refund" else obj.id
            key = (object_type, obj.id)
            if key not in snapshots:
                snapshots[key] = json.dumps(self._snapshot(object_type, obj), separators=(",", ":"))
            rows.append([self.namespace.id, object_type, obj.id, payment_id, from_status, to_status, dialect,
                         snapshots[key], self.now])
        if rows:
            self.db.conn.executemany(
                """INSERT INTO outbox (namespace_id, object_type, object_id, payment_id, from_status, status,
                       dialect, snapshot, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                rows,
            )

    def _snapshot(self, object_type: str, obj: Any) -> dict:
        snapshot = dict(vars(obj))
        payment_id = obj.payment_id if object_type == "refund" else obj.id
        if object_type == "refund":
            payment_row = self.db.execute("SELECT * FROM payments WHERE namespace_id = ? AND id = ?",
                                          [self.namespace.id, payment_id]).fetchone()
            snapshot["payment"] = _row_snapshot(payment_row, "payment_method_data", "metadata", "pending")
        snapshot["refunds" if object_type == "payment" else "payment_refunds"] = [
            _row_snapshot(row, "metadata")
            for row in self.db.execute(
                "SELECT * FROM refunds WHERE namespace_id = ? AND payment_id = ? ORDER BY created_at, rowid",
                [self.namespace.id, payment_id],
            ).fetchall()
        ]
        return snapshot

    def schedule(self, kind: str, delay_seconds: float, payload: dict) -> int:
        due_at = self.now + int(round(delay_seconds * 1000))
        return scheduler.schedule(self.db, self.namespace.id, kind, due_at, payload)

    def pop_scripted_outcome(self) -> str | None:
        """The next scripted outcome, from the namespace row this work already read."""
        if not self.outcome_queue:
            return None
        head = self.outcome_queue.pop(0)
        self.outcomes_used = True
        return head

    def save_sequence(self) -> None:
        """What this work used of the namespace's random sequence and scripted outcomes."""
        if self.draws.used or self.outcomes_used:
            namespaces.save_sequence(self.store, self.namespace.id,
                                     self.draws.counter if self.draws.used else None,
                                     self.outcome_queue if self.outcomes_used else None)


@contextmanager
def unit_of_work(store: Store, namespace_id: str) -> Iterator[Work]:
    """One transaction on one namespace: the domain's services each run in one."""
    with store.write() as db:
        namespace = namespaces.get(store, namespace_id)
        work = Work(store, db, namespace, namespace.now_ms(), namespace.draws(),
                    outcome_queue=list(namespace.scripted_outcomes))
        yield work
        work.write_outbox()
        work.save_sequence()


def _row_snapshot(row, *json_columns: str) -> dict | None:
    if row is None:
        return None
    data = dict(row)
    for column in json_columns:
        data[column] = loads(data[column])
    data["attributes"] = json.loads(data["attributes"])
    return data


def dumps(value) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def loads(value: str | None):
    return None if value is None else json.loads(value)
