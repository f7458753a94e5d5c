"""A call that matches no route keeps the provider's own answer, byte for byte, and gains a hint:
the X-Mock-Near-Miss header, the journal entry's ``near_miss``, the dashboard, `mock-psp requests`."""

from __future__ import annotations

import re

import pytest

from mock_psp.cli import request_line
from tests.conftest import new_namespace

HEADER = "X-Mock-Near-Miss"
# What the provider answered before it had hints (main at c63bd1c), to the byte.
HS_404 = b'{"error":{"type":"invalid_request","message":"Unrecognized request URL","code":"IR_02"}}\n'
HS_405 = (b'{"error":{"type":"invalid_request","message":"The HTTP method is not applicable for this API",'
          b'"code":"IR_03"}}\n')
GOVUK_404 = b'{"code":"P0199","description":"Not found"}\n'
GOVPAY_404 = b'{"error":"not_found","message":"no such endpoint"}\n'
GOVPAY_405 = b'{"error":"method_not_allowed","message":"method not allowed"}\n'

MISSES = [
    ("POST", "/hyperswitch/payment", 404, HS_404, "POST /hyperswitch/payments"),
    ("GET", "/hyperswitch/payments", 405, HS_405,
     "POST /hyperswitch/payments, GET /hyperswitch/payments/list, GET /hyperswitch/payments/{payment_id}"),
    ("PUT", "/hyperswitch/payments/pay_x", 405, HS_405,
     "GET /hyperswitch/payments/{payment_id}, POST /hyperswitch/payments/{payment_id}"),
    ("DELETE", "/hyperswitch/payments", 405, HS_405, "POST /hyperswitch/payments"),
    ("POST", "/govuk/v1/payment", 404, GOVUK_404, "POST /govuk/v1/payments, GET /govuk/v1/payments"),
    ("GET", "/govuk/payments", 404, GOVUK_404, "GET /govuk/v1/payments"),
    ("GET", "/govpay-lk/v1/transaction/tx_1", 404, GOVPAY_404, "GET /govpay-lk/v1/transactions/{transaction_id}"),
    ("POST", "/govpay-lk/v1/transactions", 405, GOVPAY_405, "GET /govpay-lk/v1/transactions"),
]


@pytest.fixture
def ns(control) -> dict:
    return new_namespace(control)


def keys(ns: dict, path: str) -> dict:
    if path.startswith("/hyperswitch"):
        return {"api-key": ns["hyperswitch"]["api_key"]}
    dialect = "govuk" if path.startswith("/govuk") else "govpay_lk"
    return {"Authorization": f"Bearer {ns[dialect]['api_key']}"}


def journal(app, ns: dict, **query) -> list[dict]:
    reply = app.test_client().get("/_mock/requests", query_string=query, headers={"X-Mock-Namespace": ns["id"]})
    assert reply.status_code == 200, reply.data
    return reply.get_json()["data"]


@pytest.mark.parametrize("method, path, status, body, hint", MISSES, ids=[f"{m} {p}" for m, p, *_ in MISSES])
def test_a_miss_keeps_the_providers_answer_and_gains_the_hint_header(app, ns, method, path, status, body, hint):
    reply = app.test_client().open(path, method=method, headers=keys(ns, path))
    assert (reply.status_code, reply.data) == (status, body)
    assert reply.headers.get(HEADER) == hint
    others = {name: value for name, value in reply.headers.items() if name != HEADER}
    assert others == {"Content-Type": "application/json", "Content-Length": str(len(body))}


def test_no_hint_when_nothing_is_close_and_none_on_routes_that_exist(app, ns):
    client = app.test_client()
    far = client.get("/hyperswitch/disputes/dp_1", headers=keys(ns, "/hyperswitch"))
    assert (far.status_code, far.data, far.headers.get(HEADER)) == (404, HS_404, None)
    missing_payment = client.get("/hyperswitch/payments/pay_nothing_here_000000", headers=keys(ns, "/hyperswitch"))
    assert missing_payment.status_code == 404 and HEADER not in missing_payment.headers
    assert client.get("/_mock/nothing").status_code == 404 and HEADER not in client.get("/_mock/nothing").headers


def test_a_miss_is_journalled_in_its_namespace_with_the_hint_and_found_as_unmatched_route(app, ns):
    client = app.test_client()
    client.post("/hyperswitch/payment", json={"amount": 100}, headers=keys(ns, "/hyperswitch"))
    client.get("/hyperswitch/payments/list", headers=keys(ns, "/hyperswitch"))
    listed, missed = journal(app, ns)
    assert (missed["path"], missed["status"]) == ("/hyperswitch/payment", 404)
    assert missed["near_miss"] == ["POST /hyperswitch/payments"] and missed["unmatched"] == ["route"]
    assert listed["near_miss"] == [] and listed["unmatched"] == []
    one = client.get(f"/_mock/requests/{missed['id']}", headers={"X-Mock-Namespace": ns["id"]}).get_json()
    assert one["near_miss"] == ["POST /hyperswitch/payments"]
    assert [e["path"] for e in journal(app, ns, unmatched="route")] == ["/hyperswitch/payment"]


def test_a_miss_outside_the_api_paths_is_journalled_too(app, ns):
    app.test_client().get("/govuk/payments", headers=keys(ns, "/govuk"))
    [entry] = journal(app, ns)
    assert entry["near_miss"] == ["GET /govuk/v1/payments"] and entry["unmatched"] == ["route"]


def test_a_miss_with_no_key_or_a_wrong_key_still_gets_the_hint(app, ns):
    client = app.test_client()
    no_key = client.post("/govuk/v1/payment", json={})
    wrong_key = client.post("/hyperswitch/payment", headers={"api-key": "snd_not_a_key_anyone_has_0000"})
    assert no_key.headers[HEADER] == "POST /govuk/v1/payments, GET /govuk/v1/payments"
    assert wrong_key.headers[HEADER] == "POST /hyperswitch/payments"
    assert journal(app, ns) == []
    unmatched = journal(app, ns, unmatched="key")
    assert [(e["path"], e["unmatched"], e["near_miss"]) for e in unmatched] == [
        ("/hyperswitch/payment", ["key", "route"], ["POST /hyperswitch/payments"]),
        ("/govuk/v1/payment", ["key", "route"], ["POST /govuk/v1/payments", "GET /govuk/v1/payments"])]
    assert journal(app, ns, unmatched="true") == unmatched  # the older spelling


def test_the_unmatched_views_are_key_and_route_and_nothing_else(app, ns):
    client, mine = app.test_client(), {"X-Mock-Namespace": ns["id"]}
    client.post("/hyperswitch/payment", headers=keys(ns, "/hyperswitch"))
    client.post("/hyperswitch/payment")
    assert len(journal(app, ns, unmatched="false")) == 1  # this namespace's journal, as before
    refused = client.get("/_mock/requests?unmatched=routes", headers=mine)
    assert refused.status_code == 400 and "key" in refused.get_json()["error"]["message"]
    # DELETE empties whole journals only: one unmatched=route names none
    assert client.delete("/_mock/requests?unmatched=route", headers=mine).status_code == 400
    assert client.delete("/_mock/requests?unmatched=key", headers=mine).status_code == 204
    assert journal(app, ns, unmatched="key") == [] and len(journal(app, ns)) == 1


def test_the_requests_page_asks_did_you_mean(app, ns):
    app.test_client().post("/hyperswitch/payment", json={}, headers=keys(ns, "/hyperswitch"))
    page = app.test_client().get(f"/_mock/ui/requests?ns={ns['id']}").get_data(as_text=True)
    hint = re.search(r'data-test-id="near-miss"[^>]*>(.*?)</div>', page, re.S)
    assert hint and re.sub(r"<[^>]+>", "", hint[1]).strip() == "did you mean POST /hyperswitch/payments?"


def test_mock_psp_requests_prints_the_hint_on_the_calls_line(app, ns):
    app.test_client().put("/hyperswitch/payments/pay_x", json={}, headers=keys(ns, "/hyperswitch"))
    [entry] = journal(app, ns)
    line = request_line(entry)
    assert "PUT    /hyperswitch/payments/pay_x  405  " in line
    assert line.endswith(" ms  did you mean GET /hyperswitch/payments/{payment_id}"
                         " or POST /hyperswitch/payments/{payment_id}?")


def test_a_miss_outside_the_api_paths_meets_no_api_fault(app, ns):
    client = app.test_client()
    client.put("/_mock/faults", json={"api": {"next": ["error"]}}, headers={"X-Mock-Namespace": ns["id"]})
    missed = client.get("/govuk/payments", headers=keys(ns, "/govuk"))
    assert (missed.status_code, missed.data) == (404, GOVUK_404)
    assert client.get("/govuk/v1/payments", headers=keys(ns, "/govuk")).status_code == 500  # the API call does
