"""Agreements: a paying user's permission to be charged later with the card of a first payment.

An agreement is ``created`` by the merchant, becomes ``active`` when a payment made to set
it up succeeds (the card of that payment is saved as its instrument), and ``cancelled``
when the merchant cancels it. Payments that use it are made by payments.py
(``create_agreement_payment``); this module keeps the agreements themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from ..runtime.store import Store
from .errors import INVALID_STATE
from .errors import NOT_FOUND
from .errors import DomainError
from .work import Work
from .work import unit_of_work

CREATED = "created"
ACTIVE = "active"
CANCELLED = "cancelled"
INACTIVE = "inactive"
STATUSES = (CREATED, ACTIVE, CANCELLED, INACTIVE)


@dataclass(frozen=True)
class Agreement:
    namespace_id: str
    id: str
    reference: str
    description: str
    user_identifier: str | None
    status: str
    instrument: dict | None      # the saved card (payment_method_data's "card"), once active
    instrument_created_at: int | None
    created_at: int
    cancelled_at: int | None

    @classmethod
    def from_row(cls, row) -> Agreement:
        values = dict(row)
        values["instrument"] = json.loads(values["instrument"]) if values["instrument"] else None
        return cls(**values)


def not_found(agreement_id: str) -> DomainError:
    return DomainError(NOT_FOUND, f"agreement {agreement_id} not found", {"object": "agreement",
                                                                          "object_id": agreement_id})


def create(store: Store, namespace_id: str, reference: str, description: str, user_identifier: str | None,
           id_length: int = 26, id_alphabet: str = "0123456789abcdefghijklmnopqrstuvwxyz") -> Agreement:
    with unit_of_work(store, namespace_id) as work:
        agreement_id = work.draws.token(id_length, id_alphabet)  # from the seed, like payment ids
        work.db.execute(
            """INSERT INTO agreements (namespace_id, id, reference, description, user_identifier, status, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [namespace_id, agreement_id, reference, description, user_identifier, CREATED, work.now])
        return _load(work, agreement_id)


def _read(db: Database, namespace_id: str, agreement_id: str) -> Agreement:
    row = db.execute("SELECT * FROM agreements WHERE namespace_id = ? AND id = ?", [namespace_id, agreement_id])
    found = row.fetchone()
    if found is None:
        raise not_found(agreement_id)
    return Agreement.from_row(found)


def _load(work: Work, agreement_id: str) -> Agreement:
    return _read(work.db, work.namespace.id, agreement_id)


def get(store: Store, namespace_id: str, agreement_id: str) -> Agreement:
    with store.read() as db:
        return _read(db, namespace_id, agreement_id)


def search(store: Store, namespace_id: str, reference: str | None, status: str | None, limit: int,
           offset: int) -> tuple[list[Agreement], int]:
    """Newest first; ``reference`` matches exactly, ignoring case."""
    where, params = ["namespace_id = ?"], [namespace_id]
    if reference:
        where.append("lower(reference) = lower(?)")
        params.append(reference)
    if status:
        where.append("status = ?")
        params.append(status)
    clause = " AND ".join(where)
    with store.read() as db:
        total = db.execute(f"SELECT count(*) FROM agreements WHERE {clause}", params).fetchone()[0]
        rows = db.execute(f"SELECT * FROM agreements WHERE {clause} ORDER BY created_at DESC, rowid DESC "
                          "LIMIT ? OFFSET ?", [*params, limit, offset]).fetchall()
    return [Agreement.from_row(r) for r in rows], total


def cancel(store: Store, namespace_id: str, agreement_id: str) -> Agreement:
    """Only an active agreement can be cancelled."""
    with unit_of_work(store, namespace_id) as work:
        agreement = _load(work, agreement_id)
        if agreement.status != ACTIVE:
            raise DomainError(INVALID_STATE, f"agreement {agreement_id} is {agreement.status}, not active",
                              {"object": "agreement", "object_id": agreement_id, "status": agreement.status})
        work.db.execute("UPDATE agreements SET status = ?, cancelled_at = ? WHERE namespace_id = ? AND id = ?",
                        [CANCELLED, work.now, namespace_id, agreement_id])
        return _load(work, agreement_id)


def activate(work: Work, agreement_id: str, card: dict[str, Any]) -> None:
    """A payment that set the agreement up succeeded: its card becomes the agreement's instrument.
    (It may set up a cancelled or inactive agreement again.)"""
    work.db.execute(
        """UPDATE agreements SET status = ?, instrument = ?, instrument_created_at = ?, cancelled_at = NULL
           WHERE namespace_id = ? AND id = ?""",
        [ACTIVE, json.dumps(card), work.now, work.namespace.id, agreement_id])


def usable_card(work: Work, agreement_id: str) -> dict:
    """The saved card of an active agreement (DomainError otherwise: not found, or not active)."""
    agreement = _load(work, agreement_id)
    if agreement.status != ACTIVE or not agreement.instrument:
        raise DomainError(INVALID_STATE, f"agreement {agreement_id} must be active",
                          {"object": "agreement", "object_id": agreement_id, "status": agreement.status})
    return agreement.instrument
