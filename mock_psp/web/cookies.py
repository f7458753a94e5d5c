"""The provider's one cookie: Flask's signed session, under a name of its own.

Browsers share cookies between all ports of a host, so a cookie called ``session``
on 127.0.0.1 is overwritten by any other Flask app (or a second mock-psp) on
127.0.0.1, which used to wipe open checkouts. The name carries the port this
instance listens on (``mock-psp-8420``), so instances on one host keep apart.
SameSite=Lax: the cookie binds first-party pages only (the redirect-mode checkout,
the dashboard); the embedded checkout never needs it (see checkout/routes.py).
"""

from __future__ import annotations

from flask import request
from flask.sessions import SecureCookieSessionInterface

PREFIX = "mock-psp-"


def cookie_name(environ) -> str:
    # SERVER_PORT is the port the WSGI server listens on (not the Host header's), which is
    # what tells two instances on one machine apart, also behind a proxy.
    port = environ.get("SERVER_PORT") or "0"
    return PREFIX + "".join(ch for ch in port if ch.isalnum())


class InstanceSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, named per instance, SameSite=Lax, HttpOnly, Secure on https."""

    def get_cookie_name(self, app) -> str:
        return cookie_name(request.environ)

    def get_cookie_samesite(self, app) -> str:
        return "Lax"

    def get_cookie_httponly(self, app) -> bool:
        return True

    def get_cookie_secure(self, app) -> bool:
        return request.is_secure
