"""Every dialect in the registry supplies every part a provider needs, and each part works.

Adding a dialect is one folder and one line in mock_psp/dialects/registry.py
(docs/architecture.md): this test is what tells the newcomer what the folder must hold.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from flask import Blueprint

from mock_psp.app import create_app
from mock_psp.checkout.adapters import Adapter
from mock_psp.dialects import registry
from mock_psp.dialects.base import Client
from mock_psp.dialects.base import Docs
from mock_psp.dialects.base import IdShape
from mock_psp.domain import namespaces
from mock_psp.domain import outcomes
from mock_psp.domain.cards import luhn_valid
from mock_psp.runtime.store import Store
from mock_psp.webhooks.schemes import Scheme

ROOT = Path(__file__).resolve().parents[2]
DIALECTS = registry.DIALECTS
ids = [d.name for d in DIALECTS]


@pytest.fixture(scope="module")
def app():
    app = create_app({"db": ":memory:", "background": False})
    yield app
    app.extensions["mock_psp"].close()


@pytest.fixture(scope="module")
def namespace(app):
    provider = app.extensions["mock_psp"]
    return namespaces.create(provider.store, provider.key_specs)


def test_the_registry_names_each_dialect_once_by_name_key_and_prefix():
    for attribute in ("name", "key", "prefix", "title"):
        values = [getattr(d, attribute) for d in DIALECTS]
        assert len(set(values)) == len(values), attribute
    assert registry.DEFAULT is DIALECTS[0]
    assert registry.named(DIALECTS[-1].name) is DIALECTS[-1]
    with pytest.raises(LookupError, match="use one of"):
        registry.named("no-such-dialect")


@pytest.mark.parametrize("dialect", DIALECTS, ids=ids)
def test_its_identity_is_well_formed(dialect):
    assert re.fullmatch(r"[a-z][a-z0-9-]*", dialect.name)
    assert re.fullmatch(r"[a-z][a-z0-9_]*", dialect.key)  # a JSON key, a config key, a storage key
    assert dialect.prefix == "/" + dialect.name and dialect.title


@pytest.mark.parametrize("dialect", DIALECTS, ids=ids)
def test_its_face_is_a_blueprint_at_its_prefix_with_its_own_error_envelope(dialect, app):
    assert isinstance(dialect.routes.bp, Blueprint) and dialect.routes.bp.url_prefix == dialect.prefix
    assert app.blueprints[dialect.routes.bp.name] is dialect.routes.bp
    rules = [r.rule for r in app.url_map.iter_rules() if r.rule.startswith(dialect.prefix + "/")]
    assert rules, "no routes hang on the blueprint: does dialect.py import the route modules?"
    with app.test_request_context(dialect.prefix + "/no-such-route"):
        assert dialect.routes.http_error(404).status_code == 404
        assert dialect.routes.http_error(405).status_code == 405
        assert dialect.routes.unexpected_error().status_code == 500
        assert dialect.routes.injected_error().status_code == 500
        assert isinstance(dialect.routes.is_api_call(), bool)


@pytest.mark.parametrize("dialect", DIALECTS, ids=ids)
def test_its_keys_are_made_for_every_namespace_and_one_of_them_finds_it(dialect, app, namespace):
    names = [spec.name for spec in dialect.keys]
    assert names and len(set(names)) == len(names)
    assert any(spec.identifies for spec in dialect.keys)
    held = namespace.keys_of(dialect.key)
    for spec in dialect.keys:
        assert held[spec.name].startswith(spec.prefix) and len(held[spec.name]) == len(spec.prefix) + spec.length
    shown = {**held, "base_url": "http://127.0.0.1:8420" + dialect.prefix}
    presented = dialect.credentials(dialect.client.headers(shown, "secret"))
    assert presented is not None, "the client's headers present no key the dialect reads"
    store = app.extensions["mock_psp"].store
    assert namespaces.find_by_key(store, dialect.key, *presented).id == namespace.id
    assert dialect.credentials({}) is None


@pytest.mark.parametrize("dialect", DIALECTS, ids=ids)
def test_its_test_cards_are_valid_numbers_and_its_happy_card_succeeds(dialect):
    assert isinstance(dialect.test_cards, outcomes.CardBook) and dialect.test_cards.cards
    for number, (outcome, label) in dialect.test_cards.cards.items():
        assert luhn_valid(number) and label, number
        assert outcome.result in (outcomes.SUCCEED, outcomes.FAIL) and outcome.source == "magic_card"
    happy = dialect.test_cards.outcome(dialect.client.happy_card)
    assert happy is not None and happy.result == outcomes.SUCCEED and not happy.challenge


@pytest.mark.parametrize("dialect", DIALECTS, ids=ids)
def test_its_checkout_adapter_has_every_part_the_hosted_pages_call(dialect):
    adapter = dialect.checkout
    wanted = {name for name, value in vars(Adapter).items() if callable(value) and not name.startswith("_")}
    assert wanted <= {name for name in dir(adapter) if callable(getattr(adapter, name))}
    for name in wanted:  # the same parameters as the protocol's
        assert list(inspect.signature(getattr(adapter, name)).parameters) == \
            list(inspect.signature(getattr(Adapter, name)).parameters)[1:], name
    assert adapter.dialect == dialect.name and adapter.methods and isinstance(adapter.shows_failures, bool)
    assert adapter.merchant_actions <= {"capture", "cancel", "refund"}


@pytest.mark.parametrize("dialect", DIALECTS, ids=ids)
def test_its_webhooks_have_events_and_a_scheme_that_signs_them(dialect, namespace):
    events = dialect.events
    assert events.EVENT_TYPES and all(isinstance(e, str) for e in events.EVENT_TYPES)
    assert callable(events.describe) and callable(events.render)
    assert events.new_event_id(1_700_000_000_000, 1, "pay_1", events.EVENT_TYPES[0]) == \
        events.new_event_id(1_700_000_000_000, 1, "pay_1", events.EVENT_TYPES[0])  # the same for the same seed
    assert dialect.schemes and all(isinstance(s, Scheme) for s in dialect.schemes)
    for scheme in dialect.schemes:
        assert scheme.default_dialect == dialect.name and scheme.retry_schedule and scheme.timeout_seconds > 0
        secret = scheme.namespace_secret(namespace) if scheme.namespace_secret else scheme.new_secret()
        assert isinstance(scheme.sign(secret, b"{}", "evt_1", 1_700_000_000), dict)
    assert set(registry.schemes()) >= {s.name for s in dialect.schemes}


@pytest.mark.parametrize("dialect", DIALECTS, ids=ids)
def test_its_people_facing_parts_are_there(dialect, namespace):
    assert isinstance(dialect.docs, Docs) and dialect.docs.auth
    assert (ROOT / dialect.docs.ours).is_file(), dialect.docs.ours
    assert dialect.docs.shown_key in {spec.name for spec in dialect.keys}
    assert isinstance(dialect.client, Client) and re.fullmatch(r"[A-Z]{3}", dialect.client.default_currency)
    shown = {**namespace.keys_of(dialect.key), "base_url": "http://127.0.0.1:8420" + dialect.prefix}
    assert dialect.client.banner(shown) and all(line.startswith("    ") for line in dialect.client.banner(shown))
    assert callable(dialect.client.payment)
    assert (dialect.client.made_up_event is None) != (dialect.client.send_made_up_event is None), \
        "a scenario's send_webhook needs one way to make up this dialect's webhook"
    assert dialect.client.made_up_event_id()
    assert isinstance(dialect.refund_ids, IdShape)


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if d.settings is not None], ids=lambda d: d.name)
def test_its_own_settings_validate_merge_and_may_own_an_endpoint(dialect, namespace):
    current = dialect.settings.current(namespace)
    assert isinstance(current, dict)
    assert dialect.settings.validate({}, {}) == dialect.settings.validate(current, {})
    with pytest.raises(Exception, match=dialect.key):
        dialect.settings.validate({}, "not an object")
    assert dialect.settings.owned_endpoint(namespace) is None or "url" in dialect.settings.owned_endpoint(namespace)


def test_a_dialect_added_later_gets_its_keys_in_every_namespace_already_made(tmp_path):
    store = Store(str(tmp_path / "p.db"))
    try:
        first, *rest = DIALECTS
        before = {first.key: first.keys}
        default = namespaces.ensure_default(store, before)
        other = namespaces.create(store, before)
        assert not other.keys_of(rest[0].key)
        assert namespaces.ensure_keys(store, registry.key_specs()) == 2
        assert namespaces.ensure_keys(store, registry.key_specs()) == 0
        for dialect in DIALECTS:
            assert namespaces.get(store, other.id).keys_of(dialect.key)
        # the default namespace's new keys are the stable ones, the same on every machine
        later = namespaces.default_keys(registry.key_specs())
        assert namespaces.get(store, default.id).keys == later
    finally:
        store.close()
