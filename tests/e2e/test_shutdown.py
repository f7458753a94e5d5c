"""Stopping within 2 s whatever clients and webhook receivers do, and losing nothing by it."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from mock_psp.runtime.server import ServerThread
from tests.e2e.test_live_provider import start_cli
from tests.e2e.test_live_provider import stop_cli
from tests.support.clients import card

pytestmark = pytest.mark.e2e

STOP_DEADLINE = 2.0


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


def test_sigterm_stops_serve_within_2_s_while_a_receiver_hangs_and_the_delivery_arrives_after_restart(
        tmp_path, receiver):
    db = str(tmp_path / "psp.db")
    receiver.respond_with(200, pause=30)  # takes the webhook and never answers in time
    process, url, _ = start_cli("--db", db)
    session = requests.Session()
    try:
        ns = session.post(url + "/_mock/namespaces", json={}, timeout=10).json()
        control = {"X-Mock-Namespace": ns["id"]}
        assert session.post(url + "/_mock/webhook-endpoints", json={"url": receiver.url},
                            headers=control, timeout=10).status_code == 201
        payment = session.post(url + "/hyperswitch/payments", headers={"api-key": ns["hyperswitch"]["api_key"]},
                               json={"amount": 500, "currency": "USD", "confirm": True, **card()}, timeout=10).json()
        [hung] = receiver.wait_for(1, timeout=10)  # the provider is now waiting for the receiver's answer
        started = time.monotonic()
        process.send_signal(15)
        process.communicate(timeout=30)
        stopped_in = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert stopped_in < STOP_DEADLINE, f"SIGTERM took {stopped_in:.1f} s"
    assert process.returncode == 0

    receiver.respond_with(200)
    process, url, _ = start_cli("--db", db)
    try:
        def delivered():
            found = session.get(url + "/_mock/webhooks", headers=control, timeout=10).json()["data"]
            return found and all(d["status"] == "delivered" for d in found) and found

        deliveries = _wait(delivered, 15, "every delivery to be delivered after the restart")
    finally:
        stop_cli(process)
    again = [r for r in receiver.requests if r.body == hung.body]
    assert len(again) >= 2, "the delivery in flight at the stop was not sent again"
    assert again[-1].json["content"]["object"]["payment_id"] == payment["payment_id"]
    # The abandoned attempt left no answer on record: every recorded attempt is the 200 that came.
    assert all(a["status_code"] == 200 for d in deliveries for a in d["attempts"]), deliveries


def test_server_thread_stops_within_2_s_with_a_request_hanging_in_the_app():
    entered, release = threading.Event(), threading.Event()

    def hanging_app(environ, start_response):
        entered.set()
        release.wait(60)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"late"]

    server = ServerThread(hanging_app, "127.0.0.1", 0).start()
    client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert entered.wait(5)
        started = time.monotonic()
        server.stop()
        stopped_in = time.monotonic() - started
        assert stopped_in < STOP_DEADLINE, f"stop() took {stopped_in:.1f} s"
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
    finally:
        release.set()
        client.close()
