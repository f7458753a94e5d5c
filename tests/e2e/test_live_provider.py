"""A real provider on a free port: concurrency, redirects and the command line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qsl
from urllib.parse import urljoin
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.clients import card

pytestmark = pytest.mark.e2e

THREADS = 32


def race(n: int, action) -> list:
    """Run ``action(i)`` on n threads released at the same instant; return the results."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = action(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def fresh_session_api(hs):
    """Each thread gets its own connection, like separate clients would."""
    from tests.support.clients import Api
    from tests.support.clients import LiveTransport

    return Api(LiveTransport(hs.api.transport.base_url), hs.api.headers)


def test_32_concurrent_captures_capture_exactly_once(live_hs):
    payment = live_hs.pay(capture_method="manual", amount=5000)
    replies = race(THREADS, lambda i: fresh_session_api(live_hs).post(
        f"/hyperswitch/payments/{payment['payment_id']}/capture", {}))
    statuses = Counter(r.status for r in replies)
    assert statuses == {200: 1, 400: THREADS - 1}
    assert {r.error["code"] for r in replies if r.status == 400} == {"IR_14"}
    final = live_hs.retrieve(payment["payment_id"]).json
    assert final["status"] == "succeeded" and final["amount_received"] == 5000
    transitions = [e for e in live_hs.events(payment["payment_id"]) if e["to"] == "captured"]
    assert len(transitions) == 1


def test_32_concurrent_20_percent_refunds_yield_exactly_five(live_hs):
    payment = live_hs.pay(amount=10_000)
    replies = race(THREADS, lambda i: fresh_session_api(live_hs).post(
        "/hyperswitch/refunds", {"payment_id": payment["payment_id"], "amount": 2000}))
    succeeded = [r for r in replies if r.status == 200]
    assert len(succeeded) == 5 and all(r.json["status"] == "succeeded" for r in succeeded)
    refused = [r for r in replies if r.status != 200]
    assert len(refused) == THREADS - 5
    assert {r.error["code"] for r in refused} <= {"IR_13", "IR_12"}
    refunds = live_hs.retrieve(payment["payment_id"]).json["refunds"]
    assert sum(r["amount"] for r in refunds) == 10_000


def test_32_concurrent_creates_with_one_payment_id_make_one_payment(live_hs):
    replies = race(THREADS, lambda i: fresh_session_api(live_hs).post(
        "/hyperswitch/payments", {"amount": 700, "currency": "EUR", "payment_id": "order-race-1"}))
    assert Counter(r.status for r in replies) == {200: 1, 400: THREADS - 1}
    assert {r.error["code"] for r in replies if r.status == 400} == {"HE_01"}
    listed = live_hs.api.get("/hyperswitch/payments/list?limit=100").json
    assert [p["payment_id"] for p in listed["data"]].count("order-race-1") == 1


def test_3ds_round_trip_over_real_http(live_hs):
    created = live_hs.create(confirm=True, return_url="http://127.0.0.1:9/return?cart=5",
                             **card("4000003800000446")).json
    session = requests.Session()
    page = session.get(created["next_action"]["redirect_to_url"], timeout=10)
    assert page.status_code == 200 and 'data-test-id="3ds-complete"' in page.text
    action = urljoin(page.url, re.search(r'action="([^"]+)"', page.text).group(1))
    response = session.post(action, data={"confirm": "true"}, allow_redirects=False, timeout=10)
    while response.status_code in (302, 303) and not response.headers["Location"].startswith("http://127.0.0.1:9/"):
        response = session.get(urljoin(response.url, response.headers["Location"]), allow_redirects=False,
                               timeout=10)
    params = dict(parse_qsl(urlsplit(response.headers["Location"]).query))
    assert params["status"] == "succeeded" and params["cart"] == "5"
    assert live_hs.retrieve(created["payment_id"]).json["status"] == "succeeded"


def test_system_clock_jobs_run_in_the_background(live_hs):
    live_hs.configure(delays={"authorize": 0.05})
    created = live_hs.pay()
    assert created["status"] == "processing"
    deadline = time.monotonic() + 10
    while live_hs.retrieve(created["payment_id"]).json["status"] == "processing":
        assert time.monotonic() < deadline, "the scheduler worker never finished the payment"
        time.sleep(0.02)
    assert live_hs.retrieve(created["payment_id"]).json["status"] == "succeeded"


# -- the command line -------------------------------------------------------------------


def start_cli(*args: str, env: dict | None = None) -> tuple[subprocess.Popen, str, list[str]]:
    command = [sys.executable, "-m", "mock_psp", "serve", "--host", "127.0.0.1", "--port", "0", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, **(env or {})})
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if "Press Ctrl-C to stop." in line:
            url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", lines[0]).group(1)
            return process, url, lines
    process.kill()
    raise AssertionError("server did not start:\n" + "\n".join(lines))


def stop_cli(process: subprocess.Popen, sig=signal.SIGTERM) -> str:
    process.send_signal(sig)
    rest, _ = process.communicate(timeout=15)
    return rest


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_urls_and_keys_and_stops_cleanly(tmp_path, sig):
    process, url, lines = start_cli("--db", str(tmp_path / "p.db"), "--seed", "42")
    banner = "\n".join(lines)
    assert f"Hyperswitch   {url}/hyperswitch" in banner
    assert re.search(r"api-key \(secret\)\s+snd_[0-9A-Za-z]{64}", banner)
    assert "seed 42" in banner
    assert requests.get(url + "/_mock/clock", timeout=5).status_code == 200
    rest = stop_cli(process, sig)
    assert process.returncode == 0, rest
    assert "mock-psp stopped." in rest and "Traceback" not in rest


def test_serve_keeps_data_in_the_file_across_restarts(tmp_path):
    db = str(tmp_path / "keep.db")
    process, url, _ = start_cli("--db", db)
    from mock_psp.dialects import registry
    from mock_psp.domain.namespaces import default_keys

    key = default_keys(registry.key_specs())["hyperswitch"]["api_key"]
    created = requests.post(url + "/hyperswitch/payments", json={"amount": 5, "currency": "USD"},
                            headers={"api-key": key}, timeout=5).json()
    stop_cli(process)
    process, url, _ = start_cli("--db", db)
    try:
        again = requests.get(f"{url}/hyperswitch/payments/{created['payment_id']}", headers={"api-key": key}, timeout=5)
        assert again.status_code == 200 and again.json()["amount"] == 5
    finally:
        stop_cli(process)


def test_serve_with_memory_db_and_the_data_dir_default(tmp_path):
    process, url, lines = start_cli("--db", ":memory:")
    try:
        assert any("Database      :memory:" in line for line in lines)
        assert requests.post(url + "/_mock/namespaces", timeout=5).status_code == 201
    finally:
        stop_cli(process)
    process, url, lines = start_cli(env={"MOCK_PSP_DATA_DIR": str(tmp_path / "data")})
    stop_cli(process)
    assert (tmp_path / "data" / "mock-psp.db").exists()


def test_settings_come_from_a_toml_file_and_flags_win(tmp_path):
    config = tmp_path / "mock.toml"
    config.write_text('[provider]\nseed = 11\nclock = "virtual"\n')
    process, url, lines = start_cli("--db", ":memory:", "--config", str(config), "--seed", "12")
    try:
        clock = requests.get(url + "/_mock/config", timeout=5).json()
        assert (clock["seed"], clock["clock"]) == (12, "virtual")
    finally:
        stop_cli(process)


def test_cli_help_lists_serve_with_an_example():
    result = subprocess.run([sys.executable, "-m", "mock_psp", "serve", "--help"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0
    assert "Example:" in result.stdout and "--clock [system|virtual]" in result.stdout
    assert Path(sys.executable).exists()
