"""Every route of the provider and of the test merchant refuses hostile input cleanly.

The project's standard: every endpoint answers bad JSON, wrong types, unknown
fields, missing auth and wrong state with the real provider's error envelope
and code, never a 500 or an HTML traceback.

The routes are read from ``app.url_map`` (the provider, and the test merchant
in each dialect, unprovisioned), so a new route is attacked the day it is
added. Each route and method gets the battery below; each test id names the
route and the attack, e.g. ``POST /govuk/v1/payments <- huge_numbers``.

What it found when first run (bodies nested past Python's recursion limit, seeds past 64 bits,
page numbers past 64 bits, the merchant's OAuth errors in the wrong shape, an order written
before the shop had a provider) stays fixed because the same attacks run on every route.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from mock_psp.app import create_app
from mock_psp.test_merchant import app as test_merchant

MERCHANT_DIALECTS = ("hyperswitch", "govuk", "govpay-lk")
EXCLUDED_PREFIXES: tuple[str, ...] = ()
# Nothing listens there: a merchant call that escapes the battery fails fast, offline.
NOWHERE = "http://127.0.0.1:9"

BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
HUGE = "x" * 100_000
JUNK_IDS = {
    "id_nul": "%00",
    "id_dotdot": "..%2F..%2Fetc%2Fpasswd",
    "id_long": "i" * 5000,
    "id_not_utf8": "%FF%FE",
    "id_sql": "%27%20OR%201%3D1--",
}


# -- the routes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    app: str      # "provider" or "merchant-<dialect>"
    method: str
    rule: str     # as in url_map, e.g. /hyperswitch/payments/<payment_id>

    @property
    def params(self) -> list[str]:
        return re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", self.rule)

    def path(self, fill: Callable[[str], str]) -> str:
        return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: fill(m.group(1)), self.rule)

    def __str__(self) -> str:
        where = "" if self.app == "provider" else f"[{self.app}] "
        return f"{where}{self.method} {self.rule}"


def _rules(app) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(EXCLUDED_PREFIXES):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule))
    return sorted(found, key=lambda mr: (mr[1], mr[0]))


def _enumerate() -> list[Route]:
    provider = create_app({"db": ":memory:", "background": False})
    try:
        routes = [Route("provider", m, r) for m, r in _rules(provider)]
    finally:
        provider.extensions["mock_psp"].close()
    for dialect in MERCHANT_DIALECTS:
        merchant = test_merchant.create_app({"dialect": dialect, "db": ":memory:", "psp_url": NOWHERE})
        routes += [Route(f"merchant-{dialect}", m, r) for m, r in _rules(merchant)]
    return routes


ROUTES = _enumerate()


# -- what a refusal must look like, by where the route lives -----------------------------------


def _json(reply) -> Any:
    assert reply.mimetype == "application/json", f"{reply.status_code} {reply.mimetype}: {reply.data[:300]!r}"
    return reply.get_json()


def hyperswitch_envelope(reply) -> None:
    error = _json(reply)["error"]
    assert set(error) >= {"message", "code"} and ("type" in error or "error_type" in error), error
    assert re.fullmatch(r"(IR|HE)_\d\d", error["code"]), error


def govuk_envelope(reply) -> None:
    if reply.status_code == 401:
        assert reply.data == b"", reply.data[:300]  # the real API's bare 401
        return
    body = _json(reply)
    assert set(body) - {"field", "header"} == {"code", "description"}, body
    assert re.fullmatch(r"P\d{4}", body["code"]), body


def govpay_envelope(reply) -> None:
    body = _json(reply)
    assert set(body) == {"error", "message"} and isinstance(body["error"], str), body


def control_envelope(reply) -> None:
    error = _json(reply)["error"]
    assert set(error) >= {"code", "message"} and isinstance(error["code"], str), error


def oauth_envelope(reply) -> None:
    body = _json(reply)  # RFC 6749, section 5.2
    assert set(body) >= {"error", "error_description"}, body


def page_or(envelope: Callable) -> Callable:
    """Pages a browser follows may answer with an HTML page (never a traceback), or the envelope."""

    def check(reply) -> None:
        if reply.mimetype == "text/html":
            return
        envelope(reply)

    check.__name__ = f"page_or_{envelope.__name__}"
    return check


# The first matching prefix wins. Provider first, then the test merchant.
PROVIDER_FACES = [
    ("/hyperswitch/payment_link/", page_or(hyperswitch_envelope)),
    ("/hyperswitch/payments/redirect/", page_or(hyperswitch_envelope)),
    ("/hyperswitch/", hyperswitch_envelope),  # (+ the 3DS redirect/response page, matched below)
    ("/govuk/secure", page_or(govuk_envelope)),
    ("/govuk/", govuk_envelope),
    ("/govpay-lk/pay", page_or(govpay_envelope)),
    ("/govpay-lk/", govpay_envelope),
    ("/_mock/ui", page_or(control_envelope)),  # the dashboard: pages, and JSON for fetch()
    ("/_mock/", control_envelope),
    ("/checkout/", page_or(control_envelope)),
    ("/", control_envelope),  # /sdk, /static: the app's generic JSON errors
]
MERCHANT_FACES = [
    ("/_merchant/", control_envelope),
    ("/webhooks/", control_envelope),
    ("/govpay-lk/", govpay_envelope),
    ("/oauth/", oauth_envelope),
    ("/", page_or(control_envelope)),  # the shop's pages
]


def envelope_for(route: Route) -> Callable:
    if route.rule.endswith("/redirect/response/<connector>"):
        return page_or(hyperswitch_envelope)
    faces = PROVIDER_FACES if route.app == "provider" else MERCHANT_FACES
    return next(check for prefix, check in faces if route.rule.startswith(prefix))


# -- credentials and ids -----------------------------------------------------------------------


@dataclass
class Context:
    keys: dict[str, str]
    known: dict[str, str] = field(default_factory=dict)  # real ids, for the wrong-state attack


def auth_headers(route: Route, ctx: Context, valid: bool = True) -> dict[str, str] | None:
    """The headers that authenticate a call to this route (None: the route takes no credentials)."""
    rule, wrong = route.rule, "not-a-real-key-0000"
    if route.app != "provider":
        if rule.startswith(("/govpay-lk/", "/oauth/")):
            return {"Authorization": f"Bearer {wrong}" if valid else "Basic Og=="}
        return None
    if rule.startswith("/hyperswitch/events/"):
        return {"api-key": "test_admin" if valid else wrong}
    if rule.startswith("/hyperswitch/"):
        return {"api-key": ctx.keys["hyperswitch"] if valid else "pk_snd_" + wrong}
    if rule.startswith("/govuk/v1/"):
        return {"Authorization": f"Bearer {ctx.keys['govuk'] if valid else wrong}"}
    if rule.startswith("/govpay-lk/v1/"):
        return {"Authorization": f"Bearer {ctx.keys['govpay_lk'] if valid else wrong}"}
    if rule.startswith("/_mock/"):
        return {} if valid else {"X-Mock-Namespace": "ns_nobody", "api-key": wrong}
    return None


# Plausible ids of objects that do not exist, by path parameter name.
UNKNOWN_IDS = {
    "payment_id": "pay_0000000000000000000Z",
    "refund_id": "ref_0000000000000000000Z",
    "merchant_id": "merchant_000000000000",
    "account_id": "merchant_000000000000",
    "profile_id": "pro_00000000000000000000",
    "attempt_id": "pay_0000000000000000000Z_1",
    "connector": "stripe_test",
    "event_id": "evt_00000000000000000000",
    "namespace_id": "ns_00000000000000000000",
    "endpoint_id": "we_00000000000000000000",
    "delivery_id": "wd_00000000000000000000",
    "sid": "cs_00000000000000000000",
    "token": "00000000000000000000000000",
    "transaction_id": "2611220000000001",
    "order_id": "ord-00000000",
    "dialect": "stripe",
    "filename": "nothing.css",
}


# -- sample bodies: a plausible request per route, for the attacks that corrupt one ------------

CARD = {"card_number": "4242424242424242", "card_exp_month": "10", "card_exp_year": "2035",
        "card_holder_name": "Joe", "card_cvc": "123"}
GOVPAY_CALL = {"transactionID": "2611220000000001", "subinstId": "SUB001", "serviceid": "SRV001",
               "serviceName": "shop", "data": [{"seq": "1", "paramName": "refNo", "value": "TS8K2M4Q7ZP1"}]}
SAMPLES: dict[tuple[str, str], Any] = {
    ("POST", "/hyperswitch/payments"): {
        "amount": 1000, "currency": "USD", "description": "mug", "customer_id": "cus_1", "capture_method": "manual",
        "metadata": {"k": "v"}, "return_url": "https://shop.example/return", "session_expiry": 900},
    ("POST", "/hyperswitch/payments/<payment_id>"): {"amount": 1200, "description": "mug", "confirm": False},
    ("POST", "/hyperswitch/payments/<payment_id>/confirm"): {"payment_method": "card",
                                                             "payment_method_data": {"card": CARD}},
    ("POST", "/hyperswitch/payments/<payment_id>/capture"): {"amount_to_capture": 1000},
    ("POST", "/hyperswitch/payments/<payment_id>/cancel"): {"cancellation_reason": "requested_by_customer"},
    ("POST", "/hyperswitch/refunds"): {"payment_id": "pay_0000000000000000000Z", "amount": 100, "reason": "x"},
    ("POST", "/hyperswitch/refunds/list"): {"limit": 10, "offset": 0, "payment_id": "pay_x",
                                            "amount_filter": {"start_amount": 1}, "currency": ["USD"]},
    ("POST", "/hyperswitch/refunds/<refund_id>"): {"reason": "damaged", "metadata": {"k": "v"}},
    ("POST", "/hyperswitch/account/<account_id>/business_profile/<profile_id>"): {
        "profile_name": "shop", "session_expiry": 900, "webhook_details": {"payment_created_enabled": True}},
    ("POST", "/hyperswitch/events/<merchant_id>"): {"limit": 10, "offset": 0, "object_id": "pay_x",
                                                    "created_after": "2030-01-01T00:00:00Z"},
    ("POST", "/govuk/v1/payments"): {
        "amount": 1450, "reference": "REF-1", "description": "Licence", "return_url": "https://service.example/r",
        "email": "a@b.example", "delayed_capture": False, "language": "en", "metadata": {"k": "v"},
        "prefilled_cardholder_details": {"cardholder_name": "J", "billing_address": {"line1": "1 Road"}}},
    ("POST", "/govuk/v1/payments/<payment_id>/refunds"): {"amount": 100, "refund_amount_available": 1450},
    ("POST", "/govuk/v1/auth"): {"one_time_token": "tok", "card_number": "4444333322221111", "cvc": "123",
                                 "expiry_date": "12/35", "cardholder_name": "J"},
    ("POST", "/_mock/namespaces"): {"seed": 1, "clock": "virtual", "config": {"card_policy": "strict"},
                                    "label": "test shop"},
    ("POST", "/_mock/reset"): {"keep_config": True},
    ("POST", "/_mock/namespaces/reset"): {"keep_config": True},
    ("PUT", "/_mock/config"): {"success_rates": {"card": 0.5}, "delays": {"capture": [1, 2]}},
    ("PATCH", "/_mock/config"): {"card_policy": "lenient", "session_expiry_seconds": 900},
    ("POST", "/_mock/outcomes"): {"next": ["declined"], "replace": True},
    ("POST", "/_mock/clock/advance"): {"seconds": 60},
    ("POST", "/_mock/clock/set"): {"now": "2030-01-01T00:00:00Z"},
    ("POST", "/_mock/webhook-endpoints"): {"url": f"{NOWHERE}/hooks", "scheme": "hyperswitch"},
    ("PUT", "/_mock/webhook-endpoints/<endpoint_id>"): {"url": f"{NOWHERE}/hooks", "enabled": False},
    ("PATCH", "/_mock/webhook-endpoints/<endpoint_id>"): {"enabled": False, "timeout_seconds": 1},
    # API faults set to nothing that acts: the other routes' cases must not meet injected faults.
    ("PUT", "/_mock/faults"): {"webhooks": {"drop": 0.5}, "api": {"error": 0.0, "error_status": 503,
                                                                  "latency_seconds": [0, 0], "next": [],
                                                                  "routes": ["POST /hyperswitch/payments"]}},
    ("PATCH", "/_mock/faults"): {"webhooks": {"duplicate": 0.5, "delay_seconds": 1},
                                 "api": {"reset": 0.0, "timeout_seconds": 1}},
    ("POST", "/_merchant/orders"): {"amount": 1000, "currency": "USD", "description": "mug"},
    ("POST", "/_merchant/orders/<order_id>/refunds"): {"amount": 100},
    ("POST", "/_merchant/reconcile"): {"older_than_seconds": 0},
    ("POST", "/govpay-lk/validate"): GOVPAY_CALL,
    ("POST", "/govpay-lk/update"): GOVPAY_CALL,
}
# Routes that read no JSON body still get the body attacks, with this in place of a sample.
GENERIC = {"amount": 100, "reference": "REF-1", "description": "x", "id": "x"}


def sample(route: Route) -> Any:
    return SAMPLES.get((route.method, route.rule), GENERIC)


def _corrupt(value: Any, how: Callable[[Any], Any]) -> Any:
    """Apply ``how`` to every leaf of a sample (nested objects and lists included)."""
    if isinstance(value, dict):
        return {k: _corrupt(v, how) for k, v in value.items()}
    if isinstance(value, list):
        return [_corrupt(v, how) for v in value]
    return how(value)


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return 12345
    return [value]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers_to(replacement: Any) -> Callable[[Any], Any]:
    return lambda value: replacement if _is_number(value) else value


def _huge_number(value: Any) -> Any:
    """Past SQLite's 64-bit integers, and floats at the edge of overflow."""
    if isinstance(value, float):
        return 1e308
    return 10 ** 30 if _is_number(value) else value


def _whole_wrong(sample_body: Any) -> Any:
    """Every top-level field of the wrong JSON type (objects become lists and the other way round)."""
    swap = {dict: ["x"], list: {"x": 1}}
    return {k: swap.get(type(v), _wrong_type(v)) for k, v in sample_body.items()}


# -- the attacks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    path_ids: str = "unknown"       # "unknown", "known", or a JUNK_IDS key
    auth: str = "valid"             # "valid", "none" or "wrong"
    method: str | None = None       # None: the route's own
    query: str = ""
    body: bytes | None = None
    content_type: str | None = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Attack:
    name: str
    build: Callable[[Route], Request]
    applies: Callable[[Route], bool] = lambda route: True


def _body(data: Any) -> bytes:
    return json.dumps(data).encode()


def _raw(payload: bytes, content_type: str | None = "application/json") -> Callable[[Route], Request]:
    return lambda route: Request(body=payload, content_type=content_type)


def _takes_body(route: Route) -> bool:
    return route.method in BODY_METHODS


def _has_params(route: Route) -> bool:
    return bool(route.params)


def _takes_auth(route: Route) -> bool:
    return auth_headers(route, Context(keys={"hyperswitch": "", "govuk": "", "govpay_lk": ""})) is not None


def _other_method(route: Route) -> str:
    return next(m for m in ("PATCH", "DELETE", "PUT", "GET", "POST") if m != route.method)


ATTACKS = [
    # credentials
    Attack("no_auth", lambda r: Request(auth="none", body=_body(sample(r)) if _takes_body(r) else None),
           _takes_auth),
    Attack("wrong_auth", lambda r: Request(auth="wrong", body=_body(sample(r)) if _takes_body(r) else None),
           _takes_auth),
    Attack("wrong_method", lambda r: Request(method=_other_method(r))),
    # bodies
    Attack("malformed_json", _raw(b'{"amount": 100, "currency": '), _takes_body),
    Attack("json_array", _raw(b"[1, 2, 3]"), _takes_body),
    Attack("json_string", _raw(b'"text"'), _takes_body),
    Attack("json_number", _raw(b"42"), _takes_body),
    Attack("json_null", _raw(b"null"), _takes_body),
    Attack("empty_body", _raw(b""), _takes_body),
    Attack("deep_nesting", _raw(b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}"), _takes_body),
    # Python's json reads and writes NaN and Infinity; JSON (and the real providers) have no such thing.
    Attack("nan", lambda r: Request(body=_body(_corrupt(sample(r), _numbers_to(float("nan"))))), _takes_body),
    Attack("infinity", lambda r: Request(body=_body(_corrupt(sample(r), _numbers_to(float("inf"))))), _takes_body),
    Attack("not_utf8", _raw(b'{"description": "\xff\xfe\xc3\x28", "amount": 100}'), _takes_body),
    Attack("wrong_content_type", lambda r: Request(body=_body(sample(r)), content_type="text/plain"), _takes_body),
    Attack("form_encoded", _raw(b"amount=100&currency=USD&%FF=%00", "application/x-www-form-urlencoded"),
           _takes_body),
    Attack("unknown_field", lambda r: Request(body=_body({**sample(r), "zz_unknown_field": {"x": 1}})),
           _takes_body),
    Attack("wrong_types", lambda r: Request(body=_body(_whole_wrong(sample(r)))), _takes_body),
    Attack("wrong_nested_types", lambda r: Request(body=_body(_corrupt(sample(r), _wrong_type))), _takes_body),
    Attack("null_fields", lambda r: Request(body=_body(_corrupt(sample(r), lambda v: None))), _takes_body),
    Attack("huge_strings", lambda r: Request(body=_body(_corrupt(
        sample(r), lambda v: HUGE if isinstance(v, str) else v))), _takes_body),
    Attack("huge_numbers", lambda r: Request(body=_body(_corrupt(sample(r), _huge_number))), _takes_body),
    Attack("negative_numbers", lambda r: Request(body=_body(_corrupt(
        sample(r), lambda v: -v if _is_number(v) else v))), _takes_body),
    # path parameters
    Attack("unknown_ids", lambda r: Request(path_ids="unknown", body=_body(sample(r)) if _takes_body(r) else None),
           _has_params),
    Attack("known_ids_wrong_state", lambda r: Request(path_ids="known",
                                                      body=_body(sample(r)) if _takes_body(r) else None),
           lambda r: _has_params(r) and r.app == "provider"),
    *[Attack(name, lambda r, name=name: Request(path_ids=name, body=_body(sample(r)) if _takes_body(r) else None),
             _has_params) for name in JUNK_IDS],
    # query strings
    Attack("query_negative", lambda r: Request(query="limit=-1&offset=-1&page=-1&display_size=-1&seconds=-1")),
    Attack("query_not_numbers", lambda r: Request(
        query="limit=abc&offset=1.5&page=x&display_size=1e3&from_date=abc&to_date=2030-13-45&created=abc"
              "&created.gte=nope&older_than_seconds=abc")),
    Attack("query_repeated", lambda r: Request(
        query="limit=1&limit=2&state=created&state=success&refNo=A1&refNo=B2&result=ok&result=bad&status=x&status=y")),
    Attack("query_junk", lambda r: Request(
        query="ref=%00&return=%FF&refNo=..%2F&client_secret=%00&status=%FF%FE&state=%27&result=%00&"
              "event_type=%00&payment_id=%FF&reference=%00&email=%FF&card_brand=%00&mode=embedded&"
              "parent_origin=javascript:alert(1)&publishable_key=%00")),
    Attack("query_huge", lambda r: Request(query=f"limit={'9' * 400}&offset={'9' * 400}&page={'9' * 400}&"
                                                 f"display_size={'9' * 400}&refNo={'A' * 5000}&ref={'A' * 5000}")),
    Attack("junk_headers", lambda r: Request(
        headers=(("Idempotency-Key", HUGE[:5000]), ("X-Request-Id", "\t"), ("Content-Length", "5"),
                 ("Transfer-Encoding", "chunked")), body=b"{}" if _takes_body(r) else None)),
]

CASES = [pytest.param(route, attack, id=f"{route} <- {attack.name}")
         for route in ROUTES for attack in ATTACKS if attack.applies(route)]


# -- the apps under attack ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def provider_app():
    app = create_app({"db": ":memory:", "background": False})
    yield app
    app.extensions["mock_psp"].close()


@pytest.fixture(scope="module")
def merchant_apps():
    return {f"merchant-{d}": test_merchant.create_app({"dialect": d, "db": ":memory:", "psp_url": NOWHERE})
            for d in MERCHANT_DIALECTS}


@pytest.fixture(scope="module")
def ctx(provider_app) -> Context:
    """The default namespace's keys, and a few real objects to find in the wrong state."""
    client = provider_app.test_client()
    ns = client.get("/_mock/namespaces/ns_default").get_json()
    keys = {"hyperswitch": ns["hyperswitch"]["api_key"], "govuk": ns["govuk"]["api_key"],
            "govpay_lk": ns["govpay_lk"]["api_key"]}
    hs = client.post("/hyperswitch/payments", json={"amount": 1000, "currency": "USD"},
                     headers={"api-key": keys["hyperswitch"]}).get_json()
    gov = client.post("/govuk/v1/payments", headers={"Authorization": f"Bearer {keys['govuk']}"}, json={
        "amount": 1000, "reference": "R", "description": "d", "return_url": "https://service.example/r"}).get_json()
    endpoint = client.post("/_mock/webhook-endpoints", json={"url": f"{NOWHERE}/hooks"}).get_json()
    known = {"payment_id": hs["payment_id"], "merchant_id": ns["hyperswitch"]["merchant_id"],
             "account_id": ns["hyperswitch"]["merchant_id"], "profile_id": ns["hyperswitch"]["profile_id"],
             "attempt_id": f"{hs['payment_id']}_1", "namespace_id": ns["id"], "endpoint_id": endpoint["id"],
             "govuk_payment_id": gov["payment_id"]}
    return Context(keys=keys, known=known)


def _fill(route: Route, request: Request, ctx: Context) -> Callable[[str], str]:
    def fill(name: str) -> str:
        if request.path_ids in JUNK_IDS:
            return JUNK_IDS[request.path_ids]
        if request.path_ids == "known":
            if route.rule.startswith("/govuk/") and name == "payment_id":
                return ctx.known["govuk_payment_id"]
            return ctx.known.get(name, UNKNOWN_IDS.get(name, f"{name}_0000"))
        return UNKNOWN_IDS.get(name, f"{name}_0000")

    return fill


def send(client, route: Route, request: Request, ctx: Context):
    headers = dict(auth_headers(route, ctx, valid=request.auth == "valid") or {})
    if request.auth == "none":
        headers = {}
    if request.content_type is not None and request.body is not None:
        headers["Content-Type"] = request.content_type
    headers.update(dict(request.headers))
    path = route.path(_fill(route, request, ctx))
    if request.query:
        path += "?" + request.query
    return client.open(path, method=request.method or route.method, headers=headers, data=request.body)


TRACEBACK = re.compile(rb"Traceback \(most recent call last\)|werkzeug\.debug|<title>500 Internal", re.I)


@pytest.mark.parametrize("route, attack", CASES)
def test_route_refuses_attack_cleanly(provider_app, merchant_apps, ctx, route, attack):
    app = provider_app if route.app == "provider" else merchant_apps[route.app]
    reply = send(app.test_client(), route, attack.build(route), ctx)
    # A status outside 1xx-4xx (a 5xx, or a 0 from a bad status argument) is a failure: a real server
    # answers the second with an empty response.
    assert 100 <= reply.status_code < 500, f"{reply.status_code}: {reply.data[:500]!r}"
    assert not TRACEBACK.search(reply.data), reply.data[:500]
    if reply.status_code >= 400:
        envelope_for(route)(reply)


# -- property-based: random JSON, text, Unicode and huge numbers on the routes no spec covers ----------
#
# The control API, the dashboard's JSON, GovPay+ (provider and shop) and the shop's own API have no
# published OpenAPI document (tests/http/test_fuzz_specs.py fuzzes the two that do). Hypothesis builds
# bodies and query strings from the shapes that broke them before: Unicode digits ("¹", "４"), numbers
# past every bound (2^63, 4,301 digits, 1e400, NaN), lone surrogates ("\ud800"), duplicate keys.
# Fixed seed; MOCK_PSP_FUZZ_EXAMPLES examples per route (default 30: enough to find "?status=¹"); -m fuzz.
# The hosted checkout's card form gets the same on a fresh session per example (it found "¹/35").

FUZZED_PREFIXES = ("/_mock/", "/govpay-lk/", "/_merchant/", "/oauth/")
FUZZ_EXAMPLES = int(os.environ.get("MOCK_PSP_FUZZ_EXAMPLES", "30"))
QUERY_NAMES = ("limit", "offset", "status", "page", "display_size", "ref", "return", "refNo", "subinstId", "method",
               "path", "unmatched", "ns", "seconds", "older_than_seconds", "state", "event_type", "result", "amount")
FIELD_NAMES = ("amount", "currency", "duration", "seconds", "to", "url", "seed", "limit", "next", "success_rates",
               "delays", "allowed_origins", "govpay_lk", "api", "webhooks", "card", "description", "clock", "events",
               "enabled", "retry_schedule", "scheme", "outcome", "grant_type", "refNo")
NUMBER_TEXTS = ("¹", "²", "４２４２", "٣", "1e400", "-1e400", "NaN", "inf", "9" * 4301, str(2**63), "99999999d",
                "1e18", "-1", "0", "1.5", "0x10", " 7", "")
# Literals json.dumps cannot write (it has no 1e400; a 4,301-digit int it refuses to write), spliced in raw.
RAW_NUMBERS = ("1e400", "-1e400", "9" * 4301, "NaN", "Infinity", str(2**63), "1" + "0" * 400)

text_values = st.one_of(st.text(max_size=30), st.sampled_from(NUMBER_TEXTS),
                        st.sampled_from(("\ud800", "a\udfffb", "javascript:alert(1)", "https://elsewhere.example/")))
leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                 st.floats(allow_nan=True, allow_infinity=True), text_values,
                 st.sampled_from([f"@@RAW{i}@@" for i in range(len(RAW_NUMBERS))]))
json_values = st.recursive(leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8)),
                                                 inner, max_size=5)), max_leaves=12)
queries = st.dictionaries(st.sampled_from(QUERY_NAMES),
                          st.one_of(st.sampled_from(NUMBER_TEXTS), st.text(
                              alphabet=st.characters(exclude_categories=("Cs",)), max_size=20)), max_size=4)


def _encode(value: Any, duplicate: str | None) -> bytes:
    text = json.dumps(value)  # writes NaN/Infinity for float specials, and "\ud800" as its escape
    for index, literal in enumerate(RAW_NUMBERS):
        text = text.replace(f'"@@RAW{index}@@"', literal)
    if duplicate and text.startswith("{") and text != "{}":
        text = f'{{"{duplicate}": 1, ' + text[1:]
    return text.encode()


FUZZ_ROUTES = [pytest.param(route, id=str(route)) for route in ROUTES
               if route.rule.startswith(FUZZED_PREFIXES) and not route.rule.startswith("/_mock/ui/static")]
# The hosted checkout's forms, each example on a session of its own (its cookie in the same client).
CHECKOUT_ROUTES = [pytest.param(route, id=str(route)) for route in ROUTES
                   if route.rule.startswith("/checkout/<sid>") and route.method == "POST"]
FORM_FIELDS = ("card_number", "expiry", "cvc", "cardholder_name", "address_line1", "address_city", "address_postcode",
               "address_country", "bank", "method", "result", "email")
digit_like = st.sampled_from(("12", "35", "123", "4242424242424242", *NUMBER_TEXTS))
form_values = st.one_of(digit_like, st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=20))
CARD_FIELDS = ("card_number", "expiry", "cvc", "cardholder_name")
forms = st.fixed_dictionaries(
    {"card_number": form_values, "cvc": form_values, "cardholder_name": form_values,
     "expiry": st.one_of(st.builds("{}/{}".format, digit_like, digit_like), form_values)},  # "¹/35", "12/1e400"
    optional={name: form_values for name in FORM_FIELDS if name not in CARD_FIELDS})


def _checkout_session(client, ctx: Context) -> str:
    """A fresh GOV.UK payment's checkout session id, its cookie set in ``client``."""
    made = client.post("/govuk/v1/payments", headers={"Authorization": f"Bearer {ctx.keys['govuk']}"}, json={
        "amount": 1000, "reference": "R", "description": "d", "return_url": "https://service.example/r"}).get_json()
    reply = client.get(urlsplit(made["_links"]["next_url"]["href"]).path)
    while reply.status_code in (302, 303) and "/checkout/" not in reply.headers["Location"]:
        reply = client.get(urlsplit(reply.headers["Location"]).path)
    return re.search(r"/checkout/([^/?]+)", reply.headers["Location"])[1]


@pytest.mark.fuzz
@pytest.mark.parametrize("route", CHECKOUT_ROUTES)
def test_checkout_form_answers_random_fields_with_a_page(provider_app, ctx, route):
    client = provider_app.test_client()

    @settings(max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(form=forms)
    def attack(form):
        session = Context(keys=ctx.keys, known={**ctx.known, "sid": _checkout_session(client, ctx)})
        request = Request(path_ids="known", body=urlencode(form).encode(),
                          content_type="application/x-www-form-urlencoded")
        reply = send(client, route, request, session)
        assert 100 <= reply.status_code < 500, f"{reply.status_code} for {form!r}: {reply.data[:300]!r}"
        assert not TRACEBACK.search(reply.data), reply.data[:500]
        if reply.status_code >= 400:
            envelope_for(route)(reply)

    attack()


@pytest.mark.fuzz
@pytest.mark.parametrize("route", FUZZ_ROUTES)
def test_route_answers_random_json_text_and_numbers_cleanly(provider_app, merchant_apps, ctx, route):
    app = provider_app if route.app == "provider" else merchant_apps[route.app]
    client = app.test_client()

    @settings(max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(body=json_values, query=queries, duplicate=st.one_of(st.none(), st.sampled_from(FIELD_NAMES)),
           ids=st.sampled_from(("unknown", "known", *JUNK_IDS)), raw=st.booleans())
    def attack(body, query, duplicate, ids, raw):
        payload = _encode(body, duplicate) if _takes_body(route) else None
        if raw and payload is not None:
            payload = payload.decode().encode("utf-16")  # not UTF-8 at all
        request = Request(path_ids=ids, query=urlencode(query), body=payload)
        reply = send(client, route, request, ctx)
        assert 100 <= reply.status_code < 500, f"{reply.status_code} for {payload!r:.300} ?{request.query}: " \
                                               f"{reply.data[:500]!r}"
        assert not TRACEBACK.search(reply.data), reply.data[:500]
        if reply.status_code >= 400:
            envelope_for(route)(reply)

    attack()
