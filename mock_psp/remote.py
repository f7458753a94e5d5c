"""A running provider's control API, from another process (the CLI's `requests` and `faults`).

Thin: each method is one control call in one namespace. Errors come back as RemoteError
with the provider's message, or with what to do when nothing answers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import requests

TIMEOUT = 10


class RemoteError(Exception):
    """The provider refused a call, or no provider answers at the URL."""


class Control:
    def __init__(self, url: str, namespace: str | None = None):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        if namespace:
            self.session.headers["X-Mock-Namespace"] = namespace

    def call(self, method: str, path: str, body: Any = None, params: dict | None = None) -> Any:
        try:
            reply = self.session.request(method, f"{self.url}/_mock{path}", json=body, params=params, timeout=TIMEOUT)
        except requests.ConnectionError:
            raise RemoteError(f"no mock-psp provider answers at {self.url} (start one: mock-psp serve, or "
                              "mock-psp up; or give --url)") from None
        if reply.status_code >= 400:
            try:
                message = reply.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = reply.text[:300]
            raise RemoteError(f"{method} /_mock{path} answered {reply.status_code}: {message}")
        return reply.json() if reply.content else None

    # -- the request journal --------------------------------------------------------------------

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

    # -- snapshots -----------------------------------------------------------------------------------

    def export_namespace(self, namespace_id: str) -> dict:
        return self.call("GET", f"/namespaces/{namespace_id}/export")

    def import_namespace(self, document: Any) -> dict:
        return self.call("POST", "/namespaces/import", document)

    # -- faults --------------------------------------------------------------------------------------

    def faults(self) -> dict:
        return self.call("GET", "/faults")

    def set_api_faults(self, settings: dict) -> dict:
        return self.call("PATCH", "/faults", {"api": settings})["api"]

    def clear_api_faults(self) -> dict:
        off = {"error": 0, "reset": 0, "timeout": 0, "lost_response": 0, "truncated": 0, "latency_seconds": 0,
               "routes": [], "next": []}
        return self.set_api_faults(off)

    def api_fault_log(self, limit: int = 50) -> list[dict]:
        return self.call("GET", "/faults/api/log", params={"limit": limit})["data"]


def request_line(entry: dict, bodies: bool = False) -> str:
    """One journal entry as a log line (the time part of the namespace clock, call, status, time)."""
    status = str(entry["status"]) if entry["status"] else "---"
    call = entry["path"] + (f"?{entry['query']}" if entry["query"] else "")
    fault = f"  [fault: {entry['fault']}]" if entry["fault"] else ""
    arrow = "-> " if entry.get("direction") == "out" else ""
    line = f"{entry['at'][11:23]}  {arrow}{entry['method']:<6} {call}  {status}  {entry['duration_ms']:.1f} ms{fault}"
    if bodies:
        for label, body in (("  > ", entry["request_body"]), ("  < ", entry["response_body"])):
            if body:
                line += "\n" + label + _one_line(body)
    return line


def _one_line(body: str) -> str:
    try:
        return json.dumps(json.loads(body), separators=(",", ":"))
    except ValueError:
        return body.replace("\n", " ")


def parse_setting(text: str) -> tuple[str, Any]:
    """``name=value`` from the command line; the value as JSON when it is JSON (0.2, [1, 2]), else text."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise RemoteError(f"{text!r}: give name=value, e.g. error=0.2 or latency_seconds=[0.1,0.5]")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value
