"""Refunds: pending -> succeeded | failed, never more in total than was captured.

The over-refund check and the insert share one IMMEDIATE transaction, so
concurrent refunds of the same payment are decided one after another.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlite_utils import Database

from ..runtime.store import Store
from . import namespace_config
from . import payments
from .errors import AMOUNT_INVALID
from .errors import AMOUNT_MISMATCH
from .errors import AMOUNT_TOO_LARGE
from .errors import DUPLICATE
from .errors import NOT_FOUND
from .errors import TOO_MANY_REFUNDS
from .errors import DomainError
from .work import Work
from .work import dumps
from .work import loads
from .work import unit_of_work

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"

TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({PENDING}),
    PENDING: frozenset({SUCCEEDED, FAILED}),
    SUCCEEDED: frozenset(),
    FAILED: frozenset(),
}

MAX_REFUNDS_PER_PAYMENT = 10
REFUND_FAILED_REASON = "refund_declined"


@dataclass
class NewRefund:
    payment_id: str
    amount: int | None = None
    refund_id: str | None = None
    reason: str | None = None
    metadata: dict | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    # When given, the refund goes ahead only if this is still the amount available
    # (GOV.UK Pay's refund_amount_available), checked in the same transaction.
    expected_available: int | None = None
    # How a generated id looks (GOV.UK Pay: 26 lowercase characters, no prefix).
    id_prefix: str = "ref_"
    id_length: int = 20
    id_alphabet: str | None = None


@dataclass
class Refund:
    namespace_id: str
    id: str
    payment_id: str
    status: str
    amount: int
    currency: str
    reason: str | None
    metadata: dict | None
    attributes: dict
    failure_reason: str | None
    connector_refund_id: str | None
    created_at: int
    updated_at: int

    @classmethod
    def from_snapshot(cls, snapshot: dict) -> Refund:
        """The refund as an outbox row's snapshot holds it (the change's moment)."""
        return cls(**{name: snapshot[name] for name in cls.__dataclass_fields__})

    @classmethod
    def from_row(cls, row) -> Refund:
        data = dict(row)
        data["metadata"] = loads(data["metadata"])
        data["attributes"] = json.loads(data["attributes"])
        return cls(**data)


_COLUMNS = list(Refund.__dataclass_fields__)


def _read(db: Database, namespace_id: str, refund_id: str) -> Refund:
    row = db.execute("SELECT * FROM refunds WHERE namespace_id = ? AND id = ?", [namespace_id, refund_id]).fetchone()
    if row is None:
        raise DomainError(NOT_FOUND, "refund not found", {"object": "refund", "object_id": refund_id})
    return Refund.from_row(row)


def _of_payment(db: Database, namespace_id: str, payment_id: str) -> list[Refund]:
    rows = db.execute(
        "SELECT * FROM refunds WHERE namespace_id = ? AND payment_id = ? ORDER BY created_at, rowid",
        [namespace_id, payment_id],
    ).fetchall()
    return [Refund.from_row(r) for r in rows]


def load(work: Work, refund_id: str) -> Refund:
    """The refund, in the caller's unit of work (DomainError not_found if there is none)."""
    return _read(work.db, work.namespace.id, refund_id)


def get_refund(store: Store, namespace_id: str, refund_id: str) -> Refund:
    with store.read() as db:
        return _read(db, namespace_id, refund_id)


def list_for_payment(store: Store, namespace_id: str, payment_id: str) -> list[Refund]:
    with store.read() as db:
        return _of_payment(db, namespace_id, payment_id)


@dataclass
class RefundFilter:
    payment_id: str | None = None
    refund_id: str | None = None
    statuses: tuple[str, ...] | None = None
    currencies: tuple[str, ...] | None = None
    created_gte: int | None = None
    created_lte: int | None = None
    amount_gte: int | None = None
    amount_lte: int | None = None
    dialect: str | None = None
    limit: int = 10
    offset: int = 0


def list_refunds(store: Store, namespace_id: str, f: RefundFilter) -> tuple[list[Refund], int]:
    """Newest first; returns the page and the total matching the filter."""
    where, params = ["namespace_id = ?"], [namespace_id]
    for column, op, value in (
        ("payment_id", "=", f.payment_id),
        ("id", "=", f.refund_id),
        ("created_at", ">=", f.created_gte),
        ("created_at", "<=", f.created_lte),
        ("amount", ">=", f.amount_gte),
        ("amount", "<=", f.amount_lte),
    ):
        if value is not None:
            where.append(f"{column} {op} ?")
            params.append(value)
    for column, values in (("status", f.statuses), ("currency", f.currencies)):
        if values:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if f.dialect is not None:
        where.append("payment_id IN (SELECT id FROM payments p WHERE p.namespace_id = refunds.namespace_id "
                     "AND p.dialect = ?)")
        params.append(f.dialect)
    clause = " AND ".join(where)
    with store.read() as db:
        total = db.execute(f"SELECT count(*) FROM refunds WHERE {clause}", params).fetchone()[0]
        rows = db.execute(
            f"SELECT * FROM refunds WHERE {clause} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
            params + [f.limit, f.offset],
        ).fetchall()
    return [Refund.from_row(r) for r in rows], total


def _insert(work: Work, refund: Refund) -> None:
    values = {name: getattr(refund, name) for name in _COLUMNS}
    values["metadata"] = dumps(values["metadata"])
    values["attributes"] = json.dumps(values["attributes"], separators=(",", ":"))
    try:
        work.db.execute(
            f"INSERT INTO refunds ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + c for c in _COLUMNS)})", values
        )
    except sqlite3.IntegrityError:
        raise DomainError(DUPLICATE, "refund already exists", {"object": "refund", "object_id": refund.id}) from None


def _save(work: Work, refund: Refund) -> None:
    refund.updated_at = work.now
    work.db.execute(
        """UPDATE refunds SET status = ?, reason = ?, metadata = ?, attributes = ?, failure_reason = ?,
               connector_refund_id = ?, updated_at = ? WHERE namespace_id = ? AND id = ?""",
        [refund.status, refund.reason, dumps(refund.metadata), json.dumps(refund.attributes),
         refund.failure_reason, refund.connector_refund_id, refund.updated_at, refund.namespace_id, refund.id],
    )


def _transition(work: Work, refund: Refund, to: str, reason: str, dialect: str, new: bool = False) -> None:
    current = None if new else refund.status
    if to not in TRANSITIONS[current]:
        raise RuntimeError(f"illegal refund transition {current} -> {to} for {refund.id}")
    work.record_transition("refund", refund, current, to, reason, dialect)
    refund.status = to


def create_refund(store: Store, namespace_id: str, new: NewRefund) -> Refund:
    with unit_of_work(store, namespace_id) as work:
        payment = payments.load(work, new.payment_id)
        payments.guard(payment, "refund")
        amount = payment.amount_captured if new.amount is None else new.amount
        if amount <= 0:
            raise DomainError(AMOUNT_INVALID, "refund amount must be positive", {"action": "refund", "field": "amount"})
        existing = _of_payment(work.db, namespace_id, payment.id)
        if len(existing) >= MAX_REFUNDS_PER_PAYMENT:
            raise DomainError(TOO_MANY_REFUNDS, "too many refunds", {"limit": MAX_REFUNDS_PER_PAYMENT})
        committed = sum(r.amount for r in existing if r.status != FAILED)
        available = payment.amount_captured - committed
        if new.expected_available is not None and new.expected_available != available:
            raise DomainError(AMOUNT_MISMATCH, "the amount available for refund has changed",
                              {"field": "refund_amount_available", "expected": new.expected_available,
                               "actual": available})
        if committed + amount > payment.amount_captured:
            raise DomainError(AMOUNT_TOO_LARGE, "refund exceeds the amount captured",
                              {"action": "refund", "limit": payment.amount_captured - committed})
        refund = Refund(
            namespace_id=namespace_id,
            id=new.refund_id or new.id_prefix + work.draws.token(new.id_length, *(
                [new.id_alphabet] if new.id_alphabet else [])),
            payment_id=payment.id, status=PENDING, amount=amount, currency=payment.currency,
            reason=new.reason, metadata=new.metadata, attributes=dict(new.attributes), failure_reason=None,
            connector_refund_id="dummy_ref_" + work.draws.token(21), created_at=work.now, updated_at=work.now,
        )
        _transition(work, refund, PENDING, "refund requested", payment.dialect, new=True)
        succeeds = work.draws.random() < work.config["success_rates"]["refund"]
        delay = namespace_config.draw_delay_seconds(work.config["delays"]["refund"], work.draws)
        if delay > 0:
            work.schedule("refund.complete", delay, {"refund_id": refund.id, "succeeds": succeeds})
        else:
            _finish(work, refund, succeeds, payment.dialect)
        _insert(work, refund)  # once, in its final state; the key catches a duplicate refund_id
    return refund


def _finish(work: Work, refund: Refund, succeeds: bool, dialect: str) -> None:
    if succeeds:
        _transition(work, refund, SUCCEEDED, "refund processed", dialect)
    else:
        refund.failure_reason = REFUND_FAILED_REASON
        _transition(work, refund, FAILED, "refund declined by the connector", dialect)


def update_refund(store: Store, namespace_id: str, refund_id: str, reason: str | None,
                  metadata: dict | None) -> Refund:
    with unit_of_work(store, namespace_id) as work:
        refund = load(work, refund_id)
        if reason is not None:
            refund.reason = reason
        if metadata is not None:
            refund.metadata = metadata
        _save(work, refund)
    return refund


def complete_pending(store: Store, job) -> None:
    """Job `refund.complete`: settle a refund that was left pending by a refund delay."""
    with unit_of_work(store, job.namespace_id) as work:
        try:
            refund = load(work, job.payload["refund_id"])
        except DomainError:
            return
        if refund.status != PENDING:
            return
        payment = payments.load(work, refund.payment_id)
        _finish(work, refund, job.payload["succeeds"], payment.dialect)
        _save(work, refund)


@dataclass(frozen=True)
class RefundTotals:
    """A payment's refunds in sum: what is spoken for, and what has gone back."""

    submitted: int   # pending and succeeded refunds
    succeeded: int


def _totals(db: Database, namespace_id: str, payment_id: str) -> RefundTotals:
    row = db.execute(
        """SELECT coalesce(sum(CASE WHEN status != ? THEN amount END), 0),
                  coalesce(sum(CASE WHEN status = ? THEN amount END), 0)
           FROM refunds WHERE namespace_id = ? AND payment_id = ?""",
        [FAILED, SUCCEEDED, namespace_id, payment_id],
    ).fetchone()
    return RefundTotals(row[0], row[1])


def totals_for(store: Store, namespace_id: str, payment_id: str) -> RefundTotals:
    with store.read() as db:
        return _totals(db, namespace_id, payment_id)
