"""`mock-psp reset` against a running provider, the README's steering block undone by it, and
`mock-psp up`'s shop namespace: labelled, and the dashboard's home."""

from __future__ import annotations

import pytest
import requests
from click.testing import CliRunner

from mock_psp.cli import cli
from mock_psp.cli import up_banner
from mock_psp.harness import start_harness

pytestmark = pytest.mark.e2e

KEY = "snd_1E13L37R47jxbOBmiZksheaj1ShXtoCwQNo8NIlurSV7DBH6Bi8ibwF97mzglLKG"  # the README's
CARD = {"card_number": "4242424242424242", "card_exp_month": "10", "card_exp_year": "2030",
        "card_holder_name": "Joe", "card_cvc": "123"}


@pytest.fixture
def provider():
    harness = start_harness({"db": ":memory:", "port": 0}, dialect=None)
    yield harness
    harness.stop()


def reset(provider, *args, token=None):
    return CliRunner().invoke(cli, ["reset", "--url", provider.psp_url, *args,
                                    *(["--control-token", token] if token else [])])


def readme_payment_and_refund(url: str) -> tuple[dict, dict]:
    h = f"{url}/hyperswitch"
    payment = requests.post(f"{h}/payments", headers={"api-key": KEY}, timeout=10, json={
        "amount": 6540, "currency": "USD", "confirm": True, "payment_method": "card",
        "payment_method_data": {"card": CARD}}).json()
    refund = requests.post(f"{h}/refunds", headers={"api-key": KEY}, timeout=10, json={
        "payment_id": payment["payment_id"], "amount": 1000, "reason": "damaged"}).json()
    return payment, refund


def test_reset_after_the_readmes_steering_block_brings_back_the_readmes_refund(provider):
    c = f"{provider.psp_url}/_mock"
    requests.post(f"{c}/outcomes", json={"next": ["declined", "3ds", "succeeded"]}, timeout=10)
    requests.put(f"{c}/config", json={"success_rates": {"card": 0.9}, "delays": {"refund": 30}}, timeout=10)
    requests.put(f"{c}/config", json={"clock": "virtual"}, timeout=10)
    requests.post(f"{c}/clock/advance", json={"duration": "15m"}, timeout=10)
    requests.put(f"{c}/faults", json={"webhooks": {"next": ["drop", "duplicate"]}}, timeout=10)
    result = reset(provider, "--yes")
    assert result.exit_code == 0, result.output
    assert "Reset ns_default:" in result.output and "keys stay" in result.output
    payment, refund = readme_payment_and_refund(provider.psp_url)
    assert payment["payment_id"] == "pay_ci23iA1csA9dbCOk9WbO" and payment["status"] == "succeeded"
    assert refund["status"] == "succeeded" and refund["amount"] == 1000


def test_reset_asks_first_unless_told_yes(provider):
    kept = CliRunner().invoke(cli, ["reset", "--url", provider.psp_url], input="n\n")
    assert kept.exit_code == 1 and "Reset namespace ns_default" in kept.output
    assert "Reset ns_default" not in kept.output


def test_reset_all_empties_every_namespace_and_says_how_many(provider):
    other = requests.post(f"{provider.psp_url}/_mock/namespaces", json={}, timeout=10).json()
    requests.post(f"{provider.psp_url}/hyperswitch/payments", timeout=10,
                  headers={"api-key": other["hyperswitch"]["api_key"]},
                  json={"amount": 100, "currency": "USD", "confirm": True, "payment_method": "card",
                        "payment_method_data": {"card": CARD}})
    result = reset(provider, "--all", "--yes")
    assert result.exit_code == 0, result.output
    assert "Reset 2 namespaces (1 payment removed)" in result.output


def test_reset_names_a_namespace_and_refuses_all_with_one(provider):
    other = requests.post(f"{provider.psp_url}/_mock/namespaces", json={}, timeout=10).json()
    assert f"Reset {other['id']}:" in reset(provider, "-n", other["id"], "--yes").output
    both = reset(provider, "-n", other["id"], "--all", "--yes")
    assert both.exit_code == 2 and "either --namespace or --all" in both.output
    missing = reset(provider, "-n", "ns_nothing", "--yes")
    assert missing.exit_code == 1 and "No namespace 'ns_nothing'" in missing.output


def test_up_labels_the_shops_namespace_and_makes_it_the_dashboards_home(tmp_path):
    harness = start_harness({"db": ":memory:", "port": 0, "clock": "virtual"}, dialect="hyperswitch")
    try:
        shop = harness.merchant.merchant.wiring.namespace
        document = requests.get(f"{harness.psp_url}/_mock/namespaces/{shop}", timeout=10).json()
        assert document["label"] == "test shop, hyperswitch"
        assert document["clock"]["mode"] == "virtual"  # up --clock: the shop's namespace too
        dashboard = requests.get(f"{harness.psp_url}/_mock/ui/", timeout=10).text  # the README's link
        assert f"<code>{shop}</code>" in dashboard and "test shop, hyperswitch" in dashboard
        banner = up_banner(harness)
        assert f"Dashboard     {harness.psp_url}/_mock/ui/" in banner and "(fresh database)" in banner
    finally:
        harness.stop()
