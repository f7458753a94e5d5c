"""How the hosted checkout pays GOV.UK Pay payments (next_url, confirm, cancel)."""

from __future__ import annotations

from ...checkout.adapters import Summary
from ...domain import payments
from ...domain.errors import DomainError
from ...domain.namespaces import Namespace
from ...domain.payments import Payment
from ...domain.payments import PaymentChanges
from ...domain.payments import PaymentMethodInput
from . import serialize
from .keys import NAME


class GovukCheckout:
    dialect = NAME
    methods = ("card",)
    shows_failures = True
    merchant_actions = frozenset({"capture", "cancel", "refund"})

    def result_text(self, payment: Payment) -> tuple[str, str]:
        state = serialize.payment_state(payment)
        if state == serialize.EXPIRED:
            return "Your payment session has expired", "No money has been taken from your account."
        if state == serialize.REJECTED:
            return ("Your payment has been declined",
                    "Contact your bank for more details. No money has been taken from your account.")
        if state in (serialize.USER_CANCELLED, serialize.SERVICE_CANCELLED):
            return "Your payment has been cancelled", "You have not been charged."
        if state == serialize.ERROR:
            return "We're experiencing technical problems", "No money has been taken from your account."
        if state[0] in ("success", "capturable"):
            return "Your payment was successful", "You can now return to the service."
        return "Your payment is in progress", "You can return to the service."

    def summary(self, payment: Payment, namespace: Namespace) -> Summary:
        return Summary("GOV.UK Pay", payment.description, payment.reference)

    def awaiting_entry(self, payment: Payment) -> bool:
        if serialize.is_moto_api(payment):
            return False  # its service sends the card through POST /v1/auth
        return payment.status == payments.CUSTOMER_ACTION and payment.customer_action == payments.PAYMENT_PAGE

    def begin(self, store, payment: Payment) -> Payment:
        """Opening the page starts the payment (created -> started); never a moto_api one."""
        if serialize.is_moto_api(payment):
            return payment
        try:
            return payments.open_payment_page(store, payment.namespace_id, payment.id)
        except DomainError:
            return payment  # already past the card page: the checkout shows where it stands

    def submit(self, store, payment: Payment, method: PaymentMethodInput) -> Payment:
        changes = PaymentChanges(payment_method=method)
        billing = (method.details or {}).get("billing_address")
        if billing:
            changes.attributes = {"billing_address": billing}
        return payments.submit_payment_page(store, payment.namespace_id, payment.id, changes)

    def confirm(self, store, payment: Payment) -> Payment:
        return payments.customer_confirm(store, payment.namespace_id, payment.id)

    def cancel(self, store, payment: Payment) -> Payment:
        try:
            return payments.customer_cancel(store, payment.namespace_id, payment.id)
        except DomainError:
            return payment

    def finish_url(self, payment: Payment, namespace: Namespace, base_url: str) -> str | None:
        """GOV.UK Pay sends the user back to return_url with nothing added."""
        return payment.return_url

    def public_status(self, payment: Payment) -> str:
        return serialize.payment_state(payment)[0]

    def embed_payment(self, store, args):
        return None  # GOV.UK payments are embedded through their next_url
