"""The pytest plugin, seen from a user's project: test files with no conftest of their own.

Each test writes a small project with pytester and runs pytest on it in this
process (the plugin arrives through the ``pytest11`` entry point, as it would
after ``pip install mock-psp``); one run is in a fresh interpreter. The installed
wheel itself is tested in tests/packaging.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# pytester's in-process runs forget the modules first imported during them, but a
# package keeps its attribute for a forgotten submodule. A later run would then import
# scenarios.steps afresh while ``from . import expectations`` handed back the old module,
# registered in the old step table: "KeyError: 'expect_order'". Importing here what the
# plugin imports lazily keeps every run on the same modules.
import mock_psp.harness  # noqa: F401
import mock_psp.scenarios.browser  # noqa: F401
import mock_psp.scenarios.report  # noqa: F401
import mock_psp.scenarios.runner  # noqa: F401
import mock_psp.scenarios.steps  # noqa: F401
import mock_psp.test_merchant.provision  # noqa: F401
import mock_psp.test_merchant.run  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]

FIXTURES_AT_WORK = '''
import pytest
import requests

from mock_psp.pytest_plugin import PspHttpError

CARD = {"card_number": "4242424242424242", "card_exp_month": "12", "card_exp_year": "2035",
        "card_holder_name": "Ann", "card_cvc": "123"}
CARDS = {"hyperswitch": "4242424242424242", "govuk": "4444333322221111"}


def test_a_namespace_has_keys_urls_and_settings(psp_server, psp_namespace):
    ns = psp_namespace
    assert ns.id.startswith("ns_") and ns.id != "ns_default"
    assert psp_server.url.startswith("http://127.0.0.1:")
    assert ns.base_url("hyperswitch") == psp_server.url + "/hyperswitch"
    assert ns.base_url("govuk") == psp_server.url + "/govuk"
    assert ns.hyperswitch["api_key"].startswith("snd_") and ns.govuk["api_key"].startswith("api_test_")
    assert ns.config()["clock"] == "virtual"
    assert ns.config(success_rates={"card": 0.5})["success_rates"]["card"] == 0.5
    assert ns.outcomes(["declined", "succeeded"]) == ["declined", "succeeded"]
    assert ns.faults(drop=0.25)["webhooks"]["drop"] == 0.25
    assert ns.api_faults(next=["error"], routes=["POST /hyperswitch/payments"])["next"] == ["error"]
    assert ns.api("hyperswitch").post("/payments", json={"amount": 1, "currency": "USD"}).status_code == 500
    assert [entry["fault"] for entry in ns.api_fault_log()] == ["error"] and ns.api_faults()["next"] == []
    api = ns.api("hyperswitch")
    declined = api.post("/payments", json={"amount": 700, "currency": "USD", "confirm": True,
                                           "payment_method": "card", "payment_method_data": {"card": CARD}}).json()
    assert declined["status"] == "failed"  # the scripted outcome, not the card
    assert ns.outcomes() == ["succeeded"]
    assert [e["to"] for e in ns.events(declined["payment_id"])][-1] == "failed"
    govuk = ns.api("govuk").get("/v1/payments").json()
    assert govuk["results"] == []


def test_the_clock_advances_and_runs_due_jobs(psp_namespace, psp_clock):
    psp_namespace.config(delays={"authorize": 60})
    api = psp_namespace.api("hyperswitch")
    payment = api.post("/payments", json={"amount": 900, "currency": "USD", "confirm": True,
                                          "payment_method": "card", "payment_method_data": {"card": CARD}}).json()
    assert payment["status"] == "processing"
    start = psp_clock.now()
    assert psp_clock.advance(30) == []
    ran = psp_clock.advance(90)
    assert [job["kind"] for job in ran] == ["payment.complete"]
    assert (psp_clock.now() - start).total_seconds() == 120
    assert api.get(f"/payments/{payment['payment_id']}").json()["status"] == "succeeded"
    psp_clock.advance("2h")
    assert (psp_clock.now() - start).total_seconds() == 120 + 7200


def test_the_delivery_log_shows_the_webhook(psp_merchant, psp_deliveries):
    order = psp_merchant.create_order(1999, card="4242424242424242")
    [delivery] = psp_deliveries.list(event_type="payment_succeeded")
    assert delivery["object_id"] == order["payment_id"]
    assert delivery["status"] == "delivered"
    assert delivery["attempts"][0]["status_code"] == 200
    assert psp_deliveries.list(status="failed") == []
    assert "X-Webhook-Signature-512" in str(psp_deliveries.get(delivery["id"]))


def test_the_merchant_creates_and_refunds_an_order(psp_merchant):
    assert psp_merchant.orders() == []
    order = psp_merchant.create_order(2500, card="4242424242424242")
    assert order["state"] == "paid" and order["currency"] == "USD"
    psp_merchant.refund(order["id"], 1000)
    assert psp_merchant.order(order["id"])["state"] == "partially_refunded"
    with pytest.raises(PspHttpError) as refused:
        psp_merchant.refund(order["id"], 5000)
    assert refused.value.status == 409 and refused.value.code == "refund_exceeds_available"
    psp_merchant.refund(order["id"])
    assert psp_merchant.order(order["id"])["state"] == "refunded"
    assert [e["result"] for e in psp_merchant.webhook_log()] == ["ok", "ok", "ok"]
    assert psp_merchant.reconcile(older_than_seconds=0)["changed"] == 0


@pytest.mark.mock_psp(dialect="govuk", seed=42)
def test_the_marker_picks_the_govuk_merchant_and_the_seed(psp_merchant, psp_namespace):
    assert psp_merchant.dialect == "govuk"
    assert psp_namespace.config()["seed"] == 42
    order = psp_merchant.create_order(1450, card="4444333322221111")
    assert order["state"] == "paid" and order["currency"] == "GBP"
    log = psp_merchant.webhook_log()
    assert "card_payment_succeeded" in [e["event_type"] for e in log]
    assert {e["result"] for e in log} == {"ok"}


@pytest.mark.parametrize("psp_dialect", ["hyperswitch", "govuk"])
def test_psp_dialect_can_be_parametrized(psp_merchant, psp_dialect):
    assert psp_merchant.dialect == psp_dialect
    assert psp_merchant.create_order(800, card=CARDS[psp_dialect])["state"] == "paid"


def test_run_scenario_from_the_catalog_by_name(psp_run_scenario, psp_deliveries):
    outcome = psp_run_scenario("hs-card-happy-path")
    assert outcome.passed
    assert psp_deliveries.event_types() == ["payment_succeeded"]  # it ran in this test's namespace


def test_run_scenario_from_a_file_beside_the_test(psp_run_scenario):
    assert psp_run_scenario("paid.yaml").passed
'''

ISOLATION = '''
import requests

SEEN = {}


def test_first_leaves_data_behind(psp_namespace, psp_merchant, psp_clock):
    order = psp_merchant.create_order(1000, card="4242424242424242")
    psp_namespace.outcomes(["declined"])
    psp_namespace.faults(drop=1.0)
    psp_clock.advance("3h")
    SEEN.update(namespace=psp_namespace.id, key=psp_namespace.hyperswitch["api_key"],
                payment=order["payment_id"], now=psp_clock.now())


def test_second_sees_none_of_it(psp_server, psp_namespace, psp_merchant, psp_clock, psp_deliveries):
    assert psp_namespace.id != SEEN["namespace"]
    assert psp_namespace.hyperswitch["api_key"] != SEEN["key"]
    assert psp_merchant.orders() == [] and psp_merchant.webhook_log() == []
    assert psp_deliveries.list() == []
    assert psp_namespace.outcomes() == []
    assert psp_namespace.faults()["webhooks"]["drop"] == 0
    assert psp_clock.now() < SEEN["now"]
    reply = psp_namespace.api("hyperswitch").get(f"/payments/{SEEN['payment']}")
    assert reply.status_code == 404
    # and the first test's payment is still there, for its own key only
    theirs = requests.get(f"{psp_server.url}/hyperswitch/payments/{SEEN['payment']}",
                          headers={"api-key": SEEN["key"]}, timeout=10)
    assert theirs.json()["status"] == "succeeded"
    # the same merchant, wired into this namespace: a new order works end to end
    order = psp_merchant.create_order(1000, card="4242424242424242")
    assert psp_merchant.order(order["id"])["state"] == "paid"
    assert [e["result"] for e in psp_merchant.webhook_log()] == ["ok"]
'''

SERVER_ERRORS = '''
import pytest
import requests

from mock_psp.domain import payments


def explode(*args, **kwargs):
    raise RuntimeError("the provider broke here")


def test_provider_error_fails_the_test_that_caused_it(psp_namespace, monkeypatch):
    monkeypatch.setattr(payments, "create_payment", explode)
    reply = psp_namespace.api("hyperswitch").post("/payments", json={"amount": 100, "currency": "USD"})
    assert reply.status_code == 500 and reply.json()["error"]["code"] == "HE_00"  # the test itself passes


def test_the_next_test_is_not_blamed(psp_namespace):
    reply = psp_namespace.api("hyperswitch").post("/payments", json={"amount": 100, "currency": "USD"})
    assert reply.status_code == 200


def test_an_expected_error_can_be_taken(psp_namespace, psp_server_errors, monkeypatch):
    monkeypatch.setattr(payments, "create_payment", explode)
    psp_namespace.api("hyperswitch").post("/payments", json={"amount": 100, "currency": "USD"})
    [record] = psp_server_errors.take()
    assert "unhandled error on POST /hyperswitch/payments" in record.getMessage()
    assert not psp_server_errors


def test_merchant_error_fails_the_test(psp_merchant, monkeypatch):
    from mock_psp.test_merchant.service import Merchant

    monkeypatch.setattr(Merchant, "orders", explode)
    psp_merchant.http.get(psp_merchant.url + "/_merchant/orders", timeout=10)


@pytest.fixture
def breaks_on_teardown(psp_namespace):
    yield
    import mock_psp.domain.payments as module

    original = module.create_payment
    module.create_payment = explode
    try:
        psp_namespace.api("hyperswitch").post("/payments", json={"amount": 100, "currency": "USD"})
    finally:
        module.create_payment = original


def test_error_in_teardown(breaks_on_teardown):
    pass


def test_not_using_the_plugin_is_never_failed_by_it():
    import logging

    logging.getLogger("mock_psp.somewhere").error("logged outside any mock-psp test")
'''

FAILING_SCENARIO = '''
def test_a_failing_scenario_fails_the_test(psp_run_scenario):
    psp_run_scenario("expects-refunded.yaml")


def test_an_invalid_scenario_file_fails_with_its_problems(psp_run_scenario):
    psp_run_scenario("invalid.yaml")


def test_a_missing_scenario_file(psp_run_scenario):
    psp_run_scenario("no-such-scenario.yaml")
'''

PAID = '''name: local-paid
description: A card payment by API; the order is paid.
dialect: hyperswitch
steps:
  - create_order: {amount: 1200, card: "4242424242424242"}
    save_as: order
  - expect_order: {order: "${order.id}", state: paid}
'''

EXPECTS_REFUNDED = '''name: expects-refunded
description: Fails on purpose - a paid order is not refunded.
dialect: hyperswitch
steps:
  - create_order: {amount: 1200, card: "4242424242424242"}
    save_as: order
  - expect_order: {order: "${order.id}", state: refunded}
'''

INVALID = '''name: invalid
dialect: hyperswitch
steps:
  - fly_to_the_moon: {}
'''


def test_each_fixture_does_what_it_says(pytester):
    pytester.makepyfile(test_fixtures=FIXTURES_AT_WORK)
    pytester.makefile(".yaml", paid=PAID)
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=9)


def test_two_tests_do_not_see_each_others_data(pytester):
    pytester.makepyfile(test_isolation=ISOLATION)
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=2)


def test_server_side_errors_fail_the_test_that_caused_them(pytester):
    pytester.makepyfile(test_errors=SERVER_ERRORS)
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=4, failed=2, errors=1)  # test_error_in_teardown passes, then errors
    result.stdout.fnmatch_lines([
        "*::test_provider_error_fails_the_test_that_caused_it FAILED*",
        "*::test_the_next_test_is_not_blamed PASSED*",
        "*::test_an_expected_error_can_be_taken PASSED*",
        "*::test_merchant_error_fails_the_test FAILED*",
        "*::test_error_in_teardown ERROR*",
        "*::test_not_using_the_plugin_is_never_failed_by_it PASSED*",
    ])
    result.stdout.fnmatch_lines([
        "*_ test_provider_error_fails_the_test_that_caused_it _*",
        "mock-psp logged 1 server-side error(s) during this test:",
        "mock_psp.app * ERROR: unhandled error on POST /hyperswitch/payments",
        "Traceback (most recent call last):",
        "*RuntimeError: the provider broke here",
    ])
    result.stdout.fnmatch_lines([
        "*_ test_merchant_error_fails_the_test _*",
        "mock_psp.test_merchant.app * ERROR: unexpected error",
    ])
    result.stdout.fnmatch_lines([
        "*_ ERROR at teardown of test_error_in_teardown _*",
        "mock-psp logged 1 server-side error(s) while tearing down this test:",
    ])
    result.stdout.fnmatch_lines(["*mock-psp server errors outside the tests that use it*",
                                 "mock_psp.somewhere * ERROR: logged outside any mock-psp test"])
    # Switched off, the errors only sit beside the test's report.
    result = pytester.runpytest("-p", "no:cacheprovider", "-o", "psp_fail_on_server_errors=false",
                                "-k", "provider_error or merchant_error", "-rA")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*- Captured mock-psp server errors call -*",
                                 "mock_psp.app * ERROR: unhandled error on POST /hyperswitch/payments"])


def test_a_failing_scenario_fails_with_the_runners_report(pytester):
    pytester.makepyfile(test_failing=FAILING_SCENARIO)
    pytester.makefile(".yaml", **{"expects-refunded": EXPECTS_REFUNDED, "invalid": INVALID})
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines([
        "*_ test_a_failing_scenario_fails_the_test _*",
        "scenario expects-refunded failed:",
        "  expects-refunded failed in step 2 (expect_order) at *expects-refunded.yaml:7",
        "*order*",
        "  expected: *refunded*",
        "  found: *paid*",
        "  webhook deliveries (newest first):",
        "    payment_succeeded *delivered*",
    ])
    result.stdout.fnmatch_lines(["invalid scenario file:", "*invalid.yaml:4: *unknown step 'fly_to_the_moon'*"])
    result.stdout.fnmatch_lines(["no scenario file 'no-such-scenario.yaml'; looked at: *"])


@pytest.mark.browser
def test_browser_scenarios_share_one_chromium_and_other_schemes_get_their_own_merchant(pytester):
    pytester.makepyfile(test_browser="""
        def test_modal(psp_run_scenario, psp_deliveries):
            assert psp_run_scenario("hs-3ds-complete-in-modal").passed
            assert psp_deliveries.event_types() == ["action_required", "payment_succeeded"]

        def test_modal_again(psp_run_scenario):
            assert psp_run_scenario("hs-3ds-complete-in-modal").passed

        def test_standard_webhooks(psp_run_scenario):
            assert psp_run_scenario("hs-standard-webhooks-scheme").passed
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_the_entry_point_loads_the_plugin_in_a_fresh_interpreter(pytester):
    pytester.makepyfile(test_fresh="""
        def test_fresh(psp_merchant, psp_clock):
            assert psp_merchant.create_order(500, card="4242424242424242")["state"] == "paid"
            psp_clock.advance("1d")
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fixtures")
    result.stdout.fnmatch_lines(["*fixtures defined from mock_psp.pytest_plugin*", "psp_server ?session scope? -- *pytest_plugin.py*",
                                 "*psp_namespace*", "*psp_clock*", "*psp_deliveries*", "*psp_merchant*",
                                 "*psp_run_scenario*", "*psp_server_errors*"])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_running_provider_can_be_given_with_psp_url(pytester):
    from mock_psp.harness import start_harness

    harness = start_harness({"db": ":memory:", "port": 0, "background": True}, dialect=None)
    try:
        pytester.makepyfile(test_given=f"""
            def test_given(psp_server, psp_merchant):
                assert psp_server.url == "{harness.psp_url}" and psp_server.provider is None
                assert psp_merchant.create_order(500, card="4242424242424242")["state"] == "paid"
        """)
        result = pytester.runpytest("-p", "no:cacheprovider", "--psp-url", harness.psp_url)
        result.assert_outcomes(passed=1)
        pytester.makeini("[pytest]\npsp_url = http://127.0.0.1:9\n")
        result = pytester.runpytest("-p", "no:cacheprovider")
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*no mock-psp provider answers at http://127.0.0.1:9*"])
    finally:
        harness.stop()


def test_a_running_provider_with_a_control_token_is_used_with_psp_control_token(pytester, monkeypatch):
    from mock_psp.harness import start_harness

    monkeypatch.delenv("MOCK_PSP_CONTROL_TOKEN", raising=False)
    harness = start_harness({"db": ":memory:", "port": 0, "background": True, "control_token": "t0k"},
                            dialect=None)
    try:
        pytester.makepyfile(test_locked="""
            def test_locked(psp_namespace, psp_clock, psp_merchant):
                psp_clock.advance("1m")
                assert psp_merchant.create_order(500, card="4242424242424242")["state"] == "paid"

            def test_scenario(psp_run_scenario):
                assert psp_run_scenario("hs-card-happy-path").passed
        """)
        result = pytester.runpytest("-p", "no:cacheprovider", "--psp-url", harness.psp_url,
                                    "--psp-control-token", "t0k")
        result.assert_outcomes(passed=2)
        monkeypatch.setenv("MOCK_PSP_CONTROL_TOKEN", "t0k")
        result = pytester.runpytest("-p", "no:cacheprovider", "--psp-url", harness.psp_url)
        result.assert_outcomes(passed=2)
        monkeypatch.delenv("MOCK_PSP_CONTROL_TOKEN")
        result = pytester.runpytest("-p", "no:cacheprovider", "--psp-url", harness.psp_url)
        result.assert_outcomes(errors=2)
        result.stdout.fnmatch_lines(["*401*X-Mock-Token*"])
    finally:
        harness.stop()


SNAPSHOTS = '''
from pathlib import Path

import pytest

HERE = Path(__file__).parent
CARD = {"card_number": "4242424242424242", "card_exp_month": "12", "card_exp_year": "2035",
        "card_holder_name": "Ann", "card_cvc": "123"}


def test_make_the_seed(psp_namespace):
    paid = psp_namespace.api("hyperswitch").post("/payments", json={
        "amount": 900, "currency": "USD", "confirm": True, "payment_method": "card",
        "payment_method_data": {"card": CARD}}).json()
    psp_namespace.save_snapshot(HERE / "seed.json")
    (HERE / "paid.txt").write_text(paid["payment_id"])


@pytest.mark.mock_psp(snapshot="seed.json", config={"success_rates": {"card": 0.0}})
def test_starts_from_the_seed(psp_namespace):
    paid = (HERE / "paid.txt").read_text()
    assert psp_namespace.api("hyperswitch").get(f"/payments/{paid}").json()["status"] == "succeeded"
    assert psp_namespace.config()["success_rates"]["card"] == 0.0


@pytest.mark.mock_psp(snapshot="missing.json")
def test_a_missing_snapshot(psp_namespace):
    pass
'''


def test_a_namespace_starts_from_a_snapshot_file_named_by_the_marker(pytester):
    pytester.makepyfile(test_snapshots=SNAPSHOTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*mock_psp marker: cannot read the snapshot *missing.json*"])


def test_the_examples_in_docs_pytest_md_pass(pytester):
    text = (ROOT / "docs" / "pytest.md").read_text()
    blocks = [b.split("\n```", 1)[0] for b in text.split("```python\n")[1:]]
    examples = [b for b in blocks if "def test_" in b]
    assert len(examples) >= 8
    pytester.makepyfile(**{f"test_doc_{i}": example for i, example in enumerate(examples)})
    result = pytester.runpytest("-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= text.count("def test_") and set(outcomes) == {"passed"}, result.stdout.str()
