"""How the hosted checkout pays Hyperswitch payments (payment links, 3DS, the SDK)."""

from __future__ import annotations

from ...checkout.adapters import Summary
from ...domain import namespaces
from ...domain import payments
from ...domain.errors import DomainError
from ...domain.namespaces import Namespace
from ...domain.payments import Payment
from ...domain.payments import PaymentChanges
from ...domain.payments import PaymentMethodInput
from . import serialize
from .keys import KEY
from .keys import NAME
from .keys import keys_of


class HyperswitchCheckout:
    dialect = NAME
    methods = ("card", "upi")
    shows_failures = False
    merchant_actions = frozenset({"capture", "cancel", "refund"})

    def result_text(self, payment: Payment) -> tuple[str, str]:
        status = serialize.intent_status(payment)
        if status in ("succeeded", "requires_capture", "partially_captured"):
            return "Payment successful", "Your payment has been received."
        if status == "failed":
            return "Payment failed", serialize.failure_codes(payment.failure_reason)[1] or "The payment failed."
        return f"Payment {status.replace('_', ' ')}", "You can close this page."

    def summary(self, payment: Payment, namespace: Namespace) -> Summary:
        profile = namespace.settings_of(KEY)
        return Summary(profile.get("profile_name") or keys_of(namespace).merchant_id,
                       payment.description, payment.reference)

    def awaiting_entry(self, payment: Payment) -> bool:
        return payment.status == payments.CREATED

    def begin(self, store, payment: Payment) -> Payment:
        return payment  # a Hyperswitch payment stays requires_payment_method until confirmed

    def submit(self, store, payment: Payment, method: PaymentMethodInput) -> Payment:
        return payments.confirm_payment(store, payment.namespace_id, payment.id, PaymentChanges(payment_method=method))

    def confirm(self, store, payment: Payment) -> Payment:
        return payment  # no confirm step after authorisation

    def cancel(self, store, payment: Payment) -> Payment:
        return payment  # leaving the checkout does not change a Hyperswitch payment

    def finish_url(self, payment: Payment, namespace: Namespace, base_url: str) -> str | None:
        """Through the router's redirect-response hop, which signs the merchant's return_url."""
        return (f"{base_url}/hyperswitch/payments/{payment.id}/{keys_of(namespace).merchant_id}"
                f"/redirect/response/{serialize.CONNECTOR}")

    def public_status(self, payment: Payment) -> str:
        return serialize.intent_status(payment)

    def embed_payment(self, store, args) -> tuple[Namespace, Payment] | None:
        """The SDK's Hyperswitch form: a publishable key and the payment's client_secret."""
        key, secret = args.get("publishable_key"), args.get("client_secret")
        if not key or not secret:
            return None
        namespace = namespaces.find_by_key(store, KEY, "publishable_key", key)
        if namespace is None:
            raise DomainError("not_found", "unknown publishable key", {"object": "namespace", "object_id": key})
        payment = payments.get_payment(store, namespace.id, secret.split("_secret_")[0])
        payments.check_client_secret(payment, secret, namespace.now_ms())
        return namespace, payment
