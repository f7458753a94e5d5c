"""`mock-psp up`: the provider and a test shop, wired, from one command."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_up_starts_both_wired_prints_urls_and_keys_and_stops_on_ctrl_c(tmp_path):
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "mock_psp", "up", "--port", "0", "--merchant-port", "0",
                                "--db", ":memory:", "--dialect", "govuk"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = ""
        while "Press Ctrl-C" not in banner:
            line = process.stdout.readline()
            assert line, process.stderr.read()
            banner += line
        ready_after = time.monotonic() - started
        shop = re.search(r"Shop\s+(http://127\.0\.0\.1:\d+)/", banner)[1]
        psp = re.search(r"Provider\s+(http://127\.0\.0\.1:\d+)", banner)[1]
        bearer = re.search(r"Authorization: Bearer\s+(\S+)", banner)[1]
        assert "webhook signing secret" in banner and "Default namespace ns_default" in banner
        order = requests.post(f"{shop}/_merchant/orders", json={"amount": 1450, "currency": "GBP",
                                                                 "card": "4444333322221111"}, timeout=10).json()
        assert order["state"] == "paid"
        payment = requests.get(f"{psp}/govuk/v1/payments/{order['payment_id']}", timeout=10,
                               headers={"Authorization": f"Bearer {bearer}"}).json()
        assert payment["state"]["status"] == "success"  # the printed key is the shop's namespace key
        assert "Pay in a window" in requests.get(f"{shop}/", timeout=10).text
        dashboard = re.search(r"Dashboard\s+(\S+)", banner)[1]
        assert order["payment_id"] in requests.get(dashboard, timeout=10).text  # it opens on the shop's namespace
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "mock-psp stopped." in out
    print(f"mock-psp up was ready in {ready_after:.2f} s")  # measured, not asserted


def test_a_second_up_on_another_port_rewires_the_shop_to_the_provider_it_runs_with(tmp_path):
    # The merchant's database remembers the provider URL of its first run; a later run on
    # another port (up --port 0 twice) must use the provider it was started with.
    from mock_psp.harness import start_harness

    settings = {"db": str(tmp_path / "psp.db"), "port": 0}
    paid = []
    for _ in range(2):
        harness = start_harness(settings, dialect="hyperswitch", merchant_db=str(tmp_path / "shop.db"))
        try:
            order = requests.post(f"{harness.shop_url}/_merchant/orders", timeout=10,
                                  json={"amount": 1450, "currency": "USD", "card": "4242424242424242"}).json()
            paid.append(order["state"])
            assert harness.merchant.merchant.wiring.psp_url == harness.psp_url
        finally:
            harness.stop()
    assert paid == ["paid", "paid"]
