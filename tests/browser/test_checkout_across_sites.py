"""The SDK modal when the shop and the provider are different sites, as a developer's shop on
``localhost`` (or ``shop.test``) and a provider on ``127.0.0.1`` are.

Chromium sends no SameSite=Lax cookie to a cross-site iframe (and on plain http no other
kind is allowed), so the embedded checkout must work without one. Both directions: the shop
on localhost with the provider on 127.0.0.1, and the reverse.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask import session

from mock_psp.app import create_app
from mock_psp.runtime.server import ServerThread
from tests.browser.conftest import site_app
from tests.browser.test_checkout_in_chromium import THREE_DS
from tests.browser.test_checkout_in_chromium import Account
from tests.browser.test_checkout_in_chromium import hs_modal_options
from tests.browser.test_checkout_in_chromium import open_modal
from tests.browser.test_checkout_in_chromium import pay_with_card
from tests.browser.test_checkout_in_chromium import wait_for_event

pytestmark = pytest.mark.browser


class Site:
    """A server on 127.0.0.1, reached by the browser under a chosen host name."""

    def __init__(self, server: ServerThread, host: str):
        self.server, self.url = server, f"http://{host}:{server.port}"


@pytest.fixture(scope="module", params=[("localhost", "127.0.0.1"), ("127.0.0.1", "localhost")],
                ids=["shop-on-localhost", "provider-on-localhost"])
def sites(request, provider_server):
    shop_host, provider_host = request.param
    provider_url = f"http://{provider_host}:{provider_server.port}"
    server = ServerThread(site_app(provider_url), "127.0.0.1", 0).start()
    yield Site(server, shop_host), provider_url
    server.stop()


@pytest.fixture
def shop(sites):
    return sites[0]


@pytest.fixture
def provider_url(sites):
    return sites[1]


def account_for(provider_url, shop, clock: str = "system") -> Account:
    """The shop's backend calls the provider by the name the shop's page uses for it."""
    return Account(provider_url, [shop.url], clock=clock)


def test_cross_site_modal_card_success(page, provider_url, shop):
    account = account_for(provider_url, shop)
    payment = account.hs_payment()
    frame = open_modal(page, shop, **hs_modal_options(account, payment))
    pay_with_card(frame)
    assert wait_for_event(page, "success")["status"] == "succeeded"
    assert account.hs_status(payment["payment_id"]) == "succeeded"


def test_cross_site_modal_decline(page, provider_url, shop):
    account = account_for(provider_url, shop)
    payment = account.hs_payment()
    frame = open_modal(page, shop, **hs_modal_options(account, payment))
    pay_with_card(frame, "4000000000000002")
    assert wait_for_event(page, "failure")["status"] == "failed"
    assert account.hs_status(payment["payment_id"]) == "failed"


def test_cross_site_modal_3ds_challenge(page, provider_url, shop):
    account = account_for(provider_url, shop)
    payment = account.hs_payment()
    frame = open_modal(page, shop, **hs_modal_options(account, payment))
    pay_with_card(frame, THREE_DS)
    frame.locator('[data-test-id="3ds-complete"]').click()
    assert wait_for_event(page, "success")["status"] == "succeeded"


def test_cross_site_modal_upi_finishes_when_the_clock_moves(page, provider_url, shop):
    account = account_for(provider_url, shop, clock="virtual")
    payment = account.hs_payment()
    frame = open_modal(page, shop, **hs_modal_options(account, payment))
    frame.locator("[data-test-id=method-upi]").click()
    frame.locator("[data-test-id=test-vpa]:text-is('success@upi')").click()
    frame.locator("[data-test-id=pay-button]").click()
    frame.locator("[data-test-id=payment-result][data-status=processing]").wait_for()
    account.advance(10)
    assert wait_for_event(page, "success")["status"] == "succeeded"


def test_cross_site_govuk_modal(page, provider_url, shop):
    account = account_for(provider_url, shop)
    payment = account.gov_payment(f"{shop.url}/return")
    frame = open_modal(page, shop, nextUrl=payment["_links"]["next_url"]["href"])
    pay_with_card(frame, "4444333322221111")
    frame.locator("[data-test-id=confirm-button]").click()
    assert wait_for_event(page, "success")["status"] == "success"


@pytest.fixture(scope="module")
def second_provider(tmp_path_factory):
    app = create_app({"db": str(tmp_path_factory.mktemp("second") / "provider.db")})
    server = ServerThread(app, "127.0.0.1", 0).start()
    yield server
    server.stop()
    app.extensions["mock_psp"].close()


@pytest.fixture(scope="module")
def another_flask_app():
    app = Flask("another_app")
    app.secret_key = "another app's secret"

    @app.get("/")
    def remember():
        session["visited"] = True
        return "another app"

    server = ServerThread(app, "127.0.0.1", 0).start()
    yield server
    server.stop()


def test_two_apps_on_one_host_do_not_end_each_others_checkouts(page, provider_server, second_provider,
                                                                another_flask_app):
    """Browsers share cookies across the ports of one host."""
    first = Account(provider_server.url, [])
    second = Account(second_provider.url, [])
    payment = first.gov_payment("https://service.example/return")
    page.goto(payment["_links"]["next_url"]["href"])
    page.locator("[name=card_number]").wait_for()
    checkout_url = page.url
    other = second.gov_payment("https://service.example/return")
    page.goto(other["_links"]["next_url"]["href"])
    page.locator("[name=card_number]").wait_for()
    page.goto(another_flask_app.url)
    page.goto(checkout_url)
    pay_with_card(page, "4444333322221111")
    page.locator("[data-test-id=confirm-button]").wait_for()
    assert first.gov_state(payment["payment_id"])["status"] == "submitted"
