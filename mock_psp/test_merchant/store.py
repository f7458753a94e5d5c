"""The merchant's own SQLite database (it shares nothing with the provider's).

Every change runs in :meth:`Store.write`, an ``IMMEDIATE`` transaction: the
writer holds SQLite's write lock from its first read, so two webhooks for the
same order, or two refund requests, are serialised by the database.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MEMORY = ":memory:"

migrations = Migrations("test_merchant")


@migrations()
def m001_orders(db: Database) -> None:
    db.executescript(
        """
        -- How this merchant is wired to the provider: namespace, keys, secrets.
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE orders (
            id TEXT PRIMARY KEY,
            dialect TEXT NOT NULL,
            state TEXT NOT NULL,
            amount INTEGER NOT NULL,
            currency TEXT NOT NULL,
            description TEXT NOT NULL,
            idempotency_key TEXT UNIQUE,
            payment_id TEXT UNIQUE,
            -- What the provider last told us (its own status word, and ours).
            provider_status TEXT,
            payment_state TEXT NOT NULL DEFAULT 'pending',
            paid_amount INTEGER NOT NULL DEFAULT 0,
            failure TEXT,
            checkout TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX orders_by_state ON orders (state, created_at);

        CREATE TABLE refunds (
            id TEXT PRIMARY KEY,
            order_id TEXT NOT NULL REFERENCES orders (id),
            amount INTEGER NOT NULL,
            state TEXT NOT NULL,
            provider_refund_id TEXT UNIQUE,
            provider_status TEXT,
            source TEXT NOT NULL,
            error TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX refunds_by_order ON refunds (order_id, created_at);
        CREATE INDEX refunds_by_state ON refunds (state, created_at);

        -- Every change of an order's state, with what caused it.
        CREATE TABLE transitions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            order_id TEXT NOT NULL REFERENCES orders (id),
            from_state TEXT,
            to_state TEXT NOT NULL,
            cause TEXT NOT NULL,
            at REAL NOT NULL
        );
        CREATE INDEX transitions_by_order ON transitions (order_id, id);

        -- Every webhook delivery, accepted or not. Accepted ones are the inbox:
        -- processed_at stays NULL until the event has been acted on.
        CREATE TABLE webhook_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            received_at REAL NOT NULL,
            dialect TEXT NOT NULL,
            scheme TEXT NOT NULL,
            request_id TEXT NOT NULL,
            source_ip TEXT,
            headers TEXT NOT NULL,
            size INTEGER NOT NULL,
            body TEXT,
            signature_valid INTEGER,
            event_id TEXT,
            event_type TEXT,
            object_type TEXT,
            object_id TEXT,
            payment_id TEXT,
            result TEXT NOT NULL,
            detail TEXT,
            processed_at REAL
        );
        CREATE INDEX webhook_log_by_result ON webhook_log (result, id);
        CREATE INDEX webhook_log_by_event ON webhook_log (event_id);
        CREATE INDEX webhook_log_inbox ON webhook_log (processed_at, id);
        """
    )


@migrations()
def m002_govpay_lk_tokens(db: Database) -> None:
    db.executescript(
        """
        -- OAuth2 access tokens this merchant issued to GovPay+ (client credentials).
        -- Only their SHA-256 is kept: a token is looked up by its hash, never compared.
        CREATE TABLE govpay_lk_tokens (
            token_sha256 TEXT PRIMARY KEY,
            client_id TEXT NOT NULL,
            scope TEXT,
            issued_at REAL NOT NULL,
            expires_at REAL NOT NULL
        );
        """
    )


class Store:
    """One SQLite database for one merchant app, shared safely by its threads."""

    def __init__(self, path: str = MEMORY, busy_timeout_ms: int = 30_000):
        self.path = str(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        # An in-memory database is one connection; a lock makes it one writer at a time.
        self._memory_lock = threading.RLock() if self.path == MEMORY else None
        self._shared = self._open() if self._memory_lock else None
        with self._exclusive():
            migrations.apply(self._db())

    def _open(self) -> Database:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=self.busy_timeout_ms / 1000)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        if self.path != MEMORY:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        with self._connections_lock:
            self._connections.append(conn)
        return Database(conn, execute_plugins=False)

    def _db(self) -> Database:
        if self._shared is not None:
            return self._shared
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

    @contextmanager
    def write(self) -> Iterator[Database]:
        """One IMMEDIATE transaction; a nested call becomes a savepoint."""
        with self._exclusive():
            db = self._db()
            if db.conn.in_transaction:
                with db.atomic():
                    yield db
                return
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise
            else:
                db.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[Database]:
        with self._exclusive():
            yield self._db()

    def setting(self, key: str) -> str | None:
        with self.read() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def save_settings(self, values: dict[str, str]) -> None:
        with self.write() as db:
            for key, value in values.items():
                db.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])

    def close(self) -> None:
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            try:
                conn.close()
            except sqlite3.ProgrammingError:
                pass
