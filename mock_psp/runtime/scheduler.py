"""Timed jobs kept in SQLite and run in due-time order on each namespace's clock.

A job is claimed in one transaction, run outside any transaction (a handler may
call out over HTTP, and the receiver may call us back), then marked done in a
new transaction. Jobs left `running` by a crash go back to `pending` on start,
so a job is run at least once.

A background worker runs jobs as they fall due: on a system clock when real time
reaches them, on a virtual clock when they are due at or before its frozen
"now". A virtual clock moves only through ``clock.advance`` (runtime/clock.py),
which walks the clock from job to job, running each at its own due time (through
:meth:`Scheduler.run_due_by`), before it returns.
Jobs of one namespace run one at a time, in due-time order; namespaces run in
parallel on a small pool, so a slow webhook receiver in one cannot stall another.

Stopping waits at most ``STOP_GRACE_SECONDS`` for jobs in progress (a webhook receiver may
hang for its whole timeout): a job still running then is abandoned, nothing about it is
recorded, and it stays ``running`` in SQLite, so the next start runs it again.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from . import clock as clocks

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 1.0


@dataclass(frozen=True)
class Job:
    id: int
    namespace_id: str
    kind: str
    payload: dict
    due_at: int

    @classmethod
    def from_row(cls, row) -> Job:
        return cls(row["id"], row["namespace_id"], row["kind"], json.loads(row["payload"]), row["due_at"])


Handler = Callable[[Any, Job], object]  # (the store, the job)


def schedule(db: Database, namespace_id: str, kind: str, due_at: int, payload: dict) -> int:
    """Add a job inside the caller's transaction; it commits with the change that caused it."""
    cursor = db.execute(
        "INSERT INTO jobs (namespace_id, kind, payload, due_at, created_at) VALUES (?, ?, ?, ?, ?)",
        [namespace_id, kind, json.dumps(payload, separators=(",", ":")), due_at, clocks.system_now_ms()],
    )
    return cursor.lastrowid


def pending_jobs(db: Database, namespace_id: str) -> list[dict]:
    rows = db.execute(
        "SELECT id, kind, payload, due_at FROM jobs WHERE namespace_id = ? AND state = 'pending' ORDER BY due_at, id",
        [namespace_id],
    ).fetchall()
    return [{"id": r["id"], "kind": r["kind"], "due_at": r["due_at"], "payload": json.loads(r["payload"])}
            for r in rows]


class Scheduler:
    def __init__(self, store, handlers: dict[str, Handler], poll_interval: float = 0.05,
                 after_job: Callable[[], object] | None = None, workers: int = 4,
                 quiet_kinds: frozenset[str] = frozenset()):
        """
        :param after_job: called after every job (and before each pass), e.g. to turn
            the changes a job committed into webhook deliveries.
        :param quiet_kinds: job kinds that commit no changes for ``after_job`` to pick up
            (a webhook delivery); skipping the hook after them saves a write turn per job.
        """
        self.quiet_kinds = quiet_kinds
        self.store = store
        self.handlers = handlers
        self.poll_interval = poll_interval
        self.after_job = after_job or (lambda: None)
        self.workers = workers
        self._namespace_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # The pool's threads are daemons (a ThreadPoolExecutor's are joined when the interpreter
        # exits, which would make a process wait for a hanging receiver).
        self._pool: list[threading.Thread] = []
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._in_flight: set[str] = set()
        self._in_flight_guard = threading.Condition()
        self._requeue_abandoned()

    def _requeue_abandoned(self) -> None:
        with self.store.write() as db:
            db.execute("UPDATE jobs SET state = 'pending' WHERE state = 'running'")

    def _lock_for(self, namespace_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._namespace_locks.setdefault(namespace_id, threading.Lock())

    # -- running jobs ---------------------------------------------------------

    def _mark_finished(self, db: Database, finished: dict | None) -> None:
        if finished is not None:
            db.execute(
                "UPDATE jobs SET state = ?, last_error = ?, finished_at = ? WHERE id = ?",
                [finished["state"], finished["error"], clocks.system_now_ms(), finished["id"]],
            )

    def _claim_next(self, namespace_id: str, up_to: int, finished: dict | None,
                    on_claim: Callable[[Database, Job], None] | None) -> Job | None:
        """Record the job just run (if any) and claim the next one due, in one transaction."""
        with self.store.write() as db:
            self._mark_finished(db, finished)
            row = db.execute(
                """SELECT * FROM jobs WHERE namespace_id = ? AND state = 'pending' AND due_at <= ?
                   ORDER BY due_at, id LIMIT 1""",
                [namespace_id, up_to],
            ).fetchone()
            if row is None:
                return None
            job = Job.from_row(row)
            if on_claim is not None:
                on_claim(db, job)
            db.execute("UPDATE jobs SET state = 'running' WHERE id = ?", [row["id"]])
            return job

    def _run(self, job: Job) -> dict:
        handler = self.handlers.get(job.kind)
        state, error = "done", None
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            handler(self.store, job)
        except Exception as exc:  # a failing job must not stop the others
            if self._stop.is_set():
                raise Abandoned(job.id) from exc  # the store went away under it: it stays `running`
            log.exception("job %s (%s) failed", job.id, job.kind)
            state, error = "failed", f"{type(exc).__name__}: {exc}"
        if job.kind not in self.quiet_kinds:
            self._after_job()
        return {"id": job.id, "kind": job.kind, "due_at": job.due_at, "state": state, "error": error,
                "payload": job.payload}

    def _after_job(self) -> None:
        try:
            self.after_job()
        except Exception:  # a failing hook must not stop the jobs
            log.exception("after-job hook failed")

    @contextmanager
    def running_jobs_of(self, namespace_id: str) -> Iterator[None]:
        """Hold the namespace's jobs: inside, this thread alone runs them (and moves its clock)."""
        self._after_job()
        with self._lock_for(namespace_id):
            yield

    def run_due_by(self, namespace_id: str, up_to: int,
                   on_claim: Callable[[Database, Job], None] | None = None) -> list[dict]:
        """Inside :meth:`running_jobs_of`: run every job of the namespace due by ``up_to``, in
        due-time order, jobs they schedule in the window included. ``on_claim`` runs in the
        transaction that claims each job (the virtual clock moves to its due time there)."""
        ran = []
        finished = None
        while (job := self._claim_next(namespace_id, up_to, finished, on_claim)) is not None:
            finished = self._run(job)
            ran.append(finished)
            if self._stop.is_set():  # stopping: record this one, claim no more
                self._claim_next(namespace_id, -1, finished, None)
                break
        return ran

    def run_due(self, namespace_id: str, now: int | None = None) -> list[dict]:
        """Run every job of the namespace due at or before ``now`` (default: its clock's now)."""
        with self.running_jobs_of(namespace_id):
            return self.run_due_by(namespace_id, clocks.now_of(self.store, namespace_id) if now is None else now)

    def pending(self, namespace_id: str) -> list[dict]:
        """The namespace's jobs still waiting, in due-time order."""
        with self.store.read() as db:
            return pending_jobs(db, namespace_id)

    # -- the background worker -----------------------------------------------------

    def namespaces_with_due_jobs(self) -> list[str]:
        """Namespaces with a job due by their own clock (real time, or the frozen virtual now).

        Two indexed lookups rather than one query with a per-row clock, which
        would scan every pending job on each pass.
        """
        with self.store.read() as db:
            due = [
                r["namespace_id"]
                for r in db.execute(
                    """SELECT DISTINCT namespace_id FROM jobs WHERE state = 'pending' AND due_at <= ?
                       AND namespace_id IN (SELECT id FROM namespaces WHERE clock_mode = 'system')""",
                    [clocks.system_now_ms()],
                ).fetchall()
            ]
            for row in db.execute("SELECT id, virtual_now FROM namespaces WHERE clock_mode = 'virtual'").fetchall():
                if db.execute(
                    "SELECT 1 FROM jobs WHERE namespace_id = ? AND state = 'pending' AND due_at <= ? LIMIT 1",
                    [row["id"], row["virtual_now"]],
                ).fetchone():
                    due.append(row["id"])
            return due

    def run_due_everywhere(self) -> int:
        """One pass, in this thread: every namespace's due jobs."""
        self._after_job()
        return sum(len(self.run_due(namespace_id)) for namespace_id in self.namespaces_with_due_jobs())

    @property
    def running(self) -> bool:
        return self._thread is not None

    def wake(self) -> None:
        """Make the worker look for due jobs now rather than at its next poll."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._pool = [threading.Thread(target=self._work, name=f"mock-psp-jobs-{n}", daemon=True)
                      for n in range(self.workers)]
        for thread in self._pool:
            thread.start()
        self._thread = threading.Thread(target=self._loop, name="mock-psp-scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        self.store.serve_in_background()
        while not self._stop.is_set():
            try:
                self._after_job()
                for namespace_id in self.namespaces_with_due_jobs():
                    self._submit(namespace_id)
            except Exception:  # keep the worker alive across a bad pass
                if self._stop.is_set():
                    break  # the store is closing
                log.exception("scheduler pass failed")
            self._wake.wait(self.poll_interval)
            self._wake.clear()

    def _submit(self, namespace_id: str) -> None:
        with self._in_flight_guard:
            if namespace_id in self._in_flight:
                return
            self._in_flight.add(namespace_id)
        self._queue.put(namespace_id)

    def _work(self) -> None:
        self.store.serve_in_background()
        while (namespace_id := self._queue.get()) is not None:
            try:
                self.run_due(namespace_id)
            except Abandoned as abandoned:
                log.info("job %s abandoned at stop; it runs again on the next start", abandoned)
            except Exception:
                if not self._stop.is_set():
                    log.exception("running due jobs of %s failed", namespace_id)
            finally:
                with self._in_flight_guard:
                    self._in_flight.discard(namespace_id)
                    self._in_flight_guard.notify_all()
                self._wake.set()

    def stop(self, timeout: float = STOP_GRACE_SECONDS) -> None:
        """Stop the worker; wait up to ``timeout`` for jobs in progress, then leave them (see above)."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._in_flight_guard:
            while self._in_flight and (remaining := deadline - time.monotonic()) > 0:
                self._in_flight_guard.wait(remaining)
            if self._in_flight:
                log.info("stopping with jobs of %s still running; they run again on the next start",
                         ", ".join(sorted(self._in_flight)))
        for _ in self._pool:
            self._queue.put(None)
        self._pool = []


class Abandoned(Exception):
    """A job whose handler failed because the scheduler was stopping (the store closed under it)."""
