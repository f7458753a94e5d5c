"""Mandates: a customer's permission to be charged later, off session, with the card of a
payment that asked for one (Hyperswitch's mandates).

A payment that asks (``mandate_request``) creates an ``active`` mandate when it is
authorised. A payment made with a mandate (off session, no card) must name the same
customer and stay within the mandate's amount and currency; a single-use mandate is
revoked by its use, a multi-use one counts what it has taken. Revoking is the merchant's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from ..runtime.store import Store
from .errors import AMOUNT_TOO_LARGE
from .errors import INVALID_FIELD
from .errors import INVALID_STATE
from .errors import NOT_FOUND
from .errors import DomainError
from .randomness import ALPHANUMERIC
from .work import Work
from .work import unit_of_work

ACTIVE = "active"
REVOKED = "revoked"
SINGLE_USE = "single_use"
MULTI_USE = "multi_use"


@dataclass(frozen=True)
class Mandate:
    namespace_id: str
    id: str
    customer_id: str
    status: str
    mandate_type: str
    amount: int | None
    currency: str | None
    start_date: str | None
    end_date: str | None
    metadata: Any
    amount_used: int
    payment_method_id: str
    payment_method_type: str | None
    card: dict
    customer_acceptance: dict | None
    payment_id: str
    created_at: int

    @classmethod
    def from_row(cls, row) -> Mandate:
        values = dict(row)
        for key in ("metadata", "card", "customer_acceptance"):
            values[key] = json.loads(values[key]) if values[key] is not None else None
        return cls(**values)


def _error(code: str, mandate_id: str, kind: str, message: str, **details) -> DomainError:
    return DomainError(code, message, {"object": "mandate", "object_id": mandate_id, "kind": kind, **details})


def _read(db: Database, namespace_id: str, mandate_id: str) -> Mandate:
    row = db.execute("SELECT * FROM mandates WHERE namespace_id = ? AND id = ?", [namespace_id, mandate_id]).fetchone()
    if row is None:
        raise _error(NOT_FOUND, mandate_id, "not_found", f"mandate {mandate_id} not found")
    return Mandate.from_row(row)


def _load(work: Work, mandate_id: str) -> Mandate:
    return _read(work.db, work.namespace.id, mandate_id)


def get(store: Store, namespace_id: str, mandate_id: str) -> Mandate:
    with store.read() as db:
        return _read(db, namespace_id, mandate_id)


def latest(store: Store, namespace_id: str, limit: int) -> list[Mandate]:
    """The namespace's mandates, newest first."""
    with store.read() as db:
        rows = db.execute("SELECT * FROM mandates WHERE namespace_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
                          [namespace_id, limit]).fetchall()
    return [Mandate.from_row(r) for r in rows]


def for_customer(store: Store, namespace_id: str, customer_id: str) -> list[Mandate]:
    with store.read() as db:
        rows = db.execute("SELECT * FROM mandates WHERE namespace_id = ? AND customer_id = ? "
                          "ORDER BY created_at, rowid",
                          [namespace_id, customer_id]).fetchall()
    return [Mandate.from_row(r) for r in rows]


def create_for(work: Work, request: dict, customer_id: str, payment_id: str, card: dict,
               method_type: str | None) -> str:
    """The mandate a successful payment asked for; returns its id."""
    mandate_id = "man_" + work.draws.token(20, ALPHANUMERIC)
    kind = request.get("type") or MULTI_USE
    terms = request.get("terms") or {}
    row = {
        "namespace_id": work.namespace.id, "id": mandate_id, "customer_id": customer_id, "status": ACTIVE,
        "mandate_type": kind, "amount": terms.get("amount"), "currency": terms.get("currency"),
        "start_date": terms.get("start_date"), "end_date": terms.get("end_date"),
        "metadata": json.dumps(terms["metadata"]) if terms.get("metadata") is not None else None,
        "payment_method_id": "pm_" + work.draws.token(20, ALPHANUMERIC), "payment_method_type": method_type,
        "card": json.dumps(card),
        "customer_acceptance": json.dumps(request["acceptance"]) if request.get("acceptance") else None,
        "payment_id": payment_id, "created_at": work.now,
    }
    work.db.execute(f"INSERT INTO mandates ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()))
    return mandate_id


def usable(work: Work, mandate_id: str, customer_id: str | None, amount: int, currency: str | None) -> Mandate:
    """The mandate an off-session payment names, if it may take this payment."""
    mandate = _load(work, mandate_id)
    if customer_id != mandate.customer_id:
        raise _error(INVALID_FIELD, mandate_id, "customer_mismatch", "customer_id must match mandate customer_id")
    if mandate.status != ACTIVE:
        raise _error(INVALID_STATE, mandate_id, "not_active", "mandate is not active")
    if mandate.currency and currency and currency != mandate.currency:
        raise _error(INVALID_FIELD, mandate_id, "validation", "cross currency mandates not supported")
    if mandate.amount is not None and mandate.amount_used + amount > mandate.amount:
        raise _error(AMOUNT_TOO_LARGE, mandate_id, "validation", "request amount is greater than mandate amount")
    return mandate


def record_use(work: Work, mandate_id: str, amount: int) -> None:
    """A payment made with the mandate was authorised: a single-use mandate is spent."""
    mandate = _load(work, mandate_id)
    status = REVOKED if mandate.mandate_type == SINGLE_USE else mandate.status
    work.db.execute("UPDATE mandates SET amount_used = amount_used + ?, status = ? WHERE namespace_id = ? AND id = ?",
                    [amount, status, work.namespace.id, mandate_id])


def revoke(store: Store, namespace_id: str, mandate_id: str) -> Mandate:
    with unit_of_work(store, namespace_id) as work:
        mandate = _load(work, mandate_id)
        if mandate.status == REVOKED:
            raise _error(INVALID_STATE, mandate_id, "validation", "Mandate has already been revoked")
        work.db.execute("UPDATE mandates SET status = ? WHERE namespace_id = ? AND id = ?",
                        [REVOKED, namespace_id, mandate_id])
        return _load(work, mandate_id)
