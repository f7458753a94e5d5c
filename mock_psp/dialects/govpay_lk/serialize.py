"""GovPay+ representations: a transaction as the status inquiry shows it, amounts as decimal text."""

from __future__ import annotations

from decimal import Decimal

from ...domain import numbers
from ...domain import payments as p
from ...domain.errors import DomainError
from ...domain.payments import Payment
from ...runtime.clock import iso_ms

PENDING, SUCCESS, FAILED, EXPIRED = "PENDING", "SUCCESS", "FAILED", "EXPIRED"
PAYMENT_STATUSES = (PENDING, SUCCESS, FAILED, EXPIRED)  # a transaction's status in the status inquiry
STATUS_BY_DOMAIN = {p.CAPTURED: SUCCESS, p.PARTIALLY_CAPTURED: SUCCESS, p.FAILED: FAILED, p.CANCELLED: FAILED,
                    p.EXPIRED: EXPIRED}
METHODS = {"card": "CARD", "bank_redirect": "BANK"}
MAX_AMOUNT = 10**12  # in the major unit: far past any bill, and its minor units still fit SQLite
# Currencies this dialect shows without minor units; everything else has two decimals.
ZERO_DECIMAL = frozenset({"JPY", "KRW"})


def status(payment: Payment) -> str:
    return STATUS_BY_DOMAIN.get(payment.status, PENDING)


def decimal_text(amount_minor: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        return str(amount_minor)
    return f"{Decimal(amount_minor) / 100:.2f}"


def minor_units(text: str, currency: str) -> int:
    """"1500.00" LKR -> 150000. Raises ValueError for anything that is not a plain amount."""
    places = 0 if currency in ZERO_DECIMAL else 2
    try:  # ASCII digits only (Decimal() takes "١٥٠٠" and "1e999999999"), bounded, thousands separators allowed
        value = numbers.parse_decimal(str(text).strip().replace(",", ""), "amount", places, 0, MAX_AMOUNT)
    except DomainError as refused:
        raise ValueError(f"{text!r} is not an amount: {refused.message}") from None
    if value <= 0:
        raise ValueError(f"{text!r} is not a positive amount")
    return int(value.scaleb(places))


def gateway_transaction_id(payment: Payment) -> str | None:
    if payment.connector_transaction_id is None:
        return None
    return "GPG" + payment.connector_transaction_id.replace("-", "")[:16].upper()


def transaction_json(payment: Payment) -> dict:
    attrs = payment.attributes
    return {
        "transactionID": payment.id,
        "refNo": payment.reference,
        "subinstId": attrs.get("subinst_id", ""),
        "serviceid": attrs.get("service_id", ""),
        "serviceName": attrs.get("service_name", ""),
        "amount": decimal_text(payment.amount, payment.currency),
        "currency": payment.currency,
        "status": status(payment),
        "paymentMethod": METHODS.get(payment.payment_method or "") if payment.payment_method else None,
        "gatewayTransactionId": gateway_transaction_id(payment) if status(payment) == SUCCESS else None,
        "createdAt": iso_ms(payment.created_at),
        "updatedAt": iso_ms(payment.updated_at),
        "expiresAt": iso_ms(payment.session_expires_at),
    }


def request_envelope(payment_or_identity: dict, transaction_id: str, data: list[tuple[str, str]]) -> dict:
    """The common GovPay+ request: the envelope in clear, ``data`` as seq/paramName/value items."""
    return {
        "transactionID": transaction_id,
        "subinstId": payment_or_identity.get("subinst_id", ""),
        "serviceid": payment_or_identity.get("service_id", ""),
        "serviceName": payment_or_identity.get("service_name", ""),
        "data": [{"seq": str(i), "paramName": name, "value": value} for i, (name, value) in enumerate(data, 1)],
    }
