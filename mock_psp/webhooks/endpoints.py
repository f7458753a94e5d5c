"""Webhook endpoints: where a namespace's events go, and how they are signed.

:class:`Endpoints` is the service the control API, the dashboard and the dialects'
own settings use (it owns its transactions); the functions below it work inside
the caller's transaction (the outbox and the delivery attempts read endpoints so).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database

from ..domain import namespaces
from ..domain.errors import INVALID_FIELD
from ..domain.errors import NOT_FOUND
from ..domain.errors import DomainError
from ..domain.namespaces import Namespace
from . import faults
from .schemes import Scheme

FIELDS = ("url", "scheme", "secret", "events", "enabled", "dialect", "timeout_seconds", "retry_schedule",
          "faults", "description")


@dataclass
class Endpoint:
    id: str
    namespace_id: str
    url: str
    scheme: str
    secret: str | None
    dialect: str | None
    events: list[str] | None
    enabled: bool
    timeout_seconds: float | None
    retry_schedule: list[float] | None
    faults: dict
    fault_script: list[str]
    source: str
    description: str | None
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, row) -> Endpoint:
        data = dict(row)
        data["events"] = json.loads(data["events"]) if data["events"] else None
        data["retry_schedule"] = json.loads(data["retry_schedule"]) if data["retry_schedule"] else None
        data["faults"] = json.loads(data["faults"])
        data["fault_script"] = json.loads(data["fault_script"])
        data["enabled"] = bool(data["enabled"])
        return cls(**data)

    def signing_secret(self, namespace: Namespace, scheme: Scheme) -> str:
        """The endpoint's own secret, or the namespace's key for its scheme."""
        if self.secret:
            return self.secret
        if scheme.namespace_secret is None:
            raise RuntimeError(f"{scheme.name} endpoints always have their own secret")
        return scheme.namespace_secret(namespace)

    def accepts(self, scheme: Scheme, dialect: str, event_type: str, explicit_only: bool = False) -> bool:
        wanted_dialect = self.dialect or scheme.default_dialect
        if wanted_dialect is not None and wanted_dialect != dialect:
            return False
        if self.events is None:
            return not explicit_only
        return event_type in self.events

    def schedule(self, namespace: Namespace, scheme: Scheme) -> tuple[float, ...]:
        if self.retry_schedule is not None:
            return tuple(self.retry_schedule)
        configured = namespace.config.get("webhook_retry_schedule", "provider")
        if configured != "provider":
            return tuple(configured)
        return scheme.retry_schedule

    def timeout(self, scheme: Scheme) -> float:
        return self.timeout_seconds or scheme.timeout_seconds


def _fail(field: str, message: str) -> DomainError:
    return DomainError(INVALID_FIELD, f"{field}: {message}", {"field": field})


def _check_url(value: Any) -> str:
    if not isinstance(value, str):
        raise _fail("url", "must be a string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail("url", f"must be an http(s) URL with a host, got {value!r}")
    return value


def _check(values: dict, schemes: dict[str, Scheme], known_events: dict[str, tuple[str, ...]],
           creating: bool) -> dict:
    """Validate the given fields; return the column values to store."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise _fail(sorted(unknown)[0], f"unknown field; known fields are {', '.join(FIELDS)}")
    if creating and "url" not in values:
        raise _fail("url", "is required")
    out: dict[str, Any] = {}
    if "url" in values:
        out["url"] = _check_url(values["url"])
    if "scheme" in values:
        if values["scheme"] not in schemes:
            raise _fail("scheme", f"must be one of {', '.join(schemes)}")
        out["scheme"] = values["scheme"]
    if "secret" in values:
        secret = values["secret"]
        if secret is not None and (not isinstance(secret, str) or not secret.strip()):
            raise _fail("secret", "must be a non-empty string (or leave it out to use the namespace's key)")
        out["secret"] = secret
    if "dialect" in values:
        if values["dialect"] is not None and values["dialect"] not in known_events:
            raise _fail("dialect", f"must be one of {', '.join(known_events)}")
        out["dialect"] = values["dialect"]
    if "events" in values:
        out["events"] = _check_events(values["events"], known_events)
    if "enabled" in values:
        if not isinstance(values["enabled"], bool):
            raise _fail("enabled", "must be true or false")
        out["enabled"] = int(values["enabled"])
    if "timeout_seconds" in values:
        timeout = values["timeout_seconds"]
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or not 0.05 <= timeout <= 120):
            raise _fail("timeout_seconds", "must be seconds from 0.05 to 120")
        out["timeout_seconds"] = timeout
    if "retry_schedule" in values:
        out["retry_schedule"] = _check_schedule(values["retry_schedule"])
    if "description" in values:
        if values["description"] is not None and not isinstance(values["description"], str):
            raise _fail("description", "must be a string")
        out["description"] = values["description"]
    return out


def _check_events(events: Any, known_events: dict[str, tuple[str, ...]]) -> str | None:
    if events is None:
        return None
    every = {event for names in known_events.values() for event in names}
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise _fail("events", "must be a non-empty list of event types, or null for all")
    for event in events:
        if event not in every:
            raise _fail("events", f"unknown event type {event!r}")
    return json.dumps(sorted(set(events)))


def _check_schedule(schedule: Any) -> str | None:
    if schedule is None or schedule == "provider":
        return None
    if not isinstance(schedule, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in schedule
    ):
        raise _fail("retry_schedule", 'must be a list of seconds, or "provider"')
    return json.dumps(schedule)


class Endpoints:
    """Create, change, delete and read a namespace's endpoints, each in one transaction."""

    def __init__(self, store, schemes: dict[str, Scheme], known_events: dict[str, tuple[str, ...]],
                 default_scheme: str):
        self.store = store
        self.schemes = schemes
        self.known_events = known_events
        self.default_scheme = default_scheme

    def create(self, namespace_id: str, values: dict, source: str = "control") -> dict:
        with self.store.write() as db:
            namespace = namespaces.get(self.store, namespace_id)
            return self._json(_create(db, namespace, values, self, source), namespace)

    def update(self, namespace_id: str, endpoint_id: str, values: dict) -> dict:
        with self.store.write() as db:
            namespace = namespaces.get(self.store, namespace_id)
            return self._json(_update(db, namespace, endpoint_id, values, self), namespace)

    def delete(self, namespace_id: str, endpoint_id: str) -> None:
        with self.store.write() as db:
            _delete(db, namespace_id, endpoint_id, self.store)

    def get(self, namespace_id: str, endpoint_id: str) -> dict:
        with self.store.read() as db:
            return self._json(get(db, namespace_id, endpoint_id), namespaces.get(self.store, namespace_id))

    def list(self, namespace_id: str) -> list[dict]:
        with self.store.read() as db:
            namespace = namespaces.get(self.store, namespace_id)
            return [self._json(e, namespace) for e in list_for(db, namespace_id)]

    def set_owned(self, namespace_id: str, source: str, values: dict | None) -> None:
        """Create, update or (values None) delete the one endpoint a dialect's own settings own
        (Hyperswitch's business profile webhook_url, GovPay+'s update_url)."""
        with self.store.write() as db:
            namespace = namespaces.get(self.store, namespace_id)
            existing = source_endpoint(db, namespace_id, source)
            if values is None:
                if existing is not None:
                    _delete(db, namespace_id, existing.id, self.store)
            elif existing is None:
                _create(db, namespace, values, self, source)
            else:
                _update(db, namespace, existing.id, values, self)

    def _json(self, endpoint: Endpoint, namespace: Namespace) -> dict:
        return to_json(endpoint, namespace, self.schemes[endpoint.scheme])


def _create(db: Database, namespace: Namespace, values: dict, service: Endpoints, source: str) -> Endpoint:
    columns = _check(values, service.schemes, service.known_events, creating=True)
    columns.setdefault("scheme", service.default_scheme)
    scheme = service.schemes[columns["scheme"]]
    if scheme.new_secret is not None:
        if columns.get("secret") is None:
            columns["secret"] = scheme.new_secret()
        elif not scheme.valid_secret(columns["secret"]):
            raise _fail("secret", scheme.secret_rule)
    faults_config = faults.validate({}, values["faults"], "faults") if "faults" in values else {}
    script = faults.validate_script(values["faults"].get("next", []), "faults.next") if "faults" in values else []
    endpoint_id = "we_" + secrets.token_hex(8)
    now = namespace.now_ms()
    db.execute(
        """INSERT INTO webhook_endpoints (id, namespace_id, url, scheme, secret, dialect, events, enabled,
               timeout_seconds, retry_schedule, faults, fault_script, source, description, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [endpoint_id, namespace.id, columns["url"], columns["scheme"], columns.get("secret"),
         columns.get("dialect"), columns.get("events"), columns.get("enabled", 1), columns.get("timeout_seconds"),
         columns.get("retry_schedule"), json.dumps(faults_config), json.dumps(script), source,
         columns.get("description"), now, now],
    )
    _refresh_publishing(db, namespace.id, service.store)
    return get(db, namespace.id, endpoint_id)


def _refresh_publishing(db: Database, namespace_id: str, store) -> None:
    """The namespace publishes events exactly while it has an enabled endpoint."""
    listening = db.execute(
        "SELECT 1 FROM webhook_endpoints WHERE namespace_id = ? AND enabled = 1 LIMIT 1", [namespace_id]
    ).fetchone()
    namespaces.set_publishing(store, namespace_id, listening is not None)


def _update(db: Database, namespace: Namespace, endpoint_id: str, values: dict, service: Endpoints) -> Endpoint:
    endpoint = get(db, namespace.id, endpoint_id)
    columns = _check(values, service.schemes, service.known_events, creating=False)
    scheme = service.schemes[columns.get("scheme", endpoint.scheme)]
    secret = columns.get("secret", endpoint.secret)
    if scheme.new_secret is not None and (secret is None or not scheme.valid_secret(secret)):
        raise _fail("secret", scheme.secret_rule)
    if "faults" in values:
        columns["faults"] = json.dumps(faults.validate(endpoint.faults, values["faults"], "faults"))
        if "next" in values["faults"]:
            columns["fault_script"] = json.dumps(faults.validate_script(values["faults"]["next"], "faults.next"))
    columns["updated_at"] = namespace.now_ms()
    assignments = ", ".join(f"{name} = ?" for name in columns)
    db.execute(f"UPDATE webhook_endpoints SET {assignments} WHERE namespace_id = ? AND id = ?",
               [*columns.values(), namespace.id, endpoint_id])
    _refresh_publishing(db, namespace.id, service.store)
    return get(db, namespace.id, endpoint_id)


def _delete(db: Database, namespace_id: str, endpoint_id: str, store) -> None:
    get(db, namespace_id, endpoint_id)
    db.execute("DELETE FROM webhook_endpoints WHERE namespace_id = ? AND id = ?", [namespace_id, endpoint_id])
    _refresh_publishing(db, namespace_id, store)


def get(db: Database, namespace_id: str, endpoint_id: str) -> Endpoint:
    row = db.execute("SELECT * FROM webhook_endpoints WHERE namespace_id = ? AND id = ?",
                     [namespace_id, endpoint_id]).fetchone()
    if row is None:
        raise DomainError(NOT_FOUND, f"no webhook endpoint {endpoint_id!r}",
                          {"object": "webhook_endpoint", "object_id": endpoint_id})
    return Endpoint.from_row(row)


def find(db: Database, namespace_id: str, endpoint_id: str) -> Endpoint | None:
    row = db.execute("SELECT * FROM webhook_endpoints WHERE namespace_id = ? AND id = ?",
                     [namespace_id, endpoint_id]).fetchone()
    return Endpoint.from_row(row) if row else None


def list_for(db: Database, namespace_id: str) -> list[Endpoint]:
    rows = db.execute("SELECT * FROM webhook_endpoints WHERE namespace_id = ? ORDER BY created_at, id",
                      [namespace_id]).fetchall()
    return [Endpoint.from_row(r) for r in rows]


def source_endpoint(db: Database, namespace_id: str, source: str) -> Endpoint | None:
    """The endpoint a dialect's own settings own ('profile': Hyperswitch's webhook_url; 'govpay_lk')."""
    row = db.execute(
        "SELECT * FROM webhook_endpoints WHERE namespace_id = ? AND source = ? ORDER BY created_at LIMIT 1",
        [namespace_id, source],
    ).fetchone()
    return Endpoint.from_row(row) if row else None


def pop_script(db: Database, endpoint: Endpoint) -> str | None:
    if not endpoint.fault_script:
        return None
    head, rest = endpoint.fault_script[0], endpoint.fault_script[1:]
    db.execute("UPDATE webhook_endpoints SET fault_script = ? WHERE id = ?", [json.dumps(rest), endpoint.id])
    endpoint.fault_script = rest
    return head


def to_json(endpoint: Endpoint, namespace: Namespace, scheme: Scheme) -> dict:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "scheme": endpoint.scheme,
        "secret": endpoint.signing_secret(namespace, scheme),
        "secret_source": "endpoint" if endpoint.secret else "namespace",
        "dialect": endpoint.dialect or scheme.default_dialect,
        "events": endpoint.events,
        "enabled": endpoint.enabled,
        "timeout_seconds": endpoint.timeout(scheme),
        "retry_schedule": list(endpoint.schedule(namespace, scheme)),
        "faults": {**faults.DEFAULTS, **endpoint.faults, "next": endpoint.fault_script} if endpoint.faults
        or endpoint.fault_script else None,
        "source": endpoint.source,
        "description": endpoint.description,
    }
