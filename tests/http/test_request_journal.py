"""The request journal: each namespace's dialect API calls, as sent and as answered."""

from __future__ import annotations

import pytest

from mock_psp.runtime.connection import DropConnection


def journal(client, **query) -> list[dict]:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    reply = client.control.get("/_mock/requests" + (f"?{params}" if params else ""))
    assert reply.status == 200, reply.text
    return reply.json["data"]


def test_each_api_call_is_journalled_newest_first_with_both_bodies(hs):
    created = hs.create(amount=1234, currency="USD", description="mug").json
    hs.retrieve(created["payment_id"])
    newest, oldest = journal(hs)
    assert (newest["method"], newest["path"], newest["status"]) == ("GET", f"/hyperswitch/payments/{created['payment_id']}", 200)
    assert (oldest["method"], oldest["path"], oldest["status"]) == ("POST", "/hyperswitch/payments", 200)
    assert '"amount": 1234' in oldest["request_body"] or '"amount":1234' in oldest["request_body"]
    assert created["payment_id"] in oldest["response_body"]
    assert oldest["request_headers"]["content-type"] == "application/json"
    assert oldest["at"].endswith("Z") and oldest["duration_ms"] >= 0


def test_keys_are_masked(hs):
    hs.create(amount=100, currency="USD")
    shown = journal(hs)[0]["request_headers"]["api-key"]
    key = hs.namespace["hyperswitch"]["api_key"]
    assert key not in shown and shown.startswith(key[:6]) and shown.endswith(key[-4:])


def test_errors_are_journalled_with_their_envelope(gov):
    gov.create(amount="lots")
    [entry] = journal(gov)
    assert entry["status"] == 400 and "P0102" in entry["response_body"]
    assert entry["request_headers"]["authorization"].startswith("Bearer ")


def test_a_call_with_a_key_no_namespace_has_is_in_the_unmatched_journal(hs, app):
    app.test_client().get("/hyperswitch/payments/list", headers={"api-key": "snd_not_a_key_anyone_has_0000"})
    assert journal(hs) == []
    unmatched = journal(hs, unmatched="true")
    assert unmatched[0]["status"] == 401 and unmatched[0]["path"] == "/hyperswitch/payments/list"


def test_pages_and_the_control_api_are_not_journalled(hs, app):
    hs.control.get("/_mock/config")
    app.test_client().get("/_mock/ui/payments")
    app.test_client().get("/govuk/secure/nothing")
    assert journal(hs) == []


def test_filters_by_method_path_and_status(hs):
    made = hs.create(amount=100, currency="USD").json
    hs.retrieve(made["payment_id"])
    hs.retrieve("pay_nothing_here_000000")
    assert [e["method"] for e in journal(hs, method="post")] == ["POST"]
    assert len(journal(hs, path="/payments/pay_")) == 2
    assert [e["status"] for e in journal(hs, status=404)] == [404]
    assert hs.control.get("/_mock/requests?status=abc").status == 400


def test_an_injected_fault_is_marked_with_what_the_client_really_got(hs):
    hs.control.put("/_mock/faults", {"api": {"next": ["lost_response", "reset"]}})
    with pytest.raises(DropConnection):
        hs.create(amount=100, currency="USD")
    with pytest.raises(DropConnection):
        hs.create(amount=100, currency="USD")
    reset, lost = journal(hs)
    assert (reset["fault"], reset["status"], reset["response_body"]) == ("reset", 0, "")
    assert lost["fault"] == "lost_response" and lost["status"] == 200 and "payment_id" in lost["response_body"]


def test_one_entry_by_id_clear_and_reset(hs):
    hs.create(amount=100, currency="USD")
    entry = journal(hs)[0]
    assert hs.control.get(f"/_mock/requests/{entry['id']}").json == entry
    assert hs.control.get("/_mock/requests/999999").status == 404
    assert hs.control.call("DELETE", "/_mock/requests").status == 204
    assert journal(hs) == []
    hs.create(amount=100, currency="USD")
    hs.control.post("/_mock/reset", {})
    assert journal(hs) == []


def test_the_journal_keeps_the_last_500_calls_per_namespace(hs):
    for _ in range(505):
        hs.api.get("/hyperswitch/payments/list")
    assert len(journal(hs, limit=500)) == 500


def test_each_namespace_sees_only_its_own_calls(hs, transport, control):
    from tests.support.clients import Hyperswitch
    other = Hyperswitch(transport, control.post("/_mock/namespaces", {}).json)
    hs.create(amount=100, currency="USD")
    other.create(amount=200, currency="USD")
    other.create(amount=300, currency="USD")
    assert len(journal(hs)) == 1 and len(journal(other)) == 2
    assert all(e["direction"] == "in" for e in journal(other))
