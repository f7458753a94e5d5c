"""The request journal: the last dialect API calls each namespace received, as they were sent
and as they were answered, for a developer asking "what did my integration actually send?".
Calls the provider makes to the merchant's own API in a dialect's flow (GovPay+'s
presentment) are journalled too, as ``direction: "out"``.

Kept in memory, per provider, a bounded number per namespace (it is a diagnostic, not state:
a restart empties it). Calls whose credentials match no namespace are kept apart, as
"unmatched", because a wrong key is exactly what someone reading a journal is looking for.
Calls whose method and path match no route stay in their key's namespace, marked
``unmatched: ["route"]`` with the routes they may have meant (``near_miss``, web/near_miss.py).
Secrets in headers are masked. Flask-free: the app's hooks fill it.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import asdict
from dataclasses import dataclass

from ..domain.jsontext import escape_lone_surrogates

PER_NAMESPACE = 500
UNMATCHED = "unmatched"
UNMATCHED_KEY = "key"      # reasons a call found nothing (Entry.unmatched)
UNMATCHED_ROUTE = "route"
BODY_CHARS = 8192
SECRET_HEADERS = ("api-key", "authorization")
SHOWN_HEADERS = ("content-type", "content-length", "accept", "idempotency-key", "user-agent", "x-request-id",
                 *SECRET_HEADERS)


@dataclass(frozen=True)
class Entry:
    id: int
    namespace_id: str
    at: int                 # the namespace's clock, ms
    method: str
    path: str
    query: str
    status: int
    duration_ms: float      # real time spent in the app (injected latency included)
    request_headers: dict
    request_body: str
    response_headers: dict
    response_body: str
    fault: str | None       # an injected API fault: what the client really got differs from status/body
    direction: str = "in"   # "in": the integration called the provider; "out": the provider called it
    near_miss: tuple[str, ...] = ()  # a call that matched no route: the routes it may have meant, best first
    unmatched: tuple[str, ...] = ()  # what it matched nothing of: UNMATCHED_KEY, UNMATCHED_ROUTE

    def as_json(self) -> dict:
        return {**asdict(self), "near_miss": list(self.near_miss), "unmatched": list(self.unmatched)}


def mask(value: str) -> str:
    """Enough of a key to tell which one was sent, not enough to use it."""
    scheme, _, token = value.partition(" ") if value.lower().startswith(("bearer ", "basic ")) else ("", "", value)
    shown = f"{token[:6]}…{token[-4:]}" if len(token) > 12 else "…"
    return f"{scheme} {shown}" if scheme else shown


def shown_headers(headers) -> dict:
    out = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in SHOWN_HEADERS:
            out[lower] = mask(value) if lower in SECRET_HEADERS else value
    return out


def excerpt(data: bytes) -> str:
    text = data[:BODY_CHARS].decode("utf-8", errors="replace")
    return text + (f"… ({len(data)} bytes in all)" if len(data) > BODY_CHARS else "")


def _safe(value):
    if isinstance(value, str):
        return escape_lone_surrogates(value)
    if isinstance(value, dict):
        return {_safe(k): _safe(v) for k, v in value.items()}
    return value


class RequestJournal:
    def __init__(self, per_namespace: int = PER_NAMESPACE):
        self._per_namespace = per_namespace
        self._entries: dict[str, deque[Entry]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, namespace_id: str | None, **fields) -> Entry:
        key = namespace_id or UNMATCHED
        # Stored as text that always encodes: a lone surrogate a handler let through (a decoded
        # "\ud800") would otherwise make every page that shows this entry fail, until a restart.
        fields = {name: _safe(value) for name, value in fields.items()}
        with self._lock:
            entry = Entry(id=next(self._ids), namespace_id=key, **fields)
            self._entries.setdefault(key, deque(maxlen=self._per_namespace)).append(entry)
        return entry

    def entries(self, namespace_id: str, limit: int = 100, method: str | None = None,
                path_contains: str | None = None, status: int | None = None,
                unmatched: str | None = None) -> list[Entry]:
        """Newest first; ``unmatched``: only the calls that matched nothing of that (UNMATCHED_ROUTE)."""
        with self._lock:
            found = list(self._entries.get(namespace_id, ()))
        found.reverse()
        if method:
            found = [e for e in found if e.method == method.upper()]
        if path_contains:
            found = [e for e in found if path_contains in e.path]
        if status is not None:
            found = [e for e in found if e.status == status]
        if unmatched:
            found = [e for e in found if unmatched in e.unmatched]
        return found[:limit]

    def get(self, namespace_id: str, entry_id: int) -> Entry | None:
        with self._lock:
            return next((e for e in self._entries.get(namespace_id, ()) if e.id == entry_id), None)

    def clear(self, namespace_id: str) -> None:
        with self._lock:
            self._entries.pop(namespace_id, None)
