"""API fault settings and decisions against an in-memory store: no Flask, no HTTP."""

from __future__ import annotations

import pytest

from mock_psp.domain import namespaces
from mock_psp.domain.errors import DomainError
from mock_psp.runtime.store import Store
from mock_psp.web import api_faults


@pytest.fixture
def store():
    store = Store(":memory:")
    yield store
    store.close()


def make_namespace(store, seed: int = 5):
    return namespaces.create(store, seed=seed)


def configure(store, ns, **changes) -> dict:
    with store.write() as db:
        return api_faults.update(db, ns.id, changes)


def faults_for(store, ns, calls: int, method: str = "POST", path: str = "/hyperswitch/payments") -> list[str]:
    out = []
    for _ in range(calls):
        with store.write() as db:
            out.append(api_faults.decide(db, ns.id, ns.seed, method, path, 0).fault)
    return out


@pytest.mark.parametrize("changes, field", [
    ({"error": 1.5}, "api.error"),
    ({"reset": -0.1}, "api.reset"),
    ({"reset": True}, "api.reset"),
    ({"error": 0.6, "lost_response": 0.6}, "api"),
    ({"error_status": 418}, "api.error_status"),
    ({"timeout_seconds": 601}, "api.timeout_seconds"),
    ({"latency_seconds": [2, 1]}, "api.latency_seconds"),
    ({"latency_seconds": "slow"}, "api.latency_seconds"),
    ({"routes": ["/hyperswitch/payments"]}, "api.routes"),
    ({"routes": "POST /hyperswitch/payments"}, "api.routes"),
    ({"next": ["explode"]}, "api.next"),
    ({"flaky": 0.5}, "api.flaky"),
])
def test_bad_settings_name_their_field_and_change_nothing(store, changes, field):
    ns = make_namespace(store)
    configure(store, ns, error=0.25)
    with pytest.raises(DomainError) as refused:
        configure(store, ns, **changes)
    assert refused.value.details["field"] == field
    with store.read() as db:
        assert api_faults.view(db, ns.id)["error"] == 0.25


def test_faults_are_off_until_set_and_off_again_when_set_back_to_defaults(store):
    ns = make_namespace(store)
    assert not ns.api_faults_active
    configure(store, ns, reset=0.5)
    assert namespaces.get(store, ns.id).api_faults_active
    configure(store, ns, reset=0.0)
    assert not namespaces.get(store, ns.id).api_faults_active


def test_the_script_comes_first_then_the_probabilities(store):
    ns = make_namespace(store)
    configure(store, ns, next=["reset", "none", "lost_response"], error=1.0)
    assert faults_for(store, ns, 4) == ["reset", "none", "lost_response", "error"]


def test_the_same_seed_gives_the_same_faults(store):
    first, second = make_namespace(store, seed=42), make_namespace(store, seed=42)
    for ns in (first, second):
        configure(store, ns, error=0.3, reset=0.3)
    sequence = faults_for(store, first, 40)
    assert faults_for(store, second, 40) == sequence
    assert {"error", "reset", "none"} <= set(sequence)  # the probabilities do something


def test_routes_limit_which_calls_are_faulted(store):
    ns = make_namespace(store)
    configure(store, ns, error=1.0, routes=["POST /hyperswitch/payments/*/confirm", "* /govuk/v1/**"])
    assert faults_for(store, ns, 1, "POST", "/hyperswitch/payments/pay_1/confirm") == ["error"]
    assert faults_for(store, ns, 1, "POST", "/hyperswitch/payments") == ["none"]
    assert faults_for(store, ns, 1, "GET", "/govuk/v1/payments/abc/refunds") == ["error"]


def test_every_injected_fault_is_logged_newest_first_and_clean_calls_are_not(store):
    ns = make_namespace(store)
    configure(store, ns, next=["reset", "none", "error"], error_status=503)
    faults_for(store, ns, 3)
    with store.read() as db:
        log = api_faults.log_entries(db, ns.id)
    assert [(e["fault"], e["status"], e["source"]) for e in log] == [("error", 503, "script"),
                                                                    ("reset", None, "script")]


def test_latency_is_drawn_from_the_range_and_logged(store):
    ns = make_namespace(store)
    configure(store, ns, latency_seconds=[0.1, 0.2])
    with store.write() as db:
        decision = api_faults.decide(db, ns.id, ns.seed, "GET", "/hyperswitch/payments/x", 0)
    assert decision.fault == "none" and 0.1 <= decision.latency_seconds <= 0.2
    with store.read() as db:
        assert api_faults.log_entries(db, ns.id)[0]["latency_ms"] == round(decision.latency_seconds * 1000, 3)
