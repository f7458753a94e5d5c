"""Reading GOV.UK Pay request bodies: the public API's validation rules and messages.

Creating a payment: wrong JSON types are 400 P0102, values out of range 422
P0102, missing mandatory attributes 400 P0101, unexpected attributes 400 P0104,
bad JSON 400 P0197.

Authorising a MOTO payment (``POST /v1/auth``) follows other rules, because
pay-publicapi reads that body with Bean Validation and pay-connector checks it
again: everything is 422, P0101 for a missing field and P0102 for a bad one.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from ...domain import jsontext
from ...domain.errors import DomainError
from ...runtime.clock import to_datetime
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


def jackson_loads(raw: bytes):
    """The body as pay-publicapi's Jackson reads it (None when empty or not JSON).

    Jackson refuses NaN, numbers it cannot hold and bad UTF-8 (P0197/P2197), keeps the last of
    duplicate keys, and takes a lone surrogate escape ("\\ud800") into a Java string, which its
    UTF-8 encoder then writes as "?": so here too (SQLite, like PostgreSQL, takes no lone surrogate).
    """
    if not raw.strip():
        return None
    try:
        return jsontext.replace_lone_surrogates(jsontext.loads(raw, lone_surrogates=True))
    except DomainError:
        return None


def read_json(raw: bytes) -> dict:
    data = jackson_loads(raw)
    if not isinstance(data, dict):
        raise errors.bad_json()
    return data


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# Characters the real service's firewall refuses in reference and description.
FORBIDDEN_CHARACTERS = set("<>|")


def _string(data: dict, field: str, max_length: int, required: bool = False,
            type_message: str = "Must be a valid string format") -> str | None:
    value = data.get(field)
    if value is None:
        if required:
            raise errors.missing(field)
        return None
    if not isinstance(value, str):
        raise errors.wrong_type(field, type_message)
    if required and not value.strip():
        raise errors.missing(field)
    if len(value) > max_length:
        raise errors.out_of_range(field, f"Must be less than or equal to {max_length} characters length")
    return value


def _text(data: dict, field: str) -> str:
    """reference and description: required, at most 255, none of < > |."""
    value = _string(data, field, 255, required=True)
    if FORBIDDEN_CHARACTERS & set(value):
        raise errors.wrong_type(field, "Must be a valid string format")
    return value


def _boolean(data: dict, field: str) -> bool:
    """Absent means false; present must be a JSON boolean (null included, it is refused)."""
    if field not in data:
        return False
    value = data[field]
    if not isinstance(value, bool):
        raise errors.wrong_type(field, "Must be true or false")
    return value


def amount(data: dict, field: str = "amount", required: bool = True, code: str = "P0101",
           invalid_code: str = "P0102") -> int | None:
    value = data.get(field)
    if value is None:
        if required:
            raise errors.missing(field, code)
        return None
    if not _is_int(value):
        raise errors.GovukError(400, invalid_code, f"Invalid attribute value: {field}. Must be a valid numeric format",
                                field)
    if value < 1:
        raise errors.out_of_range(field, "Must be greater than or equal to 1", invalid_code)
    if value > MAX_AMOUNT:
        raise errors.out_of_range(field, f"Must be less than or equal to {MAX_AMOUNT}", invalid_code)
    return value


def _return_url(data: dict) -> str:
    url = data.get("return_url")
    if url is None:
        raise errors.missing("return_url")
    if not isinstance(url, str):
        raise errors.wrong_type("return_url", "Must be a valid URL format")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise errors.out_of_range("return_url", "Must be a valid URL format")
    if len(url) > 2000:
        raise errors.out_of_range("return_url", "Must be less than or equal to 2000 characters length")
    return url


MAX_METADATA_KEYS = 10
MAX_METADATA_VALUE_LENGTH = 50


def _metadata(data: dict) -> dict | None:
    """Up to 10 keys of 1 to 30 characters; values strings (up to 50), numbers or booleans; no nulls."""
    if "metadata" not in data:
        return None
    value = data["metadata"]
    if value is None:
        raise errors.out_of_range("metadata", "Value must not be null")
    if not isinstance(value, dict):
        raise errors.out_of_range("metadata", "Must be an object of JSON key-value pairs")
    problems = []
    if len(value) > MAX_METADATA_KEYS:
        problems.append(f"Cannot have more than {MAX_METADATA_KEYS} key-value pairs")
    if any(not 1 <= len(key) <= 30 for key in value):
        problems.append("Keys must be between 1 and 30 characters long")
    if any(item is None for item in value.values()):
        problems.append("Must not have null values")
    if any(item is not None and not isinstance(item, (str, int, float)) for item in value.values()):
        problems.append("Values must be of type String, Boolean or Number")
    if any(isinstance(item, str) and len(item) > MAX_METADATA_VALUE_LENGTH for item in value.values()):
        problems.append(f"Values must be no greater than {MAX_METADATA_VALUE_LENGTH} characters long")
    if problems:
        raise errors.out_of_range("metadata", ". ".join(problems))
    return value


def _cardholder_details(data: dict) -> dict | None:
    value = data.get("prefilled_cardholder_details")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.wrong_type("prefilled_cardholder_details", "Must be an object")
    name = _string(value, "cardholder_name", 255, type_message="Field must be a string")
    address = value.get("billing_address")
    if address is not None:
        if not isinstance(address, dict):
            raise errors.wrong_type("billing_address", "Must be an object")
        address = {key: _string(address, key, 255, type_message="Field must be a string")
                   for key in ("line1", "line2", "postcode", "city", "country") if address.get(key) is not None}
    return {k: v for k, v in (("cardholder_name", name), ("billing_address", address)) if v is not None}


def _language(data: dict) -> str:
    if "language" not in data:
        return "en"
    value = data["language"]
    if not isinstance(value, str):
        raise errors.wrong_type("language", 'Must be "en" or "cy"')
    if value not in LANGUAGES:
        raise errors.out_of_range("language", 'Must be "en" or "cy"')
    return value


def _authorisation_mode(data: dict) -> str:
    if "authorisation_mode" not in data:
        return "web"
    mode = data["authorisation_mode"]
    rule = "Must be one of web, moto_api, agreement"
    if not isinstance(mode, str):
        raise errors.wrong_type("authorisation_mode", rule)
    if mode not in AUTHORISATION_MODES:
        raise errors.out_of_range("authorisation_mode", rule)
    return mode


# Refused in an agreement payment: there is no user journey (pay-connector UNEXPECTED_ATTRIBUTE,
# relayed by pay-publicapi without a field).
NOT_IN_AGREEMENT_PAYMENTS = ("return_url", "email", "prefilled_cardholder_details", "moto")
AGREEMENT_ID_LENGTH = 26


def _agreement_id(data: dict, field: str, required: bool) -> str | None:
    """agreement_id (agreement payments) or set_up_agreement: a string of 26 characters."""
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise errors.missing(field) if field in data else errors.GovukError(
                400, "P0101", f"Missing mandatory attribute: {field}")
        return None
    if not isinstance(value, str):
        if field == "set_up_agreement":
            return None  # pay-publicapi reads it with textValue(): anything else is as good as absent
        raise errors.wrong_type(field, "Must be a valid string format")
    if len(value) != AGREEMENT_ID_LENGTH:
        raise errors.out_of_range(field, f"Field [{field}] length must be {AGREEMENT_ID_LENGTH}")
    return value


def _agreement_fields(data: dict, mode: str) -> dict:
    if mode == "agreement":
        if "set_up_agreement" in data:
            raise errors.GovukError(400, "P0104", "Unexpected attribute: set_up_agreement")
        for name in NOT_IN_AGREEMENT_PAYMENTS:
            if data.get(name) is not None and data.get(name) is not False:
                raise errors.GovukError(400, "P0104", f"Unexpected attribute: {name}")
        agreement_id, set_up = _agreement_id(data, "agreement_id", required=True), None
    else:
        if "agreement_id" in data:
            raise errors.unexpected("agreement_id")  # pay-publicapi's own parser: with the field
        agreement_id, set_up = None, _agreement_id(data, "set_up_agreement", required=False)
    payment_type = data.get("agreement_payment_type")
    if payment_type is not None:
        if agreement_id is None and set_up is None:
            raise errors.GovukError(400, "P0104", "Unexpected attribute: agreement_payment_type")
        if payment_type not in AGREEMENT_PAYMENT_TYPES:
            raise errors.out_of_range("agreement_payment_type", "Must be one of " + ", ".join(AGREEMENT_PAYMENT_TYPES))
    return {"agreement_id": agreement_id, "set_up_agreement": set_up, "agreement_payment_type": payment_type}


def _moto_api_return_url(data: dict) -> str | None:
    """Only its type is checked here (pay-publicapi's parser); its presence is refused later."""
    url = data.get("return_url")
    if url is not None and not isinstance(url, str):
        raise errors.wrong_type("return_url", "Must be a valid URL format")
    return url


def create_payment(data: dict) -> dict:
    """Validate CreateCardPaymentRequest; return the checked values.

    ``return_url`` is mandatory for ``web`` payments and refused for ``moto_api``
    ones, which are paid through ``POST /v1/auth`` (and are always ``moto``), and
    for ``agreement`` ones, which are paid with the agreement's saved card.
    Attributes the API does not know are ignored, as the real parser reads only
    the fields it knows.
    """
    mode = _authorisation_mode(data)
    agreement = _agreement_fields(data, mode)
    fields = {
        "amount": amount(data),
        "reference": _text(data, "reference"),
        "description": _text(data, "description"),
        "return_url": None if mode == "agreement" else
        _moto_api_return_url(data) if mode == "moto_api" else _return_url(data),
        "delayed_capture": _boolean(data, "delayed_capture"),
        "moto": _boolean(data, "moto"),
        "email": _string(data, "email", 254, type_message="Field must be a string"),
        "metadata": _metadata(data),
        "prefilled_cardholder_details": _cardholder_details(data),
        "language": _language(data),
        "authorisation_mode": mode,
        **agreement,
    }
    if mode == "moto_api":
        if fields["return_url"] is not None:
            # No user journey, so no return_url: pay-connector refuses one (UNEXPECTED_ATTRIBUTE)
            # once pay-publicapi has parsed the body, and pay-publicapi relays its message without field.
            raise errors.GovukError(400, "P0104", "Unexpected attribute: return_url")
        # pay-connector: withMoto(authorisationMode == MOTO_API || chargeRequest.isMoto())
        fields["moto"] = True
    return fields


def fingerprint(data: dict) -> str:
    """A stable digest of a request body, to tell a replay from a different request."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not 1 <= len(value) <= 255:
        raise errors.GovukError(422, "P0102", "Header [Idempotency-Key] can have a size between 1 and 255",
                                header="Idempotency-Key")
    if not IDEMPOTENCY_KEY.match(value):
        raise errors.GovukError(422, "P0102",
                                "Header [Idempotency-Key] can only contain alphanumeric characters and hyphens",
                                header="Idempotency-Key")
    return value


def create_refund(data: dict) -> tuple[int, int | None]:
    value = amount(data, required=True, code="P0601", invalid_code="P0602")
    available = data.get("refund_amount_available")
    if available is not None and (not _is_int(available) or available < 0):
        raise errors.GovukError(422, "P0602", "Invalid attribute value: refund_amount_available. "
                                              "Must be a valid numeric format", "refund_amount_available")
    return value, available


# -- POST /v1/auth: a MOTO payment's card details ------------------------------------

AUTHORISATION_FIELDS = ("one_time_token", "card_number", "cvc", "expiry_date", "cardholder_name")
CARD_NUMBER = re.compile(r"[0-9]{12,19}")
CVC = re.compile(r"[0-9]{3,4}")
EXPIRY_DATE = re.compile(r"(0[1-9]|1[0-2])/([0-9]{2})")
# pay-connector accepts a card up to 12 hours after its month ended in UTC, so a
# card is not refused while it is still valid somewhere behind UTC.
EXPIRY_LEEWAY_MS = 12 * 3600 * 1000


def _as_text(data: dict) -> dict[str, str | None]:
    """The fields as pay-publicapi's Jackson binding reads them into Java strings.

    A number or boolean is taken as its text (Jackson coerces scalars to String);
    an object or array is refused, at the first such field in the body.
    """
    for field, value in data.items():
        if field in AUTHORISATION_FIELDS and isinstance(value, (dict, list)):
            raise errors.out_of_range(field, "Must be a valid String format")
    texts: dict[str, str | None] = {}
    for field in AUTHORISATION_FIELDS:
        value = data.get(field)
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = json.dumps(value)
        texts[field] = value
    return texts


def _check_declared_rules(texts: dict[str, str | None]) -> None:
    """pay-publicapi's AuthorisationRequest constraints (@NotBlank, @NotNull, @Size).

    The real service reports one violation, whichever its validator meets first;
    here it is the first in field order.
    """
    sizes = {
        "card_number": (12, 19, "Must be between 12 and 19 characters long"),
        "cvc": (3, 4, "Must be between 3 and 4 characters long"),
        "expiry_date": (5, 5, "Must be a valid date with the format MM/YY"),
        "cardholder_name": (0, 255, "Must be less than or equal to 255 characters long"),
    }
    for field in AUTHORISATION_FIELDS:
        value = texts[field]
        blank_is_missing = field in ("one_time_token", "cardholder_name")  # @NotBlank; the others @NotNull
        if value is None or (blank_is_missing and not value.strip()):
            raise errors.authorisation_missing(field)
        if field in sizes:
            least, most, rule = sizes[field]
            if not least <= len(value) <= most:
                raise errors.out_of_range(field, rule)


def _check_card_rules(texts: dict[str, str], now_ms: int) -> tuple[str, str]:
    """pay-connector's AuthoriseRequest.validate(); its messages reach the service without ``field``.

    Returns the expiry month and four-digit year.
    """
    if not CARD_NUMBER.fullmatch(texts["card_number"]):
        raise errors.authorisation_invalid("Invalid attribute value: card_number. Must be a valid card number")
    if not CVC.fullmatch(texts["cvc"]):
        raise errors.authorisation_invalid("Invalid attribute value: cvc. Must contain numbers only")
    expiry = EXPIRY_DATE.fullmatch(texts["expiry_date"])
    if expiry is None:
        raise errors.authorisation_invalid(
            "Invalid attribute value: expiry_date. Must be a valid date with the format MM/YY")
    month, year = expiry.group(1), "20" + expiry.group(2)
    earliest = to_datetime(now_ms - EXPIRY_LEEWAY_MS)
    if (int(year), int(month)) < (earliest.year, earliest.month):
        raise errors.authorisation_invalid(
            "Invalid attribute value: expiry_date. Must be a valid date in the future")
    return month, year


def authorisation(data: dict, now_ms: int) -> dict:
    """Validate an AuthorisationRequest; return the card as the domain takes it.

    Checked in the real order: field types, pay-publicapi's declared constraints
    (422 P0101 or P0102, with ``field``), then pay-connector's card rules (422
    P0102, without ``field``). Attributes the API does not know are ignored.
    """
    texts = _as_text(data)
    _check_declared_rules(texts)
    exp_month, exp_year = _check_card_rules(texts, now_ms)
    return {
        "one_time_token": texts["one_time_token"],
        "card_number": texts["card_number"],
        "cvc": texts["cvc"],
        "exp_month": exp_month,
        "exp_year": exp_year,
        "cardholder_name": texts["cardholder_name"],
    }


# -- POST /v1/agreements -----------------------------------------------------------------
# pay-publicapi parses the body itself (400 P2101 missing, P2102 wrong type or characters,
# P2197 not JSON), then Bean Validation checks the lengths (422, and the payment code P0102).
# Attributes it does not know are ignored.

AGREEMENT_TEXT_MAX = 255


def create_agreement(raw: bytes) -> dict:
    data = jackson_loads(raw)
    if not isinstance(data, dict):
        raise errors.GovukError(400, "P2197", "Unable to parse JSON")
    fields = {name: _agreement_text(data, name) for name in ("reference", "description")}
    user = data.get("user_identifier")
    if user is not None and not isinstance(user, str):
        raise errors.GovukError(400, "P2102", "Invalid attribute value: user_identifier. Field must be a string",
                                "user_identifier")
    fields["user_identifier"] = user
    for name, value in fields.items():
        if value is not None and not 1 <= len(value) <= AGREEMENT_TEXT_MAX:
            raise errors.out_of_range(name, f"Must be less than or equal to {AGREEMENT_TEXT_MAX} characters length")
    return fields


def _agreement_text(data: dict, name: str) -> str:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise errors.GovukError(400, "P2101", f"Missing mandatory attribute: {name}", name)
    if not isinstance(value, str) or FORBIDDEN_CHARACTERS & set(value):
        raise errors.GovukError(400, "P2102", f"Invalid attribute value: {name}. Must be a valid string format", name)
    return value
