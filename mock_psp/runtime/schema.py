"""The provider's SQLite schema, as an ordered list of migrations (sqlite-utils ``Migrations``).

A migration never changes once released: a later one alters what an earlier one made.
``Store`` applies them when it opens a database, so an old file is brought up to date.
"""

from __future__ import annotations

import hashlib
import json

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

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
        -- API fault injection (mock_psp/web/api_faults.py): settings, the scripted queue, and a
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


@migrations()
def m012_dialect_keys_and_settings(db: Database) -> None:
    """Each dialect's keys and settings move out of the shared namespaces row into tables of their own,
    so adding a dialect adds rows, not columns. The keys keep their values: the ones the first
    migration kept in hs_*/govuk_* columns, and GovPay+'s inquiry key, which was derived from the
    GOV.UK key until now (``gplk_`` + sha256("govpay-lk:<namespace id>:<GOV.UK api key>")[:40])."""
    db.execute("""CREATE TABLE dialect_keys (
        namespace_id TEXT NOT NULL,
        dialect TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        -- a request presenting the key belongs to the namespace: unique per dialect and name
        identifies INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (namespace_id, dialect, name))""")
    db.execute("CREATE UNIQUE INDEX dialect_keys_lookup ON dialect_keys (dialect, name, value) WHERE identifies = 1")
    db.execute("""CREATE TABLE dialect_settings (
        namespace_id TEXT NOT NULL,
        dialect TEXT NOT NULL,
        settings TEXT NOT NULL,
        PRIMARY KEY (namespace_id, dialect))""")
    for dialect, name, column, identifies in (
        ("hyperswitch", "merchant_id", "hs_merchant_id", 1), ("hyperswitch", "profile_id", "hs_profile_id", 0),
        ("hyperswitch", "api_key", "hs_api_key", 1), ("hyperswitch", "publishable_key", "hs_publishable_key", 1),
        ("hyperswitch", "payment_response_hash_key", "hs_hash_key", 0),
        ("govuk", "api_key", "govuk_api_key", 1), ("govuk", "webhook_signing_secret", "govuk_webhook_secret", 0),
    ):
        db.execute(f"INSERT INTO dialect_keys (namespace_id, dialect, name, value, identifies) "
                   f"SELECT id, ?, ?, {column}, ? FROM namespaces", [dialect, name, identifies])
    for row in db.execute("SELECT id, govuk_api_key FROM namespaces").fetchall():
        digest = hashlib.sha256(f"govpay-lk:{row['id']}:{row['govuk_api_key']}".encode()).hexdigest()
        db.execute("INSERT INTO dialect_keys (namespace_id, dialect, name, value, identifies) VALUES (?, ?, ?, ?, 1)",
                   [row["id"], "govpay_lk", "api_key", f"gplk_{digest[:40]}"])
    db.execute("INSERT INTO dialect_settings (namespace_id, dialect, settings) "
               "SELECT n.id, j.key, j.value FROM namespaces n, json_each(n.dialect_settings) j")
    kept = ("id, is_default, created_at, config, seed, rng_counter, clock_mode, virtual_now, scripted_outcomes, "
            "faults, fault_script, fault_rng_counter, publishes_events, api_faults, api_fault_script, "
            "api_fault_rng_counter")
    db.execute("""CREATE TABLE namespaces_rebuilt (
        id TEXT PRIMARY KEY,
        is_default INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        config TEXT NOT NULL,
        seed INTEGER NOT NULL,
        rng_counter INTEGER NOT NULL DEFAULT 0,
        clock_mode TEXT NOT NULL DEFAULT 'system',
        virtual_now INTEGER,
        scripted_outcomes TEXT NOT NULL DEFAULT '[]',
        faults TEXT NOT NULL DEFAULT '{}',
        fault_script TEXT NOT NULL DEFAULT '[]',
        fault_rng_counter INTEGER NOT NULL DEFAULT 0,
        publishes_events INTEGER NOT NULL DEFAULT 0,
        api_faults TEXT NOT NULL DEFAULT '{}',
        api_fault_script TEXT NOT NULL DEFAULT '[]',
        api_fault_rng_counter INTEGER NOT NULL DEFAULT 0)""")
    db.execute(f"INSERT INTO namespaces_rebuilt ({kept}) SELECT {kept} FROM namespaces")
    db.execute("DROP TABLE namespaces")
    db.execute("ALTER TABLE namespaces_rebuilt RENAME TO namespaces")


# What the sandboxes did with their magic numbers when a stored card started carrying its
# outcome (m013): (result, reason, 3DS challenge) per dialect and number. History, not a
# source of truth: each dialect's cards.py is that.
_CARD_OUTCOMES_BEFORE_M013 = {
    "hyperswitch": {
        "4111111111111111": ("succeed", None, False), "4242424242424242": ("succeed", None, False),
        "5555555555554444": ("succeed", None, False), "38000000000006": ("succeed", None, False),
        "378282246310005": ("succeed", None, False), "6011111111111117": ("succeed", None, False),
        "5105105105105100": ("fail", "card_declined", False), "4000000000000002": ("fail", "card_declined", False),
        "4000000000009995": ("fail", "insufficient_funds", False), "4000000000009987": ("fail", "lost_card", False),
        "4000000000009979": ("fail", "stolen_card", False), "4000003800000446": ("succeed", None, True),
    },
    "govuk": {
        **{number: ("succeed", None, False) for number in (
            "4444333322221111", "4242424242424242", "4917610000000000003", "4000056655665556", "5105105105105100",
            "5200828282828210", "371449635398431", "3566002020360505", "6011000990139424", "36148900647913",
            "4000180000000002", "5101180000000007", "4131840000000003", "5555555555554444", "4000000000000010",
            "4000160000000004", "4000020000000000", "4988080000000000", "4111111111111111", "4293189100000008")},
        "4000000000000002": ("fail", "card_declined", False), "4000000000000069": ("fail", "expired_card", False),
        "4000000000000127": ("fail", "incorrect_cvc", False), "4000000000000119": ("fail", "processing_error", False),
    },
    "govpay-lk": {
        "4242424242424242": ("succeed", None, False), "5555555555554444": ("succeed", None, False),
        "4000000000000002": ("fail", "card_declined", False), "4000000000009995": ("fail", "insufficient_funds", False),
        "4000003800000446": ("succeed", None, True),
    },
}
# Saved cards: a mandate's card was a Hyperswitch payment's, an agreement's a GOV.UK one's.
_SAVED_CARDS = (("mandates", "card", "hyperswitch"), ("agreements", "instrument", "govuk"))


def _with_outcome(card: dict, dialect: str) -> dict | None:
    """The stored card with the outcome its number had, or None when it needs none."""
    if "test_outcome" in card:
        return None
    known = _CARD_OUTCOMES_BEFORE_M013.get(dialect, {}).get(card.get("test_card") or "")
    outcome = None if known is None else {"result": known[0], "reason": known[1], "challenge": known[2],
                                          "asynchronous": False, "source": "magic_card"}
    return {**card, "test_outcome": outcome}


def fill_card_outcomes(db: Database, namespace_id: str | None = None) -> None:
    """Give cards stored before m013 the outcome their number had (also for an older snapshot's rows)."""
    only = " AND namespace_id = ?" if namespace_id else ""
    extra = [namespace_id] if namespace_id else []
    rows = db.execute(f"SELECT namespace_id, id, dialect, payment_method_data FROM payments "
                      f"WHERE payment_method_data LIKE '%\"card\"%'{only}", extra).fetchall()
    for row in rows:
        data = json.loads(row["payment_method_data"])
        card = _with_outcome(data["card"], row["dialect"]) if isinstance(data.get("card"), dict) else None
        if card is not None:
            db.execute("UPDATE payments SET payment_method_data = ? WHERE namespace_id = ? AND id = ?",
                       [json.dumps({**data, "card": card}), row["namespace_id"], row["id"]])
    for table, column, dialect in _SAVED_CARDS:
        for row in db.execute(f"SELECT namespace_id, id, {column} FROM {table} WHERE {column} IS NOT NULL{only}",
                              extra).fetchall():
            card = _with_outcome(json.loads(row[column]), dialect)
            if card is not None:
                db.execute(f"UPDATE {table} SET {column} = ? WHERE namespace_id = ? AND id = ?",
                           [json.dumps(card), row["namespace_id"], row["id"]])


@migrations()
def m013_stored_cards_carry_their_outcome(db: Database) -> None:
    # A card is now stored with what its sandbox does (test_outcome), decided by the dialect it was
    # entered through; cards stored before get the outcome their number had then.
    fill_card_outcomes(db)


@migrations()
def m014_namespace_label_and_starting_clock(db: Database) -> None:
    db.executescript(
        """
        -- What a person calls the namespace ("test shop, hyperswitch"); NULL: nothing but its id.
        ALTER TABLE namespaces ADD COLUMN label TEXT;
        -- The clock it was made with, which a full reset (keep_config false) gives back. NULL for
        -- a namespace made before: the system clock (its clock now may be a steered one).
        ALTER TABLE namespaces ADD COLUMN starting_clock TEXT;
        """
    )
