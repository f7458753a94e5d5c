"""Orders, their refunds and their state machine: the merchant's own books.

An order's state is never set by hand. It is *derived* from the last payment
state the provider confirmed and from the order's refunds, and then moved there
only along ``TRANSITIONS``. So a late or replayed message can never drag an
order backwards, and every move lands in ``transitions`` with its cause.

All functions here take an open database transaction (``Store.write``) and make
no network calls: talking to the provider happens outside, in ``service``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from sqlite_utils import Database

from . import strict
from .psp.base import CANCELLED
from .psp.base import FAILED
from .psp.base import PAID
from .psp.base import PENDING
from .psp.base import REFUND_FAILED
from .psp.base import REFUND_PENDING
from .psp.base import REFUND_SUCCEEDED
from .psp.base import PaymentTruth
from .psp.base import RefundTruth

REFUND_PENDING_STATE = "refund_pending"
PARTIALLY_REFUNDED = "partially_refunded"
REFUNDED = "refunded"
STATES = (PENDING, PAID, FAILED, CANCELLED, REFUND_PENDING_STATE, PARTIALLY_REFUNDED, REFUNDED)

# The only moves an order can make. Nothing returns to pending; refunded and
# cancelled are final. failed -> paid exists because the provider may let the
# customer retry a failed payment (Hyperswitch manual retry): money taken wins.
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({PAID, FAILED, CANCELLED, REFUND_PENDING_STATE, PARTIALLY_REFUNDED, REFUNDED}),
    FAILED: frozenset({PAID, REFUND_PENDING_STATE, PARTIALLY_REFUNDED, REFUNDED}),
    CANCELLED: frozenset(),
    PAID: frozenset({REFUND_PENDING_STATE, PARTIALLY_REFUNDED, REFUNDED}),
    REFUND_PENDING_STATE: frozenset({PAID, PARTIALLY_REFUNDED, REFUNDED}),
    PARTIALLY_REFUNDED: frozenset({REFUND_PENDING_STATE, REFUNDED}),
    REFUNDED: frozenset(),
}
FINAL_PAYMENT_STATES = frozenset({PAID, FAILED, CANCELLED})
FINAL_REFUND_STATES = frozenset({REFUND_SUCCEEDED, REFUND_FAILED})


class OrderError(Exception):
    """A request the books refuse: ``code`` names the rule, ``status`` the HTTP answer."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def new_id(prefix: str) -> str:
    # Lower-case letters and digits only: valid as a Hyperswitch payment_id and a GOV.UK Idempotency-Key.
    return f"{prefix}-{secrets.token_hex(8)}"


# -- reading -------------------------------------------------------------------------------------


def get_order(db: Database, order_id: str) -> dict:
    row = db.execute("SELECT * FROM orders WHERE id = ?", [order_id]).fetchone()
    if row is None:
        raise OrderError(404, "order_not_found", f"no order {order_id}")
    return dict(row)


def find_by_payment(db: Database, payment_id: str | None) -> dict | None:
    if not payment_id:
        return None
    row = db.execute("SELECT * FROM orders WHERE payment_id = ?", [payment_id]).fetchone()
    return dict(row) if row else None


def refunds_of(db: Database, order_id: str) -> list[dict]:
    return [dict(r) for r in db.execute("SELECT * FROM refunds WHERE order_id = ? ORDER BY created_at, id",
                                        [order_id])]


def find_refund(db: Database, order_id: str, provider_refund_id: str) -> dict | None:
    row = db.execute("SELECT * FROM refunds WHERE order_id = ? AND (provider_refund_id = ? OR id = ?)",
                     [order_id, provider_refund_id, provider_refund_id]).fetchone()
    return dict(row) if row else None


def order_json(db: Database, order: dict) -> dict:
    refunds = refunds_of(db, order["id"])
    transitions = db.execute("SELECT from_state, to_state, cause, at FROM transitions WHERE order_id = ? ORDER BY id",
                             [order["id"]]).fetchall()
    return {
        "id": order["id"], "state": order["state"], "amount": order["amount"], "currency": order["currency"],
        "description": order["description"], "dialect": order["dialect"], "payment_id": order["payment_id"],
        "provider_status": order["provider_status"], "paid_amount": order["paid_amount"],
        "refunded_amount": sum(r["amount"] for r in refunds if r["state"] == REFUND_SUCCEEDED),
        "refundable_amount": refundable(order, refunds), "failure": order["failure"],
        "checkout": json.loads(order["checkout"]), "created_at": order["created_at"],
        "updated_at": order["updated_at"],
        "refunds": [{"id": r["id"], "amount": r["amount"], "state": r["state"],
                     "provider_refund_id": r["provider_refund_id"], "provider_status": r["provider_status"],
                     "source": r["source"], "error": r["error"], "created_at": r["created_at"],
                     "updated_at": r["updated_at"]} for r in refunds],
        "transitions": [{"from": t["from_state"], "to": t["to_state"], "cause": t["cause"], "at": t["at"]}
                        for t in transitions],
    }


def refundable(order: dict, refunds: list[dict]) -> int:
    """What may still be refunded: paid, less every refund not failed (pending ones count)."""
    if order["payment_state"] != PAID:
        return 0
    return max(0, order["paid_amount"] - sum(r["amount"] for r in refunds if r["state"] != REFUND_FAILED))


# -- the derived state ---------------------------------------------------------------------------


def target_state(order: dict, refunds: list[dict]) -> str:
    """Where the order belongs, given the payment's confirmed state and its refunds."""
    if order["payment_state"] != PAID:
        return order["payment_state"]
    if any(r["state"] == REFUND_PENDING for r in refunds):
        return REFUND_PENDING_STATE
    refunded = sum(r["amount"] for r in refunds if r["state"] == REFUND_SUCCEEDED)
    if refunded == 0:
        return PAID
    return REFUNDED if refunded >= order["paid_amount"] else PARTIALLY_REFUNDED


def settle(db: Database, order_id: str, cause: str, now: float) -> bool:
    """Move the order to its derived state if the table allows; True if it moved."""
    order = get_order(db, order_id)
    target = target_state(order, refunds_of(db, order_id))
    if target == order["state"] or target not in TRANSITIONS[order["state"]]:
        return False
    db.execute("UPDATE orders SET state = ?, updated_at = ? WHERE id = ?", [target, now, order_id])
    _log(db, order_id, order["state"], target, cause, now)
    return True


def note(db: Database, order_id: str, cause: str, now: float) -> None:
    """Put in the order's history something that did not move it (a failed GovPay+ attempt
    leaves the order pending): a row from its state to the same state."""
    state = get_order(db, order_id)["state"]
    _log(db, order_id, state, state, cause, now)


def _log(db: Database, order_id: str, from_state: str | None, to_state: str, cause: str, now: float) -> None:
    db.execute("INSERT INTO transitions (order_id, from_state, to_state, cause, at) VALUES (?, ?, ?, ?, ?)",
               [order_id, from_state, to_state, cause, now])


# -- changes -------------------------------------------------------------------------------------


def create_order(db: Database, *, dialect: str, amount: int, currency: str, description: str,
                 idempotency_key: str | None, now: float) -> tuple[dict, bool]:
    """A new pending order, or the one already made with this idempotency key (and False)."""
    if idempotency_key:
        row = db.execute("SELECT * FROM orders WHERE idempotency_key = ?", [idempotency_key]).fetchone()
        if row is not None:
            return dict(row), False
    order_id = new_id("ord")
    db.execute("INSERT INTO orders (id, dialect, state, amount, currency, description, idempotency_key, "
               "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               [order_id, dialect, PENDING, amount, currency, description, idempotency_key, now, now])
    _log(db, order_id, None, PENDING, "order created", now)
    return get_order(db, order_id), True


def attach_payment(db: Database, order_id: str, payment_id: str, checkout: dict, now: float) -> None:
    db.execute("UPDATE orders SET payment_id = ?, checkout = ?, updated_at = ? WHERE id = ?",
               [payment_id, json.dumps(checkout), now, order_id])


@dataclass(frozen=True)
class Applied:
    changed: bool  # the order's state moved
    ignored: bool  # the news was older than what the books already hold


def record_payment(db: Database, order_id: str, truth: PaymentTruth, cause: str, now: float) -> Applied:
    """Take the provider's word for the payment, unless it would undo a final state."""
    order = get_order(db, order_id)
    if order["payment_state"] in FINAL_PAYMENT_STATES and truth.state == PENDING:
        return Applied(False, True)  # an answer that left the provider before the one we already have
    if order["payment_state"] == CANCELLED and truth.state != CANCELLED:
        return Applied(False, True)
    db.execute("UPDATE orders SET payment_state = ?, provider_status = ?, paid_amount = ?, failure = ?, "
               "updated_at = ? WHERE id = ?",
               [truth.state, truth.provider_status, truth.paid_amount, truth.failure, now, order_id])
    return Applied(settle(db, order_id, cause, now), False)


def open_refund(db: Database, order_id: str, amount: object, now: float) -> tuple[dict, int]:
    """Phase 1 of a refund: a pending row, the order to refund_pending. ``amount`` None means
    all that is left. Returns the refund and the amount that was available before it
    (GOV.UK's refund_amount_available)."""
    if amount is not None and not strict.is_amount(amount):
        raise OrderError(400, "invalid_amount", "amount must be a positive integer (minor units)")
    order = get_order(db, order_id)
    if order["payment_state"] != PAID or order["state"] == REFUNDED:
        raise OrderError(409, "not_refundable", f"order {order_id} is {order['state']}: only paid orders refund")
    refunds = refunds_of(db, order_id)
    available = refundable(order, refunds)
    if amount is None:
        if available == 0:
            raise OrderError(409, "refund_exceeds_available", f"nothing is left to refund on order {order_id}")
        amount = available
    if amount > available:
        raise OrderError(409, "refund_exceeds_available",
                         f"{amount} is more than the {available} still refundable on order {order_id}")
    provider_available = order["paid_amount"] - sum(r["amount"] for r in refunds if r["state"] == REFUND_SUCCEEDED
                                                    or (r["state"] == REFUND_PENDING and r["provider_refund_id"]))
    refund_id = new_id("rfd")
    db.execute("INSERT INTO refunds (id, order_id, amount, state, source, created_at, updated_at) "
               "VALUES (?, ?, ?, ?, 'merchant', ?, ?)", [refund_id, order_id, amount, REFUND_PENDING, now, now])
    settle(db, order_id, f"refund {refund_id} of {amount} requested", now)
    return dict(db.execute("SELECT * FROM refunds WHERE id = ?", [refund_id]).fetchone()), provider_available


def attach_refund(db: Database, refund_id: str, provider_refund_id: str, provider_status: str, now: float) -> None:
    """Phase 2 went through: remember the provider's id. The refund stays pending: only the
    provider's refund webhook (or reconciliation) finalises it."""
    db.execute("UPDATE refunds SET provider_refund_id = ?, updated_at = ?, provider_status = "
               "CASE WHEN state = ? THEN ? ELSE provider_status END WHERE id = ?",
               [provider_refund_id, now, REFUND_PENDING, provider_status, refund_id])


def fail_refund(db: Database, refund_id: str, error: str, cause: str, now: float) -> bool:
    """The provider refused the refund (or never received it): the order rolls back."""
    row = db.execute("SELECT * FROM refunds WHERE id = ?", [refund_id]).fetchone()
    if row is None or row["state"] != REFUND_PENDING:
        return False
    db.execute("UPDATE refunds SET state = ?, error = ?, updated_at = ? WHERE id = ?",
               [REFUND_FAILED, error, now, refund_id])
    return settle(db, row["order_id"], cause, now)


def record_refund(db: Database, order_id: str, truth: RefundTruth, cause: str, now: float) -> Applied:
    """Take the provider's word for a refund. A final refund never changes; one the books
    do not know (made outside the shop) is added."""
    local = find_refund(db, order_id, truth.refund_id)
    if local is None:
        db.execute("INSERT INTO refunds (id, order_id, amount, state, provider_refund_id, provider_status, source, "
                   "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'provider', ?, ?)",
                   [new_id("rfd"), order_id, truth.amount, truth.state, truth.refund_id, truth.provider_status,
                    now, now])
        return Applied(settle(db, order_id, cause, now), False)
    if local["state"] in FINAL_REFUND_STATES:
        return Applied(False, truth.state != local["state"])
    db.execute("UPDATE refunds SET state = ?, provider_refund_id = ?, provider_status = ?, error = ?, updated_at = ? "
               "WHERE id = ?", [truth.state, truth.refund_id, truth.provider_status, truth.error, now, local["id"]])
    return Applied(settle(db, order_id, cause, now), False)


def fail_unstarted_order(db: Database, order_id: str, error: str, cause: str, now: float) -> bool:
    """The payment was never created at the provider: the order fails, with the reason."""
    db.execute("UPDATE orders SET payment_state = ?, failure = ?, updated_at = ? WHERE id = ?",
               [FAILED, error, now, order_id])
    return settle(db, order_id, cause, now)
