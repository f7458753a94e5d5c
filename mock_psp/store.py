"""SQLite storage: connections, transactions and the schema migrations.

Every state change in mock-psp runs inside :meth:`Store.write`, which opens an
``IMMEDIATE`` transaction: the writer takes SQLite's write lock before it reads,
so two requests racing to capture or refund the same payment are serialised by
the database itself rather than by luck.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from collections.abc import Iterator

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MEMORY = ":memory:"

migrations = Migrations("mock_psp")


@migrations()
def m001_core(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE namespaces (
            id TEXT PRIMARY KEY,
            is_default INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            hs_merchant_id TEXT NOT NULL UNIQUE,
            hs_profile_id TEXT NOT NULL,
            hs_api_key TEXT NOT NULL UNIQUE,
            hs_publishable_key TEXT NOT NULL UNIQUE,
            hs_hash_key TEXT NOT NULL,
            govuk_api_key TEXT NOT NULL UNIQUE,
            govuk_webhook_secret TEXT NOT NULL,
            config TEXT NOT NULL,
            seed INTEGER NOT NULL,
            rng_counter INTEGER NOT NULL DEFAULT 0,
            clock_mode TEXT NOT NULL DEFAULT 'system',
            virtual_now INTEGER,
            scripted_outcomes TEXT NOT NULL DEFAULT '[]'
        );

        CREATE TABLE payments (
            namespace_id TEXT NOT NULL,
            id TEXT NOT NULL,
            dialect TEXT NOT NULL,
            status TEXT NOT NULL,
            amount INTEGER NOT NULL,
            currency TEXT NOT NULL,
            capture_method TEXT NOT NULL,
            amount_captured INTEGER NOT NULL DEFAULT 0,
            payment_method TEXT,
            payment_method_type TEXT,
            payment_method_data TEXT,
            authentication_type TEXT,
            client_secret TEXT NOT NULL,
            customer_id TEXT,
            description TEXT,
            return_url TEXT,
            reference TEXT,
            metadata TEXT,
            attributes TEXT NOT NULL DEFAULT '{}',
            failure_reason TEXT,
            customer_action TEXT,
            pending TEXT,
            attempt_id TEXT,
            attempt_count INTEGER NOT NULL DEFAULT 0,
            connector_transaction_id TEXT,
            cancellation_reason TEXT,
            session_expires_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (namespace_id, id)
        );
        CREATE INDEX payments_by_created ON payments (namespace_id, created_at);
        CREATE INDEX payments_by_customer ON payments (namespace_id, customer_id, created_at);

        CREATE TABLE refunds (
            namespace_id TEXT NOT NULL,
            id TEXT NOT NULL,
            payment_id TEXT NOT NULL,
            status TEXT NOT NULL,
            amount INTEGER NOT NULL,
            currency TEXT NOT NULL,
            reason TEXT,
            metadata TEXT,
            attributes TEXT NOT NULL DEFAULT '{}',
            failure_reason TEXT,
            connector_refund_id TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (namespace_id, id)
        );
        CREATE INDEX refunds_by_payment ON refunds (namespace_id, payment_id);
        CREATE INDEX refunds_by_created ON refunds (namespace_id, created_at);

        -- The audit log: one row per state transition, written in the same
        -- transaction as the change it records.
        CREATE TABLE audit_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            namespace_id TEXT NOT NULL,
            object_type TEXT NOT NULL,
            object_id TEXT NOT NULL,
            payment_id TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT NOT NULL,
            reason TEXT NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE INDEX audit_by_payment ON audit_events (namespace_id, payment_id, id);

        -- Domain events waiting to become webhooks; written with the change.
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            namespace_id TEXT NOT NULL,
            object_type TEXT NOT NULL,
            object_id TEXT NOT NULL,
            status TEXT NOT NULL,
            dialect TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            dispatched_at INTEGER
        );
        CREATE INDEX outbox_pending ON outbox (dispatched_at, id);

        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            namespace_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            due_at INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            last_error TEXT,
            created_at INTEGER NOT NULL,
            finished_at INTEGER
        );
        CREATE INDEX jobs_due ON jobs (state, due_at, id);
        CREATE INDEX jobs_by_namespace ON jobs (namespace_id, state, due_at, id);
        """
    )


@migrations()
def m002_webhooks(db: Database) -> None:
    db.executescript(
        """
        -- The outbox row carries the object as it stood when the change committed,
        -- so a webhook describes that moment even if it is sent later.
        ALTER TABLE outbox ADD COLUMN payment_id TEXT;
        ALTER TABLE outbox ADD COLUMN from_status TEXT;
        ALTER TABLE outbox ADD COLUMN snapshot TEXT;
        ALTER TABLE outbox ADD COLUMN dispatch_error TEXT;

        ALTER TABLE namespaces ADD COLUMN faults TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE namespaces ADD COLUMN fault_script TEXT NOT NULL DEFAULT '[]';
        -- Fault draws use their own random sequence, so background deliveries never
        -- shift the ids and outcomes of the payments a test makes.
        ALTER TABLE namespaces ADD COLUMN fault_rng_counter INTEGER NOT NULL DEFAULT 0;
        -- Settings a dialect keeps per namespace (e.g. the Hyperswitch business profile).
        ALTER TABLE namespaces ADD COLUMN dialect_settings TEXT NOT NULL DEFAULT '{}';

        CREATE TABLE webhook_endpoints (
            id TEXT PRIMARY KEY,
            namespace_id TEXT NOT NULL,
            url TEXT NOT NULL,
            scheme TEXT NOT NULL,
            -- NULL: use the namespace's own key for the scheme (hash key, GOV.UK secret)
            secret TEXT,
            dialect TEXT,
            events TEXT,
            enabled INTEGER NOT NULL DEFAULT 1,
            timeout_seconds REAL,
            retry_schedule TEXT,
            faults TEXT NOT NULL DEFAULT '{}',
            fault_script TEXT NOT NULL DEFAULT '[]',
            source TEXT NOT NULL DEFAULT 'control',
            description TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX webhook_endpoints_by_namespace ON webhook_endpoints (namespace_id, created_at);

        -- One event per (object, event type), as the real providers de-duplicate.
        CREATE TABLE webhook_events (
            id TEXT NOT NULL,
            namespace_id TEXT NOT NULL,
            dialect TEXT NOT NULL,
            event_type TEXT NOT NULL,
            event_class TEXT NOT NULL,
            object_type TEXT NOT NULL,
            object_id TEXT NOT NULL,
            payment_id TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (namespace_id, id)
        );
        CREATE UNIQUE INDEX webhook_events_once ON webhook_events (namespace_id, dialect, object_id, event_type);
        CREATE INDEX webhook_events_by_created ON webhook_events (namespace_id, created_at);

        CREATE TABLE webhook_deliveries (
            id TEXT NOT NULL,
            namespace_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            endpoint_id TEXT NOT NULL,
            status TEXT NOT NULL,
            attempt_count INTEGER NOT NULL DEFAULT 0,
            retries_used INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER,
            job_id INTEGER,
            held_for_reorder INTEGER NOT NULL DEFAULT 0,
            delayed_by_fault INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (namespace_id, id)
        );
        CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (namespace_id, event_id);
        CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (namespace_id, endpoint_id, created_at);
        CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (namespace_id, status);

        CREATE TABLE webhook_attempts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            attempt_id TEXT NOT NULL,
            namespace_id TEXT NOT NULL,
            delivery_id TEXT NOT NULL,
            number INTEGER NOT NULL,
            kind TEXT NOT NULL,
            at INTEGER NOT NULL,
            sent INTEGER NOT NULL,
            status_code INTEGER,
            latency_ms REAL,
            error TEXT,
            fault TEXT,
            request_headers TEXT,
            response_headers TEXT,
            response_excerpt TEXT
        );
        CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (namespace_id, delivery_id, id);
        """
    )


@migrations()
def m003_refunds_by_payment_in_order(db: Database) -> None:
    # With only (namespace_id, payment_id), SQLite preferred the creation-time
    # index for "refunds of a payment, oldest first" and scanned every refund
    # of the namespace: O(n) per payment read.
    db.executescript(
        """
        DROP INDEX refunds_by_payment;
        CREATE INDEX refunds_by_payment ON refunds (namespace_id, payment_id, created_at);
        """
    )


@migrations()
def m004_publishing_flag(db: Database) -> None:
    # Outbox rows are written only while something consumes them (an enabled
    # webhook endpoint); a namespace nobody listens to pays nothing for events.
    db.execute("ALTER TABLE namespaces ADD COLUMN publishes_events INTEGER NOT NULL DEFAULT 0")


@migrations()
def m005_held_deliveries(db: Database) -> None:
    # Finding deliveries held back for reordering must not scan an endpoint's history.
    db.execute(
        "CREATE INDEX webhook_deliveries_held ON webhook_deliveries (namespace_id, endpoint_id, created_at, id) "
        "WHERE held_for_reorder = 1"
    )


@migrations()
def m006_customer_steps_and_idempotency(db: Database) -> None:
    db.executescript(
        """
        -- The customer confirms after authorisation (GOV.UK Pay's confirm page).
        ALTER TABLE payments ADD COLUMN confirmation_required INTEGER NOT NULL DEFAULT 0;
        -- Seconds after confirmation within which a delayed capture must happen.
        ALTER TABLE payments ADD COLUMN capture_window_seconds INTEGER;

        CREATE TABLE idempotency_keys (
            namespace_id TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            payment_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (namespace_id, key)
        );

        -- Single-use links that let a customer's browser into a payment's pages.
        CREATE TABLE access_tokens (
            token TEXT PRIMARY KEY,
            namespace_id TEXT NOT NULL,
            payment_id TEXT NOT NULL,
            used_at INTEGER,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX access_tokens_by_payment ON access_tokens (namespace_id, payment_id);
        """
    )


@migrations()
def m007_checkout_sessions(db: Database) -> None:
    db.executescript(
        """
        -- A browser's visit to the hosted checkout for one payment: how it is shown
        -- (redirect, or embedded in a merchant page) and to which parent origin.
        CREATE TABLE checkout_sessions (
            id TEXT PRIMARY KEY,
            namespace_id TEXT NOT NULL,
            payment_id TEXT NOT NULL,
            mode TEXT NOT NULL,
            parent_origin TEXT,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX checkout_sessions_by_payment ON checkout_sessions (namespace_id, payment_id);
        """
    )



@migrations()
def m008_api_faults(db: Database) -> None:
    db.executescript(
        """
        -- API fault injection (mock_psp/api_faults.py): settings, the scripted queue, and a
        -- random sequence of its own so API faults never shift payment ids or outcomes.
        ALTER TABLE namespaces ADD COLUMN api_faults TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE namespaces ADD COLUMN api_fault_script TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE namespaces ADD COLUMN api_fault_rng_counter INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE api_fault_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            namespace_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            fault TEXT NOT NULL,
            status INTEGER,
            latency_ms REAL NOT NULL,
            source TEXT NOT NULL
        );
        CREATE INDEX api_fault_log_by_namespace ON api_fault_log (namespace_id, id);
        """
    )


@migrations()
def m009_agreements(db: Database) -> None:
    db.executescript(
        """
        -- A paying user's agreement to be charged later with a card saved on a first payment
        -- (GOV.UK Pay's recurring card payments). ``instrument`` is the saved card, as JSON.
        CREATE TABLE agreements (
            namespace_id TEXT NOT NULL,
            id TEXT NOT NULL,
            reference TEXT NOT NULL,
            description TEXT NOT NULL,
            user_identifier TEXT,
            status TEXT NOT NULL,
            instrument TEXT,
            instrument_created_at INTEGER,
            created_at INTEGER NOT NULL,
            cancelled_at INTEGER,
            PRIMARY KEY (namespace_id, id)
        );
        CREATE INDEX agreements_by_created ON agreements (namespace_id, created_at);
        """
    )


@migrations()
def m010_customers(db: Database) -> None:
    db.executescript(
        """
        -- A merchant's customers (Hyperswitch's customers API). A deleted customer stays,
        -- with its personal data replaced by "Redacted", as the real service keeps it.
        CREATE TABLE customers (
            namespace_id TEXT NOT NULL,
            id TEXT NOT NULL,
            name TEXT,
            email TEXT,
            phone TEXT,
            phone_country_code TEXT,
            description TEXT,
            address TEXT,
            metadata TEXT,
            extra TEXT NOT NULL DEFAULT '{}',
            redacted INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (namespace_id, id)
        );
        CREATE INDEX customers_by_created ON customers (namespace_id, created_at);
        """
    )


@migrations()
def m011_mandates(db: Database) -> None:
    db.executescript(
        """
        -- A customer's mandate: permission to charge a saved card later without them
        -- (Hyperswitch's mandates). ``card`` is the saved card, as JSON.
        CREATE TABLE mandates (
            namespace_id TEXT NOT NULL,
            id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            status TEXT NOT NULL,
            mandate_type TEXT NOT NULL,
            amount INTEGER,
            currency TEXT,
            start_date TEXT,
            end_date TEXT,
            metadata TEXT,
            amount_used INTEGER NOT NULL DEFAULT 0,
            payment_method_id TEXT NOT NULL,
            payment_method_type TEXT,
            card TEXT NOT NULL,
            customer_acceptance TEXT,
            payment_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (namespace_id, id)
        );
        CREATE INDEX mandates_by_customer ON mandates (namespace_id, customer_id, created_at);
        """
    )

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

    @contextmanager
    def write(self) -> Iterator[Database]:
        """Run the block in one IMMEDIATE transaction; nested calls become savepoints."""
        with self._exclusive():
            db = self._database()
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
