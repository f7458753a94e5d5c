"""The built-in scenario catalog, one test per scenario, against one provider and one Chromium."""

from __future__ import annotations

import pytest

from mock_psp.scenarios.loader import catalog_dir
from mock_psp.scenarios.loader import load_all
from mock_psp.scenarios.report import failure_text
from mock_psp.scenarios.runner import Runner
from tests.browser.conftest import OUTPUT

CATALOG = load_all([catalog_dir()])


@pytest.fixture(scope="module")
def runner():
    with Runner(artifacts=OUTPUT / "scenarios") as runner:
        yield runner


@pytest.mark.e2e
@pytest.mark.parametrize("scenario", CATALOG, ids=[s.name for s in CATALOG])
def test_catalog_scenario(runner, scenario):
    outcome = runner.run(scenario)
    if outcome.skipped:  # an optional part (Playwright, Chromium) is missing here
        pytest.skip(outcome.skipped)
    assert outcome.passed, "\n" + failure_text(outcome)


def test_the_catalog_has_at_least_thirty_scenarios_over_both_dialects_six_in_the_browser():
    assert len(CATALOG) >= 30
    assert {s.dialect for s in CATALOG} == {"hyperswitch", "govuk", "govpay-lk"}
    assert sum(s.uses_browser for s in CATALOG) >= 6
