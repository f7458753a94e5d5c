"""Webhooks from a live provider: background delivery, and no event lost across a SIGKILL."""

from __future__ import annotations

import time

import pytest
import requests

from tests.e2e.test_live_provider import start_cli
from tests.e2e.test_live_provider import stop_cli
from tests.support.clients import card

pytestmark = pytest.mark.e2e


def test_a_live_provider_delivers_in_the_background_without_a_flush(live_hs, receiver):
    live_hs.register(receiver.url)
    payment = live_hs.pay()
    [request] = receiver.wait_for(1, timeout=10)
    assert request.json["content"]["object"]["payment_id"] == payment["payment_id"]
    deadline = time.monotonic() + 5
    while live_hs.deliveries()[0]["status"] != "delivered":
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_virtual_clock_deliveries_due_now_go_out_without_moving_the_clock(live_provider, receiver):
    from tests.conftest import new_namespace
    from tests.support.clients import Api
    from tests.support.clients import Hyperswitch
    from tests.support.clients import LiveTransport

    transport = LiveTransport(live_provider.url)
    ns = Hyperswitch(transport, new_namespace(Api(transport), clock="virtual"))
    ns.register(receiver.url)
    ns.pay()
    receiver.wait_for(1, timeout=10)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_no_webhook_is_lost_when_the_provider_is_killed(tmp_path, receiver):
    """200 failing deliveries pending retry; SIGKILL; restart; the receiver recovers; all 200 arrive."""
    db = str(tmp_path / "crash.db")
    receiver.respond_with(500)
    process, url, _ = start_cli("--db", db)
    session = requests.Session()
    try:
        ns = session.post(url + "/_mock/namespaces", json={"clock": "virtual", "seed": 3}, timeout=10).json()
        control = {"X-Mock-Namespace": ns["id"]}
        api = {"api-key": ns["hyperswitch"]["api_key"]}
        assert session.post(url + "/_mock/webhook-endpoints", json={"url": receiver.url},
                            headers=control, timeout=10).status_code == 201
        payment_ids = []
        for _ in range(200):
            reply = session.post(url + "/hyperswitch/payments", headers=api, timeout=10,
                                 json={"amount": 500, "currency": "USD", "confirm": True, **card()})
            payment_ids.append(reply.json()["payment_id"])

        def failed_count():
            body = session.get(url + "/_mock/webhooks?status=failed&limit=1", headers=control, timeout=10).json()
            return body["total"] >= 120 and body["total"]

        _wait(failed_count, 30, "the first attempts to fail")
    finally:
        process.kill()  # SIGKILL: no clean shutdown, some deliveries may be mid-flight
        process.wait(10)
        process.stdout.close()

    receiver.respond_with(200)
    receiver.requests.clear()
    process, url, _ = start_cli("--db", db)
    try:
        session = requests.Session()
        # Deliveries never attempted go out by themselves (they are due now); retries
        # fall due a minute later on the namespace's clock.
        advanced = session.post(url + "/_mock/clock/advance", json={"seconds": 60}, headers=control, timeout=60)
        assert advanced.status_code == 200

        def all_delivered():
            body = session.get(url + "/_mock/webhooks?status=delivered&limit=1", headers=control, timeout=10).json()
            return body["total"] == 200

        _wait(all_delivered, 30, "all 200 deliveries")
    finally:
        stop_cli(process)
    arrived = {r.json["content"]["object"]["payment_id"] for r in receiver.requests}
    assert arrived == set(payment_ids)
