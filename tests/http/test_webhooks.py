"""Webhooks: events, payloads, signatures, retries on the clock, faults and the delivery log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from standardwebhooks.webhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from mock_psp.runtime.clock import parse_iso

UPI_OK = {"payment_method": "upi", "payment_method_data": {"upi": {"upi_collect": {"vpa_id": "success@upi"}}}}


def hs_signature(key: str, body: bytes) -> str:
    """Hyperswitch's X-Webhook-Signature-512, computed independently."""
    return hmac.new(key.encode("utf-8"), body, hashlib.sha512).hexdigest()


# -- endpoints ------------------------------------------------------------------------


def test_register_list_update_and_delete_an_endpoint(hs, receiver):
    created = hs.register(receiver.url, events=["payment_succeeded"], description="shop")
    assert created["id"].startswith("we_") and created["scheme"] == "hyperswitch"
    assert created["secret"] == hs.hash_key and created["secret_source"] == "namespace"
    assert created["retry_schedule"][:3] == [60, 300, 300] and len(created["retry_schedule"]) == 16
    listed = hs.control.get("/_mock/webhook-endpoints").json["data"]
    assert [e["id"] for e in listed] == [created["id"]]
    patched = hs.control.call("PATCH", f"/_mock/webhook-endpoints/{created['id']}", json={"enabled": False})
    assert patched.json["enabled"] is False
    assert hs.control.call("DELETE", f"/_mock/webhook-endpoints/{created['id']}").status == 204
    assert hs.control.get(f"/_mock/webhook-endpoints/{created['id']}").status == 404


@pytest.mark.parametrize("body, field", [
    ({"url": "ftp://example.com/hook"}, "url"),
    ({"url": "not a url"}, "url"),
    ({}, "url"),
    ({"url": "http://127.0.0.1:1/x", "scheme": "carrier-pigeon"}, "scheme"),
    ({"url": "http://127.0.0.1:1/x", "secret": ""}, "secret"),
    ({"url": "http://127.0.0.1:1/x", "secret": "   "}, "secret"),
    ({"url": "http://127.0.0.1:1/x", "scheme": "standard", "secret": "whsec_%%%"}, "secret"),
    ({"url": "http://127.0.0.1:1/x", "events": ["payment_teleported"]}, "events"),
    ({"url": "http://127.0.0.1:1/x", "retry_schedule": [-1]}, "retry_schedule"),
    ({"url": "http://127.0.0.1:1/x", "timeout_seconds": 0}, "timeout_seconds"),
    ({"url": "http://127.0.0.1:1/x", "faults": {"drop": 2}}, "faults.drop"),
    ({"url": "http://127.0.0.1:1/x", "colour": "red"}, "colour"),
])
def test_bad_endpoints_are_refused_clearly(hs, body, field):
    reply = hs.control.post("/_mock/webhook-endpoints", body)
    assert reply.status == 400, reply.text
    assert reply.error["message"].startswith(field)


# -- events and payloads -----------------------------------------------------------------


def test_a_payment_sends_payment_succeeded_with_the_retrieve_body(hs, receiver):
    hs.register(receiver.url)
    payment = hs.pay(amount=4200)
    retrieved = hs.retrieve(payment["payment_id"]).json
    hs.flush()
    [request] = receiver.requests
    body = request.json
    assert set(body) == {"merchant_id", "event_id", "event_type", "content", "timestamp", "processor_merchant_id"}
    assert body["event_type"] == "payment_succeeded" and body["merchant_id"] == hs.merchant_id
    assert body["event_id"].startswith("evt_") and len(body["event_id"]) == 36
    assert body["content"]["type"] == "payment_details"
    assert body["content"]["object"] == retrieved
    assert request.headers["User-Agent"] == "Hyperswitch-Backend-Server"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Webhook-Signature-512"] == hs_signature(hs.hash_key, request.body)


def test_status_changes_map_to_the_real_event_types(vhs, receiver):
    vhs.register(receiver.url)
    held = vhs.pay(capture_method="manual", amount=1000)
    vhs.capture(held["payment_id"], {"amount_to_capture": 400})
    vhs.refund(held["payment_id"], amount=100)
    vhs.configure(success_rates={"refund": 0})
    vhs.refund(held["payment_id"], amount=100)
    declined = vhs.pay("4000000000000002")
    three_ds = vhs.pay("4000003800000446")
    voided = vhs.pay(capture_method="manual")
    vhs.cancel(voided["payment_id"])
    upi = vhs.create(confirm=True, **UPI_OK).json
    abandoned = vhs.create().json
    vhs.advance(15 * 60)
    types = [(d["object_id"], d["event_type"]) for d in vhs.deliveries()]
    assert types == [
        (held["payment_id"], "payment_authorized"),
        (held["payment_id"], "payment_captured"),
        (types[2][0], "refund_succeeded"),
        (types[3][0], "refund_failed"),
        (declined["payment_id"], "payment_failed"),
        (three_ds["payment_id"], "action_required"),
        (voided["payment_id"], "payment_authorized"),
        (voided["payment_id"], "payment_cancelled"),
        (upi["payment_id"], "payment_processing"),
        (upi["payment_id"], "payment_succeeded"),
        (three_ds["payment_id"], "payment_expired"),
        (abandoned["payment_id"], "payment_expired"),
    ]
    refund_body = next(r.json for r in receiver.requests if r.json["event_type"] == "refund_succeeded")
    assert refund_body["content"]["type"] == "refund_details"
    assert refund_body["content"]["object"]["refund_id"] == types[2][0]


def test_one_event_per_object_and_event_type(vhs, receiver):
    vhs.register(receiver.url)
    vhs.configure(delays={"authorize": 5, "capture": 5})
    payment = vhs.pay()  # processing, then processing again while the capture settles
    vhs.advance(10)
    events = [d["event_type"] for d in vhs.deliveries(payment_id=payment["payment_id"])]
    assert events == ["payment_processing", "payment_succeeded"]


def test_payload_describes_the_moment_of_the_change_not_the_present(vhs, receiver):
    vhs.register(receiver.url)
    held = vhs.pay(capture_method="manual")
    vhs.capture(held["payment_id"])
    vhs.flush()
    authorized, succeeded = (r.json for r in receiver.requests)
    assert authorized["content"]["object"]["status"] == "requires_capture"
    assert succeeded["content"]["object"]["status"] == "succeeded"


def test_a_change_that_rolls_back_sends_nothing(hs, receiver, provider):
    from mock_psp.domain import payments
    from mock_psp.domain.work import unit_of_work

    hs.register(receiver.url)
    held = hs.pay(capture_method="manual")
    hs.flush()
    sent_before = len(receiver.requests)
    payment = payments.get_payment(provider.store, hs.namespace["id"], held["payment_id"])
    with pytest.raises(LookupError):
        with unit_of_work(provider.store, hs.namespace["id"]) as work:
            payments._transition(work, payment, payments.CANCELLED, "doomed")
            raise LookupError("the rest of the operation failed")
    provider.after_change()
    hs.flush()
    assert len(receiver.requests) == sent_before
    assert hs.retrieve(held["payment_id"]).json["status"] == "requires_capture"


def test_event_filters_and_disabled_endpoints(hs, receiver):
    hs.register(receiver.url, events=["payment_failed"])
    off = hs.register(receiver.url + "/off")
    hs.control.call("PATCH", f"/_mock/webhook-endpoints/{off['id']}", json={"enabled": False})
    hs.pay()
    hs.pay("4000000000000002")
    hs.flush()
    assert [r.json["event_type"] for r in receiver.requests] == ["payment_failed"]
    assert all(r.path == "/webhooks" for r in receiver.requests)


# -- signing schemes ----------------------------------------------------------------------


def test_govuk_scheme_signs_with_hmac_sha256(hs, receiver):
    hs.register(receiver.url, scheme="govuk", dialect="hyperswitch", secret="webhook_live_secret")
    hs.pay()
    hs.flush()
    [request] = receiver.requests
    expected = hmac.new(b"webhook_live_secret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["Pay-Signature"] == expected


def test_standard_webhooks_scheme_verifies_with_the_reference_library(hs, receiver):
    endpoint = hs.register(receiver.url, scheme="standard", dialect="hyperswitch")
    assert endpoint["secret"].startswith("whsec_")
    hs.pay()
    hs.flush()
    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request.headers.items()}
    verified = Webhook(endpoint["secret"]).verify(request.body, headers)
    assert verified["event_type"] == "payment_succeeded"
    assert headers["webhook-id"] == verified["event_id"]
    tampered = request.body.replace(b"succeeded", b"failed!!!", 1)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(tampered, headers)


def test_a_given_standard_secret_is_used(hs, receiver):
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123").decode()
    hs.register(receiver.url, scheme="standard", dialect="hyperswitch", secret=secret)
    hs.pay()
    hs.flush()
    request = receiver.requests[0]
    Webhook(secret).verify(request.body, {k.lower(): v for k, v in request.headers.items()})


# -- retries on the clock ---------------------------------------------------------------


HYPERSWITCH_SCHEDULE = [60, 300, 300] + [600] * 5 + [3600] * 5 + [21600] * 3


def test_failing_receiver_walks_the_full_hyperswitch_schedule_in_one_advance(vhs, receiver):
    receiver.respond_with(500)
    vhs.register(receiver.url)
    vhs.pay()
    start = parse_iso(vhs.control.get("/_mock/clock").json["now"])
    vhs.advance(24 * 3600 + 3600)
    [delivery] = vhs.deliveries()
    assert delivery["status"] == "given_up" and delivery["attempt_count"] == 17
    times = [parse_iso(a["at"]) - start for a in delivery["attempts"]]
    expected, elapsed = [0], 0
    for gap in HYPERSWITCH_SCHEDULE:
        elapsed += gap * 1000
        expected.append(elapsed)
    assert times == expected
    assert [a["kind"] for a in delivery["attempts"]] == ["initial_attempt"] + ["automatic_retry"] * 16
    assert all(a["status_code"] == 500 and a["error"] == "HTTP 500" for a in delivery["attempts"])
    bodies = {r.body for r in receiver.requests}
    assert len(receiver.requests) == 17 and len(bodies) == 1  # body and event_id never change


def test_a_retry_that_succeeds_stops_the_schedule(vhs, receiver):
    receiver.respond_with(503)
    vhs.register(receiver.url)
    vhs.pay()
    vhs.advance(60 + 300)
    assert vhs.deliveries()[0]["status"] == "failed"
    receiver.respond_with(200)
    vhs.advance(300)
    delivery = vhs.deliveries()[0]
    assert delivery["status"] == "delivered" and delivery["attempt_count"] == 4
    vhs.advance(48 * 3600)
    assert len(receiver.requests) == 4


def test_schedule_is_configurable_per_namespace_and_per_endpoint(vhs, receiver):
    receiver.respond_with(500)
    vhs.configure(webhook_retry_schedule=[0, 1, 30])
    vhs.register(receiver.url)
    vhs.register(receiver.url + "/gov", scheme="govuk", dialect="hyperswitch", retry_schedule="provider")
    vhs.register(receiver.url + "/own", retry_schedule=[5])
    vhs.pay()
    vhs.advance(4 * 24 * 3600)
    counts = {d["url"].rsplit("/", 1)[1]: d["attempt_count"] for d in vhs.deliveries()}
    # the namespace list applies to endpoints without their own; "provider" is the scheme's own
    assert counts == {"webhooks": 4, "gov": 4, "own": 2}


def test_govuk_provider_schedule_is_60s_5m_1h_1d_2d(vhs, receiver):
    receiver.respond_with(500)
    vhs.register(receiver.url, scheme="govuk", dialect="hyperswitch")
    vhs.pay()
    vhs.advance(4 * 24 * 3600)
    [delivery] = vhs.deliveries()
    gaps = [parse_iso(b["at"]) - parse_iso(a["at"]) for a, b in zip(delivery["attempts"], delivery["attempts"][1:])]
    assert [g // 1000 for g in gaps] == [60, 300, 3600, 86400, 172800]
    assert delivery["status"] == "given_up"


def test_deliveries_to_one_endpoint_arrive_in_order(hs, receiver):
    hs.register(receiver.url)
    ids = [hs.pay()["payment_id"] for _ in range(8)]
    hs.flush()
    assert [r.json["content"]["object"]["payment_id"] for r in receiver.requests] == ids


# -- receivers that misbehave -------------------------------------------------------------


def test_timeouts_refusals_hangups_and_errors_are_failed_attempts(vhs, receiver):
    from tests.support.receiver import Receiver

    slow, closing = Receiver().start(), Receiver().start()
    try:
        slow.respond_with(200, pause=0.5)
        closing.respond_with(hang_up=True)
        receiver.respond_with(500)
        vhs.register(slow.url, timeout_seconds=0.1)
        vhs.register(closing.url)
        vhs.register("http://127.0.0.1:9/nothing-listens")
        vhs.register(receiver.url)
        vhs.pay()
        vhs.flush()
        errors = {d["url"]: d["attempts"][0]["error"] for d in vhs.deliveries()}
        assert errors == {
            slow.url: "timeout after 0.1s",
            closing.url: "connection closed by the receiver",
            "http://127.0.0.1:9/nothing-listens": "connection refused",
            receiver.url: "HTTP 500",
        }
        assert {d["status"] for d in vhs.deliveries()} == {"failed"}
        vhs.pay()  # the worker carries on
        vhs.flush()
        assert len(receiver.requests) == 2
    finally:
        slow.stop()
        closing.stop()


# -- faults ---------------------------------------------------------------------------------


def test_scripted_faults_apply_to_the_next_deliveries(vhs, receiver):
    vhs.register(receiver.url)
    faults = vhs.control.put("/_mock/faults", {"webhooks": {"next": ["drop", "duplicate", "none"]}}).json
    assert faults["webhooks"]["next"] == ["drop", "duplicate", "none"]
    first, second, third = (vhs.pay()["payment_id"] for _ in range(3))
    vhs.flush()
    by_payment = {d["payment_id"]: d for d in vhs.deliveries()}
    dropped = by_payment[first]
    assert dropped["status"] == "failed" and dropped["attempts"][0]["fault"] == "drop"
    assert dropped["attempts"][0]["sent"] is False
    duplicated = by_payment[second]
    assert [a["fault"] for a in duplicated["attempts"]] == [None, "duplicate"]
    arrived = [r.json["content"]["object"]["payment_id"] for r in receiver.requests]
    assert arrived == [second, second, third]
    assert receiver.requests[0].body == receiver.requests[1].body
    vhs.advance(60)  # the dropped delivery is retried on schedule
    assert vhs.deliveries(payment_id=first)[0]["status"] == "delivered"


def test_lost_drop_is_reported_delivered_but_never_arrives(vhs, receiver):
    vhs.register(receiver.url)
    vhs.control.put("/_mock/faults", {"webhooks": {"next": ["drop_lost"]}})
    vhs.pay()
    vhs.advance(24 * 3600)
    [delivery] = vhs.deliveries()
    assert delivery["status"] == "delivered" and delivery["attempts"][0]["fault"] == "drop_lost"
    assert receiver.requests == []


def test_reorder_holds_a_delivery_until_the_next_one_is_sent(vhs, receiver):
    vhs.register(receiver.url)
    vhs.control.put("/_mock/faults", {"webhooks": {"next": ["reorder"]}})
    first = vhs.pay()["payment_id"]
    vhs.flush()
    assert receiver.requests == []
    second = vhs.pay()["payment_id"]
    vhs.flush()
    arrived = [r.json["content"]["object"]["payment_id"] for r in receiver.requests]
    assert arrived == [second, first]
    assert vhs.deliveries(payment_id=first)[0]["attempts"][0]["fault"] == "reorder"


def test_reordered_delivery_goes_out_after_the_hold_if_nothing_follows(vhs, receiver):
    vhs.register(receiver.url)
    vhs.control.put("/_mock/faults", {"webhooks": {"next": ["reorder"], "reorder_hold_seconds": 20}})
    vhs.pay()
    vhs.advance(19)
    assert receiver.requests == []
    vhs.advance(1)
    assert len(receiver.requests) == 1


def test_extra_delay_moves_the_delivery_on_the_clock(vhs, receiver):
    vhs.register(receiver.url)
    vhs.control.put("/_mock/faults", {"webhooks": {"delay_seconds": 90}})
    vhs.pay()
    vhs.flush()
    assert receiver.requests == []
    vhs.advance(89)
    assert receiver.requests == []
    vhs.advance(1)
    [delivery] = vhs.deliveries()
    assert delivery["status"] == "delivered" and delivery["attempts"][0]["fault"] == "delay"


def test_endpoint_faults_override_the_namespace_ones(vhs, receiver):
    vhs.control.put("/_mock/faults", {"webhooks": {"drop": 1.0}})
    quiet = vhs.register(receiver.url + "/clean", faults={"drop": 0})
    vhs.register(receiver.url)
    vhs.pay()
    vhs.flush()
    statuses = {d["endpoint_id"] == quiet["id"]: d["status"] for d in vhs.deliveries()}
    assert statuses == {True: "delivered", False: "failed"}


def test_fault_probabilities_repeat_under_the_same_seed(transport, control, receiver):
    from tests.conftest import new_namespace
    from tests.support.clients import Hyperswitch

    def pattern() -> tuple[list, list]:
        ns = Hyperswitch(transport, new_namespace(control, seed=5, clock="virtual"))
        ns.register(receiver.url)
        ns.control.put("/_mock/faults", {"webhooks": {"drop": 0.3, "duplicate": 0.3}})
        ids = [ns.pay()["payment_id"] for _ in range(20)]
        ns.flush()
        return ids, [[a["fault"] for a in d["attempts"]] for d in ns.deliveries()]

    first, second = pattern(), pattern()
    assert first == second
    faults_seen = {f for attempts in first[1] for f in attempts}
    assert {"drop", "duplicate", None} <= faults_seen


def test_background_fault_draws_do_not_shift_payment_ids(transport, control, receiver):
    from tests.conftest import new_namespace
    from tests.support.clients import Hyperswitch

    def ids(with_faults: bool) -> list[str]:
        ns = Hyperswitch(transport, new_namespace(control, seed=9, clock="virtual"))
        if with_faults:
            ns.register(receiver.url)
            ns.control.put("/_mock/faults", {"webhooks": {"drop": 0.5, "delay": 0.2, "delay_seconds": 1}})
        out = []
        for _ in range(5):
            out.append(ns.pay()["payment_id"])
            ns.flush()
        return out

    assert ids(False) == ids(True)


def test_bad_fault_settings_are_refused(hs):
    for body in ({"webhooks": {"drop": -1}}, {"webhooks": {"next": ["explode"]}},
                 {"webhooks": {"drop_mode": "sometimes"}}, {"webhooks": {"teleport": 1}}):
        assert hs.control.put("/_mock/faults", body).status == 400, body


# -- the delivery log and manual control -----------------------------------------------------


def test_delivery_log_filters_and_details(vhs, receiver):
    receiver.respond_with(500)
    vhs.register(receiver.url)
    ok = vhs.pay()
    failed = vhs.pay("4000000000000002")
    vhs.flush()
    assert len(vhs.deliveries(status="failed")) == 2
    assert [d["payment_id"] for d in vhs.deliveries(event_type="payment_failed")] == [failed["payment_id"]]
    [mine] = vhs.deliveries(payment_id=ok["payment_id"])
    detail = vhs.control.get(f"/_mock/webhooks/{mine['id']}").json
    assert json.loads(detail["payload"])["content"]["object"]["payment_id"] == ok["payment_id"]
    assert detail["attempts"][0]["request_headers"]["X-Webhook-Signature-512"]
    assert detail["attempts"][0]["response_excerpt"] == '{"received": true}'
    assert detail["next_attempt_at"] is not None
    assert vhs.control.get("/_mock/webhooks?status=lost").status == 400
    assert vhs.control.get("/_mock/webhooks/whd_missing").status == 404


def test_manual_retry_sends_now_and_is_marked_manual(vhs, receiver):
    receiver.respond_with(500)
    vhs.register(receiver.url)
    vhs.pay()
    vhs.flush()
    [delivery] = vhs.deliveries()
    receiver.respond_with(200)
    retried = vhs.control.post(f"/_mock/webhooks/{delivery['id']}/retry").json
    assert retried["status"] == "delivered"
    assert [a["kind"] for a in retried["attempts"]] == ["initial_attempt", "manual_retry"]
    vhs.advance(3600)  # the pending automatic retry is not sent once delivered
    assert len(receiver.requests) == 2


def test_reset_clears_the_delivery_log_but_keeps_endpoints(hs, receiver):
    hs.register(receiver.url)
    hs.pay()
    hs.flush()
    hs.control.post("/_mock/reset")
    assert hs.deliveries() == []
    assert len(hs.control.get("/_mock/webhook-endpoints").json["data"]) == 1


# -- the Hyperswitch profile and events API -------------------------------------------------


def profile_path(hs) -> str:
    return f"/hyperswitch/account/{hs.merchant_id}/business_profile/{hs.namespace['hyperswitch']['profile_id']}"


def test_profile_webhook_url_receives_events_signed_with_the_profile_key(hs, receiver):
    reply = hs.api.post(profile_path(hs), {"webhook_details": {"webhook_url": receiver.url},
                                           "payment_response_hash_key": "my-own-hash-key"})
    assert reply.status == 200
    assert reply.json["webhook_details"]["webhook_url"] == receiver.url
    assert reply.json["payment_response_hash_key"] == "my-own-hash-key"
    hs.pay()
    hs.flush()
    [request] = receiver.requests
    assert request.headers["X-Webhook-Signature-512"] == hs_signature("my-own-hash-key", request.body)
    endpoint = hs.control.get("/_mock/webhook-endpoints").json["data"][0]
    assert endpoint["source"] == "profile" and endpoint["secret"] == "my-own-hash-key"


def test_profile_status_lists_filter_events(hs, receiver):
    hs.api.post(profile_path(hs), {"webhook_details": {"webhook_url": receiver.url,
                                                       "payment_statuses_enabled": ["failed"]}})
    hs.pay()
    hs.pay("4000000000000002")
    hs.flush()
    assert [r.json["event_type"] for r in receiver.requests] == ["payment_failed"]


def test_profile_of_another_merchant_is_not_found(hs):
    reply = hs.api.get(f"/hyperswitch/account/merchant_other/business_profile/{hs.namespace['hyperswitch']['profile_id']}")
    assert reply.status == 404 and reply.error["code"] == "HE_02"


def test_events_api_lists_attempts_and_retries_by_hand(vhs, receiver):
    receiver.respond_with(500)
    vhs.register(receiver.url)
    payment = vhs.pay()
    vhs.advance(60)
    events = vhs.api.post(f"/hyperswitch/events/{vhs.merchant_id}", {"object_id": payment["payment_id"]}).json
    assert events["total_count"] == 1
    [event] = events["events"]
    assert event["event_type"] == "payment_succeeded" and event["is_delivery_successful"] is False
    assert event["initial_attempt_id"] == event["event_id"] and event["event_class"] == "payments"
    attempts = vhs.api.get(f"/hyperswitch/events/{vhs.merchant_id}/{event['event_id']}/attempts").json
    assert [a["delivery_attempt"] for a in attempts] == ["initial_attempt", "automatic_retry"]
    assert attempts[0]["event_id"] == event["event_id"] and attempts[1]["event_id"] != event["event_id"]
    assert attempts[0]["response"]["status_code"] == 500
    assert ["x-webhook-signature-512", hs_signature(vhs.hash_key, attempts[0]["request"]["body"].encode())] in (
        attempts[0]["request"]["headers"])
    receiver.respond_with(200)
    retried = vhs.api.post(f"/hyperswitch/events/{vhs.merchant_id}/{event['event_id']}/retry").json
    assert retried["delivery_attempt"] == "manual_retry" and retried["response"]["status_code"] == 200
    delivered = vhs.api.post(f"/hyperswitch/events/{vhs.merchant_id}", {"is_delivered": True}).json
    assert delivered["total_count"] == 1


def test_events_api_needs_the_admin_key_or_the_merchants_own(hs):
    other_key = "snd_" + "x" * 64
    reply = hs.api.post(f"/hyperswitch/events/{hs.merchant_id}", {}, headers={"api-key": other_key})
    assert reply.status == 401
    admin = hs.api.post(f"/hyperswitch/events/{hs.merchant_id}", {}, headers={"api-key": "test_admin"})
    assert admin.status == 200 and admin.json == {"events": [], "total_count": 0}
