"""The webhook receiver: check, log, and act on each delivery, the careful way.

1. Refuse a body over 256 KB with 413 before reading it whole or parsing it.
2. Verify the signature of the scheme this merchant registered, over the raw
   bytes, in constant time (``signatures``); refuse with 401 otherwise.
3. Refuse a body that is not the dialect's event with 400.
4. In one transaction: log it as a duplicate if its event id was accepted before,
   else put it in the inbox (the log row, ``processed_at`` NULL). Answer 200: an
   accepted event is never lost, even if acting on it fails now.
5. Act on it: ask the provider's API for the payment or refund (never the
   webhook body), then apply the answer to the books, which never move backwards.
   ``stale``: the event describes a state the order has already left.

Every delivery, accepted or not, is a row of ``webhook_log``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid

from . import orders as o
from .psp.base import PENDING
from .psp.base import REFUND_PENDING
from .psp.base import Event
from .psp.base import ProviderError
from .psp.govpay_lk import DIALECT as GOVPAY_LK
from .psp.govpay_lk import UPDATE as GOVPAY_UPDATE
from .signatures import SignatureInvalid
from .signatures import verify

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 256 * 1024
# Results of a delivery that was refused before it reached the inbox (GovPay+ adds its
# own: a call with a bad token, and one for a reference this shop never issued).
REFUSED = ("signature_invalid", "too_large", "malformed", "unauthorized", "invalid_reference")
INTERESTING_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "X-Request-Id", "X-Webhook-Signature-512",
                       "Pay-Signature", "webhook-id", "webhook-timestamp", "webhook-signature")


class Receiver:
    def __init__(self, merchant):
        self.merchant = merchant

    @property
    def wiring(self):
        return self.merchant.wiring

    def receive(self, dialect: str, body: bytes, headers, remote_addr: str | None,
                declared_length: int | None = None) -> tuple[int, dict]:
        """Check, log and act on one delivery. Returns (HTTP status, JSON answer)."""
        entry = self.new_entry(dialect, self.wiring.scheme or dialect, body, headers, remote_addr)
        if dialect != self.wiring.dialect:
            return self._refuse(entry, 404, "error", f"this merchant takes {self.wiring.dialect} webhooks")
        if dialect == GOVPAY_LK:
            return self._refuse(entry, 404, "error", "GovPay+ sends no webhooks: its calls go to /govpay-lk/validate "
                                                     "and /govpay-lk/update")
        if (declared_length or 0) > MAX_WEBHOOK_BYTES or len(body) > MAX_WEBHOOK_BYTES:
            entry["size"] = max(len(body), declared_length or 0)
            return self._refuse(entry, 413, "too_large", f"body over {MAX_WEBHOOK_BYTES} bytes")
        entry["body"] = body.decode("utf-8", "replace")
        try:
            verify(entry["scheme"], self.wiring.secret or "", body, headers, self.now_for_signatures())
        except SignatureInvalid as why:
            entry["signature_valid"] = 0
            return self._refuse(entry, 401, "signature_invalid", str(why))
        entry["signature_valid"] = 1
        try:
            payload = json.loads(body)
            event = self.merchant.psp.parse_event(payload)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as why:
            return self._refuse(entry, 400, "malformed", f"not a {dialect} event: {why.__class__.__name__}: {why}")
        row_id, duplicate_of = self.accept(entry, event)
        if duplicate_of is not None:
            return 200, {"received": True, "result": "duplicate", "log_id": row_id}
        result = self.process(row_id)
        return 200, {"received": True, "result": result, "log_id": row_id}

    @staticmethod
    def now_for_signatures() -> float:
        # Standard Webhooks timestamps are the real sending time, even under a virtual clock.
        return time.time()

    def new_entry(self, dialect: str, scheme: str, body: bytes, headers, remote_addr: str | None) -> dict:
        """The start of a log row for a delivery (or a GovPay+ call): when, from where, what size."""
        return {"received_at": self.merchant.now(), "dialect": dialect, "scheme": scheme,
                "request_id": headers.get("X-Request-Id") or f"req_{uuid.uuid4().hex}",
                "source_ip": remote_addr, "size": len(body),
                "headers": json.dumps({k: headers[k] for k in INTERESTING_HEADERS if k in headers})}

    def record(self, entry: dict, result: str, detail: str, event: Event | None = None) -> int:
        """Log a delivery or call that needs no further processing; returns its row id."""
        fields = _event_fields(event) if event is not None else {}
        with self.merchant.store.write() as db:
            return db["webhook_log"].insert({**entry, **fields, "result": result, "detail": detail,
                                             "processed_at": entry["received_at"]}).last_pk

    def _refuse(self, entry: dict, status: int, result: str, detail: str) -> tuple[int, dict]:
        row_id = self.record(entry, result, detail)
        log.info("webhook %s refused: %s (%s)", row_id, result, detail)
        return status, {"error": {"code": result, "message": detail}}

    def accept(self, entry: dict, event: Event) -> tuple[int, int | None]:
        """Put an accepted event in the inbox, or log it as a duplicate of one already there.
        Returns the new row's id and, for a duplicate, the id of the first one."""
        fields = _event_fields(event)
        with self.merchant.store.write() as db:
            first = db.execute("SELECT id FROM webhook_log WHERE event_id = ? AND dialect = ? AND result NOT IN "
                               f"({', '.join('?' * len(REFUSED))}) AND result != 'duplicate' ORDER BY id LIMIT 1",
                               [event.event_id, entry["dialect"], *REFUSED]).fetchone()
            if first is not None:
                row_id = db["webhook_log"].insert({**entry, **fields, "result": "duplicate",
                                                   "detail": f"event {event.event_id} already received "
                                                             f"(log {first[0]})",
                                                   "processed_at": entry["received_at"]}).last_pk
                return row_id, first[0]
            row_id = db["webhook_log"].insert({**entry, **fields, "result": "pending", "detail": None,
                                               "processed_at": None}).last_pk
        return row_id, None

    def process_inbox(self, payment_id: str | None = None, limit: int = 500) -> int:
        """Act on accepted events not yet acted on (after an error, or waiting for a refund's id)."""
        with self.merchant.store.read() as db:
            where, args = ("AND payment_id = ?", [payment_id]) if payment_id else ("", [])
            rows = [r[0] for r in db.execute(f"SELECT id FROM webhook_log WHERE processed_at IS NULL {where} "
                                             "ORDER BY id LIMIT ?", [*args, limit])]
        done = 0
        for row_id in rows:
            if self.process(row_id) not in ("pending", "error"):
                done += 1
        return done

    def process(self, row_id: int) -> str:
        """Act on one event of the inbox; it leaves the inbox unless the result is pending or error."""
        with self.merchant.store.read() as db:
            row = dict(db.execute("SELECT * FROM webhook_log WHERE id = ?", [row_id]).fetchone())
        try:
            result, detail = self._act(row)
        except (ProviderError, o.OrderError) as error:
            result, detail = "error", f"error: {error}"
        except Exception as error:  # a bug must not lose the event: it stays in the inbox
            log.exception("webhook %s: processing failed", row_id)
            result, detail = "error", f"error: {error.__class__.__name__}: {error}"
        done = result not in ("pending", "error")
        with self.merchant.store.write() as db:
            db.execute("UPDATE webhook_log SET result = ?, detail = ?, processed_at = ? WHERE id = ? "
                       "AND processed_at IS NULL", [result, detail, self.merchant.now() if done else None, row_id])
        return result

    def _act(self, row: dict) -> tuple[str, str | None]:
        if row["event_type"] == GOVPAY_UPDATE:
            return self.merchant.govpay.act_on_update(row)
        with self.merchant.store.read() as db:
            order = o.find_by_payment(db, row["payment_id"])
            creating = order is None and has_order_awaiting_payment(db)
        if creating:
            # The event may be for an order whose create call has not answered yet (the provider
            # sends webhooks as soon as the payment changes): wait, as for refunds below.
            return "pending", f"no order for payment {row['payment_id']} yet; waiting for a payment request to finish"
        if order is None:
            return "ok", f"no order for payment {row['payment_id']}: not this shop's, ignored"
        claims = self._claims(row)
        cause = f"webhook {row['event_type']} ({row['event_id']})"
        if row["object_type"] == "payment":
            return self._act_on_payment(order, claims, cause)
        if row["object_type"] == "refund":
            return self._act_on_refund(order, row["object_id"], claims, cause)
        return "ok", f"{row['object_type']} events are not handled by this shop"

    def _claims(self, row: dict) -> str | None:
        return self.merchant.psp.parse_event(json.loads(row["body"])).claims

    def _act_on_payment(self, order: dict, claims: str | None, cause: str) -> tuple[str, str | None]:
        if order["payment_state"] in o.FINAL_PAYMENT_STATES and claims == PENDING:
            return "stale", f"order is already {order['state']}; the event says the payment is still pending"
        truth = self.merchant.psp.get_payment(order["payment_id"])
        with self.merchant.store.write() as db:
            applied = o.record_payment(db, order["id"], truth, f"{cause}: provider says {truth.provider_status}",
                                       self.merchant.now())
            state = o.get_order(db, order["id"])["state"]
        if applied.ignored or (claims is not None and claims != truth.state and not applied.changed):
            return "stale", f"event says {claims}; provider says {truth.provider_status}; order stays {state}"
        moved = "is now" if applied.changed else "stays"
        return "ok", f"provider says {truth.provider_status}; order {moved} {state}"

    def _act_on_refund(self, order: dict, provider_refund_id: str, claims: str | None,
                       cause: str) -> tuple[str, str | None]:
        with self.merchant.store.read() as db:
            local = o.find_refund(db, order["id"], provider_refund_id)
            waiting = has_orphan_refund(db, order["id"])
        if local is None and waiting:
            # One of our refunds may not know its provider id yet (the provider's answer is in flight).
            return "pending", f"refund {provider_refund_id} not matched yet; waiting for the refund request to finish"
        if local is not None and local["state"] in o.FINAL_REFUND_STATES:
            result = "ok" if claims in (None, local["state"]) else "stale"
            return result, f"refund {local['id']} is already {local['state']}"
        truth = self.merchant.psp.get_refund(order["payment_id"], provider_refund_id)
        if truth is None:
            return "error", f"error: the provider does not know refund {provider_refund_id}"
        with self.merchant.store.write() as db:
            applied = o.record_refund(db, order["id"], truth, f"{cause}: refund {truth.refund_id} is "
                                      f"{truth.provider_status}", self.merchant.now())
            state = o.get_order(db, order["id"])["state"]
        moved = "is now" if applied.changed else "stays"
        return "ok", f"refund {truth.refund_id} is {truth.provider_status}; order {moved} {state}"

    def log(self, result: str | None = None, limit: int = 1000) -> list[dict]:
        with self.merchant.store.read() as db:
            if result:
                where, args = "WHERE result = ?", [result]
            else:
                where, args = "", []
            rows = db.execute(f"SELECT * FROM webhook_log {where} ORDER BY id LIMIT ?", [*args, limit]).fetchall()
        return [_log_json(dict(r)) for r in rows]


def _event_fields(event: Event) -> dict:
    return {"event_id": event.event_id, "event_type": event.event_type, "object_type": event.object_type,
            "object_id": event.object_id, "payment_id": event.payment_id}


def _log_json(row: dict) -> dict:
    return {"id": row["id"], "received_at": row["received_at"], "dialect": row["dialect"], "scheme": row["scheme"],
            "request_id": row["request_id"], "source_ip": row["source_ip"], "headers": json.loads(row["headers"]),
            "size": row["size"], "signature_valid": None if row["signature_valid"] is None
            else bool(row["signature_valid"]), "event_id": row["event_id"], "event_type": row["event_type"],
            "object_type": row["object_type"], "object_id": row["object_id"], "payment_id": row["payment_id"],
            "result": row["result"], "detail": row["detail"], "processed_at": row["processed_at"]}


def has_orphan_refund(db, order_id: str) -> bool:
    """Does the order have a refund of ours the provider has not given an id for yet?"""
    return db.execute("SELECT 1 FROM refunds WHERE order_id = ? AND state = ? AND provider_refund_id IS NULL "
                      "AND source = 'merchant'", [order_id, REFUND_PENDING]).fetchone() is not None


def has_order_awaiting_payment(db) -> bool:
    """Is one of our orders still waiting for its payment id (its create call in flight, or lost)?"""
    return db.execute("SELECT 1 FROM orders WHERE payment_id IS NULL AND state = ?", [PENDING]).fetchone() is not None
