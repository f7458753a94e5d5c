"""The /_mock control API: namespaces, settings, the clock, audit logs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mock_psp.app import create_app
from mock_psp.dialects import registry
from mock_psp.domain.namespaces import default_keys
from tests.conftest import new_namespace
from tests.support.clients import Api
from tests.support.clients import FlaskTransport
from tests.support.clients import Hyperswitch

README = Path(__file__).resolve().parents[2] / "README.md"


def test_new_namespace_has_keys_in_the_real_formats(control):
    ns = new_namespace(control)
    assert re.fullmatch(r"ns_[0-9a-f]{16}", ns["id"])
    keys = ns["hyperswitch"]
    assert re.fullmatch(r"snd_[0-9A-Za-z]{64}", keys["api_key"])
    assert re.fullmatch(r"pk_snd_[0-9a-f]{32}", keys["publishable_key"])
    assert re.fullmatch(r"pro_[0-9A-Za-z]{20}", keys["profile_id"])
    assert keys["merchant_id"].startswith("merchant_") and len(keys["payment_response_hash_key"]) == 64
    assert ns["govuk"]["api_key"].startswith("api_test_")
    assert control.get(f"/_mock/namespaces/{ns['id']}").json["hyperswitch"] == keys
    assert ns["id"] in [n["id"] for n in control.get("/_mock/namespaces").json["data"]]


def test_default_namespace_keys_are_stable_and_documented(control):
    default = control.get("/_mock/namespaces/ns_default").json
    keys = default_keys(registry.key_specs())
    hyperswitch, govuk = keys["hyperswitch"], keys["govuk"]
    assert default["hyperswitch"]["api_key"] == hyperswitch["api_key"]
    assert default["govuk"]["api_key"] == govuk["api_key"]
    assert default["default"] is True
    readme = README.read_text()
    assert hyperswitch["api_key"] in readme and hyperswitch["publishable_key"] in readme
    assert govuk["api_key"] in readme and govuk["webhook_signing_secret"] in readme


def test_default_namespace_answers_calls_without_a_namespace_header(transport, control):
    hyperswitch = default_keys(registry.key_specs())["hyperswitch"]
    api = Api(transport, {"api-key": hyperswitch["api_key"]})
    assert api.post("/hyperswitch/payments", {"amount": 10, "currency": "EUR"}).status == 200
    assert control.get("/_mock/config").json["clock"] == "system"


def test_control_calls_find_the_namespace_by_header_or_by_api_key(transport, control):
    ns = new_namespace(control)
    by_key = Api(transport, {"api-key": ns["hyperswitch"]["api_key"]})
    by_key.put("/_mock/config", {"success_rates": {"card": 0.25}})
    by_header = Api(transport, {"X-Mock-Namespace": ns["id"]})
    assert by_header.get("/_mock/config").json["success_rates"]["card"] == 0.25
    assert control.get("/_mock/config").json["success_rates"]["card"] == 1.0  # the default is untouched


def test_unknown_namespace_header_is_404(control):
    reply = control.get("/_mock/config", headers={"X-Mock-Namespace": "ns_missing"})
    assert reply.status == 404 and reply.error["code"] == "namespace_not_found"


def test_reset_empties_the_namespace_but_keeps_its_keys(hs):
    payment = hs.pay()
    hs.control.post("/_mock/outcomes", {"next": ["declined"]})
    reply = hs.control.post("/_mock/reset")
    assert reply.status == 200 and reply.json["hyperswitch"]["api_key"] == hs.api_key
    assert hs.retrieve(payment["payment_id"]).status == 404
    assert hs.control.get("/_mock/outcomes").json["next"] == []
    assert hs.pay()["status"] == "succeeded"


def test_reset_restarts_the_seeded_sequence(hs):
    first = hs.pay()["payment_id"]
    hs.control.post("/_mock/reset")
    assert hs.pay()["payment_id"] == first


def test_reset_keeps_config_unless_asked(hs):
    hs.configure(success_rates={"card": 0.1})
    hs.control.post("/_mock/reset")
    assert hs.control.get("/_mock/config").json["success_rates"]["card"] == 0.1
    hs.control.post("/_mock/reset", {"keep_config": False})
    assert hs.control.get("/_mock/config").json["success_rates"]["card"] == 1.0


def test_config_merges_partial_updates(hs):
    hs.configure(success_rates={"card": 0.95, "upi": 0.9}, delays={"authorize": [1, 3]})
    config = hs.control.get("/_mock/config").json
    assert config["success_rates"]["card"] == 0.95 and config["success_rates"]["wallet"] == 1.0
    assert config["delays"]["authorize"] == [1, 3] and config["delays"]["refund"] == 0
    assert config["seed"] == 7 and config["clock"] == "system"


@pytest.mark.parametrize("update, field", [
    ({"success_rates": {"card": 1.5}}, "success_rates.card"),
    ({"success_rates": {"cash": 0.5}}, "success_rates.cash"),
    ({"delays": {"authorize": -1}}, "delays.authorize"),
    ({"delays": {"authorize": [5, 1]}}, "delays.authorize"),
    ({"delays": {"teleport": 1}}, "delays.teleport"),
    ({"card_policy": "loose"}, "card_policy"),
    ({"allowed_origins": ["not a url"]}, "allowed_origins"),
    ({"webhook_retry_schedule": "sometimes"}, "webhook_retry_schedule"),
    ({"clock": "sundial"}, "clock"),
    ({"seed": "abc"}, "seed"),
    ({"colour": "blue"}, "colour"),
])
def test_invalid_config_is_refused_with_the_field_named(hs, update, field):
    reply = hs.control.put("/_mock/config", update)
    assert reply.status == 400 and reply.error["code"] == "invalid_config"
    assert reply.error["message"].startswith(field)
    assert hs.control.get("/_mock/config").json["success_rates"]["card"] == 1.0  # nothing half-applied


def test_control_api_refuses_bad_json(hs):
    reply = hs.control.put("/_mock/config", data="{nope")
    assert reply.status == 400 and reply.error == {"code": "bad_request", "message": "The body must be a JSON object"}
    unknown = hs.control.post("/_mock/clock/advance", {"secs": 5})
    assert unknown.status == 400 and "Unknown field(s): secs" in unknown.error["message"]


def test_control_api_unknown_route_and_method_are_json(control):
    assert control.get("/_mock/nothing").error["code"] == "not_found"
    assert control.call("DELETE", "/_mock/clock").error["code"] == "method_not_allowed"


def test_system_clock_cannot_be_advanced(hs):
    reply = hs.control.post("/_mock/clock/advance", {"seconds": 5})
    assert reply.status == 409 and reply.error["code"] == "clock_not_virtual"


def test_virtual_clock_advances_sets_and_lists_due_jobs(vhs):
    vhs.control.post("/_mock/clock/set", {"now": "2030-05-01T10:00:00Z"})
    clock = vhs.control.get("/_mock/clock").json
    assert clock == {"now": "2030-05-01T10:00:00.000Z", "mode": "virtual", "pending_jobs": []}
    vhs.create()
    assert [j["kind"] for j in vhs.control.get("/_mock/clock").json["pending_jobs"]] == ["payment.expire"]
    advanced = vhs.control.post("/_mock/clock/advance", {"duration": "2h"}).json
    assert advanced["now"] == "2030-05-01T12:00:00.000Z"
    assert [j["kind"] for j in advanced["ran"]] == ["payment.expire"]
    assert advanced["ran"][0]["due_at"] == "2030-05-01T10:15:00.000Z"


@pytest.mark.parametrize("value, seconds", [(90, 90), ("90s", 90), ("15m", 900), ("1.5h", 5400), ("1d", 86400)])
def test_durations_are_understood(vhs, value, seconds):
    before = vhs.control.get("/_mock/clock").json["now"]
    vhs.control.post("/_mock/clock/advance", {"duration": value})
    from mock_psp.runtime.clock import parse_iso

    after = vhs.control.get("/_mock/clock").json["now"]
    assert parse_iso(after) - parse_iso(before) == seconds * 1000


def test_bad_durations_are_refused(vhs):
    for value in ("soon", -5, "5y"):
        assert vhs.control.post("/_mock/clock/advance", {"duration": value}).status == 400


def test_switching_a_namespace_to_virtual_freezes_its_time(hs):
    hs.configure(clock="virtual")
    first = hs.control.get("/_mock/clock").json
    second = hs.control.get("/_mock/clock").json
    assert first["mode"] == "virtual" and first["now"] == second["now"]


def test_audit_log_records_every_transition_with_its_reason(hs):
    payment = hs.pay(capture_method="manual", amount=900)
    hs.capture(payment["payment_id"], {"amount_to_capture": 500})
    hs.refund(payment["payment_id"], amount=200)
    events = hs.events(payment["payment_id"])
    assert [(e["object"], e["from"], e["to"]) for e in events] == [
        ("payment", None, "created"),
        ("payment", "created", "authorized"),
        ("payment", "authorized", "partially_captured"),
        ("refund", None, "pending"),
        ("refund", "pending", "succeeded"),
    ]
    assert events[2]["reason"] == "capture: captured 500"
    assert all(re.match(r"\d{4}-\d\d-\d\dT", e["at"]) for e in events)


def test_audit_log_of_an_unknown_payment_is_404(hs):
    assert hs.control.get("/_mock/payments/pay_x/events").status == 404


def test_two_apps_in_one_process_share_nothing():
    first = create_app({"db": ":memory:", "background": False})
    second = create_app({"db": ":memory:", "background": False})
    try:
        one = Hyperswitch(FlaskTransport(first.test_client()), new_namespace(Api(FlaskTransport(first.test_client()))))
        payment = one.pay()
        other_control = Api(FlaskTransport(second.test_client()))
        assert other_control.get(f"/_mock/namespaces/{one.namespace['id']}").status == 404
        assert other_control.get(f"/_mock/payments/{payment['payment_id']}/events").status == 404
        assert first.extensions["mock_psp"] is not second.extensions["mock_psp"]
    finally:
        first.extensions["mock_psp"].close()
        second.extensions["mock_psp"].close()


@pytest.mark.parametrize("dialect", ["govuk", "govpay_lk"])
def test_control_calls_find_the_namespace_by_a_bearer_key_of_any_dialect(transport, control, dialect):
    ns = new_namespace(control)
    by_key = Api(transport, {"Authorization": f"Bearer {ns[dialect]['api_key']}"})
    assert by_key.get("/_mock/config").status == 200
    by_key.put("/_mock/config", {"success_rates": {"card": 0.5}})
    assert Api(transport, {"X-Mock-Namespace": ns["id"]}).get("/_mock/config").json["success_rates"]["card"] == 0.5
    assert control.get("/_mock/config").json["success_rates"]["card"] == 1.0
