"""Webhook signature checks, one per scheme, all in constant time over the raw body.

- ``hyperswitch``: ``X-Webhook-Signature-512`` = hex HMAC-SHA512(payment_response_hash_key, body)
- ``govuk``: ``Pay-Signature`` = hex HMAC-SHA256(webhook signing secret, body)
- ``standard`` (Standard Webhooks): ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
  ``"{webhook-id}.{webhook-timestamp}.{body}"``, keyed with the base64 part of the
  ``whsec_`` secret; the timestamp must be within five minutes of now, so a captured
  request cannot be replayed later.

The merchant checks the one scheme it registered, never the one a request claims.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from . import strict

TOLERANCE_SECONDS = 5 * 60
SIGNATURE_HEADERS = {"hyperswitch": "X-Webhook-Signature-512", "govuk": "Pay-Signature",
                     "standard": "webhook-signature"}
SCHEMES = tuple(SIGNATURE_HEADERS)


class SignatureInvalid(Exception):
    """Why a delivery's signature was refused (the text goes to the webhook log)."""


def verify(scheme: str, secret: str, body: bytes, headers, now: float) -> None:
    """Return if the signature is good; raise SignatureInvalid saying why otherwise."""
    if scheme == "hyperswitch":
        _hex_hmac(headers.get("X-Webhook-Signature-512"), secret, body, hashlib.sha512, "X-Webhook-Signature-512")
    elif scheme == "govuk":
        _hex_hmac(headers.get("Pay-Signature"), secret, body, hashlib.sha256, "Pay-Signature")
    elif scheme == "standard":
        _standard(secret, body, headers, now)
    else:
        raise ValueError(f"unknown signature scheme {scheme!r}")


def _hex_hmac(given: str | None, secret: str, body: bytes, digest, header: str) -> None:
    if not given:
        raise SignatureInvalid(f"missing {header}")
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
        raise SignatureInvalid(f"{header} does not match the body")


def _standard(secret: str, body: bytes, headers, now: float) -> None:
    message_id, timestamp, signatures = (headers.get(name) for name in
                                         ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (message_id and timestamp and signatures):
        raise SignatureInvalid("missing webhook-id, webhook-timestamp or webhook-signature")
    if not strict.ascii_digits(timestamp) or len(timestamp) > 12:
        raise SignatureInvalid("webhook-timestamp is not a number")
    sent_at = int(timestamp)
    if abs(now - sent_at) > TOLERANCE_SECONDS:
        raise SignatureInvalid(f"webhook-timestamp is {int(now - sent_at)} s from now (tolerance "
                               f"{TOLERANCE_SECONDS} s): a replay, or a clock out of step")
    key = _standard_key(secret)
    signed = f"{message_id}.{sent_at}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    # The header may carry several space-separated "v1,<sig>" (during key rotation).
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(expected, value.encode()):
            return
    raise SignatureInvalid("no v1 signature in webhook-signature matches the body")


def _standard_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid("the endpoint's whsec_ secret is not base64") from None
