"""How a GovPay+ status inquiry proves who it is: ``Authorization: Bearer <inquiry key>``."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from flask import request

from ...domain import namespaces
from ...domain.namespaces import Namespace
from . import errors
from .keys import KEY


def provider():
    return current_app.extensions["mock_psp"]


def store():
    return provider().store


def credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """The inquiry key a call presents as ``Authorization: Bearer <key>``."""
    header = headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return "api_key", header[len("Bearer "):].strip()


def authenticate() -> Namespace:
    presented = credentials(request.headers)
    found = namespaces.find_by_key(store(), KEY, *presented) if presented else None
    if found is None:
        raise errors.unauthorized()
    return found
