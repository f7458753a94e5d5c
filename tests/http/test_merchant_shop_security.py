"""The test merchant against a hostile browser page (issue 14): its JSON API needs the JSON
content type and refuses cross-site writes and preflights, its HTML forms carry a CSRF
token, and it answers only allow-listed Host names.

No provider runs here: every refusal comes before the shop would call one, and the shop's
answers to well-formed requests for unknown orders show that the request got through.
"""

from __future__ import annotations

import re

import pytest

from mock_psp.test_merchant.app import create_app

EVIL = "http://evil.example"


@pytest.fixture
def shop():
    app = create_app({"dialect": "hyperswitch", "psp_url": "http://127.0.0.1:9", "db": ":memory:"})
    yield app.test_client()
    app.extensions["test_merchant"].store.close()


def form_token(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]


# -- the JSON API --------------------------------------------------------------------------------------


def test_a_text_plain_order_is_refused_with_415(shop):
    reply = shop.post("/_merchant/orders", data='{"amount": 100, "currency": "USD"}',
                      headers={"Content-Type": "text/plain"})
    assert reply.status_code == 415
    error = reply.get_json()["error"]
    assert error["code"] == "unsupported_media_type" and "application/json" in error["message"]
    assert shop.get("/_merchant/orders").get_json()["data"] == []


def test_a_text_plain_refund_is_refused_with_415(shop):
    reply = shop.post("/_merchant/orders/ord_1/refunds", data='{"amount": 100}',
                      headers={"Content-Type": "text/plain", "Origin": EVIL})
    assert reply.status_code in (403, 415)


def test_a_cross_site_page_cannot_reset_the_shop(shop):
    reply = shop.post("/_merchant/reset", headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
    assert reply.status_code == 403 and reply.get_json()["error"]["code"] == "cross_site_request"


def test_a_script_without_an_origin_may_still_reset_the_shop(shop):
    assert shop.post("/_merchant/reset").status_code == 200


def test_a_preflight_to_the_json_api_is_refused(shop):
    reply = shop.options("/_merchant/orders", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST",
                                                       "Access-Control-Request-Headers": "content-type"})
    assert reply.status_code == 403 and "Access-Control-Allow-Origin" not in reply.headers


def test_webhooks_from_the_provider_need_no_browser_headers(shop):
    # The provider posts webhooks server to server; the receiver judges them by signature.
    reply = shop.post("/webhooks/hyperswitch", data=b"{}", headers={"Content-Type": "text/plain"})
    assert reply.status_code != 415 and reply.status_code != 403


# -- the shop's forms ----------------------------------------------------------------------------------


def test_a_refund_form_posted_without_its_token_is_refused_with_a_clear_page(shop):
    reply = shop.post("/orders/ord_1/refund", data={"amount": "2.50"})
    assert reply.status_code == 403
    assert reply.mimetype == "text/html" and "token" in reply.get_data(as_text=True).lower()


def test_an_order_form_posted_from_another_site_is_refused(shop):
    page = shop.get("/")
    reply = shop.post("/buy", data={"mode": "redirect", "token": "t1", "csrf_token": "forged"},
                      headers={"Origin": EVIL})
    assert page.status_code == 200 and reply.status_code == 403


def test_a_form_with_the_token_of_a_page_just_loaded_gets_through(shop):
    page = shop.get("/")
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("mock_psp_shop_csrf=") and "SameSite=Lax" in cookie and "HttpOnly" in cookie
    reply = shop.post("/orders/ord_missing/refund", data={"amount": "1", "csrf_token": form_token(page)})
    assert reply.status_code == 303  # through the check: the shop says the order is unknown
    assert "problem=" in reply.headers["Location"]


def test_every_shop_form_carries_the_token(shop):
    assert 'name="csrf_token"' in shop.get("/").get_data(as_text=True)


# -- the Host allow-list -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/_merchant/config"])
def test_an_unknown_host_is_refused_with_a_json_error(shop, path):
    reply = shop.get(path, headers={"Host": "evil.example:8421"})
    assert reply.status_code == 421
    error = reply.get_json()["error"]
    assert error["code"] == "host_not_allowed" and "--allowed-host" in error["message"]


def test_the_loopback_names_and_configured_ones_are_answered():
    app = create_app({"dialect": "govuk", "db": ":memory:", "allowed_hosts": ["shop.test"]})
    client = app.test_client()
    try:
        for host in ("localhost:8421", "127.0.0.1", "[::1]:8421", "shop.test:3000"):
            assert client.get("/_merchant/config", headers={"Host": host}).status_code == 200, host
    finally:
        app.extensions["test_merchant"].store.close()
