"""A provider started with `mock-psp serve --control-token`: the control API, the listings and
the dashboard need the token, a dialect key works on its own namespace only, and the CLI,
the test merchant and the pytest plugin's server pass the token along."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests
from click.testing import CliRunner

from mock_psp.cli import cli
from mock_psp.test_merchant.provision import ProvisionError
from mock_psp.test_merchant.run import start as start_merchant

pytestmark = pytest.mark.e2e

TOKEN = "qa-team-" + "7f3a9c"
LOCKED = {"X-Mock-Token": TOKEN}


@pytest.fixture(scope="module")
def provider():
    """`mock-psp serve --control-token TOKEN` in its own process, on a free port."""
    env = {k: v for k, v in os.environ.items() if k != "MOCK_PSP_CONTROL_TOKEN"}
    process = subprocess.Popen([sys.executable, "-m", "mock_psp", "serve", "--host", "127.0.0.1", "--port", "0",
                                "--db", ":memory:", "--control-token", TOKEN],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []
    deadline = time.monotonic() + 20
    url = None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C to stop." in line:
            url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", lines[0])[1]
            break
    if url is None:
        process.kill()
        raise AssertionError("the provider did not start:\n" + "".join(lines))
    assert any("Locked" in line for line in lines)
    yield url
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=15)


def test_without_the_token_the_control_api_answers_401_in_its_envelope(provider):
    for path in ("/_mock/namespaces", "/_mock/config", "/_mock/namespaces/ns_default"):
        reply = requests.get(provider + path, timeout=10)
        assert reply.status_code == 401, path
        assert reply.json()["error"]["code"] == "unauthorized"
    assert requests.post(provider + "/_mock/reset", timeout=10).status_code == 401
    assert requests.get(provider + "/_mock/health", timeout=10).status_code == 200


def test_with_the_token_it_answers(provider):
    reply = requests.get(provider + "/_mock/namespaces", headers=LOCKED, timeout=10)
    assert reply.status_code == 200 and reply.json()["data"][0]["id"] == "ns_default"


def test_a_dialect_key_acts_on_its_own_namespace_only(provider):
    mine = requests.post(provider + "/_mock/namespaces", json={}, headers=LOCKED, timeout=10).json()
    other = requests.post(provider + "/_mock/namespaces", json={}, headers=LOCKED, timeout=10).json()
    key = {"api-key": mine["hyperswitch"]["api_key"]}
    queued = requests.post(provider + "/_mock/outcomes", json={"next": ["declined"]}, headers=key, timeout=10)
    assert queued.status_code == 200 and queued.json()["next"] == ["declined"]
    elsewhere = requests.post(provider + "/_mock/reset", headers={**key, "X-Mock-Namespace": other["id"]},
                              timeout=10)
    assert elsewhere.status_code == 403 and elsewhere.json()["error"]["code"] == "namespace_forbidden"
    assert requests.get(provider + "/_mock/namespaces", headers=key, timeout=10).status_code == 401


def test_the_dashboard_takes_the_token_on_its_login_page(provider):
    browser = requests.Session()
    first = browser.get(provider + "/_mock/ui/payments", timeout=10)
    assert first.url.startswith(provider + "/_mock/ui/login")  # redirected there
    form = {"token": TOKEN, "next": "/_mock/ui/namespaces",
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', first.text)[1]}
    page = browser.post(provider + "/_mock/ui/login", data=form, timeout=10)
    assert page.status_code == 200 and page.url == provider + "/_mock/ui/namespaces" and "ns_default" in page.text
    assert browser.cookies.get("mock_psp_dashboard") and TOKEN not in browser.cookies.get("mock_psp_dashboard")
    assert requests.get(provider + "/_mock/ui/namespaces", timeout=10, allow_redirects=False).status_code == 303


def test_the_cli_needs_the_token_and_takes_it_by_flag_or_environment(provider):
    runner = CliRunner()
    refused = runner.invoke(cli, ["clock", "--url", provider], env={"MOCK_PSP_CONTROL_TOKEN": None})
    assert refused.exit_code == 1 and "401" in refused.output and "X-Mock-Token" in refused.output
    by_flag = runner.invoke(cli, ["clock", "--url", provider, "--control-token", TOKEN])
    assert by_flag.exit_code == 0 and "system clock" in by_flag.output
    by_env = runner.invoke(cli, ["namespace", "export", "--url", provider], env={"MOCK_PSP_CONTROL_TOKEN": TOKEN})
    assert by_env.exit_code == 0 and '"exported_from": "ns_default"' in by_env.output


def test_the_test_merchant_provisions_its_namespace_with_the_token(provider, tmp_path):
    with pytest.raises(ProvisionError, match="401"):
        start_merchant(provider, "hyperswitch", db=str(tmp_path / "refused.db"))
    shop = start_merchant(provider, "hyperswitch", db=str(tmp_path / "shop.db"), control_token=TOKEN)
    try:
        order = requests.post(f"{shop.url}/_merchant/orders", json={"amount": 500, "currency": "USD",
                                                                    "card": "4242424242424242"}, timeout=30).json()
        assert order["state"] == "paid"
        endpoints = requests.get(provider + "/_mock/webhook-endpoints", timeout=10,
                                 headers={**LOCKED, "X-Mock-Namespace": shop.merchant.wiring.namespace}).json()
        assert [e["url"] for e in endpoints["data"]] == [f"{shop.url}/webhooks/hyperswitch"]
    finally:
        shop.stop()


def test_the_scenario_runner_takes_the_token_for_a_given_provider(provider):
    from pathlib import Path

    import mock_psp.scenarios

    happy = Path(mock_psp.scenarios.__file__).parent / "catalog" / "hs-card-happy-path.yaml"
    runner = CliRunner()
    refused = runner.invoke(cli, ["scenarios", "run", str(happy), "--psp-url", provider],
                            env={"MOCK_PSP_CONTROL_TOKEN": None})
    [why] = refused.stderr.strip().splitlines()  # one line: could not run (2), not a failed scenario (1)
    assert refused.exit_code == 2 and why.startswith("mock-psp: could not run:") and "401" in why
    assert "Traceback" not in refused.output
    passed = runner.invoke(cli, ["scenarios", "run", str(happy), "--psp-url", provider, "--control-token", TOKEN])
    assert passed.exit_code == 0, passed.output


def test_mock_psp_up_hands_the_token_to_its_merchant():
    from mock_psp.config import Settings
    from mock_psp.harness import start_harness

    harness = start_harness(Settings(db=":memory:", port=0, control_token=TOKEN), dialect="govuk")
    try:
        order = requests.post(f"{harness.shop_url}/_merchant/orders", timeout=30,
                              json={"amount": 1450, "currency": "GBP", "card": "4444333322221111"}).json()
        assert order["state"] == "paid"
        assert requests.get(f"{harness.psp_url}/_mock/namespaces", timeout=10).status_code == 401
    finally:
        harness.stop()
