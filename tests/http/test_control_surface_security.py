"""The control API and the provider's pages against a hostile browser page (issue 14): JSON
bodies need the JSON content type, cross-site writes and preflights are refused unless the
origin is registered, only allow-listed Host names are answered, no Host is remembered,
and ``control_token`` locks the control API, the listings and the dashboard.

Every request goes through Flask's test client, whose default Host is ``localhost``.
"""

from __future__ import annotations

import json
import re

import pytest

from mock_psp.app import create_app
from mock_psp.config import Settings

EVIL = "http://evil.example"
TOKEN = "s3cret-control-token"


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


@pytest.fixture
def web(app):
    return app.test_client()


def new_namespace(client, **headers) -> dict:
    reply = client.post("/_mock/namespaces", json={}, headers=headers)
    assert reply.status_code == 201, reply.get_data(as_text=True)
    return reply.get_json()


def outcomes(client, namespace_id: str, **headers) -> list:
    reply = client.get("/_mock/outcomes", headers={"X-Mock-Namespace": namespace_id, **headers})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()["next"]


# -- JSON bodies need the JSON content type ------------------------------------------------------------


def test_a_text_plain_body_from_another_site_registers_no_webhook_endpoint(web):
    # What fetch(url, {mode: "no-cors", method: "POST", headers: {"Content-Type": "text/plain"}}) sends.
    reply = web.post("/_mock/webhook-endpoints", data=json.dumps({"url": "https://evil.example/hook"}),
                     headers={"Content-Type": "text/plain", "Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
    assert reply.status_code in (403, 415)
    assert reply.get_json()["error"]["code"] in ("cross_site_request", "unsupported_media_type")
    assert web.get("/_mock/webhook-endpoints").get_json()["data"] == []


def test_a_json_body_with_another_content_type_is_refused_with_415_in_the_control_envelope(web):
    reply = web.post("/_mock/outcomes", data='{"next": ["declined"]}', headers={"Content-Type": "text/plain"})
    assert reply.status_code == 415
    error = reply.get_json()["error"]
    assert error["code"] == "unsupported_media_type" and "application/json" in error["message"]
    assert outcomes(web, "ns_default") == []


def test_a_form_encoded_body_is_refused_too(web):
    reply = web.put("/_mock/config", data={"seed": "1"})
    assert reply.status_code == 415


def test_a_json_body_with_a_charset_is_accepted(web):
    reply = web.post("/_mock/outcomes", data='{"next": ["declined"]}',
                     headers={"Content-Type": "application/json; charset=utf-8"})
    assert reply.status_code == 200 and outcomes(web, "ns_default") == ["declined"]


def test_a_cross_site_page_cannot_reset_a_namespace_with_a_bodyless_post(web):
    web.post("/_mock/outcomes", json={"next": ["declined"]})
    reply = web.post("/_mock/reset", headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
    assert reply.status_code == 403
    assert reply.get_json()["error"]["code"] == "cross_site_request"
    assert EVIL in reply.get_json()["error"]["message"]
    assert outcomes(web, "ns_default") == ["declined"]


def test_a_cross_site_fetch_metadata_alone_is_refused(web):
    # Some requests carry no Origin (a privacy setting); the browser's Sec-Fetch-Site still tells.
    web.post("/_mock/outcomes", json={"next": ["declined"]})
    assert web.post("/_mock/webhooks/flush", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert web.delete("/_mock/outcomes", headers={"Origin": "null"}).status_code == 403
    assert outcomes(web, "ns_default") == ["declined"]


def test_a_bodyless_post_from_a_script_without_an_origin_still_works(web):
    # curl -X POST http://127.0.0.1:8420/_mock/reset: no browser, no Origin, nothing to forge.
    web.post("/_mock/outcomes", json={"next": ["declined"]})
    assert web.post("/_mock/reset").status_code == 200
    assert outcomes(web, "ns_default") == []


def test_the_providers_own_origin_and_a_registered_origin_may_write(web):
    shop = new_namespace(web)
    web.put("/_mock/config", json={"allowed_origins": ["http://localhost:3000"]},
            headers={"X-Mock-Namespace": shop["id"]})
    same = web.post("/_mock/outcomes", json={"next": ["declined"]}, headers={"Origin": "http://localhost"})
    assert same.status_code == 200
    registered = web.post("/_mock/outcomes", json={"next": ["declined"]},
                          headers={"Origin": "http://localhost:3000", "X-Mock-Namespace": shop["id"]})
    assert registered.status_code == 200
    assert registered.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    # Registered for that namespace only: the default namespace does not know the shop.
    elsewhere = web.post("/_mock/outcomes", json={"next": ["declined"]}, headers={"Origin": "http://localhost:3000"})
    assert elsewhere.status_code == 403


# -- CORS preflight ---------------------------------------------------------------------------------------


def preflight(client, path: str, origin: str, method: str = "POST"):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": "content-type,x-mock-namespace"})


def test_a_preflight_from_an_unregistered_origin_is_refused(web):
    reply = preflight(web, "/_mock/webhook-endpoints", EVIL)
    assert reply.status_code == 403 and "Access-Control-Allow-Origin" not in reply.headers
    assert reply.get_json()["error"]["code"] == "cross_site_request"


def test_a_preflight_from_a_registered_origin_is_answered(web):
    web.put("/_mock/config", json={"allowed_origins": ["http://localhost:3000"]})
    reply = preflight(web, "/_mock/outcomes", "http://localhost:3000")
    assert reply.status_code == 204
    assert reply.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    allowed = reply.headers["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed and "x-mock-namespace" in allowed and "x-mock-token" in allowed
    assert "POST" in reply.headers["Access-Control-Allow-Methods"]
    assert "Origin" in reply.headers["Vary"]


# -- the Host allow-list -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/_mock/health", "/hyperswitch/payments/pay_1", "/govuk/v1/payments",
                                  "/checkout/nothing", "/_mock/ui/payments", "/sdk/v1/mock-psp.js"])
def test_a_request_for_an_unknown_host_is_refused_with_a_json_error_that_says_how_to_allow_it(web, path):
    reply = web.get(path, headers={"Host": "evil.example:9999"})
    assert reply.status_code == 421
    error = reply.get_json()["error"]
    assert error["code"] == "host_not_allowed"
    assert "evil.example" in error["message"] and "--allowed-host" in error["message"]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8420", "[::1]:8420", "LOCALHOST:1", "localhost."])
def test_the_loopback_names_are_answered_on_any_port(web, host):
    assert web.get("/_mock/health", headers={"Host": host}).status_code == 200


def test_the_public_url_host_and_configured_names_are_answered(make_app):
    app = make_app(public_url="https://psp.example.com", allowed_hosts=["mock-psp", "Shop.Test"])
    client = app.test_client()
    for host in ("psp.example.com", "mock-psp:8420", "shop.test"):
        assert client.get("/_mock/health", headers={"Host": host}).status_code == 200, host
    assert client.get("/_mock/health", headers={"Host": "other.example"}).status_code == 421


def test_allowed_hosts_come_from_the_environment_and_the_config_file(tmp_path):
    config = tmp_path / "mock-psp.toml"
    config.write_text('[provider]\nallowed_hosts = ["from-file"]\ncontrol_token = "t"\n')
    assert Settings.load(str(config), env={}).allowed_hosts == ["from-file"]
    assert Settings.load(str(config), env={}).control_token == "t"
    loaded = Settings.load(env={"MOCK_PSP_ALLOWED_HOSTS": "a.test, b.test", "MOCK_PSP_CONTROL_TOKEN": "tok"})
    assert loaded.allowed_hosts == ["a.test", "b.test"] and loaded.control_token == "tok"


# -- no Host is remembered --------------------------------------------------------------------------------------


def govuk_next_url(client, api_key: str, host: str = "localhost") -> str:
    reply = client.post("/govuk/v1/payments", headers={"Authorization": f"Bearer {api_key}", "Host": host},
                        json={"amount": 100, "reference": "R", "description": "d",
                              "return_url": "https://service.example/return"})
    assert reply.status_code == 201, reply.get_data(as_text=True)
    return reply.get_json()["_links"]["next_url"]["href"]


def test_one_request_with_another_host_does_not_change_the_links_of_later_requests(make_app):
    app = make_app(allowed_hosts=["evil.example"])
    client = app.test_client()
    key = new_namespace(client)["govuk"]["api_key"]
    client.get("/_mock/health", headers={"Host": "evil.example:9999"})
    assert govuk_next_url(client, key).startswith("http://localhost/govuk/")
    assert govuk_next_url(client, key, host="127.0.0.1:8420").startswith("http://127.0.0.1:8420/govuk/")


def test_a_request_for_another_host_leaves_no_trace_in_the_links_of_later_ones(web):
    web.get("/_mock/health", headers={"Host": "evil.example:9999"})  # refused now; it used to be remembered
    key = new_namespace(web)["govuk"]["api_key"]
    assert govuk_next_url(web, key).startswith("http://localhost/govuk/secure/")


def test_with_a_public_url_every_link_uses_it_whatever_the_host(make_app):
    app = make_app(public_url="https://psp.example.com")
    client = app.test_client()
    key = new_namespace(client)["govuk"]["api_key"]
    assert govuk_next_url(client, key, host="127.0.0.1:8420").startswith("https://psp.example.com/govuk/")


def test_links_made_outside_a_request_use_the_configured_url_never_a_host_header(make_app):
    app = make_app(allowed_hosts=["evil.example"])
    client = app.test_client()
    client.get("/_mock/health", headers={"Host": "evil.example:9999"})
    provider = app.extensions["mock_psp"]
    assert provider.base_url() == "http://127.0.0.1:8420"  # the settings' host and port
    provider.serving_at("http://127.0.0.1:54321")
    assert provider.base_url() == "http://127.0.0.1:54321"


# -- control_token -------------------------------------------------------------------------------------------------


@pytest.fixture
def locked(make_app):
    return make_app(control_token=TOKEN).test_client()


def with_token(**headers) -> dict:
    return {"X-Mock-Token": TOKEN, **headers}


def test_with_a_control_token_the_control_api_answers_401_without_it(locked):
    for method, path in (("GET", "/_mock/namespaces"), ("GET", "/_mock/config"), ("POST", "/_mock/reset"),
                         ("GET", "/_mock/namespaces/ns_default"), ("POST", "/_mock/namespaces")):
        reply = locked.open(path, method=method, json={} if method == "POST" else None)
        assert reply.status_code == 401, (method, path)
        error = reply.get_json()["error"]
        assert error["code"] == "unauthorized" and "X-Mock-Token" in error["message"]
    wrong = locked.get("/_mock/namespaces", headers={"X-Mock-Token": TOKEN + "x"})
    assert wrong.status_code == 401


def test_with_the_token_the_control_api_answers(locked):
    assert locked.get("/_mock/namespaces", headers=with_token()).status_code == 200
    created = new_namespace(locked, **with_token())
    assert locked.post("/_mock/reset", headers=with_token(**{"X-Mock-Namespace": created["id"]})).status_code == 200


def test_the_health_check_stays_open_with_a_token(locked):
    assert locked.get("/_mock/health").status_code == 200


def test_with_a_token_a_dialect_key_authorises_calls_on_its_own_namespace_only(locked):
    mine = new_namespace(locked, **with_token())
    other = new_namespace(locked, **with_token())
    key = {"api-key": mine["hyperswitch"]["api_key"]}
    assert locked.post("/_mock/outcomes", json={"next": ["declined"]}, headers=key).status_code == 200
    assert outcomes(locked, mine["id"], **with_token()) == ["declined"]
    assert locked.get(f"/_mock/namespaces/{mine['id']}", headers=key).status_code == 200
    refused = locked.post("/_mock/reset", headers={**key, "X-Mock-Namespace": other["id"]})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "namespace_forbidden"
    assert locked.get(f"/_mock/namespaces/{other['id']}", headers=key).status_code == 403
    assert locked.get("/_mock/namespaces", headers=key).status_code == 401  # the listing needs the token


def test_without_a_token_a_dialect_key_still_cannot_reach_another_namespace(web):
    mine, other = new_namespace(web), new_namespace(web)
    web.post("/_mock/outcomes", json={"next": ["declined"]}, headers={"X-Mock-Namespace": other["id"]})
    key = {"Authorization": f"Bearer {mine['govuk']['api_key']}"}
    refused = web.post("/_mock/reset", headers={**key, "X-Mock-Namespace": other["id"]})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "namespace_forbidden"
    assert outcomes(web, other["id"]) == ["declined"]
    assert web.post("/_mock/reset", headers={**key, "X-Mock-Namespace": mine["id"]}).status_code == 200


def test_a_listing_shows_a_key_holder_only_its_own_namespaces_secrets(web):
    mine, other = new_namespace(web), new_namespace(web)
    listed = web.get("/_mock/namespaces", headers={"api-key": mine["hyperswitch"]["api_key"]}).get_json()["data"]
    assert [n["id"] for n in listed] == [mine["id"]]
    assert other["hyperswitch"]["api_key"] not in json.dumps(listed)


# -- the dashboard behind the token ----------------------------------------------------------------------------------


def csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]


def test_with_a_token_the_dashboard_asks_for_it_on_a_login_page(locked):
    page = locked.get("/_mock/ui/payments")
    assert page.status_code == 303 and "/_mock/ui/login" in page.headers["Location"]
    login = locked.get(page.headers["Location"])
    assert login.status_code == 200 and 'name="token"' in login.get_data(as_text=True)
    wrong = locked.post("/_mock/ui/login", data={"token": "nope", "csrf_token": csrf(login)})
    assert wrong.status_code == 401 and "mock_psp_dashboard" not in wrong.headers.get("Set-Cookie", "")
    assert locked.get("/_mock/ui/payments").status_code == 303
    right = locked.post("/_mock/ui/login", data={"token": TOKEN, "csrf_token": csrf(login), "next": "/_mock/ui/api"})
    assert right.status_code == 303 and right.headers["Location"].endswith("/_mock/ui/api")
    cookie = right.headers["Set-Cookie"]
    assert cookie.startswith("mock_psp_dashboard=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert TOKEN not in cookie
    assert locked.get("/_mock/ui/payments").status_code == 200


def test_the_login_page_only_returns_to_the_dashboard(locked):
    login = locked.get("/_mock/ui/login")
    reply = locked.post("/_mock/ui/login", data={"token": TOKEN, "csrf_token": csrf(login),
                                                  "next": "https://evil.example/"})
    assert reply.status_code == 303 and reply.headers["Location"].startswith("/_mock/ui/")


def test_without_a_token_the_dashboard_needs_no_login(web):
    assert web.get("/_mock/ui/payments").status_code == 200
