"""The test merchant's JSON API for one test (``psp_merchant``), wired into the test's namespace."""

from __future__ import annotations

from typing import Any

import requests

from ..client.control import call
from ..dialects import registry
from .namespace import Namespace


class MerchantClient:
    """The test merchant's JSON API (``psp_merchant``), wired into the test's namespace.

    Reads (``order``, ``orders``, ``webhook_log``) first deliver the webhooks due now,
    so they show what the merchant knows once the provider has told it. Error
    answers raise PspHttpError (``.status``, ``.code``, ``.body``).
    """

    def __init__(self, running, namespace: Namespace):
        self.running = running
        self.namespace = namespace
        self.url: str = running.url
        self.dialect: str = running.merchant.wiring.dialect
        self.currency = registry.named(self.dialect).client.default_currency
        self.http = requests.Session()

    def __repr__(self) -> str:
        return f"<psp merchant {self.dialect} at {self.url} in {self.namespace.id}>"

    def _call(self, method: str, path: str, body: Any = None, headers: dict | None = None, **params) -> Any:
        return call(self.http, method, f"{self.url}/_merchant{path}", body, headers, params or None)

    def settle(self) -> None:
        """Deliver every webhook due now, and wait for the ones in flight."""
        self.namespace.flush()

    def config(self) -> dict:
        return self._call("GET", "/config")

    def create_order(self, amount: int, currency: str | None = None, card: str | dict | None = None,
                     description: str | None = None, idempotency_key: str | None = None) -> dict:
        """Create an order and its payment; with ``card`` it pays at once by API. Returns the order."""
        body: dict[str, Any] = {"amount": amount, "currency": currency or self.currency}
        if card is not None:
            body["card"] = card
        if description is not None:
            body["description"] = description
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._call("POST", "/orders", body, headers)

    def order(self, order_id: str) -> dict:
        self.settle()
        return self._call("GET", f"/orders/{order_id}")

    def orders(self, state: str | None = None) -> list[dict]:
        self.settle()
        return self._call("GET", "/orders", **({"state": state} if state else {}))["data"]

    def refund(self, order_id: str, amount: int | None = None) -> dict:
        """Refund an order (all that is left unless ``amount``); returns the order."""
        return self._call("POST", f"/orders/{order_id}/refunds", {} if amount is None else {"amount": amount})

    def sync(self, order_id: str) -> dict:
        """Ask the provider about the order's payment now; returns the order."""
        return self._call("POST", f"/orders/{order_id}/sync", {})

    def webhook_log(self, result: str | None = None) -> list[dict]:
        """Every webhook the merchant received: ``result`` ok, duplicate, stale, signature_invalid, ..."""
        self.settle()
        return self._call("GET", "/webhook-log", **({"result": result} if result else {}))["data"]

    def reconcile(self, older_than_seconds: float | None = None) -> dict:
        """Run the reconciliation sweep; returns its report."""
        return self._call("POST", "/reconcile", {} if older_than_seconds is None
                          else {"older_than_seconds": older_than_seconds})

    def reset(self) -> None:
        """Forget every order, refund and webhook log row (the wiring stays)."""
        self._call("POST", "/reset", {})

    def close(self) -> None:
        self.http.close()
