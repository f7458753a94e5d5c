"""What the hosted checkout needs from a dialect, and the stages every payment goes through.

The checkout is one set of pages for every provider. Each dialect supplies an
adapter (``mock_psp/dialects/<name>/checkout.py``) that says how its payments are
paid, confirmed, cancelled and finished; the app registers them by dialect name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mock_psp.domain import payments as p
from mock_psp.domain.namespaces import Namespace
from mock_psp.domain.payments import Payment
from mock_psp.domain.payments import PaymentMethodInput

# Where a payment stands, from the customer's side of the checkout.
ENTER = "enter"          # waiting for a payment method
THREE_DS = "three_ds"    # waiting for the 3DS challenge
CONFIRM = "confirm"      # authorised, waiting for the customer to confirm
PROCESSING = "processing"
DONE = "done"

# The result messages the checkout posts to an embedding page.
SUCCEEDED = "payment.succeeded"
FAILED = "payment.failed"
REQUIRES_ACTION = "payment.requires_action"
CLOSED = "checkout.closed"
RESIZE = "checkout.resize"


@dataclass(frozen=True)
class Summary:
    """What the page shows about the payment."""

    merchant_name: str
    description: str | None
    reference: str | None


class Adapter(Protocol):
    dialect: str
    methods: tuple[str, ...]
    # Whether the checkout itself shows a failure (GOV.UK Pay does) or sends the
    # customer straight back to the merchant with the result (Hyperswitch does).
    shows_failures: bool
    # What a merchant can do to a payment through this dialect's API ("capture", "cancel",
    # "refund"): the dashboard offers no more, so QA never makes a state the API cannot.
    merchant_actions: frozenset[str]

    def result_text(self, payment: Payment) -> tuple[str, str]: ...

    def summary(self, payment: Payment, namespace: Namespace) -> Summary: ...

    def awaiting_entry(self, payment: Payment) -> bool: ...

    def begin(self, store, payment: Payment) -> Payment: ...

    def submit(self, store, payment: Payment, method: PaymentMethodInput) -> Payment: ...

    def confirm(self, store, payment: Payment) -> Payment: ...

    def cancel(self, store, payment: Payment) -> Payment: ...

    def finish_url(self, payment: Payment, namespace: Namespace, base_url: str) -> str | None: ...

    def public_status(self, payment: Payment) -> str: ...

    def embed_payment(self, store, args) -> tuple[Namespace, Payment] | None: ...


def stage(adapter: Adapter, payment: Payment) -> str:
    if payment.customer_action == p.THREE_DS:
        return THREE_DS
    if payment.customer_action == p.CONFIRMATION:
        return CONFIRM
    if payment.status == p.PROCESSING:
        return PROCESSING
    if adapter.awaiting_entry(payment):
        return ENTER
    return DONE


def result_type(payment: Payment) -> str | None:
    """The message a finished (or parked) payment sends to an embedding page."""
    if payment.customer_action == p.THREE_DS:
        return REQUIRES_ACTION
    if payment.status in (p.CAPTURED, p.PARTIALLY_CAPTURED) or (
            payment.status == p.AUTHORIZED and payment.customer_action is None):
        return SUCCEEDED
    if payment.status in (p.FAILED, p.CANCELLED, p.EXPIRED):
        return FAILED
    return None


# Currencies without minor units (ISO 4217 exponent 0) among the common ones.
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split())
SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€", "INR": "₹", "JPY": "¥"}


def money(amount: int, currency: str) -> str:
    """Minor units as the customer reads them: 1450 GBP -> £14.50."""
    if currency in ZERO_DECIMAL:
        text = f"{amount:,}"
    else:
        text = f"{amount // 100:,}.{amount % 100:02d}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"
