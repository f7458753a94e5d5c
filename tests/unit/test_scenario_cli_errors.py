"""`mock-psp scenarios run|check` when the run cannot happen: one line on stderr saying why, exit 2
(CI tells "the suite could not run" from "a scenario failed", which is exit 1)."""

from __future__ import annotations

from textwrap import dedent

import pytest
from click.testing import CliRunner

from mock_psp.cli import cli

SMALL = """
    name: small
    dialect: hyperswitch
    steps:
      - create_order: {amount: 1000, card: "4242424242424242"}
        save_as: order
      - expect_order: {order: "${order.id}", state: paid}
"""
DEAD = "http://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(dedent(SMALL).lstrip())
    return str(path)


def invoke(*args: str):
    return CliRunner().invoke(cli, ["scenarios", *args])


def test_an_unreachable_provider_is_one_line_on_stderr_and_exit_2(small):
    result = invoke("run", small, "--psp-url", DEAD)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        f"mock-psp: cannot reach the provider at {DEAD}: connection refused"]
    assert "Traceback" not in result.output and "Running" not in result.stdout


def test_an_unreachable_merchant_is_one_line_on_stderr_and_exit_2(small):
    result = invoke("run", small, "--merchant-url", DEAD)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        f"mock-psp: cannot reach the test merchant at {DEAD}: connection refused"]


def test_no_matching_scenario_is_one_line_and_exit_2(small):
    result = invoke("run", small, "--tags", "nothing-has-this")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["mock-psp: no scenarios match (--tags nothing-has-this)"]


def test_an_unexpected_error_at_set_up_is_one_line_unless_debugging(small, monkeypatch):
    from mock_psp.scenarios import runner

    def broken(self):
        raise RuntimeError("the harness fell over")

    monkeypatch.setattr(runner.Runner, "start", broken)
    result = invoke("run", small)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["mock-psp: could not run: RuntimeError: the harness fell over"]
    monkeypatch.setenv("MOCK_PSP_DEBUG", "1")
    debugging = invoke("run", small)
    assert isinstance(debugging.exception, RuntimeError)


def test_run_help_says_the_exit_codes():
    text = CliRunner().invoke(cli, ["scenarios", "run", "--help"]).output
    assert "0 " in text and "skips allowed" in text and "1 " in text and "2 " in text and "could not run" in text
    assert "-v, --verbose" in text


def test_check_help_says_its_exit_code_is_runs():
    text = CliRunner().invoke(cli, ["scenarios", "check", "--help"]).output
    assert "exits 2" in text


TYPO = """
    name: typo
    dialect: hyperswitch
    steps:
      - create_order: {amount: 1000, card: "4242424242424242"}
        save_as: order
      - expect_webhook: {type: payment_succeded, deliveries: 0}
      - expect_order: {order: "${order.id}", state: faild}
"""


@pytest.fixture
def typo(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text(dedent(TYPO).lstrip())
    return str(path)


def test_check_lists_every_word_problem_with_file_and_line_and_exits_2(typo):
    result = invoke("check", typo)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{typo}:6: steps/1/expect_webhook/type: unknown hyperswitch event type 'payment_succeded'; "
        "did you mean payment_succeeded?",
        f"{typo}:7: steps/2/expect_order/state: unknown order state 'faild'; did you mean failed?",
        "mock-psp: 2 problem(s) in 1 scenario file(s)",
    ]


def test_run_refuses_to_start_on_a_word_problem(typo):
    result = invoke("run", typo)
    assert result.exit_code == 2
    assert "did you mean payment_succeeded?" in result.stderr
    assert result.stderr.splitlines()[-1] == "mock-psp: 2 problem(s) in 1 scenario file(s); nothing ran"
    assert "Running" not in result.stdout
