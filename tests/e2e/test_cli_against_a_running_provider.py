"""`mock-psp requests`, `mock-psp faults` and `mock-psp namespace` against a running provider."""

from __future__ import annotations

import json
import threading

import pytest
import requests
from click.testing import CliRunner

from mock_psp.cli import cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def ns(live_provider) -> dict:
    return requests.post(f"{live_provider.url}/_mock/namespaces", json={}, timeout=10).json()


def run(live_provider, ns, *args) -> str:
    result = CliRunner().invoke(cli, [*args, "--url", live_provider.url, "--namespace", ns["id"]])
    assert result.exit_code == 0, result.output
    return result.output


def create(live_provider, ns, **fields) -> requests.Response:
    return requests.post(f"{live_provider.url}/hyperswitch/payments", json={"amount": 700, "currency": "USD", **fields},
                         headers={"api-key": ns["hyperswitch"]["api_key"]}, timeout=10)


def test_requests_prints_the_calls_oldest_first_with_status_and_bodies(live_provider, ns):
    made = create(live_provider, ns).json()
    requests.get(f"{live_provider.url}/hyperswitch/payments/pay_nothing_here_000000",
                 headers={"api-key": ns["hyperswitch"]["api_key"]}, timeout=10)
    lines = run(live_provider, ns, "requests").splitlines()
    assert "POST   /hyperswitch/payments  200" in lines[0] and "404" in lines[1]
    with_bodies = run(live_provider, ns, "requests", "--bodies", "--status", "200")
    assert '> {"amount":700,"currency":"USD"}' in with_bodies and made["payment_id"] in with_bodies
    [entry] = [json.loads(line) for line in run(live_provider, ns, "requests", "--json", "--method", "get").splitlines()]
    assert entry["status"] == 404


def test_requests_says_which_route_a_mistyped_call_meant(live_provider, ns):
    missed = requests.post(f"{live_provider.url}/hyperswitch/payment", json={"amount": 700, "currency": "USD"},
                           headers={"api-key": ns["hyperswitch"]["api_key"]}, timeout=10)
    assert missed.status_code == 404 and missed.headers["X-Mock-Near-Miss"] == "POST /hyperswitch/payments"
    [line] = run(live_provider, ns, "requests").splitlines()
    assert "POST   /hyperswitch/payment  404" in line and line.endswith(" ms  did you mean POST /hyperswitch/payments?")
    [entry] = [json.loads(line) for line in run(live_provider, ns, "requests", "--json").splitlines()]
    assert entry["near_miss"] == ["POST /hyperswitch/payments"] and entry["unmatched"] == ["route"]


def test_requests_follow_prints_calls_as_they_arrive(live_provider, ns):
    output = {}

    def follow():
        output["text"] = run(live_provider, ns, "requests", "--follow", "--stop-after", "2")

    follower = threading.Thread(target=follow)
    follower.start()
    create(live_provider, ns)
    create(live_provider, ns, amount=800)
    follower.join(timeout=20)
    assert not follower.is_alive()
    lines = output["text"].splitlines()
    assert len(lines) == 2 and all("POST   /hyperswitch/payments  200" in line for line in lines)


def test_faults_scripts_the_next_calls_and_the_log_shows_them(live_provider, ns):
    shown = json.loads(run(live_provider, ns, "faults", "--next", "error", "--set", "error_status=503",
                           "--route", "POST /hyperswitch/payments"))
    assert shown["api"]["next"] == ["error"] and shown["api"]["error_status"] == 503
    assert create(live_provider, ns).status_code == 503
    assert "POST /hyperswitch/payments  error 503  (script)" in run(live_provider, ns, "faults", "--log")
    assert "[fault: error]" in run(live_provider, ns, "requests")
    assert run(live_provider, ns, "faults", "--clear").strip() == "API faults are off."
    assert json.loads(run(live_provider, ns, "faults"))["api"]["error_status"] == 503  # only the rates are off
    assert create(live_provider, ns).status_code == 200


def test_a_bad_setting_or_no_provider_is_a_clear_error(live_provider, ns):
    refused = CliRunner().invoke(cli, ["faults", "--set", "error=2", "--url", live_provider.url, "-n", ns["id"]])
    assert refused.exit_code == 1 and "api.error: must be a probability" in refused.output
    nobody = CliRunner().invoke(cli, ["requests", "--url", "http://127.0.0.1:9"])
    assert nobody.exit_code == 1 and "no mock-psp provider answers at http://127.0.0.1:9" in nobody.output


def test_namespace_export_then_import_makes_a_copy(live_provider, ns, tmp_path):
    made = create(live_provider, ns).json()
    snapshot = tmp_path / "snap.json"
    exported = CliRunner().invoke(cli, ["namespace", "export", ns["id"], "-o", str(snapshot), "--url", live_provider.url])
    assert exported.exit_code == 0, exported.output
    imported = CliRunner().invoke(cli, ["namespace", "import", str(snapshot), "--url", live_provider.url])
    assert imported.exit_code == 0, imported.output
    twin = json.loads(imported.output)
    assert twin["imported_from"] == ns["id"]
    fetched = requests.get(f"{live_provider.url}/hyperswitch/payments/{made['payment_id']}",
                           headers={"api-key": twin["hyperswitch"]["api_key"]}, timeout=10)
    assert fetched.status_code == 200 and fetched.json()["amount"] == 700
    (tmp_path / "junk.json").write_text("{not json")
    junk = CliRunner().invoke(cli, ["namespace", "import", str(tmp_path / "junk.json"), "--url", live_provider.url])
    assert junk.exit_code == 1 and "is not JSON" in junk.output
