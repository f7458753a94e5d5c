"""Webhook signing schemes: how a delivery is signed, and each scheme's delivery defaults.

Each dialect describes its provider's own scheme (registered through the dialect
registry); the one here, Standard Webhooks (standardwebhooks.com), is for any
endpoint: ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature:
v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>``, the secret being
``whsec_`` + base64 of the key bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# (secret, raw body, message id, unix time of sending) -> the signature headers
Signature = Callable[[str, bytes, str, int], dict[str, str]]


@dataclass(frozen=True)
class Scheme:
    name: str
    # Seconds between attempts after the first: the provider's own schedule.
    retry_schedule: tuple[float, ...]
    timeout_seconds: float
    user_agent: str
    # Whose events an endpoint of this scheme gets unless it names a dialect (None: any).
    default_dialect: str | None
    signature: Signature
    # The namespace's own key for this scheme, used when an endpoint has no secret of its own.
    namespace_secret: Callable[[Any], str] | None = None
    # For schemes whose endpoints always have their own secret: make one, and check one.
    new_secret: Callable[[], str] | None = None
    valid_secret: Callable[[str], bool] | None = None
    secret_rule: str = ""  # what such a secret looks like, for the error when one is not
    # Offered when QA adds an endpoint by hand (GovPay+'s comes with its settings instead).
    manual: bool = True

    def sign(self, secret: str, body: bytes, message_id: str, timestamp: int) -> dict[str, str]:
        return self.signature(secret, body, message_id, timestamp)


def hex_hmac_header(header: str, digest) -> Signature:
    """A signature header of lowercase hex HMAC(secret, raw body) (Hyperswitch: SHA-512; GOV.UK Pay: SHA-256)."""
    def signature(secret: str, body: bytes, message_id: str, timestamp: int) -> dict[str, str]:
        return {header: hmac.new(secret.encode(), body, digest).hexdigest()}

    return signature


def unsigned(secret: str, body: bytes, message_id: str, timestamp: int) -> dict[str, str]:
    """For schemes whose sender authenticates otherwise (a bearer token)."""
    return {}


def new_standard_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _standard_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def valid_standard_secret(secret: str) -> bool:
    try:
        return len(_standard_key(secret)) > 0
    except (ValueError, TypeError):
        return False


def _standard_signature(secret: str, body: bytes, message_id: str, timestamp: int) -> dict[str, str]:
    signed = f"{message_id}.{timestamp}.".encode() + body
    signature = base64.b64encode(hmac.new(_standard_key(secret), signed, hashlib.sha256).digest()).decode()
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": f"v1,{signature}"}


# Standard Webhooks (Svix's reference schedule): 5s, 5m, 30m, 2h, 5h, 10h, 10h.
STANDARD = Scheme("standard", (5, 300, 1800, 7200, 18000, 36000, 36000), 15.0, "mock-psp webhooks", None,
                  _standard_signature, new_secret=new_standard_secret, valid_secret=valid_standard_secret,
                  secret_rule="a Standard Webhooks secret is whsec_ followed by base64")
