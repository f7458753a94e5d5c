"""`mock-psp scenarios`: running, reporting, JUnit, exit codes, and running against given servers."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from textwrap import dedent

import pytest
from click.testing import CliRunner

from mock_psp.cli import cli

pytestmark = pytest.mark.e2e

PASSING = """
    name: passes
    description: A declined card fails the order.
    dialect: hyperswitch
    tags: [quick]
    steps:
      - create_order: {amount: 1000, card: "4000000000000002"}
        save_as: order
      - expect_order: {order: "${order.id}", state: failed}
"""
FAILING = """
    name: fails
    description: Expects the wrong state, waiting ten minutes of clock time for it.
    dialect: hyperswitch
    tags: [slow]
    steps:
      - create_order: {amount: 1000, card: "4242424242424242"}
        save_as: order
      - expect_order: {order: "${order.id}", state: refunded, within: 10m}
"""
GOVUK = """
    name: govuk-one
    dialect: govuk
    steps:
      - create_order: {amount: 1000, card: "4444333322221111"}
        save_as: order
      - expect_order: {order: "${order.id}", state: paid}
"""


def folder(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(dedent(text).lstrip())
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(cli, ["scenarios", *args], catch_exceptions=False)


def test_a_run_reports_each_scenario_the_failure_in_full_and_a_summary(tmp_path):
    (tmp_path / "s").mkdir()
    path = folder(tmp_path / "s", passes=PASSING, fails=FAILING)
    junit = tmp_path / "out" / "results.xml"
    result = invoke("run", str(path), "--junit", str(junit))
    assert result.exit_code == 1, result.output
    out = result.output
    assert "PASS  passes  [hyperswitch]" in out and "FAIL  fails  [hyperswitch]" in out
    assert "fails failed in step 2 (expect_order) at " in out and "fails.yaml:8" in out
    assert "(waited 10m on the clock)" in out
    assert 'expected: {"state": "refunded"}' in out and 'found:    {"state": "paid"}' in out
    assert "payment_succeeded" in out and "pending -> paid" in out  # deliveries and transitions
    assert "1 passed, 1 failed" in out and "10m simulated on the clock" in out
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["fails"].find("failure") is not None and cases["passes"].find("failure") is None
    assert cases["fails"].find("properties/property[@name='simulated_seconds']").get("value") == "600"


def test_tags_choose_the_scenarios(tmp_path):
    path = folder(tmp_path, passes=PASSING, fails=FAILING)
    result = invoke("run", str(path), "--tags", "quick")
    assert result.exit_code == 0, result.output
    assert "passes" in result.output and "FAIL" not in result.output


def test_an_invalid_file_stops_the_run_before_anything_runs(tmp_path):
    path = folder(tmp_path, passes=PASSING, broken="name: broken\ndialect: hyperswitch\nsteps:\n  - jump: {}\n")
    result = invoke("run", str(path))
    assert result.exit_code == 2
    assert "broken.yaml:4: steps/0: unknown step 'jump'" in result.output
    assert "Running" not in result.output


def test_list_and_check(tmp_path):
    path = folder(tmp_path, passes=PASSING, fails=FAILING)
    listed = invoke("list", str(path))
    assert "passes" in listed.output and "quick" in listed.output and "A declined card" in listed.output
    assert invoke("check", str(path)).output.strip() == "2 scenario(s) valid"


def test_the_built_in_catalog_lists_without_arguments():
    result = invoke("list")
    assert result.exit_code == 0 and "hs-card-happy-path" in result.output


def test_a_run_against_given_servers_resets_the_merchant_between_scenarios(tmp_path):
    from mock_psp.harness import start_harness

    harness = start_harness({"db": ":memory:", "port": 0}, dialect="hyperswitch")
    try:
        path = folder(tmp_path, passes=PASSING, govuk_one=GOVUK)
        args = ["run", str(path), "--psp-url", harness.psp_url, "--merchant-url", harness.shop_url]
        for _ in range(2):
            result = invoke(*args)
            assert result.exit_code == 0, result.output
            assert "SKIP  govuk-one  [govuk]  no govuk merchant given" in result.output
        orders = harness.merchant.merchant.orders()
        assert len(orders) == 1  # the second run started from clean books
    finally:
        harness.stop()


def test_a_step_that_cannot_run_fails_its_scenario_not_the_run(tmp_path):
    path = folder(tmp_path, odd="""
        name: odd
        dialect: hyperswitch
        steps:
          - create_order: {amount: 5, card: "4242424242424242"}
            save_as: order
          - expect_order: {order: "${order.nothing_here}", state: paid}
    """, passes=PASSING)
    result = invoke("run", str(path))
    assert result.exit_code == 1
    assert "${order.nothing_here}: 'nothing_here' is not in the saved value" in result.output
    assert "PASS  passes" in result.output


def test_expect_requests_counts_the_shops_calls_and_shows_them_when_wrong(tmp_path):
    counting = """
        name: counts
        dialect: hyperswitch
        steps:
          - create_order: {amount: 1000, card: "4242424242424242"}
          - expect_requests: {call: "POST /hyperswitch/payments", status: 200, count: 1}
          - expect_requests: {call: "* /hyperswitch/**", count: 99}
    """
    result = invoke("run", str(folder(tmp_path, counts=counting)))
    assert result.exit_code == 1
    assert "counts failed in step 3 (expect_requests)" in result.output
    assert '"calls": [' in result.output and "POST /hyperswitch/payments 200" in result.output  # what it called


IN_THE_BROWSER = """
    name: in-the-browser
    dialect: hyperswitch
    steps:
      - open_shop: {}
      - pay_in_browser: {mode: redirect}
        save_as: order
      - expect_order: {order: "${order.id}", state: paid}
"""


def test_without_playwright_browser_scenarios_are_skipped_with_the_reason_and_the_run_is_green(tmp_path,
                                                                                             monkeypatch):
    monkeypatch.setitem(sys.modules, "playwright", None)  # `import playwright...` now fails as if not installed
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
    (tmp_path / "s").mkdir()
    path = folder(tmp_path / "s", passes=PASSING, browser=IN_THE_BROWSER)
    junit = tmp_path / "results.xml"
    result = invoke("run", str(path), "--junit", str(junit))
    assert result.exit_code == 0, result.output
    reason = "browser steps need Playwright: pip install 'mock-psp[browser]' and a Chromium (see docs/scenarios.md)"
    assert f"SKIP  in-the-browser  [hyperswitch]  {reason}" in result.output
    assert f"1 skipped: {reason}" in result.output
    assert "1 passed, 0 failed, 1 skipped" in result.output
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "0", "1")
    skipped = suite.find("testcase[@name='in-the-browser']/skipped")
    assert skipped is not None and skipped.get("message") == reason


def test_without_a_chromium_browser_scenarios_are_skipped_before_their_steps_run(tmp_path, monkeypatch):
    monkeypatch.setenv("MOCK_PSP_CHROMIUM", str(tmp_path / "no-chromium-here"))
    path = folder(tmp_path, browser=IN_THE_BROWSER)
    result = invoke("run", str(path))
    assert result.exit_code == 0, result.output
    assert "SKIP  in-the-browser  [hyperswitch]  browser steps need a Chromium: " in result.output
    assert "no-chromium-here does not exist" in result.output
    assert "0 passed, 0 failed, 1 skipped" in result.output


def test_each_scenario_says_when_it_starts_and_verbose_shows_each_step(tmp_path):
    path = folder(tmp_path, passes=PASSING)
    quiet = invoke("run", str(path))
    assert "START passes  [hyperswitch]" in quiet.output
    assert "step 1" not in quiet.output
    loud = invoke("run", str(path), "-v")
    lines = loud.output.splitlines()
    start = lines.index("START passes  [hyperswitch]")
    assert lines[start + 1].startswith("  step 1/2 create_order (") and lines[start + 1].endswith("passes.yaml:6)")
    assert lines[start + 2].startswith("  step 2/2 expect_order (")
    assert lines[start + 3].startswith("PASS  passes")


def test_a_provider_that_goes_away_mid_run_stops_the_run_with_one_line_and_exit_2(tmp_path, monkeypatch):
    from mock_psp.harness import start_harness
    from mock_psp.scenarios import steps

    harness = start_harness({"db": ":memory:", "port": 0}, dialect=None)
    original = steps.create_order

    def create_then_lose_the_provider(run, args):
        made = original(run, args)
        harness.stop()  # the provider CI started in an earlier step has crashed
        return made

    create_then_lose_the_provider.scenario_step = "create_order"
    monkeypatch.setattr(steps, "create_order", create_then_lose_the_provider)
    path = folder(tmp_path, lost="""
        name: lost
        dialect: hyperswitch
        steps:
          - create_order: {amount: 1000, card: "4242424242424242"}
          - expect_webhook: {type: payment_succeeded}
    """)
    result = CliRunner().invoke(cli, ["scenarios", "run", str(path), "--psp-url", harness.psp_url])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        f"mock-psp: cannot reach the provider at {harness.psp_url}: connection refused"]
