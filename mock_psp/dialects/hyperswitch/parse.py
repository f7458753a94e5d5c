"""From checked Hyperswitch request fields to the domain's inputs (PaymentChanges, PaymentMethodInput)."""

from __future__ import annotations

from ...domain.cards import digits_only
from ...domain.cards import luhn_valid
from ...domain.numbers import is_ascii_digits
from ...domain.payments import CardInput
from ...domain.payments import PaymentChanges
from ...domain.payments import PaymentMethodInput
from ...runtime.clock import to_datetime
from . import errors
from .cards import TEST_CARDS
from .serde import MAX_AMOUNT
from .serde import Mismatch
from .serde import check_fields
from .serde import deserialize_error
from .serde import obj
from .structs import CARD_FIELDS
from .structs import PAYMENT_METHODS

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
            raise deserialize_error(f"missing field `{required}`")
    number = digits_only(card["card_number"])
    if not is_ascii_digits(number) or not 12 <= len(number) <= 19:
        raise deserialize_error("invalid card number length")
    if not luhn_valid(number):
        raise deserialize_error("card number invalid")
    cvc = card["card_cvc"]
    if not 3 <= len(cvc) <= 4:
        raise errors.precondition("Invalid card_cvc length")
    if not is_ascii_digits(cvc):
        raise errors.precondition("Invalid card_cvc")
    month_text, year_text = card["card_exp_month"].strip(), card["card_exp_year"].strip()
    if not (is_ascii_digits(month_text) and len(month_text) <= 2 and 1 <= int(month_text) <= 12):
        raise errors.precondition("Invalid Expiry Month")
    if len(year_text) == 2:
        year_text = "20" + year_text
    if not is_ascii_digits(year_text) or len(year_text) != 4:
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
            issuing_country=card.get("card_issuing_country"), book=TEST_CARDS,
        ),
    )


def payment_method_input(fields: dict, now_ms: int) -> PaymentMethodInput | None:
    """Read ``payment_method_data`` (card, UPI collect, or any other method by name)."""
    data = fields.get("payment_method_data")
    if data is None:
        return None
    kinds = [key for key in data if key != "billing"]
    if not kinds:
        raise deserialize_error("expected value")
    kind = kinds[0]
    method_type = fields.get("payment_method_type")
    if kind == "card":
        try:
            card = check_fields(obj(data["card"]), CARD_FIELDS, deny_unknown=False)
        except Mismatch as exc:
            raise deserialize_error(str(exc)) from None
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
        raise deserialize_error(f"unknown variant `{kind}`, expected one of {listed}")
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
