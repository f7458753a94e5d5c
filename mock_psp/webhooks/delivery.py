"""One delivery attempt: planned (faults included) in one transaction, sent outside any
transaction, recorded (and the next retry scheduled) in another.

No transaction is held across the POST: the receiver may call the provider back
before it answers (the test merchant fetches the payment it was told about), and in
tests both run in one process. Because attempts are scheduler jobs, a virtual clock
walks the whole retry schedule in order when it is advanced, and a crash loses
nothing: jobs are in SQLite, and jobs left running are run again on start.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass

import requests
from sqlite_utils import Database

from ..domain import namespaces
from ..domain.namespaces import Namespace
from ..runtime import scheduler
from . import endpoints
from . import faults
from . import records
from .endpoints import Endpoint
from .ids import hex_id
from .records import AUTOMATIC
from .records import DELIVERED
from .records import FAILED
from .records import GIVEN_UP
from .records import INITIAL
from .records import JOB_KIND
from .records import MANUAL
from .records import PENDING
from .schemes import Scheme

EXCERPT_CHARS = 500


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


# A scheme that is more than a signed POST sends for itself (GovPay+: tokens, encryption,
# acknowledgements): sender(endpoint, namespace, body, copies) -> one Result per copy.
Sender = Callable[[Endpoint, Namespace, bytes, int], list[Result]]


class Delivery:
    def __init__(self, store, schemes: Mapping[str, Scheme], senders: Mapping[str, Sender] | None = None):
        self.store = store
        self.schemes = schemes
        self.senders = dict(senders or {})
        self._local = threading.local()

    def deliver_job(self, store, job) -> None:
        """Scheduler handler for ``webhook.deliver``."""
        self.attempt(job.namespace_id, job.payload["delivery_id"], job_id=job.id)

    def attempt(self, namespace_id: str, delivery_id: str, job_id: int | None = None, manual: bool = False) -> None:
        """Make one attempt (a manual one ignores faults and the delivery's state)."""
        plan = self._plan(namespace_id, delivery_id, job_id, manual)
        if plan is not None:
            self._record(plan, self._send(plan))

    # -- planning ------------------------------------------------------------------------

    def _plan(self, namespace_id: str, delivery_id: str, job_id: int | None, manual: bool) -> Plan | None:
        with self.store.write() as db:
            namespace = namespaces.get(self.store, namespace_id)
            delivery = records.delivery_row(db, namespace_id, delivery_id)
            if not manual and (delivery["status"] in (DELIVERED, GIVEN_UP) or delivery["job_id"] != job_id):
                return None  # settled, or superseded by a later schedule
            event = records.event_row(db, namespace_id, delivery["event_id"])
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
            scripted = _pop_namespace_script(db, namespace.id)
        if scripted is None and not faults.any_probability(config):
            return plan  # nothing scripted, nothing to draw: a clean attempt
        draws = faults.fault_draws(namespace.seed, state["fault_rng_counter"])
        decision = faults.decide(config, scripted, draws)
        records.save_fault_draws(db, namespace, draws)
        now = namespace.now_ms()
        if decision.fault == faults.DELAY:
            db.execute("UPDATE webhook_deliveries SET delayed_by_fault = 1 WHERE namespace_id = ? AND id = ?",
                       [namespace.id, delivery["id"]])
            records.schedule_attempt(db, namespace.id, delivery["id"], now + int(decision.delay_seconds * 1000))
            return None
        if decision.fault == faults.REORDER:
            hold = {**faults.DEFAULTS, **config}["reorder_hold_seconds"]
            db.execute("UPDATE webhook_deliveries SET held_for_reorder = 1 WHERE namespace_id = ? AND id = ?",
                       [namespace.id, delivery["id"]])
            records.schedule_attempt(db, namespace.id, delivery["id"], now + int(hold * 1000))
            return None
        plan.fault = decision.fault
        if decision.fault in (faults.DROP, faults.DROP_LOST):
            plan.send = False
            lost = " (reported as delivered)" if decision.fault == faults.DROP_LOST else ""
            plan.error = "dropped by fault injection" + lost
        elif decision.fault == faults.DUPLICATE:
            plan.copies = 2
        return plan

    # -- sending -------------------------------------------------------------------------

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
        scheme = self.schemes[endpoint.scheme]
        headers = {
            "Content-Type": "application/json",
            "User-Agent": scheme.user_agent,
            # The receiver checks replay windows against its own clock, so the
            # Standard Webhooks timestamp is the real sending time.
            **scheme.sign(endpoint.signing_secret(plan.namespace, scheme), body, event["id"], int(time.time())),
        }
        return [self._post(endpoint.url, body, headers, endpoint.timeout(scheme)) for _ in range(plan.copies)]

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

    # -- recording -----------------------------------------------------------------------

    def _record(self, plan: Plan, results: list[Result]) -> None:
        namespace, delivery_id = plan.namespace, plan.delivery["id"]
        with self.store.write() as db:
            delivery = records.delivery_row(db, namespace.id, delivery_id)
            # A virtual clock cannot move during the attempt: this namespace's jobs
            # run under its lock, and the clock moves only between jobs.
            now = namespace.now_ms()
            number = delivery["attempt_count"]
            for result in results:
                number += 1
                _insert_attempt(db, namespace.id, plan, number, now, result)
            delivered = any(r.ok for r in results) or plan.fault == faults.DROP_LOST
            status, retries_used = delivery["status"], delivery["retries_used"]
            next_at, job_id = delivery["next_attempt_at"], delivery["job_id"]
            if delivered:
                status, next_at = DELIVERED, None
            elif plan.kind != MANUAL:
                schedule = plan.endpoint.schedule(namespace, self.schemes[plan.endpoint.scheme]) \
                    if plan.endpoint else ()
                if retries_used < len(schedule):
                    next_at = now + int(schedule[retries_used] * 1000)
                    job_id = scheduler.schedule(db, namespace.id, JOB_KIND, next_at, {"delivery_id": delivery_id})
                    status, retries_used = FAILED, retries_used + 1
                else:
                    status, next_at = GIVEN_UP, None
            elif status == PENDING:
                status = FAILED
            db.execute(
                """UPDATE webhook_deliveries SET status = ?, attempt_count = ?, retries_used = ?,
                       next_attempt_at = ?, job_id = ?, updated_at = ? WHERE namespace_id = ? AND id = ?""",
                [status, number, retries_used, next_at, job_id, now, namespace.id, delivery_id],
            )
            if any(r.sent for r in results) and plan.endpoint is not None:
                _release_held(db, namespace.id, plan.endpoint.id, delivery_id, now)


def _pop_namespace_script(db: Database, namespace_id: str) -> str | None:
    script = json.loads(db.execute("SELECT fault_script FROM namespaces WHERE id = ?", [namespace_id]).fetchone()[0])
    if not script:
        return None
    db.execute("UPDATE namespaces SET fault_script = ? WHERE id = ?", [json.dumps(script[1:]), namespace_id])
    return script[0]


def _insert_attempt(db: Database, namespace_id: str, plan: Plan, number: int, now: int, result: Result) -> None:
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


def _release_held(db: Database, namespace_id: str, endpoint_id: str, sent_id: str, now: int) -> None:
    """A delivery held back for reordering goes out right after the next one to its endpoint."""
    held = db.execute(
        """SELECT id FROM webhook_deliveries INDEXED BY webhook_deliveries_held
               WHERE namespace_id = ? AND endpoint_id = ? AND held_for_reorder = 1
               AND id != ? ORDER BY created_at, id""",
        [namespace_id, endpoint_id, sent_id],
    ).fetchall()
    for row in held:
        records.schedule_attempt(db, namespace_id, row["id"], now)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


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
