"""A unit of work: one transaction on one namespace, with its clock and random draws.

Every domain operation that changes state runs inside ``unit_of_work``. The
transition, its audit row, its outbox row and any job it schedules commit
together or not at all.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from collections.abc import Iterator

from sqlite_utils import Database

from .. import scheduler
from ..store import Store
from . import namespaces
from .namespaces import Namespace
from .randomness import Draws


@dataclass
class Work:
    db: Database
    namespace: Namespace
    now: int
    draws: Draws

    @property
    def config(self) -> dict:
        return self.namespace.config

    def record_transition(
        self,
        object_type: str,
        object_id: str,
        payment_id: str,
        from_status: str | None,
        to_status: str,
        reason: str,
        dialect: str,
    ) -> None:
        """Write the audit row and the outbox row for one state change."""
        self.db.execute(
            """INSERT INTO audit_events (namespace_id, object_type, object_id, payment_id,
                   from_status, to_status, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [self.namespace.id, object_type, object_id, payment_id, from_status, to_status, reason, self.now],
        )
        self.db.execute(
            """INSERT INTO outbox (namespace_id, object_type, object_id, status, dialect, created_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [self.namespace.id, object_type, object_id, to_status, dialect, self.now],
        )

    def schedule(self, kind: str, delay_seconds: float, payload: dict) -> int:
        due_at = self.now + int(round(delay_seconds * 1000))
        return scheduler.schedule(self.db, self.namespace.id, kind, due_at, payload)

    def pop_scripted_outcome(self) -> str | None:
        return namespaces.pop_outcome(self.db, self.namespace.id)


@contextmanager
def unit_of_work(store: Store, namespace_id: str) -> Iterator[Work]:
    with store.write() as db:
        namespace = namespaces.get(db, namespace_id)
        work = Work(db, namespace, namespace.now_ms(), namespace.draws())
        yield work
        namespaces.save_draws(db, namespace, work.draws)


def dumps(value) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def loads(value: str | None):
    return None if value is None else json.loads(value)
