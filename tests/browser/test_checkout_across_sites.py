"""The SDK modal when the shop and the provider are different sites, and the checkout under attack.

``localhost`` and ``127.0.0.1`` are different sites to the browser, so a provider on one
framed by a shop on the other is a cross-site iframe: Chromium gives it no cookies
(the defect of issue 14: "127.0.0.1 refused to connect"). Both arrangements are
tried, each with the outcomes QA checks: success, decline, 3DS and UPI.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask import request
from flask import session
from markupsafe import escape

from mock_psp.app import create_app
from mock_psp.runtime.server import ServerThread
from tests.browser.conftest import site_app
from tests.browser.test_checkout_in_chromium import THREE_DS
from tests.browser.test_checkout_in_chromium import Account
from tests.browser.test_checkout_in_chromium import hs_modal_options
from tests.browser.test_checkout_in_chromium import open_modal
from tests.browser.test_checkout_in_chromium import pay_with_card
from tests.browser.test_checkout_in_chromium import pay_with_upi
from tests.browser.test_checkout_in_chromium import wait_for_event

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Site:
    url: str


@dataclass(frozen=True)
class Arrangement:
    shop: Site       # the shop page's origin, as the address bar shows it
    provider: str    # the provider's origin, as the shop page loads the SDK from it


def _named(url: str, host: str) -> str:
    return url.replace("127.0.0.1", host, 1)


@pytest.fixture(scope="module", params=["shop-on-localhost", "provider-as-localhost"])
def arrangement(request, provider_server):
    """The shop on localhost framing the provider on 127.0.0.1, and the reverse."""
    if request.param == "shop-on-localhost":
        provider = provider_server.url
        server = ServerThread(site_app(provider), "127.0.0.1", 0).start()
        shop = Site(_named(server.url, "localhost"))
    else:
        provider = _named(provider_server.url, "localhost")
        server = ServerThread(site_app(provider), "127.0.0.1", 0).start()
        shop = Site(server.url)
    yield Arrangement(shop, provider)
    server.stop()


@pytest.fixture
def shop_account(provider_server, merchant_site):
    """A namespace on the provider that lets the usual test shop (on 127.0.0.1) embed it."""
    return Account(provider_server.url, [merchant_site.url])


def account_for(arrangement: Arrangement, clock: str = "system") -> Account:
    # The shop's backend talks to the provider by the same name its page uses, so GOV.UK's
    # next_url is on the origin the SDK was loaded from.
    return Account(arrangement.provider, [arrangement.shop.url], clock=clock)


def test_hyperswitch_modal_succeeds_across_sites(page, arrangement):
    account = account_for(arrangement)
    payment = account.hs_payment()
    frame = open_modal(page, arrangement.shop, **hs_modal_options(account, payment))
    pay_with_card(frame)
    result = wait_for_event(page, "success")
    assert result["paymentId"] == payment["payment_id"] and result["status"] == "succeeded"
    assert account.hs_status(payment["payment_id"]) == "succeeded"


def test_hyperswitch_modal_declines_across_sites(page, arrangement):
    account = account_for(arrangement)
    payment = account.hs_payment()
    frame = open_modal(page, arrangement.shop, **hs_modal_options(account, payment))
    pay_with_card(frame, "4000000000000002")
    assert wait_for_event(page, "failure")["status"] == "failed"
    assert account.hs_status(payment["payment_id"]) == "failed"


def test_hyperswitch_modal_3ds_across_sites(page, arrangement):
    account = account_for(arrangement)
    payment = account.hs_payment()
    frame = open_modal(page, arrangement.shop, **hs_modal_options(account, payment))
    pay_with_card(frame, THREE_DS)
    frame.locator('[data-test-id="3ds-complete"]').click()
    assert wait_for_event(page, "success")["status"] == "succeeded"
    assert account.hs_status(payment["payment_id"]) == "succeeded"


def test_hyperswitch_modal_upi_across_sites(page, arrangement):
    account = account_for(arrangement, clock="virtual")
    payment = account.hs_payment()
    frame = open_modal(page, arrangement.shop, **hs_modal_options(account, payment))
    pay_with_upi(frame)
    frame.locator("[data-test-id=payment-result][data-status=processing]").wait_for()
    account.advance(10)
    assert wait_for_event(page, "success")["status"] == "succeeded"


def test_govuk_modal_succeeds_across_sites(page, arrangement):
    account = account_for(arrangement)
    payment = account.gov_payment(f"{arrangement.shop.url}/return")
    next_url = payment["_links"]["next_url"]["href"]
    # The provider names itself by the first Host it saw (a shared server fixture: 127.0.0.1);
    # the link is the same under the name this shop uses (issue 14's "no remembered Host" part).
    next_url = arrangement.provider + next_url[len(next_url.split("/govuk/")[0]):]
    frame = open_modal(page, arrangement.shop, nextUrl=next_url)
    pay_with_card(frame, "4444333322221111")
    frame.locator("[data-test-id=confirm-button]").click()
    assert wait_for_event(page, "success")["status"] == "success"
    assert account.gov_state(payment["payment_id"])["status"] == "success"


# -- a hostile page posting the checkout's forms ---------------------------------------------


ATTACK_PAGE = """<!doctype html><html><body><h1>Win a prize</h1>
<form id="f" method="post" action="%(action)s">
  <input name="card_number" value="%(number)s"><input name="expiry" value="12/35">
  <input name="cvc" value="123"><input name="cardholder_name" value="Victim">
</form><script>document.getElementById("f").submit();</script></body></html>"""


def attacker_app() -> Flask:
    app = Flask("attacker")

    @app.get("/attack")
    def attack():
        return ATTACK_PAGE % {"action": escape(request.args["action"]), "number": escape(request.args["number"])}

    return app


@pytest.fixture(scope="module")
def attacker():
    # On 127.0.0.1 like the provider: same site, other port, so even a SameSite=Lax cookie
    # goes with its POST. Only the origin check stands in the way.
    with ServerThread(attacker_app(), "127.0.0.1", 0) as server:
        yield server


def visit_frame_url(page) -> str:
    page.frame_locator("[data-test-id=payment-iframe]").locator("[data-test-id=pay-button]").wait_for()
    return next(f.url for f in page.frames if "/checkout/cs_" in f.url)


@pytest.mark.parametrize("number, status", [("4242424242424242", "succeeded"), ("4000000000000002", "failed")])
def test_a_foreign_page_cannot_pay_or_decline_an_open_embedded_checkout(page, shop_account, merchant_site, attacker,
                                                                        number, status):
    payment = shop_account.hs_payment()
    open_modal(page, merchant_site, **hs_modal_options(shop_account, payment))
    visit = visit_frame_url(page)
    hostile = page.context.new_page()
    hostile.goto(f"{attacker.url}/attack?{urlencode({'action': visit, 'number': number})}")
    hostile.wait_for_url(f"{visit}**")  # the form went (to the visit, or on to where it redirected)
    hostile.wait_for_load_state()
    assert shop_account.hs_status(payment["payment_id"]) == "requires_payment_method"
    assert "This form was sent from another site" in hostile.content()
    pay_with_card(page.frame_locator("[data-test-id=payment-iframe]"), number)  # the customer still can
    wait_for_event(page, "success" if status == "succeeded" else "failure")
    assert shop_account.hs_status(payment["payment_id"]) == status


def test_a_foreign_page_cannot_pay_an_open_redirect_checkout(page, shop_account, merchant_site, attacker):
    payment = shop_account.gov_payment(f"{merchant_site.url}/return")
    page.goto(payment["_links"]["next_url"]["href"])
    page.locator("[data-test-id=pay-button]").wait_for()
    hostile = page.context.new_page()
    hostile.goto(f"{attacker.url}/attack?{urlencode({'action': page.url, 'number': '4444333322221111'})}")
    hostile.wait_for_url(f"{page.url}**")
    hostile.wait_for_load_state()
    assert shop_account.gov_state(payment["payment_id"])["status"] == "started"  # as it was: no card taken
    assert "This form was sent from another site" in hostile.content()


# -- two apps on one host ------------------------------------------------------------------


def plain_flask_app() -> Flask:
    """Any other Flask app a developer runs on 127.0.0.1: it sets Flask's default `session` cookie."""
    app = Flask("another_app")
    app.secret_key = "another app"

    @app.get("/")
    def home():
        session["visits"] = session.get("visits", 0) + 1
        return "<h1 id=other>Another app</h1>"

    return app


@pytest.fixture(scope="module")
def second_provider(tmp_path_factory):
    app = create_app({"db": str(tmp_path_factory.mktemp("second") / "provider.db"), "background": True})
    with ServerThread(app, "127.0.0.1", 0) as server:
        yield server
    app.extensions["mock_psp"].close()


def test_other_apps_on_the_same_host_do_not_disturb_an_open_checkout(page, shop_account, merchant_site,
                                                                      second_provider):
    payment = shop_account.gov_payment(f"{merchant_site.url}/return")
    page.goto(payment["_links"]["next_url"]["href"])
    page.locator("[data-test-id=pay-button]").wait_for()
    visit = page.url

    other = Account(second_provider.url, [merchant_site.url])  # a second mock-psp on 127.0.0.1
    other_payment = other.gov_payment(f"{merchant_site.url}/return")
    page.goto(other_payment["_links"]["next_url"]["href"])
    page.locator("[data-test-id=pay-button]").wait_for()
    with ServerThread(plain_flask_app(), "127.0.0.1", 0) as plain:
        page.goto(plain.url)
        page.locator("#other").wait_for()
        assert any(c["name"] == "session" for c in page.context.cookies(plain.url))

    page.goto(visit)  # back to the first provider's checkout: it carries on
    pay_with_card(page, "4444333322221111")
    page.click("[data-test-id=confirm-button]")
    page.wait_for_selector("#returned")
    assert shop_account.gov_state(payment["payment_id"])["status"] == "success"
