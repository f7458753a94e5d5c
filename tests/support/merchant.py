"""Driving a live test merchant and its provider namespace from tests."""

from __future__ import annotations

import hashlib
import hmac
import json

import requests

from mock_psp.client.control import Control
from mock_psp.test_merchant.run import RunningMerchant


class Shop:
    """A running merchant, its JSON API, and the provider namespace it is wired to."""

    def __init__(self, running: RunningMerchant):
        self.running = running
        self.url = running.url
        config = self.get("/_merchant/config")
        self.dialect = config["dialect"]
        self.psp = config["psp_url"]
        self.namespace_id = config["namespace"]
        self.client = Control(self.psp, self.namespace_id)
        self.namespace = self.client.namespace_document()

    # -- the merchant ----------------------------------------------------------------------------

    def get(self, path: str, **params) -> dict:
        reply = requests.get(self.url + path, params=params, timeout=30)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def post(self, path: str, body: dict | None = None, expect: int | tuple = (200, 201), **kwargs) -> dict:
        reply = requests.post(self.url + path, json=body if body is not None else {}, timeout=60, **kwargs)
        expected = expect if isinstance(expect, tuple) else (expect,)
        assert reply.status_code in expected, f"{reply.status_code} {reply.text}"
        return reply.json()

    def order(self, order_id: str) -> dict:
        return self.get(f"/_merchant/orders/{order_id}")

    def buy(self, amount: int = 1000, card: object = "4242424242424242", **extra) -> dict:
        currency = {"govuk": "GBP", "govpay-lk": "LKR"}.get(self.dialect, "USD")
        body = {"amount": amount, "currency": currency, **extra}
        if card is not None:
            body["card"] = card
        return self.post("/_merchant/orders", body)

    def refund(self, order_id: str, amount: int | None = None, expect=(201,)) -> dict:
        return self.post(f"/_merchant/orders/{order_id}/refunds", {} if amount is None else {"amount": amount},
                         expect=expect)

    def log(self, result: str | None = None) -> list[dict]:
        return self.get("/_merchant/webhook-log", **({"result": result} if result else {}))["data"]

    def reconcile(self, older_than: float | None = 0) -> dict:
        return self.post("/_merchant/reconcile", {} if older_than is None else {"older_than_seconds": older_than})

    def deliver(self, body: bytes, headers: dict) -> requests.Response:
        return requests.post(f"{self.url}/webhooks/{self.dialect}", data=body, headers=headers, timeout=30)

    # -- the provider ----------------------------------------------------------------------------

    def psp_call(self, method: str, path: str, body: dict | None = None) -> dict:
        """A control call in the shop's namespace (``path`` from ``/_mock``)."""
        return self.client.call(method, path.removeprefix("/_mock"), body)

    def settle(self) -> None:
        """Deliver every webhook due now and wait for the ones in flight."""
        self.client.flush()

    def advance(self, seconds: float) -> None:
        self.client.advance(seconds)

    def virtual_clock(self) -> None:
        self.client.set_config({"clock": "virtual"})

    def deliveries(self, **params) -> list[dict]:
        return self.client.deliveries(**params)

    def delivery(self, delivery_id: str) -> dict:
        return self.client.delivery(delivery_id)

    @property
    def secret(self) -> str:
        if self.dialect == "govuk":
            return self.namespace["govuk"]["webhook_signing_secret"]
        return self.namespace["hyperswitch"]["payment_response_hash_key"]

    def signed(self, payload: dict | bytes) -> tuple[bytes, dict]:
        """A body signed the way the provider signs it for this merchant's dialect."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if self.dialect == "govuk":
            return body, {"Content-Type": "application/json",
                          "Pay-Signature": hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()}
        return body, {"Content-Type": "application/json",
                      "X-Webhook-Signature-512": hmac.new(self.secret.encode(), body, hashlib.sha512).hexdigest()}

    def provider_payment(self, payment_id: str) -> dict:
        if self.dialect == "govuk":
            return requests.get(f"{self.psp}/govuk/v1/payments/{payment_id}", timeout=10,
                                headers={"Authorization": f"Bearer {self.namespace['govuk']['api_key']}"}).json()
        return requests.get(f"{self.psp}/hyperswitch/payments/{payment_id}", timeout=10,
                            headers={"api-key": self.namespace["hyperswitch"]["api_key"]}).json()

    def provider_refunds(self, payment_id: str) -> list[dict]:
        if self.dialect == "govuk":
            reply = requests.get(f"{self.psp}/govuk/v1/payments/{payment_id}/refunds", timeout=10,
                                 headers={"Authorization": f"Bearer {self.namespace['govuk']['api_key']}"})
            return reply.json()["_embedded"]["refunds"]
        reply = requests.post(f"{self.psp}/hyperswitch/refunds/list", json={"payment_id": payment_id, "limit": 100},
                              headers={"api-key": self.namespace["hyperswitch"]["api_key"]}, timeout=10)
        return reply.json()["data"]
