"""How the hosted checkout pays GovPay+ transactions (card or a test bank; back to the return URL)."""

from __future__ import annotations

from ...checkout.adapters import Summary
from ...domain import payments
from ...domain.errors import DomainError
from ...domain.namespaces import Namespace
from ...domain.payments import Payment
from ...domain.payments import PaymentChanges
from ...domain.payments import PaymentMethodInput
from . import serialize
from .settings import DIALECT


class GovpayLkCheckout:
    dialect = DIALECT
    methods = ("card", "bank")
    # GovPay+ sends the citizen back to the service whatever happened; the service shows it.
    shows_failures = False
    merchant_actions: frozenset[str] = frozenset()  # GovPay+ has no capture, cancel or refund API

    def result_text(self, payment: Payment) -> tuple[str, str]:
        status = serialize.status(payment)
        if status == serialize.SUCCESS:
            return "Payment successful", "The service has been told. You can return to it now."
        if status == serialize.EXPIRED:
            return "Your payment session has expired", "Nothing was paid. Start again from the service."
        if status == serialize.FAILED:
            return "Payment not completed", "Nothing was paid. You can try again from the service."
        return "Payment in progress", "You can return to the service."

    def summary(self, payment: Payment, namespace: Namespace) -> Summary:
        return Summary(payment.attributes.get("service_name") or "GovPay", payment.description, payment.reference)

    def awaiting_entry(self, payment: Payment) -> bool:
        return payment.status == payments.CUSTOMER_ACTION and payment.customer_action == payments.PAYMENT_PAGE

    def begin(self, store, payment: Payment) -> Payment:
        try:
            return payments.open_payment_page(store, payment.namespace_id, payment.id)
        except DomainError:
            return payment  # already past the payment page: the checkout shows where it stands

    def submit(self, store, payment: Payment, method: PaymentMethodInput) -> Payment:
        return payments.submit_payment_page(store, payment.namespace_id, payment.id,
                                            PaymentChanges(payment_method=method))

    def confirm(self, store, payment: Payment) -> Payment:
        return payment  # no confirmation page

    def cancel(self, store, payment: Payment) -> Payment:
        try:
            return payments.customer_cancel(store, payment.namespace_id, payment.id)
        except DomainError:
            return payment

    def finish_url(self, payment: Payment, namespace: Namespace, base_url: str) -> str | None:
        return payment.return_url  # unchanged: the service asks GovPay+ how it went

    def public_status(self, payment: Payment) -> str:
        return serialize.status(payment)

    def embed_payment(self, store, args):
        return None  # GovPay+ has no embeddable SDK
