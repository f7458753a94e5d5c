"""GovPay+ representations: a transaction as the status inquiry shows it, amounts as decimal text."""

from __future__ import annotations

from decimal import Decimal
from decimal import InvalidOperation

from ...domain import payments as p
from ...domain.payments import Payment
from ...runtime.clock import iso_ms

PENDING, SUCCESS, FAILED, EXPIRED = "PENDING", "SUCCESS", "FAILED", "EXPIRED"
STATUS_BY_DOMAIN = {p.CAPTURED: SUCCESS, p.PARTIALLY_CAPTURED: SUCCESS, p.FAILED: FAILED, p.CANCELLED: FAILED,
                    p.EXPIRED: EXPIRED}
METHODS = {"card": "CARD", "bank_redirect": "BANK"}
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
    try:
        value = Decimal(str(text).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{text!r} is not an amount") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{text!r} is not a positive amount")
    scaled = value if currency in ZERO_DECIMAL else value * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{text!r} has more decimals than {currency} allows")
    return int(scaled)


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
