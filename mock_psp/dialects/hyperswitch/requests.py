"""Reading Hyperswitch request bodies the way its router does.

The real router deserialises bodies with serde (``deny_unknown_fields`` on the
payment and refund requests) behind an actix JSON extractor that insists on
``Content-Type: application/json``. Those failures are 400s with the
``error_type`` key; the messages below follow serde's wording.
"""

from __future__ import annotations

import json
import re
from typing import Any
from collections.abc import Callable
from urllib.parse import urlsplit

from ...clock import to_datetime
from ...domain.cards import digits_only
from ...domain.cards import luhn_valid
from ...domain.payments import CardInput
from ...domain.payments import PaymentChanges
from ...domain.payments import PaymentMethodInput
from . import errors
from .currencies import CURRENCIES

MAX_BODY_BYTES = 32_768
MAX_AMOUNT = 999_999_999

CAPTURE_METHODS = ("automatic", "manual", "manual_multiple", "scheduled", "sequential_automatic")
AUTHENTICATION_TYPES = ("three_ds", "no_three_ds")
PAYMENT_METHODS = (
    "card", "card_redirect", "pay_later", "wallet", "bank_redirect", "bank_transfer", "crypto",
    "bank_debit", "reward", "real_time_payment", "upi", "voucher", "gift_card", "open_banking",
    "mobile_payment", "network_token",
)
FUTURE_USAGE = ("off_session", "on_session")
REFUND_TYPES = ("scheduled", "instant")
REFUND_STATUSES = ("succeeded", "failed", "pending", "review")
CARD_NETWORKS = (
    "Visa", "Mastercard", "AmericanExpress", "JCB", "DinersClub", "Discover", "CartesBancaires",
    "UnionPay", "Interac", "RuPay", "Maestro", "Star", "Pulse", "Accel", "Nyce",
)

_MERCHANT_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")


class Mismatch(Exception):
    """A value of the wrong type or an invalid value, phrased as serde phrases it."""


def _unexpected(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    if isinstance(value, list):
        return "sequence"
    return "map"


def _type_error(value: Any, expected: str) -> Mismatch:
    return Mismatch(f"invalid type: {_unexpected(value)}, expected {expected}")


# -- field kinds: each checks one value and returns it (or raises Mismatch) -----

Kind = Callable[[Any], Any]


def string(value: Any) -> str:
    if not isinstance(value, str):
        raise _type_error(value, "a string")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _type_error(value, "a boolean")
    return value


def integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(value, "i64")
    return value


def unsigned(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(value, "u32")
    if value < 0:
        raise Mismatch(f"invalid value: integer `{value}`, expected u32")
    return value


def amount(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(value, "i64")
    if value < 0:
        raise Mismatch(f"invalid value: integer `{value}`, expected a positive integer")
    return value


def obj(value: Any) -> dict:
    if not isinstance(value, dict):
        raise _type_error(value, "a map")
    return value


def array(value: Any) -> list:
    if not isinstance(value, list):
        raise _type_error(value, "a sequence")
    return value


def anything(value: Any) -> Any:
    return value


def enum(name: str, variants: tuple[str, ...] | frozenset[str]) -> Kind:
    ordered = sorted(variants) if isinstance(variants, frozenset) else list(variants)

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _type_error(value, f"enum {name}")
        if value not in variants:
            listed = ", ".join(f"`{v}`" for v in ordered)
            raise Mismatch(f"unknown variant `{value}`, expected one of {listed}")
        return value

    return check


def url(value: Any) -> str:
    text = string(value)
    parts = urlsplit(text)
    if not parts.scheme:
        raise Mismatch("relative URL without a base")
    if parts.scheme in ("http", "https") and not parts.netloc:
        raise Mismatch("empty host")
    return text


def merchant_chosen_id(value: Any) -> str:
    text = string(value)
    if len(text) > 64:
        raise Mismatch("the maximum allowed length for this field is 64")
    if not text:
        raise Mismatch("the minimum required length for this field is 1")
    bad = _MERCHANT_ID_CHARS.search(text)
    if bad:
        raise Mismatch(f"value `{text}` contains invalid character `{bad.group()}`")
    return text


def array_of(kind: Kind) -> Kind:
    def check(value: Any) -> list:
        return [kind(item) for item in array(value)]

    return check


# -- field sets ---------------------------------------------------------------

# Hyperswitch's PaymentsRequest: one struct behind create, update and confirm.
PAYMENT_FIELDS: dict[str, Kind] = {
    "amount": amount,
    "order_tax_amount": integer,
    "currency": enum("Currency", CURRENCIES),
    "amount_to_capture": integer,
    "shipping_cost": integer,
    "payment_id": merchant_chosen_id,
    "merchant_id": string,
    "routing": anything,
    "connector": array,
    "capture_method": enum("CaptureMethod", CAPTURE_METHODS),
    "authentication_type": enum("AuthenticationType", AUTHENTICATION_TYPES),
    "billing": obj,
    "confirm": boolean,
    "customer": obj,
    "customer_id": merchant_chosen_id,
    "email": string,
    "name": string,
    "phone": string,
    "phone_country_code": string,
    "off_session": boolean,
    "description": string,
    "return_url": url,
    "setup_future_usage": enum("FutureUsage", FUTURE_USAGE),
    "payment_method_data": obj,
    "payment_method": enum("PaymentMethod", PAYMENT_METHODS),
    "payment_token": string,
    "card_cvc": string,
    "shipping": obj,
    "statement_descriptor_name": string,
    "statement_descriptor_suffix": string,
    "order_details": array,
    "client_secret": string,
    "mandate_data": obj,
    "customer_acceptance": obj,
    "mandate_id": string,
    "browser_info": obj,
    "payment_experience": string,
    "payment_method_type": string,
    "business_country": string,
    "business_label": string,
    "business_sub_label": string,
    "merchant_connector_details": obj,
    "allowed_payment_method_types": array_of(string),
    "retry_action": string,
    "metadata": anything,
    "connector_metadata": obj,
    "feature_metadata": obj,
    "payment_link": boolean,
    "payment_link_config": obj,
    "payment_link_config_id": string,
    "profile_id": string,
    "surcharge_details": obj,
    "payment_type": string,
    "request_incremental_authorization": boolean,
    "session_expiry": unsigned,
    "frm_metadata": obj,
    "request_external_three_ds_authentication": boolean,
    "three_ds_data": obj,
    "recurring_details": obj,
    "split_payments": obj,
    "request_extended_authorization": boolean,
    "merchant_order_reference_id": string,
    "skip_external_tax_calculation": boolean,
    "psd2_sca_exemption_type": string,
    "ctp_service_details": obj,
    "force_3ds_challenge": boolean,
    "threeds_method_comp_ind": string,
    "is_iframe_redirection_enabled": boolean,
    "all_keys_required": boolean,
    "payment_channel": string,
    "tax_status": string,
    "discount_amount": integer,
    "shipping_amount_tax": integer,
    "duty_amount": integer,
    "order_date": string,
    "enable_partial_authorization": boolean,
    "enable_overcapture": boolean,
    "is_stored_credential": boolean,
    "mit_category": string,
    "billing_descriptor": obj,
    "tokenization": string,
    "partner_merchant_identifier_details": obj,
    "installment_options": array,
    "installment_data": obj,
    "profile_acquirer_id": string,
    "external_surcharge_strategy": string,
}

CAPTURE_FIELDS: dict[str, Kind] = {
    "merchant_id": string,
    "amount_to_capture": integer,
    "refund_uncaptured_amount": boolean,
    "statement_descriptor_suffix": string,
    "statement_descriptor_prefix": string,
    "merchant_connector_details": obj,
    "all_keys_required": boolean,
}

CANCEL_FIELDS: dict[str, Kind] = {
    "cancellation_reason": string,
    "merchant_connector_details": obj,
    "all_keys_required": boolean,
}

REFUND_FIELDS: dict[str, Kind] = {
    "payment_id": string,
    "refund_id": merchant_chosen_id,
    "merchant_id": string,
    "amount": amount,
    "reason": string,
    "refund_type": enum("RefundType", REFUND_TYPES),
    "metadata": anything,
    "merchant_connector_details": obj,
    "split_refunds": obj,
    "all_keys_required": boolean,
}

REFUND_UPDATE_FIELDS: dict[str, Kind] = {"reason": string, "metadata": anything}

REFUND_LIST_FIELDS: dict[str, Kind] = {
    "payment_id": string,
    "refund_id": string,
    "profile_id": string,
    "limit": integer,
    "offset": integer,
    "start_time": string,
    "end_time": string,
    "amount_filter": lambda value: check_nested(value, AMOUNT_FILTER_FIELDS),
    "connector": array_of(string),
    "merchant_connector_id": array_of(string),
    "currency": array_of(enum("Currency", CURRENCIES)),
    "refund_status": array_of(enum("RefundStatus", REFUND_STATUSES)),
}

AMOUNT_FILTER_FIELDS: dict[str, Kind] = {"start_amount": integer, "end_amount": integer}


def check_nested(value: Any, fields: dict[str, Kind]) -> dict:
    """Type-check a nested object's known fields (raising Mismatch), ignoring unknown ones."""
    checked = {}
    for key, item in obj(value).items():
        if key in fields and item is not None:
            checked[key] = fields[key](item)
    return checked


CARD_FIELDS: dict[str, Kind] = {
    "card_number": string,
    "card_exp_month": string,
    "card_exp_year": string,
    "card_holder_name": string,
    "card_cvc": string,
    "card_issuer": string,
    "card_network": enum("CardNetwork", CARD_NETWORKS),
    "card_type": string,
    "card_issuing_country": string,
    "card_issuing_country_code": string,
    "bank_code": string,
    "nick_name": string,
}


# -- reading the body -----------------------------------------------------------


def _position(raw: str, index: int) -> str:
    line = raw.count("\n", 0, index) + 1
    column = index - (raw.rfind("\n", 0, index) + 1) + 1
    return f" at line {line} column {column}"


def _deserialize_error(detail: str) -> errors.HyperswitchError:
    return errors.json_error(f"Json deserialize error: {detail}")


def json_error_for(detail: str) -> errors.HyperswitchError:
    """A value serde refuses while reading the body (e.g. a bad id): a JSON deserialize error."""
    return _deserialize_error(detail)


def read_json(content_type: str | None, raw: bytes, struct: str) -> tuple[dict, str]:
    """Check the content type, the size and the JSON syntax; return the object and its text."""
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime != "application/json" and not mime.endswith("+json"):
        raise errors.json_error("Content type error")
    if len(raw) > MAX_BODY_BYTES:
        raise errors.json_error(
            f"JSON payload ({len(raw)} bytes) is larger than allowed (limit: {MAX_BODY_BYTES} bytes)."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _deserialize_error("invalid unicode code point at line 1 column 1") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        detail = "EOF while parsing a value" if not text.strip() else exc.msg.lower()
        raise _deserialize_error(detail + _position(text, exc.pos)) from None
    except RecursionError:  # nested deeper than Python's parser goes (serde_json stops at 128)
        raise _deserialize_error("recursion limit exceeded") from None
    if not isinstance(data, dict):
        raise _deserialize_error(f"invalid type: {_unexpected(data)}, expected struct {struct}")
    return data, text


def check_fields(data: dict, fields: dict[str, Kind], raw: str = "", deny_unknown: bool = True) -> dict:
    """Type-check known fields; refuse unknown ones like serde's deny_unknown_fields.

    Returns only the non-null known fields.
    """
    checked: dict[str, Any] = {}
    for key, value in data.items():
        kind = fields.get(key)
        if kind is None:
            if deny_unknown:
                expected = ", ".join(f"`{name}`" for name in fields)
                where = raw.find(json.dumps(key))
                position = _position(raw, where + len(json.dumps(key))) if where >= 0 else ""
                raise _deserialize_error(f"unknown field `{key}`, expected one of {expected}{position}")
            continue
        if value is None:
            continue
        try:
            checked[key] = kind(value)
        except Mismatch as exc:
            raise _deserialize_error(str(exc)) from None
    return checked


def parse_body(content_type: str | None, raw: bytes, fields: dict[str, Kind], struct: str,
               deny_unknown: bool = True) -> dict:
    data, text = read_json(content_type, raw, struct)
    return check_fields(data, fields, text, deny_unknown)


def query_int(args, name: str) -> int | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.json_error(f"Query deserialize error: invalid digit found in string for `{name}`") from None


# -- from wire fields to domain inputs -----------------------------------------

# Request fields the response echoes back unchanged; kept as payment attributes.
ECHOED_FIELDS = (
    "billing", "shipping", "order_details", "statement_descriptor_name", "statement_descriptor_suffix",
    "setup_future_usage", "off_session", "browser_info", "connector_metadata", "allowed_payment_method_types",
    "business_country", "business_label", "business_sub_label", "frm_metadata", "order_tax_amount",
    "shipping_cost", "request_incremental_authorization", "request_extended_authorization", "payment_link",
    "force_3ds_challenge", "is_iframe_redirection_enabled", "mandate_id", "payment_experience",
    "enable_partial_authorization", "enable_overcapture", "is_stored_credential", "amount_to_capture",
    "payment_channel", "billing_descriptor", "installment_data", "split_payments", "mit_category",
)
CUSTOMER_FIELDS = ("name", "email", "phone", "phone_country_code")


def _card_input(card: dict, now_year: int, now_month: int) -> PaymentMethodInput:
    for required in ("card_number", "card_exp_month", "card_exp_year", "card_cvc"):
        if required not in card:
            raise _deserialize_error(f"missing field `{required}`")
    number = digits_only(card["card_number"])
    if not number.isdigit() or not 12 <= len(number) <= 19:
        raise _deserialize_error("invalid card number length")
    if not luhn_valid(number):
        raise _deserialize_error("card number invalid")
    cvc = card["card_cvc"]
    if not 3 <= len(cvc) <= 4:
        raise errors.precondition("Invalid card_cvc length")
    if not cvc.isdigit():
        raise errors.precondition("Invalid card_cvc")
    month_text, year_text = card["card_exp_month"].strip(), card["card_exp_year"].strip()
    if not month_text.isdigit() or not 1 <= int(month_text) <= 12:
        raise errors.precondition("Invalid Expiry Month")
    if len(year_text) == 2:
        year_text = "20" + year_text
    if not year_text.isdigit() or len(year_text) != 4:
        raise errors.precondition("Invalid Expiry Year")
    month, year = int(month_text), int(year_text)
    if year < now_year:
        raise errors.precondition("Invalid Expiry Year")
    if year == now_year and month < now_month:
        raise errors.precondition("Card Expired")
    return PaymentMethodInput(
        method="card",
        method_type=None,
        card=CardInput(
            number=number, exp_month=f"{month:02d}", exp_year=str(year),
            holder_name=card.get("card_holder_name"), cvc=cvc, network=card.get("card_network"),
            card_type=card.get("card_type"), issuer=card.get("card_issuer"),
            issuing_country=card.get("card_issuing_country"),
        ),
    )


def payment_method_input(fields: dict, now_ms: int) -> PaymentMethodInput | None:
    """Read ``payment_method_data`` (card, UPI collect, or any other method by name)."""
    data = fields.get("payment_method_data")
    if data is None:
        return None
    kinds = [key for key in data if key != "billing"]
    if not kinds:
        raise _deserialize_error("expected value")
    kind = kinds[0]
    method_type = fields.get("payment_method_type")
    if kind == "card":
        try:
            card = check_fields(obj(data["card"]), CARD_FIELDS, deny_unknown=False)
        except Mismatch as exc:
            raise _deserialize_error(str(exc)) from None
        now = to_datetime(now_ms)
        method = _card_input(card, now.year, now.month)
        method.method_type = method_type or (card.get("card_type") or "credit").lower()
        return method
    if kind == "upi":
        upi = data["upi"] if isinstance(data["upi"], dict) else {}
        collect = upi.get("upi_collect")
        if not isinstance(collect, dict) or not isinstance(collect.get("vpa_id"), str):
            raise errors.missing("payment_method_data.upi.upi_collect.vpa_id")
        return PaymentMethodInput(method="upi", method_type=method_type or "upi_collect", vpa=collect["vpa_id"])
    if kind not in PAYMENT_METHODS:
        listed = ", ".join(f"`{v}`" for v in PAYMENT_METHODS)
        raise _deserialize_error(f"unknown variant `{kind}`, expected one of {listed}")
    details = data[kind] if isinstance(data[kind], dict) else {"value": data[kind]}
    return PaymentMethodInput(method=kind, method_type=method_type, details=details)


def _customer(fields: dict) -> dict | None:
    given = dict(fields.get("customer") or {})
    if given.get("id") and fields.get("customer_id") and given["id"] != fields["customer_id"]:
        raise errors.precondition("The field names `customer_id and customer.id` sent in both places is ambiguous")
    for key in CUSTOMER_FIELDS:
        if key in fields:
            given.setdefault(key, fields[key])
    if fields.get("customer_id"):
        given.setdefault("id", fields["customer_id"])
    return given or None


def payment_changes(fields: dict, now_ms: int, into: PaymentChanges | None = None) -> PaymentChanges:
    """Translate checked PaymentsRequest fields into the domain's change set."""
    changes = into if into is not None else PaymentChanges()
    if "amount" in fields:
        if fields["amount"] > MAX_AMOUNT:
            raise errors.precondition(f"amount should not be more than {MAX_AMOUNT}")
        changes.amount = fields["amount"]
    changes.currency = fields.get("currency")
    capture = fields.get("capture_method")
    if capture in ("manual_multiple", "scheduled"):
        raise errors.not_supported(f"Capture method {capture} is not supported by the dummy connector")
    if capture is not None:
        changes.capture_method = "manual" if capture == "manual" else "automatic"
    changes.authentication_type = fields.get("authentication_type")
    customer = _customer(fields)
    changes.customer_id = (customer or {}).get("id") or fields.get("customer_id")
    changes.description = fields.get("description")
    changes.return_url = fields.get("return_url")
    changes.reference = fields.get("merchant_order_reference_id")
    if "metadata" in fields:
        changes.metadata = fields["metadata"]
    changes.payment_method = payment_method_input(fields, now_ms)
    attributes = {key: fields[key] for key in ECHOED_FIELDS if key in fields}
    if customer:
        attributes["customer"] = customer
    if "profile_id" in fields:
        attributes["profile_id"] = fields["profile_id"]
    billing = (fields.get("payment_method_data") or {}).get("billing")
    if billing is not None:
        attributes["payment_method_billing"] = billing
    request = mandate_request(fields)
    if request is not None:
        attributes["mandate_request"] = request
        if "mandate_data" in fields:
            attributes["mandate_data"] = fields["mandate_data"]
    changes.attributes = attributes
    return changes


def mandate_request(fields: dict) -> dict | None:
    """A mandate the payment asks for: setup_future_usage off_session with mandate_data or a
    customer_acceptance (its type and terms, and the acceptance)."""
    data = fields.get("mandate_data") or {}
    acceptance = data.get("customer_acceptance") or fields.get("customer_acceptance")
    if fields.get("setup_future_usage") != "off_session" or not (data or acceptance):
        return None
    kinds = data.get("mandate_type") or {}
    kind = next((k for k in ("single_use", "multi_use") if k in kinds), "multi_use")
    terms = kinds.get(kind) if isinstance(kinds.get(kind), dict) else {}
    return {"type": kind, "terms": {k: terms.get(k) for k in ("amount", "currency", "start_date", "end_date",
                                                               "metadata")}, "acceptance": acceptance}


def recurring_mandate_id(fields: dict) -> str | None:
    """The mandate an off-session payment is made with: recurring_details, or the older mandate_id."""
    details = fields.get("recurring_details")
    if details is not None:
        if details.get("type") != "mandate_id" or not isinstance(details.get("data"), str):
            raise errors.not_supported("Only recurring_details of type mandate_id are supported by the mock")
        return details["data"]
    return fields.get("mandate_id")


def check_amount_to_capture(fields: dict, amount: int | None, capture_method: str | None) -> None:
    to_capture = fields.get("amount_to_capture")
    if to_capture is None or amount is None:
        return
    if to_capture > amount:
        raise errors.invalid_format("amount_to_capture", "amount_to_capture lesser than amount")
    if (capture_method or "automatic") in ("automatic", "sequential_automatic") and to_capture != amount:
        raise errors.precondition(
            "amount_to_capture must be equal to total_capturable_amount when capture_method = automatic"
        )
