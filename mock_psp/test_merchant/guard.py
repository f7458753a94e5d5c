"""What a page on another site must not do to the shop (docs/security.md).

- Only allow-listed Host names are answered: 127.0.0.1, localhost, [::1] (any port), the
  shop's own URL's host (``--public-url``) and configured names (``allowed_hosts``); a
  hostile name pointed at 127.0.0.1 (DNS rebinding) gets 421.
- The JSON API (``/_merchant``) takes ``application/json`` bodies only (415), refuses
  state-changing calls from another origin (403) and answers no CORS preflight: only
  scripts (tests, scenarios, curl) and the shop's own pages use it.
- The shop's HTML forms carry a CSRF token, checked against a cookie of the same value
  (``mock_psp_shop_csrf``, SameSite=Lax, so another site's form post arrives without it).

The shop knows the provider only by HTTP, so it shares no code with the provider's own
guard (mock_psp/web/guard.py); the rules are the same.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable

from flask import g
from flask import jsonify
from flask import render_template
from flask import request

LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})
ANY_HOST = "*"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FOREIGN_SITES = frozenset({"cross-site", "same-site"})
CSRF_COOKIE = "mock_psp_shop_csrf"
CSRF_FIELD = "csrf_token"


def hostname(host: str) -> str:
    """``Shop.Test.:8421`` -> ``shop.test``; ``[::1]:8421`` -> ``[::1]``."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[:end + 1] if end > 0 else host
    return (host.split(":", 1)[0] if host.count(":") == 1 else host).rstrip(".")


def answered_hosts(configured: Iterable[str], own_url: str | None) -> frozenset[str]:
    names = set(LOOPBACK) | {name if name == ANY_HOST else hostname(name) for name in configured}
    if own_url and "://" in own_url:
        names.add(hostname(own_url.split("://", 1)[1].split("/", 1)[0]))
    return frozenset(names)


def host_refusal():
    name = hostname(request.host) or "(none)"
    return jsonify({"error": {"code": "host_not_allowed", "message": (
        f"the test merchant does not answer for the host {name!r}: only 127.0.0.1, localhost, [::1], its "
        f"--public-url host and the names it is given (a guard against DNS rebinding). To reach it as {name}, "
        f"start it with --allowed-host {name}.")}}), 421


def own_origin() -> str:
    return request.host_url.rstrip("/").lower()


def cross_site_reason() -> str | None:
    """Why a state-changing request from a browser page must be refused, or None."""
    if request.method in SAFE_METHODS:
        return None
    origin = request.headers.get("Origin")
    if origin is not None:
        return None if origin.strip().lower() == own_origin() else f"a page on {origin} may not do this"
    if request.headers.get("Sec-Fetch-Site", "").lower() in FOREIGN_SITES:
        return "a page on another site may not do this"
    return None


def content_type_reason() -> str | None:
    if not request.get_data(cache=True) or request.mimetype == "application/json":
        return None
    return f"the body must be sent as Content-Type: application/json (it came as {request.mimetype or 'none'})"


def is_preflight() -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


# -- the shop's forms ---------------------------------------------------------------------------------


def form_token() -> str:
    """The token a page's forms carry: the cookie's, or a new one (set on the way out)."""
    token = g.get("csrf_token") or request.cookies.get(CSRF_COOKIE)
    if not token:
        token = secrets.token_urlsafe(24)
        g.csrf_new = True
    g.csrf_token = token
    return token


def set_token_cookie(response):
    if g.get("csrf_new"):
        response.set_cookie(CSRF_COOKIE, g.csrf_token, httponly=True, samesite="Lax", path="/")
    return response


def form_refusal():
    """A 403 page for a form posted without its token or from another site, else None."""
    reason = cross_site_reason()
    given, expected = request.form.get(CSRF_FIELD, ""), request.cookies.get(CSRF_COOKIE, "")
    if reason is None and (not expected or not hmac.compare_digest(given.encode(), expected.encode())):
        reason = "the form's token is missing or out of date"
    if reason is None:
        return None
    message = f"Refused: {reason}. Reload the page and try again."
    return render_template("merchant/error.html", status=403, message=message), 403
