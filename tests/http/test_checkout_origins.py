"""The checkout's cookie, its cookie-less embedded visits, and its forms' origin checks (issue 14)."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from tests.support.govuk_pages import CARD
from tests.support.govuk_pages import Browser

SHOP = "http://localhost:3000"
HS_CARD = {"card_number": "4242424242424242", "expiry": "12/35", "cvc": "123", "cardholder_name": "Test"}


def set_cookies(response) -> dict[str, str]:
    """name -> the whole Set-Cookie line, for each cookie the response sets."""
    found = {}
    for line in response.headers.getlist("Set-Cookie"):
        name = next(iter(SimpleCookie(line)))
        found[name] = line
    return found


def test_the_checkout_cookie_has_a_mock_psp_name_samesite_lax_and_httponly(gov, app):
    created = gov.create().json
    response = app.test_client().get(created["_links"]["next_url"]["href"].split("localhost", 1)[-1])
    cookies = set_cookies(response)
    assert "session" not in cookies
    (name, line), = cookies.items()
    assert name.startswith("mock-psp-")
    assert "SameSite=Lax" in line and "HttpOnly" in line


def test_the_dashboard_cookie_has_the_same_name_and_attributes(app):
    cookies = set_cookies(app.test_client().get("/_mock/ui/"))
    assert "session" not in cookies
    (name, line), = cookies.items()
    assert name.startswith("mock-psp-") and "SameSite=Lax" in line and "HttpOnly" in line


def test_the_cookie_is_secure_when_the_provider_is_reached_over_https(app):
    (line,) = set_cookies(app.test_client().get("/_mock/ui/", base_url="https://127.0.0.1")).values()
    assert "Secure" in line
    (line,) = set_cookies(app.test_client().get("/_mock/ui/")).values()
    assert "Secure" not in line  # plain http could never send it back


def test_two_providers_on_one_host_use_different_cookie_names():
    from mock_psp.app import create_app

    names = set()
    for port in (8420, 8520):
        other = create_app({"db": ":memory:", "background": False})
        try:
            response = other.test_client().get("/_mock/ui/", base_url=f"http://127.0.0.1:{port}")
            names |= set(set_cookies(response))
        finally:
            other.extensions["mock_psp"].close()
    assert len(names) == 2, names


def embed_url(hs, payment: dict, parent_origin: str = SHOP) -> str:
    return "/checkout/embed?" + urlencode({"client_secret": payment["client_secret"],
                                          "publishable_key": hs.publishable_key,
                                          "mode": "embedded", "parent_origin": parent_origin})


def open_embedded(hs, client, headers=None) -> tuple[str, str]:
    """Open the SDK's iframe URL like the browser's cross-site frame does; return the visit's path."""
    hs.configure(allowed_origins=[SHOP])
    payment = hs.create().json
    response = client.get(embed_url(hs, payment), headers=headers or {})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert "Set-Cookie" not in response.headers  # nothing a third-party frame would drop
    return response.headers["Location"], payment["payment_id"]


IN_FRAME = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "iframe", "Sec-Fetch-Mode": "navigate"}


def test_an_embedded_visit_works_without_any_cookie(hs, app):
    client = app.test_client(use_cookies=False)  # a cross-site iframe: Chromium sends no cookie
    visit, payment_id = open_embedded(hs, client)
    form = client.get(visit, headers={**IN_FRAME, "Sec-Fetch-Site": "cross-site", "Referer": SHOP + "/"})
    assert form.status_code == 200 and 'name="card_number"' in form.get_data(as_text=True)
    paid = client.post(visit, data=HS_CARD, headers={**IN_FRAME, "Origin": "http://localhost"})
    assert paid.status_code == 303
    result = client.get(paid.headers["Location"], headers=IN_FRAME)
    assert result.status_code == 200 and "payment.succeeded" in result.get_data(as_text=True)
    assert hs.retrieve(payment_id).json["status"] == "succeeded"


def test_an_embedded_visit_is_not_shown_as_a_top_level_page(hs, app):
    client = app.test_client(use_cookies=False)
    visit, _ = open_embedded(hs, client)
    page = client.get(visit, headers={"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate"})
    assert page.status_code == 403 and 'name="card_number"' not in page.get_data(as_text=True)


def test_an_embedded_visit_refuses_a_navigation_from_a_foreign_page(hs, app):
    client = app.test_client(use_cookies=False)
    visit, _ = open_embedded(hs, client)
    page = client.get(visit, headers={**IN_FRAME, "Sec-Fetch-Site": "cross-site", "Referer": "http://evil.example/"})
    assert page.status_code == 403 and 'name="card_number"' not in page.get_data(as_text=True)


CROSS_SITE = [
    pytest.param({"Origin": "http://evil.example"}, id="origin"),
    pytest.param({"Origin": "null"}, id="null-origin"),
    pytest.param({"Origin": "http://localhost:3000"}, id="same-host-other-port"),
    pytest.param({"Referer": "http://evil.example/attack"}, id="referer-only"),
    pytest.param({"Sec-Fetch-Site": "cross-site"}, id="sec-fetch-site-only"),
    pytest.param({"Sec-Fetch-Site": "same-site"}, id="same-site-is-not-same-origin"),
]


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_a_cross_site_post_cannot_pay_an_embedded_visit(hs, app, headers):
    client = app.test_client(use_cookies=False)
    visit, payment_id = open_embedded(hs, client)
    refused = client.post(visit, data=HS_CARD, headers=headers)
    assert refused.status_code == 403
    assert "sent from another site" in refused.get_data(as_text=True)
    assert hs.retrieve(payment_id).json["status"] == "requires_payment_method"


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_a_cross_site_post_cannot_pay_decline_or_cancel_a_redirect_visit(gov, app, headers):
    created = gov.create().json
    browser = Browser(app.test_client())  # the victim's own browser, cookie and all
    card_page = browser.open(created["_links"]["next_url"]["href"])
    for path, form in [("", CARD), ("", {**CARD, "card_number": "4000000000000002"}), ("/cancel", {})]:
        response = browser.client.post(card_page.url.split("localhost", 1)[-1] + path, data=form, headers=headers)
        assert response.status_code == 403, path
        assert "sent from another site" in response.get_data(as_text=True)
    assert gov.get(created["payment_id"]).json["state"]["status"] == "started"


def test_a_cross_site_post_cannot_answer_the_3ds_challenge_or_confirm(gov, app):
    assert gov.control.post("/_mock/outcomes", {"next": ["3ds"]}).status == 200
    created = gov.create().json
    browser = Browser(app.test_client())
    challenge = browser.submit_card(created["_links"]["next_url"]["href"])
    assert challenge.has("3ds-complete"), challenge.html[:300]
    before = gov.get(created["payment_id"]).json["state"]
    path = challenge.url.split("localhost", 1)[-1]
    response = browser.client.post(path, data={"confirm": "true"}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert gov.get(created["payment_id"]).json["state"] == before
    assert browser.open(challenge.url).has("3ds-complete")  # still waiting for the customer
    confirm_page = browser.open(challenge.url, "POST", {"confirm": "true"})  # the customer's own page still works
    assert confirm_page.has("confirm-button")
    response = browser.client.post(confirm_page.url.split("localhost", 1)[-1], data={},
                                   headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert gov.get(created["payment_id"]).json["state"]["status"] == "submitted"


@pytest.mark.parametrize("headers", [
    pytest.param({"Origin": "http://localhost"}, id="origin"),
    pytest.param({"Referer": "http://localhost/checkout/x", "Sec-Fetch-Site": "same-origin"}, id="referer"),
    pytest.param({}, id="no-browser-headers"),
])
def test_a_same_origin_post_still_pays(gov, app, headers):
    created = gov.create().json
    browser = Browser(app.test_client())
    card_page = browser.open(created["_links"]["next_url"]["href"])
    response = browser.client.post(card_page.url.split("localhost", 1)[-1], data=CARD, headers=headers)
    assert response.status_code == 303
    assert gov.get(created["payment_id"]).json["state"]["status"] == "submitted"


@pytest.mark.parametrize("referer", ["http://[oops/", "http://localhost:99999/", "http://[::1"])
def test_an_unreadable_referer_on_a_checkout_post_is_another_site_not_a_500(gov, app, referer):
    created = gov.create().json
    browser = Browser(app.test_client())
    card_page = browser.open(created["_links"]["next_url"]["href"])
    response = browser.client.post(card_page.url.split("localhost", 1)[-1], data=CARD, headers={"Referer": referer})
    assert response.status_code == 403 and "another site" in response.get_data(as_text=True)
    assert gov.get(created["payment_id"]).json["state"]["status"] == "started"
