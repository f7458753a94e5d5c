"""API faults through the app (Flask's test client): what each fault does to a call and to the
provider's state. The connection-level faults reach the test as DropConnection; what a real
client sees over a socket is in tests/e2e/test_api_faults_on_the_wire.py."""

from __future__ import annotations

import pytest

from mock_psp.runtime.connection import DropConnection
from tests.support.clients import card


def set_api_faults(client, **faults) -> dict:
    reply = client.control.put("/_mock/faults", {"api": faults})
    assert reply.status == 200, reply.text
    return reply.json["api"]


def payments_in(client) -> int:
    return client.api.get("/hyperswitch/payments/list").json["size"]


def test_an_injected_error_is_the_routers_own_500_and_nothing_is_created(hs):
    set_api_faults(hs, next=["error"])
    reply = hs.create(amount=1000, currency="USD")
    assert reply.status == 500 and reply.headers["X-Mock-Fault"] == "error"
    assert reply.json == {"error": {"type": "api", "message": "Something went wrong", "code": "HE_00"}}
    assert payments_in(hs) == 0


def test_a_govuk_injected_error_is_p0198(gov):
    gov.control.put("/_mock/faults", {"api": {"next": ["error"]}})
    reply = gov.create()
    assert reply.status == 500 and reply.json == {"code": "P0198", "description": "Downstream system error"}


@pytest.mark.parametrize("status, text", [(502, "502 Bad Gateway"), (503, "503 Service Unavailable"),
                                          (504, "504 Gateway Timeout")])
def test_gateway_errors_are_plain_text_as_a_proxy_in_front_would_send(hs, status, text):
    set_api_faults(hs, next=["error"], error_status=status)
    reply = hs.create(amount=1000, currency="USD")
    assert reply.status == status and reply.headers["Content-Type"].startswith("text/plain")
    assert reply.text.strip() == text


def test_a_reset_drops_the_call_before_it_runs(hs):
    set_api_faults(hs, next=["reset"])
    with pytest.raises(DropConnection) as dropped:
        hs.create(amount=1000, currency="USD")
    assert dropped.value.reset
    assert payments_in(hs) == 0


def test_a_lost_response_drops_the_answer_after_the_payment_was_made(hs):
    set_api_faults(hs, next=["lost_response"])
    with pytest.raises(DropConnection):
        hs.create(amount=1000, currency="USD", payment_id="pay_retry_me_000000001")
    assert payments_in(hs) == 1
    # The client retries with the same id, as it must: the provider says it already has it.
    assert hs.create(amount=1000, currency="USD", payment_id="pay_retry_me_000000001").json["error"]["code"] == "HE_01"


def test_a_lost_govuk_create_is_recovered_by_its_idempotency_key(gov):
    gov.control.put("/_mock/faults", {"api": {"next": ["lost_response"]}})
    key = {"Idempotency-Key": "order-77"}
    with pytest.raises(DropConnection):
        gov.create(headers=key)
    again = gov.create(headers=key)
    assert again.status in (200, 201)
    assert gov.api.get("/govuk/v1/payments").json["total"] == 1


def test_a_truncated_answer_is_processed_and_cut_half_way(app, hs):
    set_api_faults(hs, next=["truncated"])
    response = app.test_client().post("/hyperswitch/payments", json={"amount": 1000, "currency": "USD"},
                                      headers={"api-key": hs.namespace["hyperswitch"]["api_key"]})
    declared = int(response.headers["Content-Length"])
    with pytest.raises(DropConnection):
        response.get_data()
    assert declared > 0 and payments_in(hs) == 1


def test_only_the_named_routes_are_faulted(hs):
    set_api_faults(hs, error=1.0, routes=["POST /hyperswitch/payments/*/confirm"])
    created = hs.create(amount=1000, currency="USD")
    assert created.status == 200
    assert hs.confirm(created.json["payment_id"], {"payment_method": "card", **card()}).status == 500


def test_pages_the_control_api_and_other_namespaces_are_never_faulted(hs, control, app):
    set_api_faults(hs, error=1.0)
    assert hs.control.get("/_mock/faults").status == 200
    assert app.test_client().get("/_mock/ui/payments").status_code == 200
    other = control.post("/_mock/namespaces", {}).json
    reply = hs.api.post("/hyperswitch/payments", {"amount": 1000, "currency": "USD"},
                        headers={"api-key": other["hyperswitch"]["api_key"]})
    assert reply.status == 200


def test_the_log_lists_each_injected_fault_newest_first(hs):
    set_api_faults(hs, next=["error", "none", "reset"])
    hs.create(amount=1000, currency="USD")
    hs.create(amount=1000, currency="USD")
    with pytest.raises(DropConnection):
        hs.create(amount=1000, currency="USD")
    log = hs.control.get("/_mock/faults/api/log").json["data"]
    assert [(e["method"], e["path"], e["fault"], e["source"]) for e in log] == [
        ("POST", "/hyperswitch/payments", "reset", "script"), ("POST", "/hyperswitch/payments", "error", "script")]


def test_api_faults_never_shift_payment_ids(control):
    from tests.support.clients import FlaskTransport  # noqa: F401 - the fixture's own types
    from tests.support.clients import Hyperswitch  # noqa: F401 - the fixture's own types
    ids = []
    for faulted in (False, True):
        transport = control.transport
        ns = control.post("/_mock/namespaces", {"seed": 99}).json
        client = Hyperswitch(transport, ns)
        if faulted:
            set_api_faults(client, error=0.5)
        made = []
        while len(made) < 5:
            reply = client.create(amount=1000, currency="USD")
            if reply.status == 200:
                made.append(reply.json["payment_id"])
        ids.append(made)
    assert ids[0] == ids[1]


def test_bad_api_fault_settings_are_refused_with_the_field(hs):
    reply = hs.control.put("/_mock/faults", {"api": {"error": 2}})
    assert reply.status == 400 and reply.json["error"]["message"].startswith("api.error:")
    assert hs.control.get("/_mock/faults").json["api"]["error"] == 0.0


def test_a_bad_webhook_fault_next_to_a_good_api_fault_saves_neither(hs):
    reply = hs.control.put("/_mock/faults", {"api": {"error": 0.5}, "webhooks": {"drop": 7}})
    assert reply.status == 400
    assert hs.control.get("/_mock/faults").json["api"]["error"] == 0.0


def test_reset_empties_the_script_and_the_log(hs):
    set_api_faults(hs, next=["error", "error"])
    hs.create(amount=1000, currency="USD")
    hs.control.post("/_mock/reset", {})
    assert hs.control.get("/_mock/faults").json["api"]["next"] == []
    assert hs.control.get("/_mock/faults/api/log").json["data"] == []
    assert hs.create(amount=1000, currency="USD").status == 200
