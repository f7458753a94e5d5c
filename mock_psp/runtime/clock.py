"""Per-namespace clocks: the real time, or a virtual time that moves only when told.

Times are integer milliseconds since the Unix epoch, UTC, everywhere in the
store. A virtual clock's "now" lives in its namespace's row, so it survives a
restart and is shared by every thread that serves the namespace.
"""

from __future__ import annotations

import time
from datetime import UTC
from datetime import datetime

SYSTEM = "system"
VIRTUAL = "virtual"
MODES = (SYSTEM, VIRTUAL)


def system_now_ms() -> int:
    return time.time_ns() // 1_000_000


class SystemClock:
    mode = SYSTEM

    def now_ms(self) -> int:
        return system_now_ms()


class VirtualClock:
    mode = VIRTUAL

    def __init__(self, now_ms: int):
        self._now_ms = int(now_ms)

    def now_ms(self) -> int:
        return self._now_ms


def clock_for(mode: str, virtual_now_ms: int | None) -> SystemClock | VirtualClock:
    if mode == VIRTUAL:
        return VirtualClock(virtual_now_ms if virtual_now_ms is not None else system_now_ms())
    return SystemClock()


def to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_ms(ms: int | None) -> str | None:
    """Format as ISO-8601 UTC with milliseconds and a Z, as Hyperswitch does."""
    if ms is None:
        return None
    dt = to_datetime(ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> int:
    """Parse an ISO-8601 timestamp (a trailing Z or an offset; naive means UTC)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


# -- each namespace's clock ---------------------------------------------------------------------
#
# A namespace's clock is its row's ``clock_mode`` and ``virtual_now``; this is the one
# place that moves them. Freezing (system -> virtual) stops time at the instant it is
# frozen; advancing a virtual clock walks it from job to job, running each job at its
# own due time, before it returns.


class ClockError(Exception):
    """The clock cannot do what was asked (e.g. advance a system clock)."""


def reading(store, namespace_id: str) -> tuple[str, int | None] | None:
    """(mode, virtual now) of a namespace's clock, or None if there is no such namespace."""
    with store.read() as db:
        row = db.execute("SELECT clock_mode, virtual_now FROM namespaces WHERE id = ?", [namespace_id]).fetchone()
    return (row["clock_mode"], row["virtual_now"]) if row else None


def now_of(store, namespace_id: str) -> int:
    """The namespace's now: its virtual time, or the real time (also for a namespace that is gone)."""
    read = reading(store, namespace_id)
    if read is None or read[0] != VIRTUAL:
        return system_now_ms()
    return read[1]


def switch(store, namespace_id: str, mode: str) -> None:
    """Virtual freezes time at the namespace's current instant; system resumes real time."""
    with store.write() as db:
        current = reading(store, namespace_id)
        if current is None or current[0] == mode:
            return
        virtual_now = system_now_ms() if mode == VIRTUAL else None
        db.execute("UPDATE namespaces SET clock_mode = ?, virtual_now = ? WHERE id = ?",
                   [mode, virtual_now, namespace_id])


def _virtual_now(store, namespace_id: str) -> int:
    read = reading(store, namespace_id)
    if read is None:
        raise LookupError(namespace_id)
    if read[0] != VIRTUAL:
        raise ClockError(
            "this namespace uses the system clock; set {\"clock\": \"virtual\"} with PUT /_mock/config first"
        )
    return read[1]


def _move(db, namespace_id: str, now: int) -> None:
    db.execute("UPDATE namespaces SET virtual_now = ? WHERE id = ?", [now, namespace_id])


def advance(scheduler, namespace_id: str, seconds: float) -> list[dict]:
    """Move a virtual clock forward by ``seconds``, running each job due on the way at its due time."""
    return advance_to(scheduler, namespace_id, _virtual_now(scheduler.store, namespace_id)
                      + int(round(seconds * 1000)))


def advance_to(scheduler, namespace_id: str, target: int) -> list[dict]:
    """Move a virtual clock to ``target``, running each due job at its due time.

    Jobs that a job schedules inside the window also run before this returns.
    Moving backwards is allowed and runs nothing. ``scheduler`` runs the jobs
    (runtime/scheduler.py); in the transaction that claims each one, the clock
    moves to its due time.
    """
    store = scheduler.store

    def move_to_due(db, job) -> None:
        if job.due_at > _virtual_now(store, namespace_id):
            _move(db, namespace_id, job.due_at)

    with scheduler.running_jobs_of(namespace_id):
        _virtual_now(store, namespace_id)
        ran = scheduler.run_due_by(namespace_id, target, on_claim=move_to_due)
        with store.write() as db:
            _move(db, namespace_id, target)
    return ran
