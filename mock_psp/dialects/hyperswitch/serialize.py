"""Domain objects rendered as Hyperswitch's PaymentsResponse and RefundResponse.

Every field the real API returns is present, null when empty (only `attempts`
and `captures` are left out, as the real serializer skips them when absent).
"""

from __future__ import annotations

import hashlib
from typing import Any

from ...domain import outcomes
from ...domain import payments as p
from ...domain import refunds as r
from ...domain.namespaces import Namespace
from ...domain.payments import Payment
from ...domain.refunds import Refund
from ...runtime.clock import iso_ms
from .keys import keys_of

CONNECTOR = "stripe_test"

PAYMENT_RESPONSE_FIELDS = (
    "payment_id", "merchant_id", "status", "amount", "net_amount", "shipping_cost", "amount_capturable",
    "amount_received", "processor_merchant_id", "initiator", "sdk_authorization", "connector",
    "state_metadata", "client_secret", "created", "modified_at", "connector_customer_id", "currency",
    "customer_id", "customer", "description", "refunds", "disputes", "mandate_id", "mandate_data",
    "setup_future_usage", "off_session", "capture_on", "capture_method", "payment_method",
    "payment_method_data", "payment_token", "shipping", "billing", "order_details", "email", "name",
    "phone", "return_url", "authentication_type", "statement_descriptor_name",
    "statement_descriptor_suffix", "next_action", "cancellation_reason", "error_code", "error_message",
    "unified_code", "unified_message", "error_details", "payment_experience", "payment_method_type",
    "connector_label", "business_country", "business_label", "business_sub_label",
    "allowed_payment_method_types", "manual_retry_allowed", "connector_transaction_id", "frm_message",
    "metadata", "connector_metadata", "connector_response_metadata", "feature_metadata", "reference_id",
    "payment_link", "profile_id", "surcharge_details", "attempt_count", "merchant_decision",
    "merchant_connector_id", "incremental_authorization_allowed", "authorization_count",
    "incremental_authorizations", "external_authentication_details", "external_3ds_authentication_attempted",
    "expires_on", "fingerprint", "browser_info", "payment_channel", "payment_method_id",
    "network_transaction_id", "network_transaction_link_id", "payment_method_status", "updated",
    "split_payments", "frm_metadata", "extended_authorization_applied",
    "extended_authorization_last_applied_at", "request_extended_authorization", "capture_before",
    "merchant_order_reference_id", "order_tax_amount", "connector_mandate_id", "card_discovery",
    "force_3ds_challenge", "force_3ds_challenge_trigger", "issuer_error_code", "issuer_error_message",
    "is_iframe_redirection_enabled", "whole_connector_response", "enable_partial_authorization",
    "enable_overcapture", "is_overcapture_enabled", "network_details", "is_stored_credential",
    "mit_category", "billing_descriptor", "tokenization", "partner_merchant_identifier_details",
    "payment_method_tokenization_details", "installment_options", "installment_data",
    "sender_payment_instrument_id",
)

_STATUS_NAMES = {
    p.CUSTOMER_ACTION: "requires_customer_action",
    p.PROCESSING: "processing",
    p.AUTHORIZED: "requires_capture",
    p.CAPTURED: "succeeded",
    p.PARTIALLY_CAPTURED: "partially_captured",
    p.FAILED: "failed",
    p.CANCELLED: "cancelled",
    p.EXPIRED: "expired",
}

# Neutral failure reasons as the dummy connector reports them.
_FAILURES = {
    outcomes.CARD_DECLINED: ("DC_08", "Payment declined: Card declined"),
    outcomes.INSUFFICIENT_FUNDS: ("DC_08", "Payment declined: Insufficient funds"),
    outcomes.LOST_CARD: ("DC_08", "Payment declined: Lost card"),
    outcomes.STOLEN_CARD: ("DC_08", "Payment declined: Stolen card"),
    outcomes.CARD_NOT_SUPPORTED: ("DC_04", "Card not supported. Please use test cards"),
    outcomes.AUTHENTICATION_FAILED: ("DC_08", "Payment declined: Authentication failed"),
    outcomes.PAYMENT_METHOD_FAILED: ("DC_08", "Payment declined: Payment failed"),
    outcomes.CANCELLED_BY_USER: ("DC_08", "Payment declined: Cancelled by the customer"),
    r.REFUND_FAILED_REASON: ("DC_00", "Something went wrong"),
}
UNIFIED_FAILURE = ("UE_9000", "Something went wrong")
# Every intent status a payment can show (intent_status_name's answers).
PAYMENT_STATUSES = ("requires_payment_method", "requires_confirmation", *_STATUS_NAMES.values())


def intent_status_name(status: str, has_payment_method: bool) -> str:
    if status == p.CREATED:
        return "requires_confirmation" if has_payment_method else "requires_payment_method"
    return _STATUS_NAMES[status]


def intent_status(payment: Payment) -> str:
    return intent_status_name(payment.status, payment.payment_method_data is not None)


def failure_codes(reason: str | None) -> tuple[str | None, str | None]:
    if reason is None or reason == outcomes.EXPIRED:
        return None, None
    return _FAILURES.get(reason, ("DC_08", f"Payment declined: {reason.replace('_', ' ')}"))


def _payment_method_data(payment: Payment) -> dict | None:
    stored = payment.payment_method_data
    if stored is None:
        return None
    billing = payment.attributes.get("payment_method_billing")
    if "card" in stored:
        c = stored["card"]
        return {
            "card": {
                "last4": c["last4"],
                "card_type": c.get("type"),
                "card_network": c.get("network"),
                "card_issuer": c.get("issuer"),
                "card_issuing_country": c.get("issuing_country"),
                "card_isin": c["bin"],
                "card_extended_bin": None,
                "card_exp_month": c["exp_month"],
                "card_exp_year": c["exp_year"],
                "card_holder_name": c.get("holder_name"),
                "payment_checks": None,
                "authentication_data": None,
                "auth_code": None,
            },
            "billing": billing,
        }
    if "upi" in stored:
        return {"upi": {"upi_collect": {"vpa_id": _mask_vpa(stored["upi"]["vpa"])}}, "billing": billing}
    kind = next(iter(stored))
    return {kind: {}, "billing": billing}


def _mask_vpa(vpa: str) -> str:
    name, _, bank = vpa.partition("@")
    return (name[:2] + "*" * max(len(name) - 2, 0)) + ("@" + bank if bank else "")


def _next_action(payment: Payment, redirect_base: str, namespace: Namespace) -> dict | None:
    if payment.status != p.CUSTOMER_ACTION:
        return None
    return {
        "type": "redirect_to_url",
        "redirect_to_url": (
            f"{redirect_base}/payments/redirect/{payment.id}/"
            f"{keys_of(namespace).merchant_id}/{payment.attempt_id}"
        ),
    }


def connector_transaction_id(payment: Payment) -> str | None:
    """The dummy connector's id for the attempt: ``dummy_pay_`` and 21 characters."""
    if payment.connector_transaction_id is None:
        return None
    return "dummy_pay_" + payment.connector_transaction_id.replace("-", "")[:21]


def manual_retry_allowed(payment: Payment, namespace: Namespace) -> bool:
    return payment.status == p.FAILED and bool(namespace.config.get("manual_retry"))


def payment_response(payment: Payment, namespace: Namespace, refunds: list[Refund], base_url: str) -> dict:
    """Render a payment as GET /payments/{id} answers it."""
    attrs = payment.attributes
    customer = attrs.get("customer")
    error_code, error_message = failure_codes(payment.failure_reason)
    routed = payment.attempt_count > 0
    merchant_id = keys_of(namespace).merchant_id
    body: dict[str, Any] = dict.fromkeys(PAYMENT_RESPONSE_FIELDS)
    shipping_cost = attrs.get("shipping_cost") or 0
    order_tax = attrs.get("order_tax_amount") or 0
    body.update(
        payment_id=payment.id,
        merchant_id=merchant_id,
        status=intent_status(payment),
        amount=payment.amount,
        net_amount=payment.amount + shipping_cost + order_tax,
        shipping_cost=attrs.get("shipping_cost"),
        amount_capturable=payment.amount_capturable,
        amount_received=payment.amount_captured or None,
        processor_merchant_id=merchant_id,
        connector=CONNECTOR if routed else None,
        client_secret=payment.client_secret,
        created=iso_ms(payment.created_at),
        modified_at=iso_ms(payment.updated_at),
        currency=payment.currency,
        customer_id=payment.customer_id,
        customer=_customer(customer),
        description=payment.description,
        refunds=[refund_response(x, namespace) for x in refunds] or None,
        mandate_id=attrs.get("mandate_id"),
        mandate_data=attrs.get("mandate_data"),
        setup_future_usage=attrs.get("setup_future_usage"),
        off_session=attrs.get("off_session"),
        capture_method=payment.capture_method,
        payment_method=payment.payment_method,
        payment_method_data=_payment_method_data(payment),
        shipping=attrs.get("shipping"),
        billing=attrs.get("billing"),
        order_details=attrs.get("order_details"),
        email=(customer or {}).get("email"),
        name=(customer or {}).get("name"),
        phone=(customer or {}).get("phone"),
        return_url=payment.return_url,
        authentication_type=payment.authentication_type or "no_three_ds",
        statement_descriptor_name=attrs.get("statement_descriptor_name"),
        statement_descriptor_suffix=attrs.get("statement_descriptor_suffix"),
        next_action=_next_action(payment, base_url, namespace),
        cancellation_reason=payment.cancellation_reason,
        error_code=error_code,
        error_message=error_message,
        unified_code=UNIFIED_FAILURE[0] if error_code else None,
        unified_message=UNIFIED_FAILURE[1] if error_code else None,
        payment_experience=attrs.get("payment_experience"),
        payment_method_type=payment.payment_method_type,
        business_country=attrs.get("business_country"),
        business_label=attrs.get("business_label"),
        business_sub_label=attrs.get("business_sub_label"),
        allowed_payment_method_types=attrs.get("allowed_payment_method_types"),
        manual_retry_allowed=manual_retry_allowed(payment, namespace),
        connector_transaction_id=connector_transaction_id(payment),
        metadata=payment.metadata,
        connector_metadata=attrs.get("connector_metadata"),
        profile_id=attrs.get("profile_id") or keys_of(namespace).profile_id,
        attempt_count=payment.attempt_count,
        merchant_connector_id=_merchant_connector_id(namespace) if routed else None,
        incremental_authorization_allowed=False if routed else None,
        external_3ds_authentication_attempted=False,
        expires_on=iso_ms(payment.session_expires_at),
        browser_info=attrs.get("browser_info"),
        payment_channel=attrs.get("payment_channel"),
        updated=iso_ms(payment.updated_at),
        split_payments=attrs.get("split_payments"),
        frm_metadata=attrs.get("frm_metadata"),
        request_extended_authorization=attrs.get("request_extended_authorization"),
        merchant_order_reference_id=payment.reference,
        order_tax_amount=attrs.get("order_tax_amount"),
        card_discovery="manual" if payment.payment_method == "card" else None,
        payment_link=_payment_link(payment, namespace, base_url),
        force_3ds_challenge=attrs.get("force_3ds_challenge", False),
        force_3ds_challenge_trigger=False if routed else None,
        is_iframe_redirection_enabled=attrs.get("is_iframe_redirection_enabled"),
        enable_partial_authorization=attrs.get("enable_partial_authorization"),
        enable_overcapture=attrs.get("enable_overcapture"),
        is_stored_credential=attrs.get("is_stored_credential"),
        mit_category=attrs.get("mit_category"),
        billing_descriptor=attrs.get("billing_descriptor"),
        installment_data=attrs.get("installment_data"),
    )
    return body


def payment_link_id(payment: Payment) -> str:
    return "plink_" + hashlib.blake2b(payment.id.encode(), digest_size=10).hexdigest()


def _payment_link(payment: Payment, namespace: Namespace, base_url: str) -> dict | None:
    """``payment_link: true`` at create: the hosted checkout's link, in the real link's form."""
    if not payment.attributes.get("payment_link"):
        return None
    path = f"payment_link/{keys_of(namespace).merchant_id}/{payment.id}"
    return {"link": f"{base_url}/{path}?locale=en", "secure_link": f"{base_url}/payment_link/s/"
            f"{keys_of(namespace).merchant_id}/{payment.id}", "payment_link_id": payment_link_id(payment)}


def _customer(customer: dict | None) -> dict | None:
    if not customer:
        return None
    return {
        "id": customer.get("id"),
        "name": customer.get("name"),
        "email": customer.get("email"),
        "phone": customer.get("phone"),
        "phone_country_code": customer.get("phone_country_code"),
    }


def _merchant_connector_id(namespace: Namespace) -> str:
    return "mca_" + keys_of(namespace).profile_id.removeprefix("pro_")


def refund_response(refund: Refund, namespace: Namespace) -> dict:
    error_code, error_message = failure_codes(refund.failure_reason)
    return {
        "refund_id": refund.id,
        "payment_id": refund.payment_id,
        "amount": refund.amount,
        "currency": refund.currency,
        "status": refund.status,
        "reason": refund.reason,
        "metadata": refund.metadata,
        "error_message": error_message,
        "error_code": error_code,
        "unified_code": UNIFIED_FAILURE[0] if error_code else None,
        "unified_message": UNIFIED_FAILURE[1] if error_code else None,
        "created_at": iso_ms(refund.created_at),
        "updated_at": iso_ms(refund.updated_at),
        "connector": CONNECTOR,
        "profile_id": keys_of(namespace).profile_id,
        "merchant_connector_id": _merchant_connector_id(namespace),
        "split_refunds": None,
        "issuer_error_code": None,
        "issuer_error_message": None,
        "raw_connector_response": None,
        "connector_refund_id": refund.connector_refund_id,
    }
