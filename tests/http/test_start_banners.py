"""What `serve` and `up` say about the state they start on: the database, kept or fresh, and any
steering a previous run left in the default namespace."""

from __future__ import annotations

from mock_psp.app import create_app
from mock_psp.cli import provider_banner
from mock_psp.config import Settings
from tests.support.clients import Api
from tests.support.clients import FlaskTransport
from tests.support.clients import Hyperswitch

URL = "http://127.0.0.1:8420"


def start(db, **settings):
    settings = Settings.from_mapping({"db": str(db), "background": False, **settings})
    app = create_app(settings)
    return app, settings


def banner_of(db, **settings) -> str:
    app, settings = start(db, **settings)
    try:
        return provider_banner(settings, URL, app.extensions["mock_psp"])
    finally:
        app.extensions["mock_psp"].close()


def test_the_first_start_says_fresh_database_and_where_it_is(tmp_path):
    banner = banner_of(tmp_path / "p.db")
    assert f"Database      {tmp_path / 'p.db'}   (fresh database)" in banner
    assert "mock-psp reset" not in banner


def test_a_later_start_counts_the_kept_namespaces_and_payments(tmp_path):
    app, _ = start(tmp_path / "p.db")
    control = Api(FlaskTransport(app.test_client()))
    shop = Hyperswitch(control.transport, control.post("/_mock/namespaces", {}).json)
    shop.pay()
    shop.pay()
    app.extensions["mock_psp"].close()
    banner = banner_of(tmp_path / "p.db")
    assert "(kept state: 2 namespaces, 2 payments)" in banner
    assert "Steered" not in banner  # nothing steered in the default namespace


def test_steering_left_in_the_default_namespace_is_named_with_how_to_clear_it(tmp_path):
    app, _ = start(tmp_path / "p.db")
    control = Api(FlaskTransport(app.test_client()))
    control.post("/_mock/outcomes", {"next": ["declined"]})
    control.put("/_mock/config", {"success_rates": {"card": 0.9}, "delays": {"refund": 30}})
    control.put("/_mock/config", {"clock": "virtual"})
    control.put("/_mock/faults", {"webhooks": {"next": ["drop"]}})
    app.extensions["mock_psp"].close()
    banner = banner_of(tmp_path / "p.db")
    [line] = [line for line in banner.splitlines() if line.startswith("  Steered")]
    assert "ns_default kept a previous run's steering:" in line
    for told in ("virtual clock stopped at", "delays.refund 30s", "success_rates.card 0.9",
                 "1 scripted outcome", "webhook faults"):
        assert told in line, told
    assert line.endswith("clear it with: mock-psp reset")


def test_the_reset_it_suggests_names_a_provider_on_another_port(tmp_path):
    app, settings = start(tmp_path / "p.db")
    Api(FlaskTransport(app.test_client())).put("/_mock/config", {"delays": {"capture": 5}})
    app.extensions["mock_psp"].close()
    app, settings = start(tmp_path / "p.db")
    try:
        banner = provider_banner(settings, "http://127.0.0.1:9999", app.extensions["mock_psp"])
    finally:
        app.extensions["mock_psp"].close()
    assert "clear it with: mock-psp reset --url http://127.0.0.1:9999" in banner


def test_a_virtual_clock_asked_for_at_start_is_not_called_steering(tmp_path):
    banner = banner_of(tmp_path / "p.db", clock="virtual")
    assert "Steered" not in banner and "clock virtual" in banner
