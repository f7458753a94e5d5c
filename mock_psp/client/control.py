"""A running provider's control API (``/_mock``), from another thread or process: the one client
the CLI, the pytest plugin, the scenario runner, the test merchant's provisioning and the
tests use. Plain HTTP (requests); it imports nothing of the provider.

Thin: each method is one control call in one namespace (the ``X-Mock-Namespace`` header;
the default namespace when none is given). An error answer raises :class:`PspHttpError`
with the status and the body's error code; no answer at all raises
:class:`ProviderUnreachable`. Both are :class:`RemoteError`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

TIMEOUT = 60
TOKEN_HEADER = "X-Mock-Token"
TOKEN_ENV = "MOCK_PSP_CONTROL_TOKEN"  # where the CLI, the plugin and the test merchant look for it
OFF = {"error": 0, "reset": 0, "timeout": 0, "lost_response": 0, "truncated": 0, "latency_seconds": 0,
       "routes": [], "next": []}  # every API fault setting, off


class RemoteError(Exception):
    """The provider refused a call, or no provider answers at the URL."""


class ProviderUnreachable(RemoteError):
    """Nothing answers at the provider's URL."""


class PspHttpError(RemoteError):
    """A call to the provider (or the test merchant) answered with an error status.

    ``status`` is the HTTP status, ``body`` the parsed JSON body (or the text), ``code`` the
    error code from the body's envelope when there is one, ``message`` its message (or the text).
    """

    def __init__(self, method: str, url: str, status: int, body: Any):
        self.method, self.url, self.status, self.body = method, url, status, body
        self.code = error_code(body)
        self.message = _error_message(body)
        text = body if isinstance(body, str) else json.dumps(body)
        super().__init__(f"{method} {url} answered {status}: {text[:1000]}")

    def brief(self) -> str:
        """One line for a person: the call, the status, the provider's message."""
        return f"{self.method} {urlsplit(self.url).path} answered {self.status}: {self.message}"


def error_code(body: Any) -> str | None:
    """The code of an error envelope: the control API's ``{"error": {"code"}}`` or a dialect's ``{"code"}``."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return error.get("code")
        if isinstance(body.get("code"), str):
            return body["code"]
    return None


def _error_message(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict) and "message" in body["error"]:
        return str(body["error"]["message"])
    return (body if isinstance(body, str) else json.dumps(body))[:300]


def call(session: requests.Session, method: str, url: str, body: Any = None, headers: dict | None = None,
         params: dict | None = None, timeout: float = TIMEOUT) -> Any:
    """One JSON call: the parsed answer, or PspHttpError for a status of 300 or more."""
    given = {k: v for k, v in (("json", body), ("headers", headers), ("params", params)) if v is not None}
    try:
        reply = session.request(method, url, timeout=timeout, **given)
    except requests.ConnectionError as error:
        base = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        raise ProviderUnreachable(f"no mock-psp provider answers at {base} (start one: mock-psp serve, or "
                                  "mock-psp up; or give --url)") from error
    try:
        parsed = reply.json() if reply.text else None
    except ValueError:
        parsed = reply.text
    if reply.status_code >= 300:
        raise PspHttpError(method, url, reply.status_code, parsed)
    return parsed


def duration_body(duration: float | str | timedelta) -> dict:
    """A clock advance's body: seconds, a timedelta, or duration text the provider reads ("1h30m")."""
    if isinstance(duration, timedelta):
        return {"seconds": duration.total_seconds()}
    if isinstance(duration, str):
        return {"duration": duration}
    return {"seconds": duration}


class Control:
    """The control API of the provider at ``url``, acting on ``namespace`` (None: the default one).

    ``token``: the provider's control token (``mock-psp serve --control-token``), sent as
    ``X-Mock-Token`` with every call; None for a provider started without one."""

    def __init__(self, url: str, namespace: str | None = None, session: requests.Session | None = None,
                 timeout: float = TIMEOUT, token: str | None = None):
        self.url = url.rstrip("/")
        self.namespace = namespace
        self.session = session or requests.Session()
        self.timeout = timeout
        self.token = token or None

    def __repr__(self) -> str:
        return f"<mock-psp control at {self.url}{f' for {self.namespace}' if self.namespace else ''}>"

    def call(self, method: str, path: str, body: Any = None, params: dict | None = None) -> Any:
        """``/_mock{path}`` in this namespace."""
        headers = {**({"X-Mock-Namespace": self.namespace} if self.namespace else {}),
                   **({TOKEN_HEADER: self.token} if self.token else {})}
        return call(self.session, method, f"{self.url}/_mock{path}", body, headers or None, params, self.timeout)

    def for_namespace(self, namespace: str) -> Control:
        """The same provider (and connection pool), acting on another namespace."""
        return Control(self.url, namespace, self.session, self.timeout, self.token)

    def close(self) -> None:
        self.session.close()

    # -- namespaces ------------------------------------------------------------------------------

    def health(self) -> dict:
        return self.call("GET", "/health")

    def create_namespace(self, **body) -> dict:
        """A new namespace with fresh keys: ``seed``, ``clock``, ``config`` and ``label`` optional."""
        return self.call("POST", "/namespaces", body)

    def namespace_document(self, namespace_id: str | None = None) -> dict:
        """``GET /_mock/namespaces/{id}``: ids, keys and base URLs per dialect, settings, clock."""
        return self.call("GET", f"/namespaces/{namespace_id or self.namespace or 'ns_default'}")

    def namespaces(self) -> list[dict]:
        return self.call("GET", "/namespaces")["data"]

    def export_namespace(self, namespace_id: str) -> dict:
        return self.call("GET", f"/namespaces/{namespace_id}/export")

    def import_namespace(self, document: Any) -> dict:
        return self.call("POST", "/namespaces/import", document)

    def reset(self, keep_config: bool = True) -> dict:
        """Empty the namespace (payments, refunds, jobs, outcomes); keys stay. ``keep_config=False``
        also puts its settings, faults and clock back to the defaults. Returns the namespace."""
        return self.call("POST", "/reset", {"keep_config": keep_config})

    def reset_all(self, keep_config: bool = True) -> dict:
        """Reset every namespace: ``{"reset": N, "payments_removed": M}``."""
        return self.call("POST", "/namespaces/reset", {"keep_config": keep_config})

    def delete_namespace(self, namespace_id: str) -> dict:
        """Remove a namespace and everything in it; its keys stop working (not the default one)."""
        return self.call("DELETE", f"/namespaces/{namespace_id}")

    # -- settings and outcomes -----------------------------------------------------------------------

    def config(self) -> dict:
        return self.call("GET", "/config")

    def set_config(self, changes: dict) -> dict:
        """Change the named settings; returns them all."""
        return self.call("PUT", "/config", changes)

    def outcomes(self) -> list[str]:
        return self.call("GET", "/outcomes")["next"]

    def push_outcomes(self, names: list[str], replace: bool = False) -> list[str]:
        return self.call("POST", "/outcomes", {"next": list(names), "replace": replace})["next"]

    def clear_outcomes(self) -> None:
        self.call("DELETE", "/outcomes")

    # -- the clock -------------------------------------------------------------------------------------

    def clock(self) -> dict:
        """``{"now", "mode", "pending_jobs"}``."""
        return self.call("GET", "/clock")

    def now(self) -> datetime:
        return parse_time(self.clock()["now"])

    def advance(self, duration: float | str | timedelta) -> dict:
        """Move a virtual clock forward, running every job due on the way: ``{"now", "mode", "ran"}``."""
        return self.call("POST", "/clock/advance", duration_body(duration))

    def set_clock(self, when: datetime | str) -> dict:
        return self.call("POST", "/clock/set", {"now": when if isinstance(when, str) else when.isoformat()})

    # -- webhooks --------------------------------------------------------------------------------------

    def webhook_endpoints(self) -> list[dict]:
        return self.call("GET", "/webhook-endpoints")["data"]

    def create_webhook_endpoint(self, url: str, **fields) -> dict:
        return self.call("POST", "/webhook-endpoints", {"url": url, **fields})

    def delete_webhook_endpoint(self, endpoint_id: str) -> None:
        self.call("DELETE", f"/webhook-endpoints/{endpoint_id}")

    def deliveries(self, **filters) -> list[dict]:
        """Every delivery matching the filters (status, event_type, payment_id, ...), oldest first."""
        filters = {k: v for k, v in filters.items() if v is not None}
        found: list[dict] = []
        while True:
            page = self.call("GET", "/webhooks", params={"limit": 1000, "offset": len(found), **filters})
            found += page["data"]
            if not page["data"] or len(found) >= page["total"]:
                return found

    def delivery(self, delivery_id: str) -> dict:
        return self.call("GET", f"/webhooks/{delivery_id}")

    def retry_delivery(self, delivery_id: str) -> dict:
        return self.call("POST", f"/webhooks/{delivery_id}/retry")

    def flush(self) -> list[dict]:
        """Run every job due now (webhook deliveries first of all), synchronously."""
        return self.call("POST", "/webhooks/flush")["ran"]

    # -- faults ----------------------------------------------------------------------------------------

    def faults(self) -> dict:
        return self.call("GET", "/faults")

    def set_faults(self, webhooks: dict | None = None, api: dict | None = None) -> dict:
        body = {k: v for k, v in (("webhooks", webhooks), ("api", api)) if v is not None}
        return self.call("PUT", "/faults", body)

    def set_api_faults(self, settings: dict) -> dict:
        return self.call("PATCH", "/faults", {"api": settings})["api"]

    def clear_api_faults(self) -> dict:
        return self.set_api_faults(OFF)

    def api_fault_log(self, limit: int = 50) -> list[dict]:
        return self.call("GET", "/faults/api/log", params={"limit": limit})["data"]

    # -- the audit log and the request journal ------------------------------------------------------

    def events(self, payment_id: str) -> list[dict]:
        """A payment's audit log: ``[{"object", "object_id", "from", "to", "reason", "at"}, ...]``."""
        return self.call("GET", f"/payments/{payment_id}/events")["data"]

    def requests(self, limit: int = 50, unmatched: bool = False, **filters) -> list[dict]:
        """Newest first, as GET /_mock/requests gives them."""
        params = {"limit": limit, **{k: v for k, v in filters.items() if v not in (None, "")}}
        if unmatched:
            params["unmatched"] = "true"
        return self.call("GET", "/requests", params=params)["data"]

    def follow_requests(self, interval: float = 0.5, unmatched: bool = False, **filters) -> Iterator[dict]:
        """Calls as they arrive, oldest first, starting with the ones already journalled."""
        seen = 0
        while True:
            fresh = [e for e in self.requests(limit=500, unmatched=unmatched, **filters) if e["id"] > seen]
            for entry in reversed(fresh):
                seen = max(seen, entry["id"])
                yield entry
            time.sleep(interval)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
