"""The delivery tables' shared vocabulary: statuses, reading a row, scheduling the next attempt,
and the fault draws' own random sequence. Used inside the transactions of outbox.py,
delivery.py and log.py."""

from __future__ import annotations

from sqlite_utils import Database

from ..domain.errors import NOT_FOUND
from ..domain.errors import DomainError
from ..domain.namespaces import Namespace
from ..domain.randomness import Draws
from ..runtime import scheduler
from . import faults

PENDING, FAILED, DELIVERED, GIVEN_UP = "pending", "failed", "delivered", "given_up"
STATUSES = (PENDING, FAILED, DELIVERED, GIVEN_UP)
INITIAL, AUTOMATIC, MANUAL = "initial_attempt", "automatic_retry", "manual_retry"
JOB_KIND = "webhook.deliver"


def delivery_row(db: Database, namespace_id: str, delivery_id: str):
    row = db.execute("SELECT * FROM webhook_deliveries WHERE namespace_id = ? AND id = ?",
                     [namespace_id, delivery_id]).fetchone()
    if row is None:
        raise DomainError(NOT_FOUND, f"no webhook delivery {delivery_id!r}",
                          {"object": "webhook_delivery", "object_id": delivery_id})
    return row


def event_row(db: Database, namespace_id: str, event_id: str):
    return db.execute("SELECT * FROM webhook_events WHERE namespace_id = ? AND id = ?",
                      [namespace_id, event_id]).fetchone()


def schedule_attempt(db: Database, namespace_id: str, delivery_id: str, due_at: int) -> None:
    """The delivery's next attempt, as a job on the namespace clock (a later schedule supersedes it)."""
    job_id = scheduler.schedule(db, namespace_id, JOB_KIND, due_at, {"delivery_id": delivery_id})
    db.execute(
        "UPDATE webhook_deliveries SET job_id = ?, next_attempt_at = ? WHERE namespace_id = ? AND id = ?",
        [job_id, due_at, namespace_id, delivery_id],
    )


def fault_draws(db: Database, namespace: Namespace) -> Draws:
    """Fault draws use their own sequence (faults.fault_draws), so deliveries never shift payment ids."""
    counter = db.execute("SELECT fault_rng_counter FROM namespaces WHERE id = ?", [namespace.id]).fetchone()[0]
    return faults.fault_draws(namespace.seed, counter)


def save_fault_draws(db: Database, namespace: Namespace, draws: Draws) -> None:
    if draws.used:
        db.execute("UPDATE namespaces SET fault_rng_counter = ? WHERE id = ?", [draws.counter, namespace.id])
