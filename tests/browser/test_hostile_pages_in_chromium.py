"""Real Chromium on a page of another origin tries what issue 14 found it could do to the control
API (a no-cors text/plain fetch, a bodyless POST, a JSON fetch that needs a preflight), and
the dashboard behind --control-token is used through its login page."""

from __future__ import annotations

import pytest
import requests

from mock_psp.app import create_app
from mock_psp.runtime.server import ServerThread

pytestmark = pytest.mark.browser

ATTACK = """async (psp) => {
  const tried = [];
  const send = async (name, url, options) => {
    try { const r = await fetch(url, options); tried.push([name, r.type, r.status]); }
    catch (e) { tried.push([name, "refused", String(e)]); }
  };
  await send("register", psp + "/_mock/webhook-endpoints", {method: "POST", mode: "no-cors",
    headers: {"Content-Type": "text/plain"}, body: JSON.stringify({url: "http://127.0.0.1:9/stolen"})});
  await send("queue", psp + "/_mock/outcomes", {method: "POST", mode: "no-cors",
    headers: {"Content-Type": "text/plain"}, body: JSON.stringify({next: ["succeeded"], replace: true})});
  await send("reset", psp + "/_mock/reset", {method: "POST", mode: "no-cors"});
  await send("json", psp + "/_mock/outcomes", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({next: ["succeeded"], replace: true})});
  return tried;
}"""


def test_a_page_on_another_origin_cannot_drive_the_control_api(page, provider_server, foreign_site):
    psp = provider_server.url
    ns = requests.post(f"{psp}/_mock/namespaces", json={}, timeout=10).json()  # made so, not by the page
    before = requests.get(f"{psp}/_mock/webhook-endpoints", timeout=10).json()["data"]
    requests.post(f"{psp}/_mock/outcomes", json={"next": ["declined"], "replace": True}, timeout=10)
    try:
        page.goto(foreign_site.url + "/forger")
        tried = page.evaluate(ATTACK, psp)
        assert [name for name, *_ in tried] == ["register", "queue", "reset", "json"]
        assert tried[-1][1] == "refused"  # the preflight was refused: the JSON call never left
        assert requests.get(f"{psp}/_mock/webhook-endpoints", timeout=10).json()["data"] == before
        assert requests.get(f"{psp}/_mock/outcomes", timeout=10).json()["next"] == ["declined"]
        assert requests.get(f"{psp}/_mock/namespaces/{ns['id']}", timeout=10).status_code == 200
    finally:
        requests.delete(f"{psp}/_mock/outcomes", timeout=10)


@pytest.fixture
def locked_provider(tmp_path):
    app = create_app({"db": str(tmp_path / "locked.db"), "background": True, "control_token": "qa-token"})
    server = ServerThread(app, "127.0.0.1", 0).start()
    yield server
    server.stop()
    app.extensions["mock_psp"].close()


def test_the_dashboard_behind_a_token_is_opened_through_its_login_page(page, locked_provider):
    page.goto(locked_provider.url + "/_mock/ui/namespaces")
    assert "/_mock/ui/login" in page.url
    page.fill("#token", "not-it")
    page.click("[data-test-id=login-button]")
    assert "not this provider's control token" in page.inner_text("main")
    page.fill("#token", "qa-token")
    page.click("[data-test-id=login-button]")
    page.wait_for_url("**/_mock/ui/namespaces")
    assert "ns_default" in page.inner_text("main")
    cookie = next(c for c in page.context.cookies() if c["name"] == "mock_psp_dashboard")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and "qa-token" not in cookie["value"]
    page.goto(locked_provider.url + "/_mock/ui/clock")
    assert page.url.endswith("/_mock/ui/clock") and "Log in" not in page.inner_text("h1")
