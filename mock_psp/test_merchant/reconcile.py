"""The reconciliation sweep: what to do when webhooks never came.

Four kinds of stuck rows, each settled from the provider's own answer:

1. orders pending longer than the cut-off, with a payment: read the payment;
2. orders pending with no payment id (the create call's answer was lost): look
   the payment up by the order id; if the provider never had one, the order fails;
3. refunds pending with a provider id: read the refund;
4. refunds pending without one (the refund call's answer was lost): adopt the
   provider's refund if it has one for that amount, else fail it and roll back.

Accepted webhooks not yet acted on are processed first. A provider error
leaves the row as it was for the next sweep. Every action is logged, and is
in the order's transitions. Running the sweep twice changes nothing the
second time.
"""

from __future__ import annotations

import logging

from . import orders as o
from .psp.base import PENDING
from .psp.base import REFUND_PENDING
from .psp.base import ProviderError

log = logging.getLogger(__name__)


def sweep(merchant, older_than: float) -> dict:
    now = merchant.now()
    cutoff = now - older_than
    report = {"now": now, "older_than_seconds": older_than, "inbox_processed": merchant.webhooks.process_inbox(),
              "checked": 0, "changed": 0, "errors": 0, "actions": []}
    with merchant.store.read() as db:
        stuck_orders = [dict(r) for r in db.execute(
            "SELECT * FROM orders WHERE state = ? AND created_at <= ? ORDER BY created_at", [PENDING, cutoff])]
        stuck_refunds = [dict(r) for r in db.execute(
            "SELECT refunds.*, orders.payment_id FROM refunds JOIN orders ON orders.id = refunds.order_id "
            "WHERE refunds.state = ? AND refunds.created_at <= ? ORDER BY refunds.created_at",
            [REFUND_PENDING, cutoff])]
    for order in stuck_orders:
        _record(report, order["id"], "order", lambda order=order: _order(merchant, order))
    for refund in stuck_refunds:
        _record(report, refund["order_id"], "refund", lambda refund=refund: _refund(merchant, refund))
    log.info("reconcile: checked %s, changed %s, errors %s", report["checked"], report["changed"], report["errors"])
    return report


def _record(report: dict, order_id: str, kind: str, action) -> None:
    report["checked"] += 1
    try:
        changed, detail = action()
    except ProviderError as error:
        report["errors"] += 1
        changed, detail = False, f"left for the next sweep: {error}"
    report["changed"] += int(changed)
    report["actions"].append({"order_id": order_id, "kind": kind, "changed": changed, "detail": detail})
    log.info("reconcile %s %s: %s", kind, order_id, detail)


def _order(merchant, order: dict) -> tuple[bool, str]:
    cause = "reconcile"
    if not order["payment_id"]:
        return _order_without_payment(merchant, order)
    before = order["state"]
    after = merchant.sync_order(order["id"], cause)["state"]
    return before != after, f"provider says {after if before == after else before + ' -> ' + after}"


def _order_without_payment(merchant, order: dict) -> tuple[bool, str]:
    try:
        return _settle_order_without_payment(merchant, order)
    finally:
        merchant.webhooks.process_inbox()  # events that waited for this order to learn its payment id


def _settle_order_without_payment(merchant, order: dict) -> tuple[bool, str]:
    found = merchant.psp.find_payment_for_order(order["id"])
    with merchant.store.write() as db:
        if found is None:
            changed = o.fail_unstarted_order(db, order["id"], "the provider has no payment for this order",
                                             "reconcile: the payment was never created", merchant.now())
            return changed, "no payment at the provider: order failed"
        truth, checkout = found
        o.attach_payment(db, order["id"], truth.payment_id, checkout, merchant.now())
        applied = o.record_payment(db, order["id"], truth, f"reconcile: found payment {truth.payment_id}, "
                                   f"provider says {truth.provider_status}", merchant.now())
    return applied.changed, f"found payment {truth.payment_id} ({truth.provider_status})"


def _refund(merchant, refund: dict) -> tuple[bool, str]:
    cause = f"reconcile: refund {refund['id']}"
    if refund["provider_refund_id"]:
        truth = merchant.psp.get_refund(refund["payment_id"], refund["provider_refund_id"])
        if truth is None:
            return _fail(merchant, refund, "the provider does not know this refund")
        with merchant.store.write() as db:
            applied = o.record_refund(db, refund["order_id"], truth, f"{cause} is {truth.provider_status}",
                                      merchant.now())
        return applied.changed, f"refund {refund['id']} is {truth.provider_status}"
    truth = _adoptable(merchant, refund)
    if truth is None:
        return _fail(merchant, refund, "the refund never reached the provider")
    with merchant.store.write() as db:
        o.attach_refund(db, refund["id"], truth.refund_id, truth.provider_status, merchant.now())
        applied = o.record_refund(db, refund["order_id"], truth, f"{cause} found at the provider as "
                                  f"{truth.refund_id}, {truth.provider_status}", merchant.now())
    return applied.changed, f"refund {refund['id']} found as {truth.refund_id} ({truth.provider_status})"


def _adoptable(merchant, refund: dict):
    """The provider's refund that is this orphan: by our id where the provider uses it, else
    the oldest one of the same amount that no refund of ours claims."""
    direct = merchant.psp.get_refund_by_merchant_id(refund["payment_id"], refund["id"])
    if direct is not None:
        return direct
    with merchant.store.read() as db:
        claimed = {r["provider_refund_id"] for r in o.refunds_of(db, refund["order_id"])}
    for truth in merchant.psp.list_refunds(refund["payment_id"]):
        if truth.refund_id not in claimed and truth.amount == refund["amount"]:
            return truth
    return None


def _fail(merchant, refund: dict, why: str) -> tuple[bool, str]:
    with merchant.store.write() as db:
        changed = o.fail_refund(db, refund["id"], why, f"reconcile: refund {refund['id']} failed: {why}",
                                merchant.now())
    return changed, f"refund {refund['id']} failed: {why}"
