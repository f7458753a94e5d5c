"""From committed changes to signed HTTP deliveries, retried on the namespace clock.

1. ``dispatch_outbox`` turns outbox rows into events (one per object and event
   type, rendered by the payment's dialect from the snapshot taken at commit)
   and one delivery per matching endpoint, each with a ``webhook.deliver`` job.
2. ``deliver_job`` runs when that job falls due: it plans the attempt (faults
   included) in one transaction, sends outside any transaction, then records the
   attempt and schedules the next retry in another.

Because deliveries are scheduler jobs, a virtual clock walks the whole retry
schedule in order when it is advanced, and a crash loses nothing: jobs and
outbox rows are in SQLite, and jobs left running are run again on start.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import requests
from sqlite_utils import Database

from .. import scheduler
from ..clock import iso_ms
from ..clock import system_now_ms
from ..domain import namespace_config
from ..domain import namespaces
from ..domain.errors import NOT_FOUND
from ..domain.errors import DomainError
from ..domain.namespaces import Namespace
from . import endpoints
from . import faults
from .endpoints import Endpoint
from .schemes import SCHEMES
from .ids import hex_id
from .schemes import sign

log = logging.getLogger(__name__)

PENDING, FAILED, DELIVERED, GIVEN_UP = "pending", "failed", "delivered", "given_up"
STATUSES = (PENDING, FAILED, DELIVERED, GIVEN_UP)
INITIAL, AUTOMATIC, MANUAL = "initial_attempt", "automatic_retry", "manual_retry"
EXCERPT_CHARS = 500
JOB_KIND = "webhook.deliver"


@dataclass
class Result:
    sent: bool
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    response_excerpt: str | None = None
    request_headers: dict | None = None
    response_headers: dict | None = None
    # Set by senders that judge the answer's body too (GovPay+ wants an acknowledgement).
    accepted: bool | None = None

    @property
    def ok(self) -> bool:
        if self.accepted is not None:
            return self.accepted
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class Plan:
    namespace: Namespace
    delivery: dict
    event: dict
    endpoint: Endpoint | None
    kind: str
    fault: str = faults.NONE
    send: bool = True
    error: str | None = None
    copies: int = 1
    extra: dict = field(default_factory=dict)


class WebhookEngine:
    def __init__(self, store, renderers: dict[str, Any], base_url: Callable[[], str],
                 senders: dict[str, Callable] | None = None):
        """``senders``: per scheme, a callable(endpoint, namespace, body, copies) -> [Result] for
        schemes that are more than a signed POST (GovPay+: tokens, encryption, acknowledgements)."""
        self.store = store
        self.renderers = renderers
        self.base_url = base_url
        self.senders = senders or {}
        self._local = threading.local()

    @property
    def known_events(self) -> dict[str, tuple[str, ...]]:
        return {name: module.EVENT_TYPES for name, module in self.renderers.items()}

    # -- outbox -> events and deliveries --------------------------------------------

    def dispatch_outbox(self, limit: int = 500) -> int:
        """Turn committed changes into events and scheduled deliveries; return how many rows."""
        with self.store.read() as db:
            if db.execute("SELECT 1 FROM outbox WHERE dispatched_at IS NULL LIMIT 1").fetchone() is None:
                return 0
        with self.store.write() as db:
            rows = db.execute(
                "SELECT * FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT ?", [limit]
            ).fetchall()
            namespaces_seen: dict[str, Namespace | None] = {}
            endpoints_seen: dict[str, list[Endpoint]] = {}
            for row in rows:
                namespace_id = row["namespace_id"]
                if namespace_id not in namespaces_seen:
                    namespaces_seen[namespace_id] = namespaces.find(db, "id", namespace_id)
                    endpoints_seen[namespace_id] = [e for e in endpoints.list_for(db, namespace_id) if e.enabled]
                namespace = namespaces_seen[namespace_id]
                error = None
                if namespace is not None and endpoints_seen[namespace_id]:
                    try:
                        with db.atomic():
                            self._events_from(db, namespace, row, endpoints_seen[namespace_id])
                    except Exception as exc:  # one bad row must not block the outbox
                        log.exception("outbox row %s could not become an event", row["id"])
                        error = f"{type(exc).__name__}: {exc}"
                db.execute("UPDATE outbox SET dispatched_at = ?, dispatch_error = ? WHERE id = ?",
                           [system_now_ms(), error, row["id"]])
        return len(rows)

    def _events_from(self, db: Database, namespace: Namespace, row, targets: list[Endpoint]) -> None:
        renderer = self.renderers.get(row["dialect"])
        if renderer is None or not row["snapshot"]:
            return
        change = {"object_type": row["object_type"], "from_status": row["from_status"],
                  "to_status": row["status"], "snapshot": json.loads(row["snapshot"])}
        for draft in renderer.describe(change, namespace, self.base_url()):
            receivers = [e for e in targets if e.accepts(row["dialect"], draft.event_type, draft.explicit_only)]
            if not receivers:
                continue  # no endpoint wants it: nothing to record or send
            created_at = row["created_at"]
            event_id = renderer.new_event_id(created_at, namespace.seed, row["object_id"], draft.event_type)
            body = renderer.render(event_id, draft, created_at, namespace)
            inserted = db.execute(
                """INSERT OR IGNORE INTO webhook_events (id, namespace_id, dialect, event_type, event_class,
                       object_type, object_id, payment_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [event_id, namespace.id, row["dialect"], draft.event_type, draft.event_class, row["object_type"],
                 row["object_id"], row["payment_id"], body.decode(), created_at],
            ).rowcount
            if not inserted:
                continue  # this object already sent this event type: once per (object, event type)
            for endpoint in receivers:
                self._new_delivery(db, namespace, event_id, endpoint)

    def _new_delivery(self, db: Database, namespace: Namespace, event_id: str, endpoint: Endpoint) -> None:
        now = namespace.now_ms()
        delivery_id = hex_id("whd_", now, event_id, endpoint.id)[:28]
        db.execute(
            """INSERT INTO webhook_deliveries (id, namespace_id, event_id, endpoint_id, status, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [delivery_id, namespace.id, event_id, endpoint.id, PENDING, now, now],
        )
        draws = self._fault_draws(db, namespace)
        delay = namespace_config.draw_delay_seconds(namespace.config["delays"]["webhook"], draws)
        self._save_fault_draws(db, namespace, draws)
        self._schedule(db, namespace.id, delivery_id, now + int(delay * 1000))

    def _schedule(self, db: Database, namespace_id: str, delivery_id: str, due_at: int) -> None:
        job_id = scheduler.schedule(db, namespace_id, JOB_KIND, due_at, {"delivery_id": delivery_id})
        db.execute(
            "UPDATE webhook_deliveries SET job_id = ?, next_attempt_at = ? WHERE namespace_id = ? AND id = ?",
            [job_id, due_at, namespace_id, delivery_id],
        )

    # -- fault draws: their own sequence, see faults.fault_draws ------------------------

    def _fault_draws(self, db: Database, namespace: Namespace):
        counter = db.execute("SELECT fault_rng_counter FROM namespaces WHERE id = ?", [namespace.id]).fetchone()[0]
        return faults.fault_draws(namespace.seed, counter)

    def _save_fault_draws(self, db: Database, namespace: Namespace, draws) -> None:
        if draws.used:
            db.execute("UPDATE namespaces SET fault_rng_counter = ? WHERE id = ?", [draws.counter, namespace.id])

    # -- one attempt -------------------------------------------------------------------

    def deliver_job(self, store, job) -> None:
        """Scheduler handler for ``webhook.deliver``."""
        self.attempt(job.namespace_id, job.payload["delivery_id"], job_id=job.id)

    def attempt(self, namespace_id: str, delivery_id: str, job_id: int | None = None,
                manual: bool = False) -> dict | None:
        plan = self._plan(namespace_id, delivery_id, job_id, manual)
        if plan is None:
            return None
        results = self._send(plan)
        return self._record(plan, results)

    def _plan(self, namespace_id: str, delivery_id: str, job_id: int | None, manual: bool) -> Plan | None:
        with self.store.write() as db:
            namespace = namespaces.get(db, namespace_id)
            delivery = self._delivery_row(db, namespace_id, delivery_id)
            if not manual and (delivery["status"] in (DELIVERED, GIVEN_UP) or delivery["job_id"] != job_id):
                return None  # settled, or superseded by a later schedule
            event = self._event_row(db, namespace_id, delivery["event_id"])
            endpoint = endpoints.find(db, namespace_id, delivery["endpoint_id"])
            kind = MANUAL if manual else (INITIAL if delivery["attempt_count"] == 0 else AUTOMATIC)
            plan = Plan(namespace, dict(delivery), dict(event), endpoint, kind)
            if endpoint is None:
                plan.send, plan.error = False, "endpoint deleted"
                return plan
            if not endpoint.enabled:
                plan.send, plan.error = False, "endpoint disabled; nothing sent"
                return plan
            if manual:
                return plan
            return self._apply_fault(db, plan)

    def _apply_fault(self, db: Database, plan: Plan) -> Plan | None:
        delivery, namespace, endpoint = plan.delivery, plan.namespace, plan.endpoint
        if delivery["held_for_reorder"]:
            plan.fault = faults.REORDER
            db.execute("UPDATE webhook_deliveries SET held_for_reorder = 0 WHERE namespace_id = ? AND id = ?",
                       [namespace.id, delivery["id"]])
            return plan
        if delivery["delayed_by_fault"]:
            plan.fault = faults.DELAY
            db.execute("UPDATE webhook_deliveries SET delayed_by_fault = 0 WHERE namespace_id = ? AND id = ?",
                       [namespace.id, delivery["id"]])
            return plan
        state = db.execute("SELECT faults, fault_script, fault_rng_counter FROM namespaces WHERE id = ?",
                           [namespace.id]).fetchone()
        config = endpoint.faults or json.loads(state["faults"]).get("webhooks", {})
        scripted = endpoints.pop_script(db, endpoint)
        if scripted is None and state["fault_script"] != "[]":
            scripted = self._pop_namespace_script(db, namespace.id)
        if scripted is None and not faults.any_probability(config):
            return plan  # nothing scripted, nothing to draw: a clean attempt
        draws = faults.fault_draws(namespace.seed, state["fault_rng_counter"])
        decision = faults.decide(config, scripted, draws)
        self._save_fault_draws(db, namespace, draws)
        now = namespace.now_ms()
        if decision.fault == faults.DELAY:
            db.execute("UPDATE webhook_deliveries SET delayed_by_fault = 1 WHERE namespace_id = ? AND id = ?",
                       [namespace.id, delivery["id"]])
            self._schedule(db, namespace.id, delivery["id"], now + int(decision.delay_seconds * 1000))
            return None
        if decision.fault == faults.REORDER:
            hold = {**faults.DEFAULTS, **config}["reorder_hold_seconds"]
            db.execute("UPDATE webhook_deliveries SET held_for_reorder = 1 WHERE namespace_id = ? AND id = ?",
                       [namespace.id, delivery["id"]])
            self._schedule(db, namespace.id, delivery["id"], now + int(hold * 1000))
            return None
        plan.fault = decision.fault
        if decision.fault in (faults.DROP, faults.DROP_LOST):
            plan.send = False
            plan.error = "dropped by fault injection" + (" (reported as delivered)" if decision.fault == faults.DROP_LOST
                                                         else "")
        elif decision.fault == faults.DUPLICATE:
            plan.copies = 2
        return plan

    def _pop_namespace_script(self, db: Database, namespace_id: str) -> str | None:
        script = json.loads(db.execute("SELECT fault_script FROM namespaces WHERE id = ?", [namespace_id]).fetchone()[0])
        if not script:
            return None
        db.execute("UPDATE namespaces SET fault_script = ? WHERE id = ?", [json.dumps(script[1:]), namespace_id])
        return script[0]

    # -- sending -----------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # never route webhooks through a proxy from the environment
        return session

    def _send(self, plan: Plan) -> list[Result]:
        if not plan.send:
            return [Result(sent=False, error=plan.error)]
        endpoint, event = plan.endpoint, plan.event
        body = event["body"].encode()
        if endpoint.scheme in self.senders:
            return self.senders[endpoint.scheme](endpoint, plan.namespace, body, plan.copies)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": SCHEMES[endpoint.scheme].user_agent,
            # The receiver checks replay windows against its own clock, so the
            # Standard Webhooks timestamp is the real sending time.
            **sign(endpoint.scheme, endpoint.signing_secret(plan.namespace), body, event["id"], int(time.time())),
        }
        return [self._post(endpoint.url, body, headers, endpoint.timeout()) for _ in range(plan.copies)]

    def _post(self, url: str, body: bytes, headers: dict, timeout: float) -> Result:
        started = time.perf_counter()
        try:
            response = self._session().post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            self._local.session = None  # start afresh after a broken connection
            return Result(sent=True, latency_ms=_ms(started), error=describe_failure(exc, timeout),
                          request_headers=headers)
        return Result(
            sent=True, status_code=response.status_code, latency_ms=_ms(started),
            response_excerpt=response.text[:EXCERPT_CHARS], request_headers=headers,
            response_headers=dict(response.headers),
            error=None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}",
        )

    # -- recording ---------------------------------------------------------------------

    def _record(self, plan: Plan, results: list[Result]) -> dict | None:
        namespace_id, delivery_id = plan.namespace.id, plan.delivery["id"]
        with self.store.write() as db:
            namespace = plan.namespace
            delivery = self._delivery_row(db, namespace_id, delivery_id)
            # A virtual clock cannot move during the attempt: this namespace's jobs
            # run under its lock, and the clock moves only between jobs.
            now = namespace.now_ms()
            number = delivery["attempt_count"]
            for result in results:
                number += 1
                self._insert_attempt(db, namespace_id, plan, number, now, result)
            delivered = any(r.ok for r in results) or plan.fault == faults.DROP_LOST
            status, retries_used = delivery["status"], delivery["retries_used"]
            next_at, job_id = delivery["next_attempt_at"], delivery["job_id"]
            if delivered:
                status, next_at = DELIVERED, None
            elif plan.kind != MANUAL:
                schedule = plan.endpoint.schedule(namespace) if plan.endpoint else ()
                if retries_used < len(schedule):
                    next_at = now + int(schedule[retries_used] * 1000)
                    job_id = scheduler.schedule(db, namespace_id, JOB_KIND, next_at, {"delivery_id": delivery_id})
                    status, retries_used = FAILED, retries_used + 1
                else:
                    status, next_at = GIVEN_UP, None
            elif status == PENDING:
                status = FAILED
            db.execute(
                """UPDATE webhook_deliveries SET status = ?, attempt_count = ?, retries_used = ?,
                       next_attempt_at = ?, job_id = ?, updated_at = ? WHERE namespace_id = ? AND id = ?""",
                [status, number, retries_used, next_at, job_id, now, namespace_id, delivery_id],
            )
            if any(r.sent for r in results) and plan.endpoint is not None:
                self._release_held(db, namespace_id, plan.endpoint.id, delivery_id, now)
            if plan.kind == MANUAL:
                return self._delivery_json(db, namespace_id, delivery_id, with_payload=False)
            return None

    def _insert_attempt(self, db: Database, namespace_id: str, plan: Plan, number: int, now: int,
                        result: Result) -> None:
        event_id = plan.event["id"]
        attempt_id = event_id if number == 1 else hex_id("evt_", now, event_id, plan.delivery["id"], str(number))
        fault = plan.fault if plan.fault != faults.NONE else None
        if fault == faults.DUPLICATE and number == plan.delivery["attempt_count"] + 1:
            fault = None  # the first copy is the real one; the second carries the mark
        db.execute(
            """INSERT INTO webhook_attempts (attempt_id, namespace_id, delivery_id, number, kind, at, sent,
                   status_code, latency_ms, error, fault, request_headers, response_headers, response_excerpt)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [attempt_id, namespace_id, plan.delivery["id"], number, plan.kind, now, int(result.sent),
             result.status_code, result.latency_ms, result.error, fault,
             json.dumps(result.request_headers) if result.request_headers else None,
             json.dumps(result.response_headers) if result.response_headers else None, result.response_excerpt],
        )

    def _release_held(self, db: Database, namespace_id: str, endpoint_id: str, sent_id: str, now: int) -> None:
        """A delivery held back for reordering goes out right after the next one to its endpoint."""
        held = db.execute(
            """SELECT id FROM webhook_deliveries INDEXED BY webhook_deliveries_held
                   WHERE namespace_id = ? AND endpoint_id = ? AND held_for_reorder = 1
                   AND id != ? ORDER BY created_at, id""",
            [namespace_id, endpoint_id, sent_id],
        ).fetchall()
        for row in held:
            self._schedule(db, namespace_id, row["id"], now)

    # -- reading ---------------------------------------------------------------------

    def _delivery_row(self, db: Database, namespace_id: str, delivery_id: str):
        row = db.execute("SELECT * FROM webhook_deliveries WHERE namespace_id = ? AND id = ?",
                         [namespace_id, delivery_id]).fetchone()
        if row is None:
            raise DomainError(NOT_FOUND, f"no webhook delivery {delivery_id!r}",
                              {"object": "webhook_delivery", "object_id": delivery_id})
        return row

    def _event_row(self, db: Database, namespace_id: str, event_id: str):
        return db.execute("SELECT * FROM webhook_events WHERE namespace_id = ? AND id = ?",
                          [namespace_id, event_id]).fetchone()

    def _delivery_json(self, db: Database, namespace_id: str, delivery_id: str, with_payload: bool) -> dict:
        row = db.execute(
            """SELECT d.*, e.event_type, e.object_id, e.object_type, e.payment_id, e.body, w.url
               FROM webhook_deliveries d JOIN webhook_events e ON e.namespace_id = d.namespace_id AND e.id = d.event_id
               LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id
               WHERE d.namespace_id = ? AND d.id = ?""",
            [namespace_id, delivery_id],
        ).fetchone()
        return self._to_json(db, row, with_payload)

    def _to_json(self, db: Database, row, with_payload: bool) -> dict:
        attempts = db.execute(
            "SELECT * FROM webhook_attempts WHERE namespace_id = ? AND delivery_id = ? ORDER BY id",
            [row["namespace_id"], row["id"]],
        ).fetchall()
        out = {
            "id": row["id"],
            "event_id": row["event_id"],
            "event_type": row["event_type"],
            "object_type": row["object_type"],
            "object_id": row["object_id"],
            "payment_id": row["payment_id"],
            "endpoint_id": row["endpoint_id"],
            "url": row["url"],
            "status": row["status"],
            "attempt_count": row["attempt_count"],
            "next_attempt_at": iso_ms(row["next_attempt_at"]) if row["status"] in (PENDING, FAILED) else None,
            "created_at": iso_ms(row["created_at"]),
            "attempts": [_attempt_json(a, with_payload) for a in attempts],
        }
        if with_payload:
            out["payload"] = row["body"]
        return out

    def list_deliveries(self, namespace_id: str, status: str | None = None, event_type: str | None = None,
                        payment_id: str | None = None, object_id: str | None = None,
                        endpoint_id: str | None = None, limit: int = 100, offset: int = 0,
                        newest_first: bool = False) -> tuple[list[dict], int]:
        where, params = ["d.namespace_id = ?"], [namespace_id]
        for column, value in (("d.status", status), ("e.event_type", event_type), ("e.payment_id", payment_id),
                              ("e.object_id", object_id), ("d.endpoint_id", endpoint_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        clause = " AND ".join(where)
        order = "DESC" if newest_first else "ASC"
        base = f"""FROM webhook_deliveries d JOIN webhook_events e ON e.namespace_id = d.namespace_id
                   AND e.id = d.event_id LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE {clause}"""
        with self.store.read() as db:
            total = db.execute(f"SELECT count(*) {base}", params).fetchone()[0]
            rows = db.execute(
                f"""SELECT d.*, e.event_type, e.object_id, e.object_type, e.payment_id, e.body, w.url {base}
                    ORDER BY d.created_at {order}, d.rowid {order} LIMIT ? OFFSET ?""",
                params + [limit, offset],
            ).fetchall()
            return [self._to_json(db, row, with_payload=False) for row in rows], total

    def get_delivery(self, namespace_id: str, delivery_id: str) -> dict:
        with self.store.read() as db:
            self._delivery_row(db, namespace_id, delivery_id)
            return self._delivery_json(db, namespace_id, delivery_id, with_payload=True)

    def retry_now(self, namespace_id: str, delivery_id: str) -> dict:
        """Send again now, whatever the delivery's state (a manual retry); faults do not apply."""
        self.attempt(namespace_id, delivery_id, manual=True)
        return self.get_delivery(namespace_id, delivery_id)


    # -- the provider-native views (the Hyperswitch events API) -------------------------

    def set_profile_endpoint(self, namespace: Namespace, url: str | None, events: list[str] | None) -> None:
        """The endpoint a dialect's own account settings name (Hyperswitch: the profile's webhook_url)."""
        values = {"url": url, "scheme": "hyperswitch", "events": events} if url else None
        self.set_source_endpoint(namespace, "profile", values)

    def set_source_endpoint(self, namespace: Namespace, source: str, values: dict | None) -> None:
        """Create, update or (values None) delete the one endpoint a dialect's settings own."""
        with self.store.write() as db:
            existing = endpoints.source_endpoint(db, namespace.id, source)
            if values is None:
                if existing is not None:
                    endpoints.delete(db, namespace.id, existing.id)
                return
            if existing is None:
                endpoints.create(db, namespace, values, self.known_events, namespace.now_ms(), source=source)
            else:
                endpoints.update(db, namespace, existing.id, values, self.known_events, namespace.now_ms())

    def list_events(self, namespace_id: str, dialect: str, created_after: int | None = None,
                    created_before: int | None = None, object_id: str | None = None, event_id: str | None = None,
                    event_types: list[str] | None = None, event_classes: list[str] | None = None,
                    is_delivered: bool | None = None, limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
        """Events newest first, each with whether any delivery of it succeeded (None before any attempt)."""
        where, params = ["e.namespace_id = ?", "e.dialect = ?"], [namespace_id, dialect]
        for clause, value in (("e.created_at > ?", created_after), ("e.created_at < ?", created_before),
                              ("e.object_id = ?", object_id), ("e.id = ?", event_id)):
            if value is not None:
                where.append(clause)
                params.append(value)
        for column, values in (("e.event_type", event_types), ("e.event_class", event_classes)):
            if values:
                where.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        delivered = f"""(SELECT CASE WHEN sum(d.attempt_count) IS NULL OR sum(d.attempt_count) = 0 THEN NULL
                             WHEN max(d.status = '{DELIVERED}') THEN 1 ELSE 0 END
                         FROM webhook_deliveries d WHERE d.namespace_id = e.namespace_id AND d.event_id = e.id)"""
        if is_delivered is not None:
            where.append(f"coalesce({delivered}, 0) = ?")
            params.append(int(is_delivered))
        clause = " AND ".join(where)
        with self.store.read() as db:
            total = db.execute(f"SELECT count(*) FROM webhook_events e WHERE {clause}", params).fetchone()[0]
            rows = db.execute(
                f"""SELECT e.*, {delivered} AS delivered FROM webhook_events e WHERE {clause}
                    ORDER BY e.created_at DESC, e.rowid DESC LIMIT ? OFFSET ?""",
                params + [limit, offset],
            ).fetchall()
        return [dict(r) for r in rows], total

    def get_event(self, namespace_id: str, event_id: str) -> dict | None:
        with self.store.read() as db:
            row = self._event_row(db, namespace_id, event_id)
        return dict(row) if row else None

    def event_attempts(self, namespace_id: str, event_id: str) -> list[dict]:
        """Every attempt at every delivery of the event, oldest first, with what was sent and received."""
        with self.store.read() as db:
            rows = db.execute(
                """SELECT a.*, d.status AS delivery_status FROM webhook_attempts a
                   JOIN webhook_deliveries d ON d.namespace_id = a.namespace_id AND d.id = a.delivery_id
                   WHERE d.namespace_id = ? AND d.event_id = ? ORDER BY a.id""",
                [namespace_id, event_id],
            ).fetchall()
        return [dict(r) for r in rows]

    def retry_event(self, namespace_id: str, event_id: str) -> dict | None:
        """Manually resend an event to its first endpoint; None if it has no delivery to retry."""
        with self.store.read() as db:
            row = db.execute(
                """SELECT d.id FROM webhook_deliveries d LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id
                   WHERE d.namespace_id = ? AND d.event_id = ?
                   ORDER BY w.source = 'profile' DESC, d.created_at, d.rowid LIMIT 1""",
                [namespace_id, event_id],
            ).fetchone()
        if row is None:
            return None
        self.attempt(namespace_id, row["id"], manual=True)
        return self.event_attempts(namespace_id, event_id)[-1]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _attempt_json(row, with_headers: bool) -> dict:
    out = {
        "id": row["attempt_id"],
        "number": row["number"],
        "kind": row["kind"],
        "at": iso_ms(row["at"]),
        "sent": bool(row["sent"]),
        "status_code": row["status_code"],
        "latency_ms": row["latency_ms"],
        "error": row["error"],
        "fault": row["fault"],
        "response_excerpt": row["response_excerpt"],
    }
    if with_headers:
        out["request_headers"] = json.loads(row["request_headers"]) if row["request_headers"] else None
        out["response_headers"] = json.loads(row["response_headers"]) if row["response_headers"] else None
    return out


def describe_failure(exc: requests.RequestException, timeout: float) -> str:
    """A short, stable description of why a request failed."""
    if isinstance(exc, requests.Timeout):
        return f"timeout after {timeout:g}s"
    chain = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for cause in chain:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError)):
            return "connection closed by the receiver"
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve host: {cause}"
    return f"{type(exc).__name__}: {exc}"[:300]
