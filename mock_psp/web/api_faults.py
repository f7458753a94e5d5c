"""API fault injection: the provider's API misbehaving the way networks and providers do.

A namespace's ``api`` faults apply to its dialect API calls (found by their credentials;
the hosted pages, the dashboard and the control API are never faulted). For each call
the fault comes from the script (``next``: the next N matching calls, in order), else
from the probabilities, drawn from a random sequence of the namespace's seed that is
kept apart from the ones behind payment ids, outcomes and webhook faults, so turning
API faults on never changes which payment ids or outcomes a test sees.

Every injected fault is logged (``GET /_mock/faults/api/log``). Flask-free: the app's
hooks (``app.py``) and the server (``server.py``) act on the Decision.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from ..domain.errors import INVALID_FIELD
from ..domain.errors import DomainError
from ..domain.randomness import Draws

NONE = "none"
ERROR = "error"                  # the provider's 500 (or a gateway's 502/503/504); not processed
RESET = "reset"                  # the connection is reset before the call is processed
TIMEOUT = "timeout"              # no answer for timeout_seconds, then the connection closes; not processed
LOST_RESPONSE = "lost_response"  # processed and committed, then the connection is reset
TRUNCATED = "truncated"          # processed; the answer stops half way and the connection closes
KINDS = (ERROR, RESET, TIMEOUT, LOST_RESPONSE, TRUNCATED)
SCRIPTED = (NONE, *KINDS)
# Faults after which the client has no answer: the call may or may not have happened.
PROCESSED = (LOST_RESPONSE, TRUNCATED)
ERROR_STATUSES = (500, 502, 503, 504)

DEFAULTS: dict[str, Any] = {
    ERROR: 0.0,
    "error_status": 500,
    RESET: 0.0,
    TIMEOUT: 0.0,
    "timeout_seconds": 30,
    LOST_RESPONSE: 0.0,
    TRUNCATED: 0.0,
    "latency_seconds": 0,
    "routes": [],
}


@dataclass(frozen=True)
class Decision:
    fault: str = NONE
    latency_seconds: float = 0.0
    error_status: int = 500
    timeout_seconds: float = 30.0

    @property
    def acts(self) -> bool:
        return self.fault != NONE or self.latency_seconds > 0


# -- settings ----------------------------------------------------------------------------------


def _fail(field: str, message: str) -> DomainError:
    return DomainError(INVALID_FIELD, f"{field}: {message}", {"field": field})


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # not NaN


def validate(current: dict, update: Any, prefix: str = "api") -> dict:
    """Merge an update into the current settings (``next`` is kept apart: see validate_script)."""
    if not isinstance(update, dict):
        raise _fail(prefix, "must be an object")
    merged = {**DEFAULTS, **current}
    for key, value in update.items():
        field = f"{prefix}.{key}"
        if key in KINDS:
            if not _number(value) or not 0 <= value <= 1:
                raise _fail(field, "must be a probability from 0 to 1")
        elif key == "error_status":
            if value not in ERROR_STATUSES or isinstance(value, bool):
                raise _fail(field, f"must be one of {', '.join(map(str, ERROR_STATUSES))}")
        elif key == "timeout_seconds":
            if not _number(value) or not 0 <= value <= 600:
                raise _fail(field, "must be seconds from 0 to 600")
        elif key == "latency_seconds":
            if not _seconds_or_range(value):
                raise _fail(field, "must be seconds (0 to 60) or [min, max]")
        elif key == "routes":
            _check_routes(value, field)
        elif key == "next":
            continue
        else:
            raise _fail(field, f"unknown setting; known: {', '.join(DEFAULTS)}, next")
        merged[key] = value
    if sum(merged[kind] for kind in KINDS) > 1 + 1e-9:
        raise _fail(prefix, "the fault probabilities add up to more than 1")
    return merged


def _seconds_or_range(value: Any) -> bool:
    if _number(value):
        return 0 <= value <= 60
    return (isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value)
            and 0 <= value[0] <= value[1] <= 60)


def _check_routes(value: Any, field: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(field, 'must be a list like ["POST /hyperswitch/payments", "* /govuk/v1/payments/*"]')
    for pattern in value:
        if _route_regex(pattern) is None:
            raise _fail(field, f"{pattern!r} is not METHOD /path (METHOD may be *; * is one path segment, ** any)")


def validate_script(values: Any, field: str = "api.next") -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _fail(field, f"must be a list of {', '.join(SCRIPTED)}")
    for value in values:
        if value not in SCRIPTED:
            raise _fail(field, f"unknown fault {value!r}; use {', '.join(SCRIPTED)}")
    return list(values)


def _stored(settings: dict) -> dict:
    """Only what differs from the defaults: an empty object means API faults are off."""
    return {k: v for k, v in settings.items() if DEFAULTS.get(k) != v}


def view(db: Database, namespace_id: str) -> dict:
    row = db.execute("SELECT api_faults, api_fault_script FROM namespaces WHERE id = ?", [namespace_id]).fetchone()
    return {**DEFAULTS, **json.loads(row["api_faults"]), "next": json.loads(row["api_fault_script"])}


def update(db: Database, namespace_id: str, changes: Any) -> dict:
    """Merge ``changes`` into the namespace's API faults (``next`` replaces the script)."""
    current = {k: v for k, v in view(db, namespace_id).items() if k != "next"}
    merged = validate(current, changes)
    script = validate_script(changes["next"]) if "next" in changes else None
    db.execute("UPDATE namespaces SET api_faults = ? WHERE id = ?", [json.dumps(_stored(merged)), namespace_id])
    if script is not None:
        db.execute("UPDATE namespaces SET api_fault_script = ? WHERE id = ?", [json.dumps(script), namespace_id])
    return view(db, namespace_id)


# -- which calls -------------------------------------------------------------------------------


def _route_regex(pattern: str) -> re.Pattern | None:
    parts = pattern.split()
    if len(parts) != 2 or not parts[1].startswith("/") or not re.fullmatch(r"\*|[A-Za-z]+", parts[0]):
        return None
    method, path = parts
    body = "".join(".*" if seg == "**" else "[^/]+" if seg == "*" else re.escape(seg)
                   for seg in re.split(r"(\*\*|\*)", path) if seg)
    return re.compile(("[A-Z]+" if method == "*" else method.upper()) + " " + body)


def matches(routes: list[str], method: str, path: str) -> bool:
    if not routes:
        return True
    call = f"{method.upper()} {path}"
    return any((regex := _route_regex(p)) is not None and regex.fullmatch(call) for p in routes)


# -- the decision ------------------------------------------------------------------------------


def fault_draws(seed: int, counter: int) -> Draws:
    """The API fault sequence: the namespace seed, turned so it meets no other sequence."""
    turned = int.from_bytes(hashlib.blake2b(int(seed).to_bytes(16, "big", signed=True) + b"api faults",
                                            digest_size=8).digest(), "big", signed=True)
    return Draws(turned, counter)


def decide(db: Database, namespace_id: str, seed: int, method: str, path: str, now_ms: int) -> Decision:
    """The fault for one API call, in the caller's write transaction: the script first, then
    one draw against the probabilities; the sequence advances and the fault is logged."""
    row = db.execute("SELECT api_faults, api_fault_script, api_fault_rng_counter FROM namespaces WHERE id = ?",
                     [namespace_id]).fetchone()
    settings = {**DEFAULTS, **json.loads(row["api_faults"])}
    if not matches(settings["routes"], method, path):
        return Decision()
    script = json.loads(row["api_fault_script"])
    draws = fault_draws(seed, row["api_fault_rng_counter"])
    if script:
        fault, source = script.pop(0), "script"
        db.execute("UPDATE namespaces SET api_fault_script = ? WHERE id = ?", [json.dumps(script), namespace_id])
    else:
        fault, source = _draw(settings, draws), "probability"
    latency = _latency(settings["latency_seconds"], draws)
    if draws.used:
        db.execute("UPDATE namespaces SET api_fault_rng_counter = ? WHERE id = ?", [draws.counter, namespace_id])
    decision = Decision(fault, latency, settings["error_status"], float(settings["timeout_seconds"]))
    if decision.acts:
        _log(db, namespace_id, now_ms, method, path, decision, source)
    return decision


def decide_for(store, namespace, method: str, path: str) -> Decision:
    """The fault for one API call to ``namespace``, decided (and logged) in a transaction of its own."""
    with store.write() as db:
        return decide(db, namespace.id, namespace.seed, method, path, namespace.now_ms())


def _draw(settings: dict, draws: Draws) -> str:
    if not any(settings[kind] > 0 for kind in KINDS):
        return NONE
    roll, edge = draws.random(), 0.0
    for kind in KINDS:
        edge += settings[kind]
        if roll < edge:
            return kind
    return NONE


def _latency(setting: Any, draws: Draws) -> float:
    if isinstance(setting, list):
        low, high = setting
        return float(low) if low == high else draws.uniform(low, high)
    return float(setting)


# -- the log -----------------------------------------------------------------------------------


def _log(db: Database, namespace_id: str, now_ms: int, method: str, path: str, decision: Decision,
         source: str) -> None:
    db.execute(
        """INSERT INTO api_fault_log (namespace_id, at, method, path, fault, status, latency_ms, source)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        [namespace_id, now_ms, method, path, decision.fault,
         decision.error_status if decision.fault == ERROR else None,
         round(decision.latency_seconds * 1000, 3), source])


def log_entries(db: Database, namespace_id: str, limit: int = 100) -> list[dict]:
    """The faults injected into this namespace's API calls, newest first."""
    rows = db.execute(
        """SELECT at, method, path, fault, status, latency_ms, source FROM api_fault_log
           WHERE namespace_id = ? ORDER BY id DESC LIMIT ?""", [namespace_id, limit]).fetchall()
    return [dict(row) for row in rows]
