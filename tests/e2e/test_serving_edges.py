"""The serving layer against real clients' habits and hostile ones: idle keep-alive connections,
slowloris senders and malformed requests, on the provider and on the test merchant.

Every answer a client waits for has a deadline (the issue's: each probe within 1 s, a malformed
or short request answered with a JSON 400 or closed within 2 s)."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import requests

from mock_psp.harness import start_harness

pytestmark = pytest.mark.e2e

PROBE_DEADLINE = 1.0
MALFORMED_DEADLINE = 2.0


@pytest.fixture(scope="module")
def running():
    harness = start_harness({"db": ":memory:", "port": 0}, dialect="hyperswitch")
    yield harness
    harness.stop()


# Each server: where it is, a cheap page to probe, and the paths whose envelopes the tests check.
SERVERS = {
    "provider": lambda h: (h.server.port, "/_mock/health"),
    "merchant": lambda h: (h.merchant.server.port, "/_merchant/config"),
}


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _probe(port: int, path: str) -> float:
    """One GET on a fresh connection; the seconds it took (it must be a 200)."""
    started = time.monotonic()
    response = requests.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    assert response.status_code == 200
    return time.monotonic() - started


def _idle(port: int, path: str, count: int) -> list[socket.socket]:
    """Half connect and send nothing; half send one whole request, read its answer, and hold."""
    held = [_connect(port) for _ in range(count)]
    for sock in held[1::2]:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    for sock in held[1::2]:
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    return held


def _slowloris(port: int, path: str, count: int, stop: threading.Event) -> list[socket.socket]:
    """Connections sending a request header that never ends, one byte every 0.3 s."""
    held = [_connect(port) for _ in range(count)]
    for sock in held:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode())

    def drip():
        while not stop.wait(0.3):
            for sock in held:
                try:
                    sock.send(b"a")
                except OSError:
                    pass  # closed by the server, as it should be

    threading.Thread(target=drip, daemon=True).start()
    return held


@pytest.mark.parametrize("server", SERVERS)
def test_200_idle_and_50_slowloris_connections_leave_every_probe_answered_within_a_second(running, server):
    port, path = SERVERS[server](running)
    stop = threading.Event()
    held = _idle(port, path, 200)
    held += _slowloris(port, path, 50, stop)
    try:
        took = [_probe(port, path) for _ in range(6)]
    finally:
        stop.set()
        for sock in held:
            sock.close()
    assert max(took) < PROBE_DEADLINE, took


# name -> (path, the bytes sent before the client goes quiet)
MALFORMED = {
    "content_length_beyond_body": ("/hyperswitch/payments",
                                   b"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                   b"Content-Length: 100\r\n\r\n{\"amount\":"),
    "negative_content_length": ("/hyperswitch/payments",
                                b"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n"),
    "truncated_chunked_body": ("/govuk/v1/payments",
                               b"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                               b"10\r\n{\"amount\":"),
    "garbage_request_line": ("/", b"\x16\x03\x01\x02\x00 not http at all\r\n\r\n"),
}
MERCHANT_PATH = "/_merchant/orders"


def _hyperswitch_envelope(body: dict) -> bool:
    return set(body["error"]) >= {"type", "code", "message"} and body["error"]["code"].startswith(("IR_", "HE_"))


def _govuk_envelope(body: dict) -> bool:
    return set(body) >= {"code", "description"} and body["code"].startswith("P0")


def _plain_envelope(body: dict) -> bool:  # the control API's, and the test merchant's API's
    return set(body["error"]) >= {"code", "message"}


def _expected_envelope(server: str, path: str):
    if server == "merchant":
        return _plain_envelope
    return {"/hyperswitch/payments": _hyperswitch_envelope, "/govuk/v1/payments": _govuk_envelope}.get(
        path, _plain_envelope)


def _answer_or_close(sock: socket.socket, deadline: float) -> bytes | None:
    """What the server sends before it closes (None: it said nothing and did not close in time)."""
    received = b""
    sock.settimeout(deadline)
    ends = time.monotonic() + deadline
    try:
        while time.monotonic() < ends:
            sock.settimeout(max(0.01, ends - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk
    except TimeoutError:
        return None if not received else received
    except ConnectionResetError:
        return received
    return None


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("kind", MALFORMED)
def test_a_malformed_or_short_request_gets_a_json_400_or_is_closed_within_2_s_and_holds_no_worker(
        running, server, kind):
    port, probe_path = SERVERS[server](running)
    path, raw = MALFORMED[kind]
    if server == "merchant" and path != "/":
        path = MERCHANT_PATH
    sock = _connect(port)
    started = time.monotonic()
    sock.sendall(raw.replace(b"{path}", path.encode()))
    probed = _probe(port, probe_path)  # the server still answers others meanwhile
    received = _answer_or_close(sock, MALFORMED_DEADLINE)
    elapsed = time.monotonic() - started
    sock.close()
    assert received is not None, f"neither answered nor closed within {MALFORMED_DEADLINE} s"
    assert elapsed < MALFORMED_DEADLINE + 0.2
    assert probed < PROBE_DEADLINE
    if received:  # an answer: a JSON 400 in the envelope of the face the path belongs to
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].split(" ")[1] == "400", lines[0]
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        assert headers["content-type"].startswith("application/json")
        assert _expected_envelope(server, path)(json.loads(body)), body


def test_the_server_error_on_a_face_carries_that_face_s_envelope(running):
    """One request the server itself refuses, under each dialect's prefix and outside them."""
    port = running.server.port
    shapes = {"/hyperswitch/payments": _hyperswitch_envelope, "/govuk/v1/payments": _govuk_envelope,
              "/_mock/namespaces": _plain_envelope}
    for path, shape in shapes.items():
        sock = _connect(port)
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x1\r\n\r\n".encode())
        received = _answer_or_close(sock, MALFORMED_DEADLINE)
        sock.close()
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400"), head
        assert b"Content-Type: application/json" in head
        assert shape(json.loads(body)), (path, body)
