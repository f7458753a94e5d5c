"""SQLite storage: connections and transactions (the schema is schema.py).

Every state change in mock-psp runs inside :meth:`Store.write`, which opens an
``IMMEDIATE`` transaction: the writer takes SQLite's write lock before it reads,
so two requests racing to capture or refund the same payment are serialised by
the database itself rather than by luck.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database

from .schema import migrations

MEMORY = ":memory:"


class _WriteGate:
    """Who writes next, inside this process: background work first, then requests.

    SQLite lets one writer in at a time and makes the others sleep and retry (its busy
    handler backs off up to 100 ms), so under a steady stream of API writes a background
    thread that needs several short transactions per webhook delivery keeps losing the
    race: 8 busy clients left thousands of deliveries pending. Waiting here instead, with
    the scheduler's threads served before request threads, lets deliveries keep up with
    the events the API produces; the API waits a little longer instead (backpressure).
    Other processes (the CLI) still meet SQLite's own lock.
    """

    def __init__(self):
        self._turn = threading.Condition()
        self._held = False
        self._urgent_waiting = 0
        self.waiting = 0  # threads waiting for their turn (a gauge, for diagnostics and tests)

    @contextmanager
    def hold(self, urgent: bool) -> Iterator[None]:
        with self._turn:
            self.waiting += 1
            if urgent:
                self._urgent_waiting += 1
                while self._held:
                    self._turn.wait()
                self._urgent_waiting -= 1
            else:
                while self._held or self._urgent_waiting:
                    self._turn.wait()
            self.waiting -= 1
            self._held = True
        try:
            yield
        finally:
            with self._turn:
                self._held = False
                self._turn.notify_all()


class Store:
    """One SQLite database, shared safely by every thread of one app.

    A file database gets one connection per thread (WAL lets readers run while a
    writer commits). ``:memory:`` cannot be shared between connections without
    SQLite's shared-cache mode, whose table locks ignore the busy timeout, so an
    in-memory store uses a single connection behind a lock instead.
    """

    def __init__(self, path: str = MEMORY, busy_timeout_ms: int = 30_000):
        self.path = str(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._all_connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._memory_lock = threading.RLock() if self.is_memory else None
        self._gate = _WriteGate()
        self._shared_db = self._open() if self.is_memory else None
        with self._exclusive():
            migrations.apply(self._database())

    @property
    def is_memory(self) -> bool:
        return self.path == MEMORY

    def _open(self) -> Database:
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            timeout=self.busy_timeout_ms / 1000,
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        if not self.is_memory:
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL is durable against a crash of this process, which is what
            # the outbox promise needs; only power loss can lose the last commit.
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        with self._connections_lock:
            self._all_connections.append(conn)
        return Database(conn, execute_plugins=False)

    def _database(self) -> Database:
        if self._shared_db is not None:
            return self._shared_db
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._open()
        return db

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        if self._memory_lock is None:
            yield
        else:
            with self._memory_lock:
                yield

    @property
    def writers_waiting(self) -> int:
        """How many of this process's threads wait to write."""
        return self._gate.waiting

    def serve_in_background(self) -> None:
        """Mark the calling thread as background work (the scheduler's): its writes go first."""
        self._local.urgent = True

    @contextmanager
    def write(self) -> Iterator[Database]:
        """Run the block in one IMMEDIATE transaction; nested calls become savepoints."""
        with self._exclusive():
            db = self._database()
            if db.conn.in_transaction:
                with db.atomic():
                    yield db
                return
            if self.is_memory:  # one connection behind a lock already
                with self._transaction(db):
                    yield db
                return
            with self._gate.hold(getattr(self._local, "urgent", False)), self._transaction(db):
                yield db

    @contextmanager
    def _transaction(self, db: Database) -> Iterator[None]:
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
        else:
            db.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[Database]:
        """Give a connection for reads; inside write() it sees the open transaction."""
        with self._exclusive():
            yield self._database()

    def close(self) -> None:
        with self._connections_lock:
            connections, self._all_connections = self._all_connections, []
        for conn in connections:
            try:
                conn.close()
            except sqlite3.ProgrammingError:
                pass
