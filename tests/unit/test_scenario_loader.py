"""Scenario files: what the checker accepts, and what it says (file and line) when it refuses."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from mock_psp.scenarios import docgen
from mock_psp.scenarios.loader import ScenarioError
from mock_psp.scenarios.loader import catalog_dir
from mock_psp.scenarios.loader import load
from mock_psp.scenarios.loader import load_all
from mock_psp.scenarios.loader import validator
from mock_psp.scenarios.runner import StepFailed
from mock_psp.scenarios.runner import seconds

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(dedent(text).lstrip())
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ScenarioError) as refused:
        load(write(tmp_path, text))
    return [f"{p.line}: {p.message}" for p in refused.value.problems]


def test_a_valid_file_loads_with_its_steps_and_their_lines(tmp_path):
    scenario = load(write(tmp_path, """
        name: ok-one
        dialect: govuk
        tags: [a, b]
        setup: {seed: 3}
        steps:
          - create_order: {amount: 100}
            save_as: order
          - expect_order: {order: "${order.id}", state: paid, within: 1m}
    """))
    assert (scenario.name, scenario.dialect, scenario.tags, scenario.setup) == ("ok-one", "govuk", ("a", "b"),
                                                                                 {"seed": 3})
    assert [(s.kind, s.line, s.save_as) for s in scenario.steps] == [("create_order", 6, "order"),
                                                                     ("expect_order", 8, None)]
    assert not scenario.uses_browser


def test_each_problem_is_reported_with_its_line(tmp_path):
    found = problems(tmp_path, """
        name: Not Kebab
        dialect: stripe
        steps:
          - create_order: {amount: lots}
          - refund: {order: x, colour: red}
    """)
    assert found[0].startswith("1: name:")
    assert found[1] == "2: dialect: 'stripe' is not one of hyperswitch, govuk, govpay-lk"
    assert found[2] == "4: steps/0/create_order/amount: 'lots' is not valid here: give an integer or a ${reference}"
    assert found[3] == "5: steps/1/refund: unknown key 'colour'; keys are: order, amount, expect_status"


def test_an_unknown_step_names_the_known_ones(tmp_path):
    [found] = problems(tmp_path, """
        name: x
        dialect: hyperswitch
        steps:
          - teleport: {}
    """)
    assert found.startswith("4: steps/0: unknown step 'teleport'; steps are: advance_clock, create_order")


def test_a_step_has_exactly_one_action(tmp_path):
    [found] = problems(tmp_path, """
        name: x
        dialect: hyperswitch
        steps:
          - create_order: {amount: 1}
            refund: {order: y}
    """)
    assert found == "4: steps/0: a step has exactly one action, found create_order, refund"


def test_a_reference_to_a_name_not_saved_yet_is_refused(tmp_path):
    [found] = problems(tmp_path, """
        name: x
        dialect: hyperswitch
        steps:
          - expect_order: {order: "${order.id}", state: paid}
          - create_order: {amount: 1}
            save_as: order
    """)
    assert found == "4: steps/0: ${order...} is used before any step saves it (save_as: order)"


def test_broken_yaml_is_reported_with_its_line(tmp_path):
    [found] = problems(tmp_path, "name: x\ndialect: hyperswitch\nsteps:\n  - create_order: {amount: 1\n")
    assert found.startswith("5: not valid YAML") or found.startswith("4: not valid YAML")


def test_an_empty_file_is_refused(tmp_path):
    assert problems(tmp_path, "") == ["1: the file is empty"]


def test_two_scenarios_with_one_name_are_refused(tmp_path):
    for file in ("a.yaml", "b.yaml"):
        write(tmp_path, "name: same\ndialect: govuk\nsteps:\n  - flush_webhooks:\n", file)
    with pytest.raises(ScenarioError, match="name 'same' is also used by"):
        load_all([tmp_path])


@pytest.mark.parametrize("kind", docgen.step_kinds())
def test_every_steps_documented_example_is_valid(kind):
    examples = validator().schema["$defs"][kind].get("examples")
    assert examples, f"{kind} has no example in schema.json"
    for example in examples:
        scenario = {"name": "example", "dialect": "hyperswitch", "steps": [example]}
        assert not list(validator().iter_errors(scenario)), example


def test_the_step_reference_in_the_docs_matches_the_schema():
    assert docgen.is_current(ROOT / "docs" / "scenarios.md"), "run: python -m mock_psp.scenarios.docgen docs/scenarios.md"


@pytest.mark.parametrize("text, value", [("30s", 30), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1h30m", 5400),
                                         (90, 90), ("500ms", 0.5)])
def test_durations(text, value):
    assert seconds(text) == value


@pytest.mark.parametrize("text", ["soon", "5 minutes", "2h-", ""])
def test_bad_durations_fail_the_step(text):
    with pytest.raises(StepFailed, match="is not a duration"):
        seconds(text)


def test_a_misspelt_event_type_is_refused_with_the_closest_one(tmp_path):
    found = problems(tmp_path, """
        name: typo
        dialect: hyperswitch
        steps:
          - expect_webhook: {type: payment_succeded, deliveries: 0}
    """)
    assert found == ["4: steps/0/expect_webhook/type: unknown hyperswitch event type 'payment_succeded'; "
                     "did you mean payment_succeeded?"]


def test_event_types_are_the_scenarios_dialects(tmp_path):
    found = problems(tmp_path, """
        name: wrong-dialect
        dialect: govuk
        steps:
          - expect_webhook: {type: payment_succeeded}
    """)
    assert found[0].startswith("4: steps/0/expect_webhook/type: unknown govuk event type 'payment_succeeded'; "
                               "did you mean card_payment_succeeded?")


def test_a_misspelt_order_state_and_outcome_are_refused(tmp_path):
    found = problems(tmp_path, """
        name: typos
        dialect: govuk
        setup: {outcomes: [declned]}
        steps:
          - script_outcomes: [succeeded, 3ds_faild]
          - create_order: {amount: 100}
            save_as: order
          - expect_order: {order: "${order.id}", state: faild}
          - expect_orders: {state: "${order.state}", count: 1}
    """)
    assert found == [
        "3: setup/outcomes/0: unknown outcome 'declned'; did you mean declined?",
        "5: steps/0/script_outcomes/1: unknown outcome '3ds_faild'; did you mean 3ds_failed?",
        "8: steps/2/expect_order/state: unknown order state 'faild'; did you mean failed?",
    ]


def test_unknown_keys_and_steps_and_enum_values_get_a_did_you_mean(tmp_path):
    found = problems(tmp_path, """
        name: near-misses
        dialect: hyperswitch
        steps:
          - create_ordr: {amount: 100}
          - refund: {order: x, amuont: 5}
          - pay_in_browser: {mode: modl}
    """)
    assert found[0].startswith("4: steps/0: unknown step 'create_ordr'; did you mean create_order? steps are:")
    assert found[1] == "5: steps/1/refund: unknown key 'amuont'; did you mean amount?"
    assert found[2] == "6: steps/2/pay_in_browser/mode: 'modl' is not one of modal, redirect; did you mean modal?"


def test_a_new_dialects_vocabulary_is_checked_without_editing_the_checker(tmp_path, monkeypatch):
    from dataclasses import replace
    from types import SimpleNamespace

    from mock_psp.dialects import registry
    from mock_psp.scenarios import loader

    made_up = replace(registry.BY_NAME["govuk"], name="acme", events=SimpleNamespace(EVENT_TYPES=("acme_paid",)))
    monkeypatch.setitem(registry.BY_NAME, "acme", made_up)
    loader.validator.cache_clear()
    try:
        found = problems(tmp_path, """
            name: acme
            dialect: acme
            steps:
              - expect_webhook: {type: acme_payd}
        """)
    finally:
        loader.validator.cache_clear()
    assert found == ["4: steps/0/expect_webhook/type: unknown acme event type 'acme_payd'; did you mean acme_paid?"]


def test_every_catalog_file_passes_the_checker():
    assert len(load_all([catalog_dir()])) >= 30


@pytest.mark.parametrize(("dialect", "status", "meant"), [("hyperswitch", "succeded", "succeeded"),
                                                           ("govuk", "sucess", "success"),
                                                           ("govpay-lk", "success", "SUCCESS")])
def test_a_misspelt_payment_status_is_refused_in_the_dialects_words(tmp_path, dialect, status, meant):
    found = problems(tmp_path, f"""
        name: status-typo
        dialect: {dialect}
        steps:
          - expect_payment: {{payment: pay_1, status: {status}}}
    """)
    assert found == [f"4: steps/0/expect_payment/status: unknown {dialect} payment status {status!r}; "
                     f"did you mean {meant}?"]
