"""A namespace's behaviour settings: success rates, delays, card policy, ...

``validate_update`` checks a partial update and returns the merged config, or
raises DomainError(INVALID_CONFIG) naming the offending field. Top-level keys
replace; ``success_rates`` and ``delays`` merge per key, so a test can change one
rate without restating the others.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

from .errors import INVALID_CONFIG
from .errors import DomainError

PAYMENT_METHODS = ("card", "upi", "wallet", "bank_redirect", "pay_later")
RATE_KEYS = PAYMENT_METHODS + ("refund",)
DELAY_KEYS = ("authorize", "capture", "refund", "async_completion", "webhook")
CARD_POLICIES = ("lenient", "strict")

DEFAULT_CONFIG: dict[str, Any] = {
    # Chance that a payment with no magic value succeeds, per payment method.
    "success_rates": {key: 1.0 for key in RATE_KEYS},
    # Seconds on the namespace clock before an operation completes: a number,
    # or [min, max] drawn from the seeded RNG. 0 means "in the same request".
    "delays": {
        "authorize": 0,
        "capture": 0,
        "refund": 0,
        # How long asynchronous methods (UPI collect) stay `processing`.
        "async_completion": 10,
        "webhook": 0,
    },
    # lenient: any Luhn-valid card follows the card success rate.
    # strict: like Hyperswitch's dummy connector, unknown cards fail with DC_04.
    "card_policy": "lenient",
    # Seconds a new payment's client_secret (and the payment itself) stays usable.
    "session_expiry_seconds": 900,
    # Allow confirming a failed payment again (Hyperswitch profile manual retry).
    "manual_retry": False,
    # "provider" for the provider's real schedule, or a list of seconds.
    "webhook_retry_schedule": "provider",
    # Merchant origins allowed to embed the checkout and receive its messages.
    "allowed_origins": [],
    # API requests per second per namespace before 429 (GOV.UK Pay: 15 POST, 75 others);
    # null: no limit.
    "rate_limit": None,
}

CONFIG_KEYS = tuple(DEFAULT_CONFIG) + ("seed", "clock")


def default_config() -> dict[str, Any]:
    return copy.deepcopy(DEFAULT_CONFIG)


def _fail(field: str, message: str) -> DomainError:
    return DomainError(INVALID_CONFIG, f"{field}: {message}", {"field": field})


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _rates(current: dict, update: Any) -> dict:
    if not isinstance(update, dict):
        raise _fail("success_rates", "must be an object such as {\"card\": 0.95}")
    merged = dict(current)
    for method, rate in update.items():
        if method not in RATE_KEYS:
            raise _fail(f"success_rates.{method}", f"unknown method; use one of {', '.join(RATE_KEYS)}")
        if not _is_number(rate) or not 0 <= rate <= 1:
            raise _fail(f"success_rates.{method}", "must be a number from 0 to 1")
        merged[method] = float(rate)
    return merged


def _delay_value(field: str, value: Any) -> float | list[float]:
    if _is_number(value):
        if value < 0:
            raise _fail(field, "must not be negative")
        return value
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(_is_number(v) for v in value)
    ):
        low, high = value
        if low < 0 or high < low:
            raise _fail(field, "must be [min, max] with 0 <= min <= max")
        return [low, high]
    raise _fail(field, "must be seconds (a number) or [min, max]")


def _delays(current: dict, update: Any) -> dict:
    if not isinstance(update, dict):
        raise _fail("delays", "must be an object such as {\"authorize\": 2}")
    merged = dict(current)
    for operation, value in update.items():
        if operation not in DELAY_KEYS:
            raise _fail(f"delays.{operation}", f"unknown operation; use one of {', '.join(DELAY_KEYS)}")
        merged[operation] = _delay_value(f"delays.{operation}", value)
    return merged


def _retry_schedule(value: Any) -> str | list[float]:
    if value == "provider":
        return value
    if isinstance(value, list) and all(_is_number(v) and v >= 0 for v in value):
        return list(value)
    raise _fail("webhook_retry_schedule", 'must be "provider" or a list of seconds')


def _origin(value: Any) -> str:
    if not isinstance(value, str):
        raise _fail("allowed_origins", "must be a list of origins such as http://127.0.0.1:8421")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise _fail("allowed_origins", f"{value!r} is not an origin (scheme://host[:port])")
    return f"{parts.scheme}://{parts.netloc}"


def _rate_limit(value: Any) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"post_per_second", "other_per_second"}:
        raise _fail("rate_limit", 'must be null or {"post_per_second": N, "other_per_second": N}')
    for key, limit in value.items():
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise _fail(f"rate_limit.{key}", "must be a whole number of requests, at least 1")
    return dict(value)


def validate_update(current: dict[str, Any], update: Any) -> dict[str, Any]:
    """Return ``current`` with ``update`` applied (seed and clock excluded)."""
    if not isinstance(update, dict):
        raise _fail("config", "must be a JSON object")
    merged = copy.deepcopy(current)
    for key, value in update.items():
        if key not in CONFIG_KEYS:
            raise _fail(key, f"unknown setting; known settings are {', '.join(CONFIG_KEYS)}")
        if key == "success_rates":
            merged[key] = _rates(merged[key], value)
        elif key == "delays":
            merged[key] = _delays(merged[key], value)
        elif key == "card_policy":
            if value not in CARD_POLICIES:
                raise _fail(key, f"must be one of {', '.join(CARD_POLICIES)}")
            merged[key] = value
        elif key == "session_expiry_seconds":
            if not isinstance(value, int) or isinstance(value, bool) or not 60 <= value <= 7_776_000:
                raise _fail(key, "must be whole seconds from 60 to 7776000")
            merged[key] = value
        elif key == "manual_retry":
            if not isinstance(value, bool):
                raise _fail(key, "must be true or false")
            merged[key] = value
        elif key == "webhook_retry_schedule":
            merged[key] = _retry_schedule(value)
        elif key == "rate_limit":
            merged[key] = _rate_limit(value)
        elif key == "allowed_origins":
            if not isinstance(value, list):
                raise _fail(key, "must be a list of origins")
            merged[key] = sorted({_origin(origin) for origin in value})
    return merged


def draw_delay_seconds(value: float | list[float], draw) -> float:
    """Resolve a fixed or [min, max] delay; ``draw`` is a Draws instance."""
    if isinstance(value, list):
        low, high = value
        return low if low == high else draw.uniform(low, high)
    return float(value)
