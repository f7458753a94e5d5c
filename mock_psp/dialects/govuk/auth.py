"""How a GOV.UK Pay call proves who it is (``Authorization: Bearer``), and its rate limit."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from flask import g
from flask import request

from ...domain import namespaces
from ...domain.namespaces import Namespace
from . import errors
from .face import PREFIX
from .keys import KEY


def provider():
    return current_app.extensions["mock_psp"]


def store():
    return provider().store


def base() -> str:
    return provider().base_url(request.host_url) + PREFIX


def credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """The API key a call presents as ``Authorization: Bearer <key>``."""
    header = headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return "api_key", header[len("Bearer "):].strip()


def authenticate(not_found_code: str = "P0200") -> Namespace:
    """The namespace of the key (a bad key is a bare 401), within its rate limit (429).

    ``not_found_code``: the code this endpoint answers for a payment it does not have.
    """
    g.not_found_code = not_found_code
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise errors.Unauthorized()
    namespace = namespaces.find_by_key(store(), KEY, "api_key", header[len("Bearer "):].strip())
    if namespace is None:
        raise errors.Unauthorized()
    limits = namespace.config.get("rate_limit")
    if limits:
        kind = "post" if request.method == "POST" else "other"
        per_second = limits.get(f"{kind}_per_second")
        if per_second and not provider().rate_limiter.allow(namespace.id, kind, per_second):
            raise errors.too_many_requests()
    return namespace
