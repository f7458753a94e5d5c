"""What a browser page on another site must not do to the provider (docs/security.md).

- **Host allow-list.** Only requests whose Host is one the provider answers for get an answer:
  127.0.0.1, localhost and [::1] on any port, the --public-url host, the interface it is
  bound to, and the names in ``allowed_hosts``. Anything else is what DNS rebinding sends
  (a hostile name pointed at 127.0.0.1), refused with 421 before any face sees it.
- **Origins.** A state-changing call from a browser carries an ``Origin`` (the Fetch
  standard sends one on every non-GET request) or at least ``Sec-Fetch-Site``; the
  callers decide which origins are theirs (:func:`cross_site_refusal`).
- **JSON content type.** A body that is not ``application/json`` is refused with 415, so a
  cross-site page can send one only after a CORS preflight (which the faces refuse unless
  the origin is registered).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable

from flask import Flask
from flask import jsonify
from flask import request

from ..domain.urls import origin_of

LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})
ANY_HOST = "*"
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "[::]"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Sec-Fetch-Site values that say another page sent the request.
FOREIGN_SITES = frozenset({"cross-site", "same-site"})


def hostname(host: str) -> str:
    """The name part of a Host header, lower case: ``Example.COM.:8420`` -> ``example.com``."""
    host = host.strip().lower()
    if host.startswith("["):  # an IPv6 literal keeps its brackets: [::1]:8420 -> [::1]
        end = host.find("]")
        return host[:end + 1] if end > 0 else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    elif host.count(":") > 1:  # a bare IPv6 address (no port can follow it unbracketed)
        host = f"[{host}]"
    return host.rstrip(".")


def answered_hosts(configured: Iterable[str], public_url: str | None, bound_host: str | None) -> frozenset[str]:
    names = set(LOOPBACK) | {hostname(name) if name != ANY_HOST else ANY_HOST for name in configured}
    if public_url and origin_of(public_url):
        names.add(hostname(origin_of(public_url).split("://", 1)[1]))
    if bound_host and bound_host not in WILDCARD_BINDS:
        names.add(hostname(bound_host if ":" not in bound_host or bound_host.startswith("[")
                           else f"[{bound_host}]"))
    return frozenset(names)


def host_refusal(host: str):
    """421 in the control API's envelope: the refusal is mock-psp's own, made before any face
    (dialect, checkout, dashboard) is chosen, as a front proxy would."""
    name = hostname(host) or "(none)"
    response = jsonify({"error": {
        "code": "host_not_allowed",
        "message": f"mock-psp does not answer for the host {name!r}: only 127.0.0.1, localhost, [::1], the "
                   f"--public-url host and the names it is given (a guard against DNS rebinding). To reach it as "
                   f"{name}, start it with --allowed-host {name} (or MOCK_PSP_ALLOWED_HOSTS, or allowed_hosts in "
                   "the config file).",
    }})
    response.status_code = 421
    return response


def check_hosts(app: Flask, names: frozenset[str]) -> None:
    """Refuse every request whose Host is not in ``names`` (``*`` in it: answer any)."""
    if ANY_HOST in names:
        return

    @app.before_request
    def refuse_unknown_hosts():
        # No Host header at all (an HTTP/1.0 probe) is no browser's: DNS rebinding always sends one.
        if "HTTP_HOST" in request.environ and hostname(request.host) not in names:
            return host_refusal(request.host)
        return None


def own_origins(public_url: str | None) -> set[str]:
    """The provider's own origins for this request: the one it was reached on, and --public-url's."""
    own = {origin_of(request.host_url)}
    if public_url and origin_of(public_url):
        own.add(origin_of(public_url))
    return own


def request_origin() -> str | None:
    origin = request.headers.get("Origin")
    return origin.strip().lower() if origin else None


def cross_site_refusal(allowed: Callable[[str], bool]) -> str | None:
    """Why a state-changing request must be refused, or None.

    ``allowed(origin)`` says whether an Origin may write. A request without an Origin is
    a script's (curl, requests) unless Sec-Fetch-Site says another page sent it."""
    if request.method in SAFE_METHODS:
        return None
    origin = request_origin()
    if origin is not None:
        return None if allowed(origin) else f"a page on {origin} may not change this provider's state"
    if request.headers.get("Sec-Fetch-Site", "").lower() in FOREIGN_SITES:
        return "a page on another site may not change this provider's state"
    return None


def content_type_refusal() -> str | None:
    """Why a request's body must be refused (not JSON), or None. An empty body needs no type."""
    if not request.get_data(cache=True):
        return None
    if request.mimetype == "application/json":
        return None
    given = request.mimetype or "none"
    return f"the body must be sent as Content-Type: application/json (it came as {given})"


def is_preflight() -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def allow_origin(response, origin: str, preflight: bool = False, headers: str = "", methods: str = ""):
    """CORS headers answering ``origin`` (no credentials: these APIs take header keys, not cookies)."""
    response.headers["Access-Control-Allow-Origin"] = origin
    response.vary.add("Origin")
    if preflight:
        response.headers["Access-Control-Allow-Methods"] = methods
        response.headers["Access-Control-Allow-Headers"] = headers
        response.headers["Access-Control-Max-Age"] = "600"
    return response
