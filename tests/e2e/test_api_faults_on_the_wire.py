"""API faults over a real socket: what a client library (requests) sees for each one, and that
the server keeps serving afterwards."""

from __future__ import annotations

import http.client
import socket

import pytest
import requests

pytestmark = pytest.mark.e2e


@pytest.fixture
def ns(live_provider) -> dict:
    return requests.post(f"{live_provider.url}/_mock/namespaces", json={}, timeout=10).json()


def set_api_faults(url: str, ns: dict, **faults) -> None:
    reply = requests.put(f"{url}/_mock/faults", json={"api": faults}, headers={"X-Mock-Namespace": ns["id"]},
                         timeout=10)
    assert reply.status_code == 200, reply.text


def create(url: str, ns: dict, timeout: float = 10, **fields) -> requests.Response:
    return requests.post(f"{url}/hyperswitch/payments", json={"amount": 1000, "currency": "USD", **fields},
                         headers={"api-key": ns["hyperswitch"]["api_key"]}, timeout=timeout)


def payment_count(url: str, ns: dict) -> int:
    return requests.get(f"{url}/hyperswitch/payments/list", headers={"api-key": ns["hyperswitch"]["api_key"]},
                        timeout=10).json()["size"]


def raw_exchange(url: str, ns: dict) -> tuple[bytes, BaseException | None]:
    """Send one create over a bare socket; return what came back and how the read ended."""
    host, port = url.removeprefix("http://").split(":")
    body = b'{"amount": 1000, "currency": "USD"}'
    request = (f"POST /hyperswitch/payments HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
               f"api-key: {ns['hyperswitch']['api_key']}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    received, ended = b"", None
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError as error:
            ended = error
    return received, ended


def test_a_reset_is_a_connection_reset_and_nothing_happened(live_provider, ns):
    set_api_faults(live_provider.url, ns, next=["reset"])
    received, ended = raw_exchange(live_provider.url, ns)
    assert received == b"" and isinstance(ended, ConnectionResetError)
    assert payment_count(live_provider.url, ns) == 0
    assert create(live_provider.url, ns).status_code == 200  # the server serves on


def test_a_lost_response_is_an_error_for_the_client_but_the_payment_exists(live_provider, ns):
    set_api_faults(live_provider.url, ns, next=["lost_response"])
    with pytest.raises(requests.ConnectionError):
        create(live_provider.url, ns, payment_id="pay_lost_on_the_wire_0001")
    assert payment_count(live_provider.url, ns) == 1
    retried = create(live_provider.url, ns, payment_id="pay_lost_on_the_wire_0001")
    assert retried.json()["error"]["code"] == "HE_01"


def test_a_truncated_answer_breaks_off_after_the_headers_and_half_the_body(live_provider, ns):
    set_api_faults(live_provider.url, ns, next=["truncated"])
    received, _ = raw_exchange(live_provider.url, ns)
    head, _, body = received.partition(b"\r\n\r\n")
    declared = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    assert head.startswith(b"HTTP/1.1 200") and 0 < len(body) < declared
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        set_api_faults(live_provider.url, ns, next=["truncated"])
        create(live_provider.url, ns)
    assert payment_count(live_provider.url, ns) == 2


def test_a_timeout_leaves_the_client_waiting_and_processes_nothing(live_provider, ns):
    set_api_faults(live_provider.url, ns, next=["timeout"], timeout_seconds=2)
    with pytest.raises(requests.exceptions.ReadTimeout):
        create(live_provider.url, ns, timeout=0.3)
    assert payment_count(live_provider.url, ns) == 0


def test_an_injected_error_over_the_wire_is_json_with_the_fault_header(live_provider, ns):
    set_api_faults(live_provider.url, ns, next=["error"])
    reply = create(live_provider.url, ns)
    assert reply.status_code == 500 and reply.json()["error"]["code"] == "HE_00"
    assert reply.headers["X-Mock-Fault"] == "error"


def test_keep_alive_connections_survive_other_calls_faults(live_provider, ns):
    session = requests.Session()
    key = {"api-key": ns["hyperswitch"]["api_key"]}
    assert session.get(f"{live_provider.url}/hyperswitch/payments/list", headers=key, timeout=10).ok
    set_api_faults(live_provider.url, ns, next=["reset"])
    with pytest.raises(requests.ConnectionError):
        session.post(f"{live_provider.url}/hyperswitch/payments", json={"amount": 1, "currency": "USD"},
                     headers=key, timeout=10)
    assert session.get(f"{live_provider.url}/hyperswitch/payments/list", headers=key, timeout=10).ok


def test_http_client_sees_a_truncated_body_as_incomplete(live_provider, ns):
    set_api_faults(live_provider.url, ns, next=["truncated"])
    host, port = live_provider.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("POST", "/hyperswitch/payments", body=b'{"amount": 1000, "currency": "USD"}',
                       headers={"api-key": ns["hyperswitch"]["api_key"], "Content-Type": "application/json"})
    response = connection.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    connection.close()


def test_stopping_the_server_releases_a_call_held_by_a_timeout_fault():
    import threading

    from mock_psp.app import create_app
    from mock_psp.runtime.server import ServerThread

    app = create_app({"db": ":memory:", "background": False})
    server = ServerThread(app, "127.0.0.1", 0).start()
    ns = requests.post(f"{server.url}/_mock/namespaces", json={}, timeout=10).json()
    set_api_faults(server.url, ns, next=["timeout"], timeout_seconds=600)
    outcome = {}

    def held_call():
        try:
            outcome["reply"] = create(server.url, ns, timeout=120)
        except requests.RequestException as error:
            outcome["error"] = error

    caller = threading.Thread(target=held_call)
    caller.start()
    for _ in range(100):  # until the call is being held
        if requests.get(f"{server.url}/_mock/faults/api/log", headers={"X-Mock-Namespace": ns["id"]},
                        timeout=10).json()["data"]:
            break
    server.stop()  # Ctrl-C on `mock-psp serve` does this
    caller.join(timeout=30)
    app.extensions["mock_psp"].close()
    assert not caller.is_alive(), "the held call kept the server from stopping"
    assert isinstance(outcome.get("error"), requests.ConnectionError)  # no answer, as a timeout gives none
