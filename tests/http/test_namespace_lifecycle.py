"""State you can see and reset: labels, resets that undo steering, deleting a namespace, the clock
new namespaces start on, and the dashboard's home, reset and delete pages."""

from __future__ import annotations

import re

import pytest

from mock_psp.app import create_app
from tests.support.clients import Api
from tests.support.clients import FlaskTransport
from tests.support.clients import Hyperswitch

UI = "/_mock/ui"
TOKEN = "s3cret-token"


@pytest.fixture
def make_app():
    made = []

    def make(**settings):
        app = create_app({"db": ":memory:", "background": False, **settings})
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["mock_psp"].close()


def page_text(response) -> str:
    return response.get_data(as_text=True)


def form_token(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text(page))[1]


# -- labels ---------------------------------------------------------------------------------------


def test_a_namespace_carries_the_label_it_was_created_with(control):
    created = control.post("/_mock/namespaces", {"label": "checkout team · CI"})
    assert created.status == 201 and created.json["label"] == "checkout team · CI"
    assert control.get(f"/_mock/namespaces/{created.json['id']}").json["label"] == "checkout team · CI"
    assert control.post("/_mock/namespaces", {}).json["label"] is None
    assert control.get("/_mock/namespaces/ns_default").json["label"] is None


@pytest.mark.parametrize("label", ["x" * 81, "two\nlines", "bell\u0007", 42, ["a"]])
def test_a_label_must_be_a_short_line_of_text(control, label):
    refused = control.post("/_mock/namespaces", {"label": label})
    assert refused.status == 400 and refused.error["code"] == "invalid_config"
    assert "label" in refused.error["message"]


def test_the_namespaces_page_shows_each_label_beside_its_id(control, app):
    created = control.post("/_mock/namespaces", {"label": "test shop <b>"}).json
    page = page_text(app.test_client().get(f"{UI}/namespaces"))
    row = re.search(rf'data-namespace-id="{created["id"]}".*?</tr>', page, re.S)[0]
    assert "test shop &lt;b&gt;" in row and 'data-test-id="namespace-label"' in row


# -- reset: data and steering go, keys and wiring stay ------------------------------------------------


def steer(hs: Hyperswitch) -> None:
    """The README's steering block, on one namespace."""
    hs.client.push_outcomes(["declined", "3ds", "succeeded"])
    hs.configure(success_rates={"card": 0.9}, delays={"refund": 30}, allowed_origins=["http://127.0.0.1:8421"])
    hs.configure(clock="virtual")
    hs.client.advance("15m")
    hs.client.set_faults(webhooks={"next": ["drop", "duplicate"], "drop": 0.5}, api={"error": 0.5})


def test_a_full_reset_puts_settings_faults_outcomes_and_clock_back_to_the_defaults(hs):
    hs.pay()
    steer(hs)
    reset = hs.control.post("/_mock/reset", {"keep_config": False})
    assert reset.status == 200 and reset.json["clock"]["mode"] == "system"
    config = hs.control.get("/_mock/config").json
    assert config["clock"] == "system" and config["success_rates"]["card"] == 1.0 and config["delays"]["refund"] == 0
    assert config["allowed_origins"] == ["http://127.0.0.1:8421"]  # wiring, like keys and webhook endpoints
    faults = hs.control.get("/_mock/faults").json
    assert faults["webhooks"]["next"] == [] and faults["webhooks"]["drop"] == 0 and faults["api"]["error"] == 0
    assert hs.control.get("/_mock/outcomes").json["next"] == []
    assert hs.pay()["status"] == "succeeded"


def test_a_full_reset_of_a_namespace_made_virtual_gives_it_a_fresh_virtual_clock(vhs):
    before = vhs.control.get("/_mock/clock").json["now"]
    vhs.client.advance("2d")
    after = vhs.control.post("/_mock/reset", {"keep_config": False}).json["clock"]
    assert after["mode"] == "virtual" and after["now"][:10] == before[:10]


def test_every_namespace_can_be_reset_at_once(control, hs):
    hs.pay()
    hs.configure(delays={"refund": 30})
    control.post("/_mock/outcomes", {"next": ["declined"]})
    reset = control.post("/_mock/namespaces/reset", {"keep_config": False})
    assert reset.status == 200 and reset.json["reset"] == 2 and reset.json["payments_removed"] == 1
    assert hs.control.get("/_mock/config").json["delays"]["refund"] == 0
    assert control.get("/_mock/outcomes").json["next"] == []
    assert hs.client.namespace_document()["hyperswitch"]["api_key"] == hs.api_key  # keys stay


def test_resetting_every_namespace_needs_the_control_token_when_one_is_set(make_app):
    locked = Api(FlaskTransport(make_app(control_token=TOKEN).test_client()))
    assert locked.post("/_mock/namespaces/reset", {}).status == 401
    assert locked.post("/_mock/namespaces/reset", {}, headers={"X-Mock-Token": TOKEN}).status == 200


# -- deleting a namespace -------------------------------------------------------------------------


def table_counts(provider, namespace_id: str) -> dict[str, int]:
    with provider.store.read() as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        counts = {}
        for table in tables:
            columns = [c[1] for c in db.execute(f"PRAGMA table_info({table})")]
            column = "namespace_id" if "namespace_id" in columns else "id" if table == "namespaces" else None
            if column:
                counts[table] = db.execute(f"SELECT count(*) FROM {table} WHERE {column} = ?",
                                           [namespace_id]).fetchone()[0]
    return counts


def test_deleting_a_namespace_removes_its_rows_everywhere_and_its_keys_stop_working(control, provider, hs):
    payment = hs.pay()
    hs.refund(payment["payment_id"], amount=100)
    hs.register("http://127.0.0.1:9/hooks")
    hs.configure(success_rates={"card": 0.5})
    assert sum(table_counts(provider, hs.namespace["id"]).values()) > 5
    deleted = control.call("DELETE", f"/_mock/namespaces/{hs.namespace['id']}")
    assert deleted.status == 200 and deleted.json == {"id": hs.namespace["id"], "deleted": True}
    assert set(table_counts(provider, hs.namespace["id"]).values()) == {0}
    refused = hs.retrieve(payment["payment_id"])
    assert refused.status == 401 and refused.json["error"]["code"] == "IR_01"  # Hyperswitch's own envelope
    assert control.get(f"/_mock/namespaces/{hs.namespace['id']}").status == 404


def test_the_default_namespace_cannot_be_deleted_only_reset(control):
    refused = control.call("DELETE", "/_mock/namespaces/ns_default")
    assert refused.status == 409 and refused.error["code"] == "default_namespace"
    assert "reset" in refused.error["message"]


def test_a_dialect_key_deletes_its_own_namespace_only(control, hs):
    other = control.post("/_mock/namespaces", {}).json
    keyed = Api(control.transport, {"api-key": hs.api_key})
    refused = keyed.call("DELETE", f"/_mock/namespaces/{other['id']}")
    assert refused.status == 403 and refused.error["code"] == "namespace_forbidden"
    assert keyed.call("DELETE", f"/_mock/namespaces/{hs.namespace['id']}").status == 200


def test_deleting_needs_the_control_token_when_one_is_set(make_app):
    locked = Api(FlaskTransport(make_app(control_token=TOKEN).test_client()))
    created = locked.post("/_mock/namespaces", {}, headers={"X-Mock-Token": TOKEN}).json
    assert locked.call("DELETE", f"/_mock/namespaces/{created['id']}").status == 401
    assert locked.call("DELETE", f"/_mock/namespaces/{created['id']}", headers={"X-Mock-Token": TOKEN}).status == 200


# -- the clock new namespaces start on -------------------------------------------------------------


def test_serve_clock_virtual_puts_every_new_namespace_on_a_virtual_clock(make_app):
    control = Api(FlaskTransport(make_app(clock="virtual").test_client()))
    assert control.post("/_mock/namespaces", {}).json["clock"]["mode"] == "virtual"
    assert control.post("/_mock/namespaces", {"clock": "system"}).json["clock"]["mode"] == "system"
    assert control.get("/_mock/namespaces/ns_default").json["clock"]["mode"] == "virtual"


def test_the_dashboards_new_namespace_starts_on_the_providers_clock_with_its_label(make_app):
    ui = make_app(clock="virtual").test_client()
    made = ui.post(f"{UI}/namespaces", data={"csrf_token": form_token(ui.get(f"{UI}/namespaces")),
                                             "label": "QA run 7"})
    page = page_text(ui.get(made.headers["Location"]))
    assert "virtual clock" in page and "QA run 7" in page


# -- the dashboard: its home, reset and delete ------------------------------------------------------


def test_the_dashboard_opens_its_home_namespace_when_none_is_chosen(app, provider, control):
    shop = control.post("/_mock/namespaces", {"label": "test shop, hyperswitch"}).json
    provider.dashboard_home = shop["id"]
    ui = app.test_client()
    page = page_text(ui.get(f"{UI}/", follow_redirects=True))
    assert f"<code>{shop['id']}</code>" in page and "test shop, hyperswitch" in page
    assert 'data-test-id="namespace-switcher"' in page and "ns_default" in page  # a way to the others


def test_a_home_or_a_chosen_namespace_that_is_gone_falls_back_to_the_default(app, provider, control):
    gone = control.post("/_mock/namespaces", {}).json["id"]
    ui = app.test_client()
    ui.get(f"{UI}/payments?ns={gone}")  # the session remembers it
    provider.dashboard_home = gone
    control.call("DELETE", f"/_mock/namespaces/{gone}")
    page = ui.get(f"{UI}/payments")
    assert page.status_code == 200 and "<code>ns_default</code>" in page_text(page)


def test_the_dashboard_resets_the_current_namespace_after_a_confirmation(app, hs):
    hs.pay()
    hs.configure(delays={"refund": 30})
    ui = app.test_client()
    ns = hs.namespace["id"]
    confirm = ui.get(f"{UI}/namespaces/{ns}/reset")
    assert confirm.status_code == 200 and 'data-test-id="confirm-reset"' in page_text(confirm)
    assert hs.client.config()["delays"]["refund"] == 30  # a GET changes nothing
    unticked = ui.post(f"{UI}/namespaces/{ns}/reset", data={"csrf_token": form_token(confirm)})
    assert unticked.status_code == 400 and hs.client.config()["delays"]["refund"] == 30
    done = ui.post(f"{UI}/namespaces/{ns}/reset", data={"csrf_token": form_token(confirm), "confirm": "yes"})
    assert done.status_code == 303
    assert "Reset" in page_text(ui.get(done.headers["Location"]))
    assert hs.client.config()["delays"]["refund"] == 0
    assert "No payments yet" in page_text(ui.get(f"{UI}/payments?ns={ns}"))
    assert hs.client.namespace_document()["hyperswitch"]["api_key"] == hs.api_key  # keys stay


def test_the_dashboard_deletes_a_namespace_after_a_confirmation(app, hs):
    ui = app.test_client()
    ns = hs.namespace["id"]
    listing = page_text(ui.get(f"{UI}/namespaces"))
    assert f'href="{UI}/namespaces/{ns}/delete"' in listing
    assert f'href="{UI}/namespaces/ns_default/delete"' not in listing  # the default one can only be reset
    confirm = ui.get(f"{UI}/namespaces/{ns}/delete")
    assert 'data-test-id="confirm-delete"' in page_text(confirm)
    done = ui.post(f"{UI}/namespaces/{ns}/delete", data={"csrf_token": form_token(confirm), "confirm": "yes"})
    assert done.status_code == 303 and f"Deleted {ns}" in page_text(ui.get(done.headers["Location"]))
    assert hs.retrieve("pay_anything").status == 401


def test_the_dashboards_reset_and_delete_forms_keep_their_csrf_and_origin_checks(app, hs):
    ui = app.test_client()
    ns = hs.namespace["id"]
    confirm = ui.get(f"{UI}/namespaces/{ns}/delete")
    no_token = ui.post(f"{UI}/namespaces/{ns}/delete", data={"confirm": "yes"})
    other_site = ui.post(f"{UI}/namespaces/{ns}/reset", data={"csrf_token": form_token(confirm), "confirm": "yes"},
                         headers={"Origin": "http://evil.example"})
    assert no_token.status_code == 403 and other_site.status_code == 403
    assert hs.client.namespace_document()["id"] == ns


def test_the_dashboard_refuses_to_delete_the_default_namespace(app):
    ui = app.test_client()
    confirm = ui.get(f"{UI}/namespaces/ns_default/reset")
    refused = ui.post(f"{UI}/namespaces/ns_default/delete", data={"csrf_token": form_token(confirm),
                                                                   "confirm": "yes"})
    assert refused.status_code == 409 and "reset" in page_text(refused)
