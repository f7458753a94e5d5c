"""Reading GOV.UK Pay request bodies: the public API's validation rules and messages.

Wrong JSON types are 400 P0102, values out of range 422 P0102, missing
mandatory attributes 400 P0101, unknown attributes 400 P0104, bad JSON 400 P0197.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from . import errors

MAX_AMOUNT = 10_000_000
IDEMPOTENCY_KEY = re.compile(r"^[a-zA-Z0-9-]+$")
LANGUAGES = ("en", "cy")
AUTHORISATION_MODES = ("web", "moto_api", "agreement")
AGREEMENT_PAYMENT_TYPES = ("instalment", "recurring", "unscheduled")

CREATE_FIELDS = (
    "amount", "reference", "description", "return_url", "delayed_capture", "moto", "email", "language",
    "metadata", "prefilled_cardholder_details", "authorisation_mode", "agreement_id", "set_up_agreement",
    "agreement_payment_type",
)
REFUND_FIELDS = ("amount", "refund_amount_available")


def read_json(raw: bytes) -> dict:
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise errors.bad_json() from None
    if not isinstance(data, dict):
        raise errors.bad_json()
    return data


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _string(data: dict, field: str, max_length: int, required: bool = False) -> str | None:
    value = data.get(field)
    if value is None:
        if required:
            raise errors.missing(field)
        return None
    if not isinstance(value, str):
        raise errors.wrong_type(field, "Must be of type String")
    if len(value) > max_length:
        raise errors.out_of_range(field, f"Must be less than or equal to {max_length} characters length")
    return value


def _boolean(data: dict, field: str) -> bool | None:
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise errors.wrong_type(field, "Must be true or false")
    return value


def amount(data: dict, field: str = "amount", required: bool = True, code: str = "P0101") -> int | None:
    value = data.get(field)
    if value is None:
        if required:
            raise errors.missing(field, code)
        return None
    if not _is_int(value):
        raise errors.wrong_type(field, "Must be a valid numeric format")
    if value < 1:
        raise errors.out_of_range(field, "Must be greater than or equal to 1")
    if value > MAX_AMOUNT:
        raise errors.out_of_range(field, f"Must be less than or equal to {MAX_AMOUNT}")
    return value


def _return_url(data: dict) -> str:
    url = _string(data, "return_url", 2000, required=True)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise errors.out_of_range("return_url", "Must be a valid URL format")
    return url


def _metadata(value: Any) -> dict | None:
    """1 to 15 keys of 1 to 30 characters; values are strings (up to 100), numbers or booleans."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.out_of_range("metadata", "Must be an object of JSON key-value pairs")
    if not 1 <= len(value) <= 15:
        raise errors.out_of_range("metadata", "Values must be an object containing between 1 and 15 key-value pairs")
    for key, item in value.items():
        if not 1 <= len(key) <= 30:
            raise errors.out_of_range("metadata", "Keys must be between 1 and 30 characters long")
        if item is None or isinstance(item, (dict, list)):
            raise errors.out_of_range("metadata", "Values must be of type String, Boolean or Number")
        if isinstance(item, str) and len(item) > 100:
            raise errors.out_of_range("metadata", "Values must be no greater than 100 characters long")
    return value


def _cardholder_details(value: Any) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.wrong_type("prefilled_cardholder_details", "Must be an object")
    unknown = set(value) - {"cardholder_name", "billing_address"}
    if unknown:
        raise errors.unexpected(f"prefilled_cardholder_details.{sorted(unknown)[0]}")
    name = _string(value, "cardholder_name", 255)
    address = value.get("billing_address")
    if address is not None:
        if not isinstance(address, dict):
            raise errors.wrong_type("billing_address", "Must be an object")
        limits = {"line1": 255, "line2": 255, "postcode": 25, "city": 255, "country": 2}
        unknown = set(address) - set(limits)
        if unknown:
            raise errors.unexpected(f"billing_address.{sorted(unknown)[0]}")
        address = {key: _string(address, key, limit) for key, limit in limits.items() if address.get(key) is not None}
    return {k: v for k, v in (("cardholder_name", name), ("billing_address", address)) if v is not None}


def create_payment(data: dict) -> dict:
    """Validate CreateCardPaymentRequest; return the checked values."""
    for field in data:
        if field not in CREATE_FIELDS:
            raise errors.unexpected(field)
    checked: dict[str, Any] = {
        "amount": amount(data),
        "reference": _string(data, "reference", 255, required=True),
        "description": _string(data, "description", 255, required=True),
        "return_url": _return_url(data),
        "delayed_capture": bool(_boolean(data, "delayed_capture")),
        "moto": bool(_boolean(data, "moto")),
        "email": _string(data, "email", 254),
        "metadata": _metadata(data.get("metadata")),
        "prefilled_cardholder_details": _cardholder_details(data.get("prefilled_cardholder_details")),
    }
    language = data.get("language")
    if language is not None and language not in LANGUAGES:
        raise errors.out_of_range("language", 'Must be "en" or "cy"')
    checked["language"] = language or "en"
    mode = data.get("authorisation_mode")
    if mode is not None and mode not in AUTHORISATION_MODES:
        raise errors.out_of_range("authorisation_mode", "Must be one of web, moto_api, agreement")
    if mode not in (None, "web"):
        raise errors.out_of_range("authorisation_mode", f"{mode} payments are not available in mock-psp; use web")
    checked["authorisation_mode"] = "web"
    for field in ("agreement_id", "set_up_agreement"):
        value = _string(data, field, 26)
        if value is not None:
            raise errors.out_of_range(field, "Agreements are not available in mock-psp")
    if data.get("agreement_payment_type") is not None:
        raise errors.out_of_range("agreement_payment_type", "Agreements are not available in mock-psp")
    return checked


def fingerprint(data: dict) -> str:
    """A stable digest of a request body, to tell a replay from a different request."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def idempotency_key(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not IDEMPOTENCY_KEY.match(value) or len(value) > 255:
        raise errors.GovukError(400, "P0102", "Invalid attribute value: Idempotency-Key. "
                                              "Must match ^[a-zA-Z0-9-]+$", header="Idempotency-Key")
    return value


def create_refund(data: dict) -> tuple[int, int | None]:
    for field in data:
        if field not in REFUND_FIELDS:
            raise errors.unexpected(field)
    value = amount(data, required=True, code="P0601")
    available = data.get("refund_amount_available")
    if available is not None and (not _is_int(available) or available < 0):
        raise errors.GovukError(422, "P0602", "Invalid attribute value: refund_amount_available. "
                                              "Must be a valid numeric format", "refund_amount_available")
    return value, available
