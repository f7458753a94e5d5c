"""A namespace's GovPay+ settings: where the merchant's endpoints are, who it is, how to reach it.

Set through ``PUT /_mock/config {"govpay_lk": {...}}`` and kept in the namespace's
dialect settings. Keys merge: a later update may change one of them.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ...domain.errors import INVALID_CONFIG
from ...domain.errors import DomainError
from ...domain.namespaces import Namespace
from .keys import KEY
from .keys import NAME
from .keys import UPDATE_SCHEME

DIALECT = NAME
AUTH_TYPES = ("none", "bearer", "oauth2")
DEFAULTS: dict[str, Any] = {
    "validate_url": None,
    "update_url": None,
    "subinst_id": "",
    "service_id": "",
    "service_name": "",
    "auth": {"type": "none"},
    "encryption_public_key": None,
    "session_ttl_seconds": 900,
    "timeout_seconds": 10,
}


def _fail(field: str, message: str) -> DomainError:
    return DomainError(INVALID_CONFIG, f"govpay_lk.{field}: {message}", {"field": f"govpay_lk.{field}"})


def current(namespace: Namespace) -> dict[str, Any]:
    return {**copy.deepcopy(DEFAULTS), **namespace.dialect_settings.get(KEY, {})}


def _url(field: str, value: Any) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise _fail(field, "must be an http(s) URL, or null")
    return value


def _text(field: str, value: Any, limit: int = 100) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise _fail(field, f"must be a string of at most {limit} characters")
    return value


def _auth(value: Any) -> dict:
    if not isinstance(value, dict) or value.get("type") not in AUTH_TYPES:
        raise _fail("auth", 'must be {"type": "none"}, {"type": "bearer", "token"} or '
                            '{"type": "oauth2", "token_url", "client_id", "client_secret", "scope"?}')
    kind = value["type"]
    allowed = {"none": {"type"}, "bearer": {"type", "token"},
               "oauth2": {"type", "token_url", "client_id", "client_secret", "scope"}}[kind]
    unknown = set(value) - allowed
    if unknown:
        raise _fail("auth", f"unknown key(s) for {kind}: {', '.join(sorted(unknown))}")
    if kind == "bearer":
        _text("auth.token", value.get("token"), 4096)
        if not value["token"]:
            raise _fail("auth.token", "must not be empty")
    if kind == "oauth2":
        _url("auth.token_url", value.get("token_url") or 0)
        for name in ("client_id", "client_secret"):
            if not _text(f"auth.{name}", value.get(name), 512):
                raise _fail(f"auth.{name}", "must not be empty")
        if "scope" in value:
            _text("auth.scope", value["scope"], 1024)
    return dict(value)


def _public_key(value: Any) -> str | None:
    if value is None:
        return None
    try:
        key = serialization.load_pem_public_key(value.encode() if isinstance(value, str) else b"")
    except (ValueError, TypeError):
        raise _fail("encryption_public_key", "must be an RSA public key in PEM form, or null") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise _fail("encryption_public_key", "must be an RSA key of at least 2048 bits")
    return value


def _seconds(field: str, value: Any, low: int, high: int) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise _fail(field, f"must be seconds from {low} to {high}")
    return value


def validate(stored: dict, update: Any) -> dict:
    """The namespace's stored GovPay+ settings with ``update`` merged in, or DomainError."""
    if not isinstance(update, dict):
        raise _fail("(all)", "must be a JSON object")
    merged = {**copy.deepcopy(DEFAULTS), **copy.deepcopy(stored)}
    for key, value in update.items():
        if key in ("validate_url", "update_url"):
            merged[key] = _url(key, value)
        elif key in ("subinst_id", "service_id", "service_name"):
            merged[key] = _text(key, value)
        elif key == "auth":
            merged[key] = _auth(value)
        elif key == "encryption_public_key":
            merged[key] = _public_key(value)
        elif key == "session_ttl_seconds":
            merged[key] = int(_seconds(key, value, 60, 86_400))
        elif key == "timeout_seconds":
            merged[key] = _seconds(key, value, 0.1, 60)
        else:
            raise _fail(key, f"unknown setting; known: {', '.join(DEFAULTS)}")
    return merged


def owned_endpoint(namespace: Namespace) -> dict | None:
    """The webhook endpoint these settings name: the update call goes to ``update_url``."""
    url = current(namespace).get("update_url")
    return {"url": url, "scheme": UPDATE_SCHEME, "dialect": NAME} if url else None
