"""Namespace snapshots: a namespace's whole state as one JSON document, and back.

QA hands a developer the state that shows a bug; CI seeds a namespace once and starts
every job from it. An import makes a *new* namespace (new id, keys and secrets, so it
can sit beside the original) holding a copy of everything else, on a virtual clock
standing at the moment of the export: nothing moves until someone advances it.

What does not travel: browser sessions (checkout visits, GOV.UK single-use links; a
fresh ``next_url`` comes with the next GET) and working webhook endpoints (they point
at the exporter's machine, so they arrive disabled).
Flask-free; one transaction each way. The document's format is unchanged since version 1:
the dialects' settings travel as ``namespace.dialect_settings`` (a JSON object by dialect),
wherever the store keeps them.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from typing import Any

from sqlite_utils import Database

from ..runtime import clock as clocks
from ..runtime import schema
from ..runtime.store import Store
from . import namespaces
from .errors import INVALID_FIELD
from .errors import DomainError
from .namespaces import KeySpecs
from .namespaces import Namespace

FORMAT = "mock-psp-namespace"
VERSION = 1
# Copied in this order: a row is inserted after the rows it refers to.
TABLES = ("agreements", "customers", "mandates", "payments", "refunds", "audit_events", "idempotency_keys", "outbox",
          "webhook_endpoints", "jobs", "webhook_events", "webhook_deliveries", "webhook_attempts", "api_fault_log")
# Rows whose integer id is the table's own counter: a copy gets a new one.
RENUMBERED = ("audit_events", "outbox", "jobs", "webhook_attempts", "api_fault_log")
# Settings and sequences a copy keeps (keys, id and creation time are the new namespace's own).
NAMESPACE_COLUMNS = ("config", "seed", "rng_counter", "clock_mode", "virtual_now", "scripted_outcomes", "faults",
                     "fault_script", "fault_rng_counter", "api_faults", "api_fault_script", "api_fault_rng_counter")
DIALECT_SETTINGS = "dialect_settings"


def _invalid(message: str) -> DomainError:
    return DomainError(INVALID_FIELD, f"snapshot: {message}", {"field": "snapshot"})


def _columns(db: Database, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


# -- export ------------------------------------------------------------------------------------


def export(store: Store, namespace_id: str) -> dict:
    """The namespace's whole state as one document (DomainError if there is no such namespace)."""
    with store.read() as db:
        namespace = namespaces.get(store, namespace_id)
        row = db.execute("SELECT * FROM namespaces WHERE id = ?", [namespace.id]).fetchone()
        tables = {}
        for table in TABLES:
            order = "id" if table in RENUMBERED else "rowid"
            rows = db.execute(f"SELECT * FROM {table} WHERE namespace_id = ? ORDER BY {order}", [namespace.id])
            tables[table] = [{k: v for k, v in dict(r).items() if k != "namespace_id"} for r in rows]
    settings = {column: row[column] for column in NAMESPACE_COLUMNS}
    settings[DIALECT_SETTINGS] = json.dumps(namespace.dialect_settings)
    return {
        "format": FORMAT, "version": VERSION,
        "exported_from": namespace.id, "exported_at": clocks.iso_ms(clocks.system_now_ms()),
        "namespace_now": namespace.now_ms(),
        "namespace": settings,
        "tables": tables,
    }


# -- import ------------------------------------------------------------------------------------


def import_(store: Store, specs: KeySpecs, document: Any) -> Namespace:
    """A new namespace (with new keys, made by ``specs``) holding the snapshot's state, all or
    nothing; DomainError (field ``snapshot``) if the document is not a snapshot."""
    with store.write() as db:
        return _import(store, db, specs, document)


def _import(store: Store, db: Database, specs: KeySpecs, document: Any) -> Namespace:
    _check(db, document)
    created = namespaces.create(store, specs, clock_mode=clocks.VIRTUAL)
    settings = {column: document["namespace"][column] for column in NAMESPACE_COLUMNS
                if column in document["namespace"]}
    settings.update(clock_mode=clocks.VIRTUAL, virtual_now=int(document["namespace_now"]), publishes_events=0)
    db.execute(f"UPDATE namespaces SET {', '.join(f'{c} = ?' for c in settings)} WHERE id = ?",
               [*settings.values(), created.id])
    for dialect, kept in _dialect_settings(document["namespace"].get(DIALECT_SETTINGS)).items():
        namespaces.set_dialect_settings(store, created.id, dialect, kept)
    endpoint_ids: dict[str, str] = {}
    job_ids: dict[int, int] = {}
    for table in TABLES:
        for row in document["tables"].get(table, []):
            row = dict(row, namespace_id=created.id)
            if table == "webhook_endpoints":
                old = row["id"]
                row["id"] = endpoint_ids[old] = "we_" + secrets.token_hex(8)
                row["enabled"] = 0
            if table == "jobs" and row.get("state") == "running":
                row["state"] = "pending"  # it was running when the snapshot was taken: it runs again
            if table == "webhook_deliveries":
                row["endpoint_id"] = endpoint_ids.get(row["endpoint_id"], row["endpoint_id"])
                row["job_id"] = job_ids.get(row["job_id"]) if row.get("job_id") is not None else None
            old_id = row.pop("id") if table in RENUMBERED else None
            try:
                cursor = db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                                    list(row.values()))
            except sqlite3.IntegrityError as error:  # a row twice, or a required column missing
                raise _invalid(f"{table}: {error}") from None
            except OverflowError:
                raise _invalid(f"{table}: a number too large for a 64-bit integer") from None
            if table == "jobs":
                job_ids[old_id] = cursor.lastrowid
    schema.fill_card_outcomes(db, created.id)  # a snapshot from before stored cards carried their outcome
    return namespaces.get(store, created.id)


def _dialect_settings(text: Any) -> dict:
    if text is None:
        return {}
    try:
        settings = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        settings = None
    if not isinstance(settings, dict) or not all(isinstance(v, dict) for v in settings.values()):
        raise _invalid('"namespace.dialect_settings" must be a JSON object of settings by dialect')
    return settings


def _check(db: Database, document: Any) -> None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _invalid(f'not a namespace snapshot (its "format" must be "{FORMAT}")')
    if document.get("version") != VERSION:
        raise _invalid(f"version {document.get('version')!r} is not one this mock-psp reads ({VERSION})")
    if not isinstance(document.get("namespace"), dict) or not isinstance(document.get("tables"), dict):
        raise _invalid('"namespace" and "tables" must be objects')
    now = document.get("namespace_now")
    if not isinstance(now, int) or isinstance(now, bool) or not 0 <= now < 2**53:
        raise _invalid('"namespace_now" must be the namespace clock in milliseconds')
    unknown = sorted(set(document["namespace"]) - set(NAMESPACE_COLUMNS) - {DIALECT_SETTINGS})
    if unknown:
        raise _invalid(f"unknown namespace setting(s): {', '.join(unknown)}")
    for table, rows in document["tables"].items():
        if table not in TABLES:
            raise _invalid(f"unknown table {table!r}")
        allowed = set(_columns(db, table)) - {"namespace_id"}
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise _invalid(f"{table}: must be a list of rows")
        for row in rows:
            extra = sorted(set(row) - allowed)
            if extra:
                raise _invalid(f"{table}: unknown column(s) {', '.join(extra)}")
            if not all(v is None or isinstance(v, (str, int, float)) for v in row.values()):
                raise _invalid(f"{table}: values must be strings, numbers or null")


def dumps(document: dict) -> str:
    return json.dumps(document, indent=1, sort_keys=True)
