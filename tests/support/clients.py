"""Small HTTP helpers for tests: one interface over Flask's test client and a live server.

Every response to a Hyperswitch API path is checked against the published
OpenAPI document (see support/spec.py) before the test sees it, and counted.
The helpers' control calls go through mock-psp's own control API client
(mock_psp/client), over whichever transport the test uses; ``.control`` stays the
raw HTTP for tests of the control API itself.
"""

from __future__ import annotations

import json as jsonlib
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urlsplit

import requests

from mock_psp.client.control import Control

from . import govuk_spec
from . import spec

CHECKED = {"responses": 0, "govuk": 0}
_checked_lock = threading.Lock()

GOOD_CARD = {
    "card_number": "4242424242424242",
    "card_exp_month": "12",
    "card_exp_year": "2035",
    "card_cvc": "123",
    "card_holder_name": "Joe Tester",
}


# What a GOV.UK Pay service sends to POST /v1/auth for a moto_api payment (with the token).
MOTO_CARD = {"card_number": "4444333322221111", "cvc": "123", "expiry_date": "12/35", "cardholder_name": "Ms Phone"}


def card(number: str = "4242424242424242", **overrides) -> dict:
    return {"payment_method": "card", "payment_method_data": {"card": {**GOOD_CARD, "card_number": number, **overrides}}}


@dataclass
class Reply:
    status: int
    headers: dict
    text: str

    @property
    def json(self) -> Any:
        return jsonlib.loads(self.text) if self.text else None

    @property
    def error(self) -> dict:
        body = self.json
        assert isinstance(body, dict) and "error" in body, f"expected an error envelope, got {self.status}: {self.text}"
        return body["error"]


def _conform(method: str, path: str, reply: Reply) -> None:
    if reply.headers.get("X-Mock-Fault"):
        return  # an injected fault (API fault "error"): on purpose not the API's documented answer
    if path.startswith(govuk_spec.PREFIX + "/"):
        body = reply.json if reply.headers.get("Content-Type", "").startswith("application/json") else reply.text
        if govuk_spec.check_response(method, path, reply.status, body) is not None:
            with _checked_lock:
                CHECKED["govuk"] += 1
        return
    if not reply.headers.get("Content-Type", "").startswith("application/json"):
        if path.startswith(spec.PREFIX + "/") and spec._operation(method, path[len(spec.PREFIX):].split("?")[0]):
            raise spec.ConformanceError(f"{method} {path} answered {reply.status} with non-JSON: {reply.text[:200]}")
        return
    if spec.check_response(method, path, reply.status, reply.json) is not None:
        with _checked_lock:
            CHECKED["responses"] += 1


class FlaskTransport:
    def __init__(self, client):
        self.client = client

    def request(self, method: str, path: str, headers: dict, data: bytes | None) -> Reply:
        response = self.client.open(path, method=method, headers=headers, data=data)
        return Reply(response.status_code, dict(response.headers), response.get_data(as_text=True))


class LiveTransport:
    def __init__(self, base_url: str, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()

    def request(self, method: str, path: str, headers: dict, data: bytes | None) -> Reply:
        response = self.session.request(method, self.base_url + path, headers=headers, data=data,
                                        allow_redirects=False, timeout=30)
        return Reply(response.status_code, dict(response.headers), response.text)


class _Answer:
    """What the control client reads of an answer (status_code, text, json())."""

    def __init__(self, reply: Reply):
        self.status_code, self.text = reply.status, reply.text

    def json(self) -> Any:
        return jsonlib.loads(self.text)


class TransportSession:
    """The one method of requests.Session the control client calls, over a test transport."""

    def __init__(self, transport):
        self.transport = transport

    def request(self, method: str, url: str, timeout: float | None = None, json: Any = None,
                headers: dict | None = None, params: dict | None = None) -> _Answer:
        parts = urlsplit(url)
        path = parts.path + (f"?{urlencode(params)}" if params else (f"?{parts.query}" if parts.query else ""))
        data = jsonlib.dumps(json).encode() if json is not None else None
        sent = {**(headers or {}), **({"Content-Type": "application/json"} if data is not None else {})}
        return _Answer(self.transport.request(method, path, sent, data))


def control_client(transport, namespace_id: str) -> Control:
    return Control("http://provider.invalid", namespace_id, session=TransportSession(transport))


class Api:
    """Calls with JSON bodies and default headers; Hyperswitch replies are spec-checked."""

    def __init__(self, transport, headers: dict | None = None):
        self.transport = transport
        self.headers = dict(headers or {})

    def call(self, method: str, path: str, json: Any = None, headers: dict | None = None,
             data: bytes | str | None = None, content_type: str | None = "application/json") -> Reply:
        merged = {**self.headers, **(headers or {})}
        if json is not None:
            data = jsonlib.dumps(json)
        if isinstance(data, str):
            data = data.encode()
        if data is not None and content_type and "Content-Type" not in merged:
            merged["Content-Type"] = content_type
        merged = {k: v for k, v in merged.items() if v is not None}
        reply = self.transport.request(method, path, merged, data)
        _conform(method, path, reply)
        return reply

    def get(self, path: str, **kw) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw) -> Reply:
        return self.call("POST", path, json=json, **kw)

    def put(self, path: str, json: Any = None, **kw) -> Reply:
        return self.call("PUT", path, json=json, **kw)

    def with_headers(self, **headers) -> Api:
        return Api(self.transport, {**self.headers, **headers})


class Hyperswitch:
    """A merchant's view of one namespace: its keys and the Hyperswitch calls it makes."""

    def __init__(self, transport, namespace: dict):
        self.namespace = namespace
        keys = namespace["hyperswitch"]
        self.api_key = keys["api_key"]
        self.publishable_key = keys["publishable_key"]
        self.hash_key = keys["payment_response_hash_key"]
        self.merchant_id = keys["merchant_id"]
        self.api = Api(transport, {"api-key": self.api_key})
        self.control = Api(transport, {"X-Mock-Namespace": namespace["id"]})
        self.client = control_client(transport, namespace["id"])

    def create(self, **fields) -> Reply:
        body = {"amount": 1000, "currency": "USD", **fields}
        return self.api.post("/hyperswitch/payments", body)

    def pay(self, number: str = "4242424242424242", **fields) -> dict:
        reply = self.create(confirm=True, **card(number), **fields)
        assert reply.status == 200, reply.text
        return reply.json

    def retrieve(self, payment_id: str, **kw) -> Reply:
        return self.api.get(f"/hyperswitch/payments/{payment_id}", **kw)

    def confirm(self, payment_id: str, body: dict | None = None, **kw) -> Reply:
        return self.api.post(f"/hyperswitch/payments/{payment_id}/confirm", body or {}, **kw)

    def capture(self, payment_id: str, body: dict | None = None) -> Reply:
        return self.api.post(f"/hyperswitch/payments/{payment_id}/capture", body or {})

    def cancel(self, payment_id: str, body: dict | None = None) -> Reply:
        return self.api.post(f"/hyperswitch/payments/{payment_id}/cancel", body or {})

    def refund(self, payment_id: str, **fields) -> Reply:
        return self.api.post("/hyperswitch/refunds", {"payment_id": payment_id, **fields})

    def events(self, payment_id: str) -> list[dict]:
        return self.client.events(payment_id)

    def configure(self, **settings) -> dict:
        return self.client.set_config(settings)

    def advance(self, seconds: float) -> dict:
        return self.client.advance(seconds)

    # -- webhooks ---------------------------------------------------------------------

    def register(self, url: str, **fields) -> dict:
        return self.client.create_webhook_endpoint(url, **fields)

    def flush(self) -> list:
        return self.client.flush()

    def deliveries(self, **filters) -> list[dict]:
        return self.client.deliveries(**filters)


class Govuk:
    """A GOV.UK Pay service's view of one namespace: its API key and the calls it makes."""

    def __init__(self, transport, namespace: dict):
        self.namespace = namespace
        self.api_key = namespace["govuk"]["api_key"]
        self.signing_secret = namespace["govuk"]["webhook_signing_secret"]
        self.api = Api(transport, {"Authorization": f"Bearer {self.api_key}"})
        self.control = Api(transport, {"X-Mock-Namespace": namespace["id"]})
        self.client = control_client(transport, namespace["id"])
        self.transport = transport

    def create(self, headers: dict | None = None, **fields) -> Reply:
        body = {"amount": 1450, "reference": "REF-1", "description": "Passport fee",
                "return_url": "https://service.example/return/1", **fields}
        return self.api.post("/govuk/v1/payments", body, headers=headers)

    def get(self, payment_id: str) -> Reply:
        return self.api.get(f"/govuk/v1/payments/{payment_id}")

    def create_moto(self, **fields) -> Reply:
        """A moto_api payment: no return_url, paid with authorise()."""
        body = {"amount": 1450, "reference": "REF-1", "description": "Passport fee",
                "authorisation_mode": "moto_api", **fields}
        return self.api.post("/govuk/v1/payments", body)

    def authorise(self, one_time_token: str | None, **card) -> Reply:
        """POST /v1/auth with MOTO_CARD, overridden by ``card`` (a None value leaves the field out)."""
        body = {k: v for k, v in {"one_time_token": one_time_token, **MOTO_CARD, **card}.items() if v is not None}
        return self.api.post("/govuk/v1/auth", body)

    def configure(self, **settings) -> dict:
        return self.client.set_config(settings)

    def advance(self, seconds: float) -> dict:
        return self.client.advance(seconds)
