"""Webhook signing schemes and each provider's delivery defaults.

- ``hyperswitch``: ``X-Webhook-Signature-512`` = lowercase hex HMAC-SHA512(key, raw body).
- ``govuk``: ``Pay-Signature`` = lowercase hex HMAC-SHA256(signing secret, raw body).
- ``standard`` (standardwebhooks.com): ``webhook-id``, ``webhook-timestamp`` and
  ``webhook-signature: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>``,
  the secret being ``whsec_`` + base64 of the key bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class Scheme:
    name: str
    # Seconds between attempts after the first, the provider's own schedule.
    retry_schedule: tuple[float, ...]
    timeout_seconds: float
    user_agent: str
    default_dialect: str | None


SCHEMES: dict[str, Scheme] = {
    # Hyperswitch: 1m, then 5m x2, 10m x5, 1h x5, 6h x3 -> 16 retries over about 24h.
    "hyperswitch": Scheme(
        "hyperswitch",
        (60,) + (300,) * 2 + (600,) * 5 + (3600,) * 5 + (21600,) * 3,
        5.0, "Hyperswitch-Backend-Server", "hyperswitch",
    ),
    # GOV.UK Pay: 60s, 5m, 1h, 1d, 2d (6 attempts in all), 3 s timeout.
    "govuk": Scheme("govuk", (60, 300, 3600, 86400, 172800), 3.0, "GOV.UK Pay webhooks", "govuk"),
    # Standard Webhooks (Svix's reference schedule): 5s, 5m, 30m, 2h, 5h, 10h, 10h.
    "standard": Scheme("standard", (5, 300, 1800, 7200, 18000, 36000, 36000), 15.0, "mock-psp webhooks", None),
    # GovPay+ update calls: authenticated by bearer token, not signed; no public schedule,
    # so the mock's choice (docs/govpay-lk.md): 1m, 5m, 30m, 2h, 12h.
    "govpay_lk": Scheme("govpay_lk", (60, 300, 1800, 7200, 43200), 10.0, "GovPay+ (mock-psp)", "govpay-lk"),
}


def new_standard_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _standard_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def valid_standard_secret(secret: str) -> bool:
    try:
        return len(_standard_key(secret)) > 0
    except (ValueError, TypeError):
        return False


def sign(scheme: str, secret: str, body: bytes, message_id: str, timestamp: int) -> dict[str, str]:
    """The signature headers for one request body."""
    if scheme == "hyperswitch":
        digest = hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()
        return {"X-Webhook-Signature-512": digest}
    if scheme == "govuk":
        return {"Pay-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}
    if scheme == "standard":
        signed = f"{message_id}.{timestamp}.".encode() + body
        signature = base64.b64encode(hmac.new(_standard_key(secret), signed, hashlib.sha256).digest()).decode()
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": f"v1,{signature}",
        }
    if scheme == "govpay_lk":
        return {}  # authenticated by the sender (a bearer token), not signed
    raise ValueError(f"unknown scheme {scheme!r}")
