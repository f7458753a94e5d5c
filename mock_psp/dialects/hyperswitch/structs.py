"""The request structs of Hyperswitch's router, field by field, as serde checks them (serde.py)."""

from __future__ import annotations

from .currencies import CURRENCIES
from .serde import Kind
from .serde import amount
from .serde import anything
from .serde import array
from .serde import array_of
from .serde import boolean
from .serde import check_nested
from .serde import enum
from .serde import integer
from .serde import merchant_chosen_id
from .serde import obj
from .serde import string
from .serde import unsigned
from .serde import web_url

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
    "return_url": web_url,
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
