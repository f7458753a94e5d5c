"""How a checkout visit is bound to its browser: a first-party cookie named for its port in
redirect mode, a key in its URLs in embedded mode (no cookie reaches a cross-site iframe),
and forms that only the checkout's own pages may post."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.support.govuk_pages import CARD
from tests.support.govuk_pages import Browser

SHOP = "http://shop.test:3000"
HS_CARD = {**CARD, "card_number": "4242424242424242"}


def embed_url(hs, payment: dict) -> str:
    query = {"client_secret": payment["client_secret"], "publishable_key": hs.publishable_key,
             "mode": "embedded", "parent_origin": SHOP}
    return f"/checkout/embed?{urlencode(query)}"


@pytest.fixture
def shop_hs(hs):
    assert hs.control.put("/_mock/config", {"allowed_origins": [SHOP]}).status == 200
    return hs


def test_the_checkout_cookie_is_named_for_its_port_with_samesite_lax(gov, app):
    created = gov.create().json
    client = app.test_client()
    response = client.get(created["_links"]["next_url"]["href"].split("localhost", 1)[-1])
    cookie = response.headers.get("Set-Cookie", "")
    assert cookie.startswith("mock_psp_80="), cookie
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie


def test_an_embedded_visit_needs_no_cookie(shop_hs, app):
    payment = shop_hs.create(confirm=False).json
    browser = Browser(app.test_client(use_cookies=False))
    card_page = browser.open(embed_url(shop_hs, payment))
    assert card_page.status == 200 and 'name="card_number"' in card_page.html, card_page.html[:300]
    assert "k=" in card_page.url
    result = browser.open(card_page.url, "POST", HS_CARD)
    assert result.status == 200 and 'data-status="succeeded"' in result.html, result.html[:500]
    assert shop_hs.retrieve(payment["payment_id"]).json["status"] == "succeeded"


def test_an_embedded_visit_without_its_key_has_expired(shop_hs, app):
    payment = shop_hs.create(confirm=False).json
    card_page = Browser(app.test_client(use_cookies=False)).open(embed_url(shop_hs, payment))
    bare = card_page.url.split("?")[0]
    other = Browser(app.test_client(use_cookies=False))
    assert other.open(bare).status == 403
    assert other.open(bare + "?k=" + "0" * 32).status == 403
    assert other.open(bare, "POST", HS_CARD).status == 403
    assert shop_hs.retrieve(payment["payment_id"]).json["status"] == "requires_payment_method"


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"},
                                     {"Referer": "http://evil.example/page"}])
def test_a_checkout_form_posted_from_another_site_changes_nothing(gov, app, headers):
    created = gov.create().json
    client = app.test_client()
    browser = Browser(client)
    card_page = browser.open(created["_links"]["next_url"]["href"])
    path = card_page.url.split("localhost", 1)[-1]
    forged = client.post(path, data=CARD, headers=headers)
    assert forged.status_code == 403 and "another site" in forged.get_data(as_text=True)
    assert gov.get(created["payment_id"]).json["state"]["status"] == "started"


def test_a_checkout_form_posted_by_its_own_page_goes_through(gov, app):
    created = gov.create().json
    client = app.test_client()
    card_page = Browser(client).open(created["_links"]["next_url"]["href"])
    path = card_page.url.split("localhost", 1)[-1]
    posted = client.post(path, data=CARD, headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert posted.status_code == 303
    assert gov.get(created["payment_id"]).json["state"]["status"] == "submitted"
