"""Customers: the people a merchant keeps on file, created directly or by a payment that names one.

Deleting a customer redacts it: the row stays, its personal data becomes "Redacted"
(an address keeps its country), and it can be neither changed nor created again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from ..runtime.store import Store
from .errors import DUPLICATE
from .errors import INVALID_STATE
from .errors import NOT_FOUND
from .errors import DomainError
from .randomness import ALPHANUMERIC
from .work import Work
from .work import unit_of_work

REDACTED = "Redacted"
PERSONAL = ("name", "email", "phone", "phone_country_code", "description")
FIELDS = (*PERSONAL, "address", "metadata")


@dataclass(frozen=True)
class Customer:
    namespace_id: str
    id: str
    name: str | None
    email: str | None
    phone: str | None
    phone_country_code: str | None
    description: str | None
    address: dict | None
    metadata: Any
    extra: dict               # fields kept and shown as given (tax_registration_id, document_details)
    redacted: bool
    created_at: int

    @classmethod
    def from_row(cls, row) -> Customer:
        values = dict(row)
        for key in ("address", "metadata"):
            values[key] = json.loads(values[key]) if values[key] is not None else None
        values["extra"] = json.loads(values["extra"])
        values["redacted"] = bool(values["redacted"])
        return cls(**values)


def _error(code: str, customer_id: str, message: str) -> DomainError:
    return DomainError(code, message, {"object": "customer", "object_id": customer_id})


def not_found(customer_id: str) -> DomainError:
    return _error(NOT_FOUND, customer_id, f"customer {customer_id} not found")


def _redacted(customer_id: str) -> DomainError:
    return DomainError(INVALID_STATE, f"customer {customer_id} has been redacted",
                       {"object": "customer", "object_id": customer_id, "status": "redacted"})


def _read(db: Database, namespace_id: str, customer_id: str) -> Customer | None:
    row = db.execute("SELECT * FROM customers WHERE namespace_id = ? AND id = ?", [namespace_id, customer_id])
    found = row.fetchone()
    return Customer.from_row(found) if found else None


def _read_or_fail(db: Database, namespace_id: str, customer_id: str) -> Customer:
    found = _read(db, namespace_id, customer_id)
    if found is None:
        raise not_found(customer_id)
    return found


def _find(work: Work, customer_id: str) -> Customer | None:
    return _read(work.db, work.namespace.id, customer_id)


def _load(work: Work, customer_id: str) -> Customer:
    return _read_or_fail(work.db, work.namespace.id, customer_id)


def get(store: Store, namespace_id: str, customer_id: str) -> Customer:
    with store.read() as db:
        return _read_or_fail(db, namespace_id, customer_id)


def create(store: Store, namespace_id: str, customer_id: str | None, values: dict, extra: dict) -> Customer:
    with unit_of_work(store, namespace_id) as work:
        return _insert(work, customer_id or "cus_" + work.draws.token(20, ALPHANUMERIC), values, extra)


def _insert(work: Work, customer_id: str, values: dict, extra: dict | None = None) -> Customer:
    existing = _find(work, customer_id)
    if existing is not None:
        raise _redacted(customer_id) if existing.redacted else _error(
            DUPLICATE, customer_id, f"customer {customer_id} already exists")
    row = {"namespace_id": work.namespace.id, "id": customer_id, "created_at": work.now,
           "extra": json.dumps(extra or {}), **_stored(values)}
    work.db.execute(f"INSERT INTO customers ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()))
    return _load(work, customer_id)


def _stored(values: dict) -> dict:
    stored = {key: values[key] for key in PERSONAL if values.get(key) is not None}
    for key in ("address", "metadata"):
        if values.get(key) is not None:
            stored[key] = json.dumps(values[key])
    return stored


def update(store: Store, namespace_id: str, customer_id: str, values: dict, extra: dict | None = None) -> Customer:
    """Change the fields given (a null changes nothing)."""
    with unit_of_work(store, namespace_id) as work:
        return _change(work, customer_id, values, extra)


def _change(work: Work, customer_id: str, values: dict, extra: dict | None = None) -> Customer:
    customer = _load(work, customer_id)
    if customer.redacted:
        raise _redacted(customer_id)
    columns = _stored(values)
    if extra:
        columns["extra"] = json.dumps({**customer.extra, **extra})
    if columns:
        work.db.execute(f"UPDATE customers SET {', '.join(f'{c} = ?' for c in columns)} "
                        "WHERE namespace_id = ? AND id = ?", [*columns.values(), work.namespace.id, customer_id])
    return _load(work, customer_id)


def delete(store: Store, namespace_id: str, customer_id: str) -> Customer:
    """Redact the customer (its address keeps its country)."""
    with unit_of_work(store, namespace_id) as work:
        customer = _load(work, customer_id)
        if customer.redacted:
            raise _redacted(customer_id)
        if work.db.execute("SELECT 1 FROM mandates WHERE namespace_id = ? AND customer_id = ? AND status = 'active'",
                           [namespace_id, customer_id]).fetchone():
            raise DomainError(INVALID_STATE, f"customer {customer_id} has an active mandate",
                              {"object": "customer", "object_id": customer_id, "status": "mandate_active"})
        address = {k: (v if k == "country" else REDACTED) for k, v in (customer.address or {}).items()} or None
        work.db.execute(
            f"UPDATE customers SET {', '.join(f'{c} = ?' for c in PERSONAL)}, address = ?, redacted = 1 "
            "WHERE namespace_id = ? AND id = ?",
            [*(REDACTED for _ in PERSONAL), json.dumps(address) if address else None, namespace_id, customer_id])
        return _load(work, customer_id)


def list_all(store: Store, namespace_id: str, limit: int, offset: int) -> list[Customer]:
    """Oldest first."""
    with store.read() as db:
        rows = db.execute("SELECT * FROM customers WHERE namespace_id = ? ORDER BY created_at, rowid LIMIT ? OFFSET ?",
                          [namespace_id, limit, offset]).fetchall()
    return [Customer.from_row(r) for r in rows]


def for_payment(work: Work, customer: dict) -> None:
    """A payment names a customer: create it from the details given, or update the ones given.
    (A redacted customer is left as it is.)"""
    customer_id = customer["id"]
    values = {key: customer.get(key) for key in ("name", "email", "phone", "phone_country_code")}
    existing = _find(work, customer_id)
    if existing is None:
        _insert(work, customer_id, values)
    elif not existing.redacted and any(v is not None for v in values.values()):
        _change(work, customer_id, values)
