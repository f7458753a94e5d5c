"""How a Hyperswitch call proves who it is (the ``api-key`` header) and how its body is read."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from flask import request

from ...domain import namespaces
from ...domain.namespaces import Namespace
from . import errors
from . import serde
from .keys import KEY

SECRET, PUBLISHABLE = "secret", "publishable"


def provider():
    return current_app.extensions["mock_psp"]


def store():
    return provider().store


def credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """The key a call presents: ``api-key``, a secret key or a publishable one (``pk_...``)."""
    key = headers.get("api-key")
    if not key:
        return None
    return ("publishable_key" if key.startswith("pk_") else "api_key"), key


def authenticate(allow_publishable: bool) -> tuple[Namespace, str]:
    """Resolve the namespace from the ``api-key`` header.

    On endpoints that take either key a missing header is IR_04 (the real
    router asks for the value before it knows which kind it wants); on
    secret-key endpoints it is IR_01.
    """
    presented = credentials(request.headers)
    if presented is None:
        raise errors.missing("api_key") if allow_publishable else errors.unauthorized()
    name, key = presented
    publishable = name == "publishable_key"
    if publishable and not allow_publishable:
        raise errors.unauthorized()
    namespace = namespaces.find_by_key(store(), KEY, name, key)
    if namespace is None:
        raise errors.unauthorized()
    return namespace, PUBLISHABLE if publishable else SECRET


def by_merchant(merchant_id: str) -> Namespace | None:
    return namespaces.find_by_key(store(), KEY, "merchant_id", merchant_id)


def body(fields: dict, struct: str, deny_unknown: bool = True) -> dict:
    return serde.parse_body(request.headers.get("Content-Type"), request.get_data(cache=True), fields, struct,
                            deny_unknown)
