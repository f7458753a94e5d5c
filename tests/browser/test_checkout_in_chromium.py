"""The hosted checkout and the SDK modal in real Chromium, for both dialects.

The provider runs on one origin, the test shop on a second (registered), and a
foreign site on a third (not registered).
"""

from __future__ import annotations

from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import OUTPUT

pytestmark = pytest.mark.browser

THREE_DS = "4000003800000446"


class Account:
    """A namespace on the live provider, seen by the shop's backend."""

    def __init__(self, provider_url: str, allowed: list[str], clock: str = "system"):
        self.url = provider_url
        self.ns = requests.post(f"{provider_url}/_mock/namespaces", json={"clock": clock}, timeout=10).json()
        self.control = {"X-Mock-Namespace": self.ns["id"]}
        self.hs = {"api-key": self.ns["hyperswitch"]["api_key"]}
        self.gov = {"Authorization": f"Bearer {self.ns['govuk']['api_key']}"}
        requests.put(f"{provider_url}/_mock/config", json={"allowed_origins": allowed}, headers=self.control,
                     timeout=10).raise_for_status()

    def hs_payment(self, **fields) -> dict:
        body = {"amount": 1999, "currency": "USD", "description": "Blue mug", **fields}
        reply = requests.post(f"{self.url}/hyperswitch/payments", json=body, headers=self.hs, timeout=10)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def hs_status(self, payment_id: str) -> str:
        return requests.get(f"{self.url}/hyperswitch/payments/{payment_id}", headers=self.hs, timeout=10).json()["status"]

    def gov_payment(self, return_url: str, **fields) -> dict:
        body = {"amount": 1450, "reference": "PASSPORT-1", "description": "Passport fee", "return_url": return_url,
                **fields}
        reply = requests.post(f"{self.url}/govuk/v1/payments", json=body, headers=self.gov, timeout=10)
        assert reply.status_code == 201, reply.text
        return reply.json()

    def gov_state(self, payment_id: str) -> dict:
        return requests.get(f"{self.url}/govuk/v1/payments/{payment_id}", headers=self.gov, timeout=10).json()["state"]

    def advance(self, seconds: int) -> None:
        requests.post(f"{self.url}/_mock/clock/advance", json={"seconds": seconds}, headers=self.control,
                      timeout=30).raise_for_status()


@pytest.fixture
def account(provider_server, merchant_site):
    return Account(provider_server.url, [merchant_site.url])


def pay_with_card(frame_or_page, number: str = "4242424242424242") -> None:
    """Fill the checkout the way QA would: click a test card (or type one), then pay."""
    cards = frame_or_page.locator(f"[data-test-id=test-card]:text-is('{number}')")
    if cards.count():
        # The buttons fill the form by script (deferred): a click before it has run does nothing.
        field = frame_or_page.locator("[name=card_number]")
        for _ in range(10):
            cards.first.click()
            try:
                expect(field).not_to_have_value("", timeout=1000)
                break
            except AssertionError:
                continue
    else:
        frame_or_page.locator("[name=card_number]").fill(number)
        frame_or_page.locator("[name=expiry]").fill("12/35")
        frame_or_page.locator("[name=cvc]").fill("123")
        frame_or_page.locator("[name=cardholder_name]").fill("Test Cardholder")
    frame_or_page.locator("[data-test-id=pay-button]").click()


def pay_with_upi(frame_or_page, vpa: str = "success@upi") -> None:
    """Choose UPI, click a test UPI ID (it fills the form by script, deferred), then pay."""
    frame_or_page.locator("[data-test-id=method-upi]").click()
    field = frame_or_page.locator("[name=vpa]")
    for _ in range(10):
        frame_or_page.locator(f"[data-test-id=test-vpa]:text-is('{vpa}')").click()
        try:
            expect(field).to_have_value(vpa, timeout=1000)
            break
        except AssertionError:
            continue
    frame_or_page.locator("[data-test-id=pay-button]").click()


def shop_url(merchant_site, **options) -> str:
    return f"{merchant_site.url}/shop?{urlencode(options)}"


def open_modal(page, merchant_site, **options):
    page.goto(shop_url(merchant_site, **options))
    page.click("#pay")
    page.wait_for_selector("[data-test-id=payment-modal]")
    return page.frame_locator("[data-test-id=payment-iframe]")


def wait_for_event(page, kind: str) -> dict:
    page.wait_for_function(f"window.events.some(e => e.kind === '{kind}')")
    return page.evaluate(f"window.events.find(e => e.kind === '{kind}').result")


def hs_modal_options(account, payment) -> dict:
    return {"clientSecret": payment["client_secret"], "publishableKey": account.ns["hyperswitch"]["publishable_key"]}


# -- redirect mode ---------------------------------------------------------------------------


def test_hyperswitch_payment_link_pays_and_returns_signed(page, account, merchant_site):
    payment = account.hs_payment(payment_link=True, return_url=f"{merchant_site.url}/return")
    page.goto(payment["payment_link"]["link"])
    page.wait_for_selector("[data-test-id=pay-button]")
    assert page.locator("[data-test-id=payment-amount]").inner_text() == "$19.99"
    assert page.locator("[data-test-id=test-card]").count() >= 10
    pay_with_card(page)
    page.wait_for_selector("#returned")
    query = parse_qs(urlsplit(page.url).query)
    assert query["status"] == ["succeeded"] and query["payment_id"] == [payment["payment_id"]]
    assert query["signature_algorithm"] == ["HMAC-SHA512"]
    assert account.hs_status(payment["payment_id"]) == "succeeded"


def test_hyperswitch_declined_card_returns_failed(page, account, merchant_site):
    payment = account.hs_payment(payment_link=True, return_url=f"{merchant_site.url}/return")
    page.goto(payment["payment_link"]["link"])
    pay_with_card(page, "4000000000000002")
    page.wait_for_selector("#returned")
    assert parse_qs(urlsplit(page.url).query)["status"] == ["failed"]


@pytest.mark.parametrize("choice, status", [("3ds-complete", "succeeded"), ("3ds-fail", "failed")])
def test_hyperswitch_3ds_redirect_to_url(page, account, merchant_site, choice, status):
    payment = account.hs_payment(confirm=True, return_url=f"{merchant_site.url}/return", payment_method="card",
                                 payment_method_data={"card": {"card_number": THREE_DS, "card_exp_month": "12",
                                                               "card_exp_year": "2035", "card_cvc": "123"}})
    page.goto(payment["next_action"]["redirect_to_url"])
    page.click(f'[data-test-id="{choice}"]')
    page.wait_for_selector("#returned")
    assert parse_qs(urlsplit(page.url).query)["status"] == [status]


def test_govuk_next_url_card_confirm_return(page, account, merchant_site):
    payment = account.gov_payment(f"{merchant_site.url}/return?application=7")
    page.goto(payment["_links"]["next_url"]["href"])
    assert page.locator("[data-test-id=payment-amount]").inner_text() == "£14.50"
    pay_with_card(page, "4444333322221111")
    page.click("[data-test-id=confirm-button]")
    page.wait_for_selector("#returned")
    assert urlsplit(page.url).query == "application=7"  # nothing added
    assert account.gov_state(payment["payment_id"])["status"] == "success"


def test_inline_errors_and_card_formatting(page, account, merchant_site):
    payment = account.gov_payment(f"{merchant_site.url}/return")
    page.goto(payment["_links"]["next_url"]["href"])
    page.locator("[name=card_number]").fill("4242424242424241")
    page.locator("[name=card_number]").blur()
    page.locator("#card_number-error").wait_for(state="visible")
    page.locator("[name=card_number]").fill("4242424242424242")
    assert page.locator("[name=card_number]").input_value() == "4242 4242 4242 4242"
    assert page.locator("[data-test-id=card-brand]").inner_text() == "Visa"
    page.click("[data-test-id=pay-button]")  # expiry, cvc and name still missing
    for field in ("expiry", "cvc", "cardholder_name"):
        page.locator(f"#{field}-error").wait_for(state="visible")
    assert not page.locator("#card_number-error").is_visible()
    assert account.gov_state(payment["payment_id"])["status"] == "started"


def test_the_checkout_works_without_javascript(browser, account, merchant_site):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        payment = account.gov_payment(f"{merchant_site.url}/return")
        page.goto(payment["_links"]["next_url"]["href"])
        page.fill("[name=card_number]", "4444 3333 2222 1111")
        page.fill("[name=expiry]", "12/35")
        page.fill("[name=cvc]", "123")
        page.fill("[name=cardholder_name]", "No Script")
        page.click("[data-test-id=pay-button]")
        page.click("[data-test-id=confirm-button]")
        page.wait_for_selector("#returned")
        assert account.gov_state(payment["payment_id"])["status"] == "success"
    finally:
        context.close()


def test_cancel_link_in_redirect_mode(page, account, merchant_site):
    payment = account.gov_payment(f"{merchant_site.url}/return")
    page.goto(payment["_links"]["next_url"]["href"])
    page.click("[data-test-id=cancel-link]")
    assert "Your payment has been cancelled" in page.content()
    assert account.gov_state(payment["payment_id"])["code"] == "P0030"


def test_phone_sized_viewport_and_screenshots(browser, account, merchant_site):
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2)
    try:
        page = context.new_page()
        payment = account.hs_payment(payment_link=True)
        page.goto(payment["payment_link"]["link"])
        assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT / "checkout-phone.png"), full_page=True)
    finally:
        context.close()


# -- the SDK modal -----------------------------------------------------------------------------


def test_hyperswitch_modal_success_calls_on_success_and_restores_the_page(page, account, merchant_site):
    payment = account.hs_payment()
    frame = open_modal(page, merchant_site, **hs_modal_options(account, payment))
    assert page.evaluate("document.body.style.overflow") == "hidden"
    frame.locator("[data-test-id=pay-button]").wait_for()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "sdk-modal.png"))
    pay_with_card(frame)
    result = wait_for_event(page, "success")
    assert result["paymentId"] == payment["payment_id"] and result["status"] == "succeeded"
    assert page.locator("[data-test-id=payment-modal]").count() == 0
    assert page.evaluate("document.body.style.overflow") == ""
    assert account.hs_status(payment["payment_id"]) == "succeeded"  # what the backend must check


def test_hyperswitch_modal_decline_calls_on_failure(page, account, merchant_site):
    payment = account.hs_payment()
    frame = open_modal(page, merchant_site, **hs_modal_options(account, payment))
    pay_with_card(frame, "4000000000000002")
    assert wait_for_event(page, "failure")["status"] == "failed"


@pytest.mark.parametrize("choice, event, status", [("3ds-complete", "success", "succeeded"),
                                                   ("3ds-fail", "failure", "failed")])
def test_hyperswitch_modal_3ds(page, account, merchant_site, choice, event, status):
    payment = account.hs_payment()
    frame = open_modal(page, merchant_site, **hs_modal_options(account, payment))
    pay_with_card(frame, THREE_DS)
    frame.locator(f'[data-test-id="{choice}"]').click()
    assert wait_for_event(page, "action")["status"] == "requires_customer_action"
    assert wait_for_event(page, event)["status"] == status


def test_hyperswitch_modal_upi_finishes_when_the_clock_moves(page, provider_server, merchant_site):
    account = Account(provider_server.url, [merchant_site.url], clock="virtual")
    payment = account.hs_payment()
    frame = open_modal(page, merchant_site, **hs_modal_options(account, payment))
    pay_with_upi(frame)
    frame.locator("[data-test-id=payment-result][data-status=processing]").wait_for()
    account.advance(10)
    assert wait_for_event(page, "success")["status"] == "succeeded"


def test_govuk_modal_with_next_url(page, account, merchant_site):
    payment = account.gov_payment(f"{merchant_site.url}/return")
    frame = open_modal(page, merchant_site, nextUrl=payment["_links"]["next_url"]["href"])
    pay_with_card(frame, "4444333322221111")
    frame.locator("[data-test-id=confirm-button]").click()
    result = wait_for_event(page, "success")
    assert result["paymentId"] == payment["payment_id"] and result["status"] == "success"


def test_govuk_modal_decline_calls_on_failure(page, account, merchant_site):
    payment = account.gov_payment(f"{merchant_site.url}/return")
    frame = open_modal(page, merchant_site, nextUrl=payment["_links"]["next_url"]["href"])
    pay_with_card(frame, "4000000000000002")  # declined at authorisation: no confirm page
    result = wait_for_event(page, "failure")
    assert result["paymentId"] == payment["payment_id"] and result["status"] == "failed"
    assert account.gov_state(payment["payment_id"])["code"] == "P0010"


@pytest.mark.parametrize("outcome, choice, event, status", [("3ds", "3ds-complete", "success", "success"),
                                                            ("3ds_failed", "3ds-fail", "failure", "failed")])
def test_govuk_modal_3ds_from_a_scripted_outcome(page, account, merchant_site, outcome, choice, event, status):
    requests.post(f"{account.url}/_mock/outcomes", json={"next": [outcome]}, headers=account.control,
                  timeout=10).raise_for_status()
    payment = account.gov_payment(f"{merchant_site.url}/return")
    frame = open_modal(page, merchant_site, nextUrl=payment["_links"]["next_url"]["href"])
    pay_with_card(frame, "4444333322221111")
    frame.locator(f'[data-test-id="{choice}"]').click()  # the challenge comes before GOV.UK's confirm page
    if event == "success":
        frame.locator("[data-test-id=confirm-button]").click()
    assert wait_for_event(page, event)["status"] == status
    assert account.gov_state(payment["payment_id"])["status"] == status


def test_close_button_and_escape_close_the_modal(page, account, merchant_site):
    payment = account.hs_payment()
    frame = open_modal(page, merchant_site, **hs_modal_options(account, payment))
    frame.locator("[data-test-id=pay-button]").wait_for()
    page.click("[data-test-id=close-modal-button]")
    wait_for_event(page, "close")
    assert page.locator("[data-test-id=payment-modal]").count() == 0
    assert page.evaluate("document.body.style.overflow") == ""
    page.evaluate("window.events = []")
    page.click("#pay")
    page.wait_for_selector("[data-test-id=payment-modal]")
    page.locator("[data-test-id=close-modal-button]").focus()
    page.keyboard.press("Escape")
    wait_for_event(page, "close")
    page.evaluate("window.events = []")
    page.click("#pay")
    inside = page.frame_locator("[data-test-id=payment-iframe]").locator("[name=card_number]")
    inside.click()
    page.keyboard.press("Escape")  # pressed inside the checkout's frame
    wait_for_event(page, "close")
    assert account.hs_status(payment["payment_id"]) == "requires_payment_method"


def test_opening_twice_shows_one_modal(page, account, merchant_site):
    payment = account.hs_payment()
    page.goto(shop_url(merchant_site, **hs_modal_options(account, payment)))
    page.click("#pay-twice")
    page.wait_for_selector("[data-test-id=payment-modal]")
    assert page.locator("[data-test-id=payment-modal]").count() == 1


def test_forged_messages_are_ignored(page, account, merchant_site, foreign_site):
    payment = account.hs_payment()
    frame = open_modal(page, merchant_site, **hs_modal_options(account, payment))
    frame.locator("[data-test-id=pay-button]").wait_for()
    page.evaluate("document.getElementById('forge').click()")  # from the page itself
    page.evaluate(f"window.addForeignFrame('{foreign_site.url}/forger')")  # from a foreign-origin frame
    page.frame_locator("#foreign").locator("body").wait_for()
    page.wait_for_timeout(300)  # give the forged messages time to arrive (they must not count)
    assert page.evaluate("window.events") == []
    assert page.locator("[data-test-id=payment-modal]").count() == 1
    pay_with_card(frame)  # the real checkout still reports
    assert wait_for_event(page, "success")["paymentId"] == payment["payment_id"]


def test_an_unregistered_origin_cannot_embed_the_checkout(page, account, foreign_site):
    payment = account.hs_payment()
    frame = open_modal(page, foreign_site, **hs_modal_options(account, payment))
    frame.locator("[data-test-id=embedding-refused]").wait_for()
    assert frame.locator("[data-test-id=pay-button]").count() == 0


def test_frame_ancestors_stop_a_foreign_page_that_claims_a_registered_origin(page, account, merchant_site,
                                                                            foreign_site):
    payment = account.hs_payment()
    src = (f"{account.url}/checkout/embed?" + urlencode({
        "client_secret": payment["client_secret"], "publishable_key": account.ns["hyperswitch"]["publishable_key"],
        "mode": "embedded", "parent_origin": merchant_site.url}))
    page.goto(f"{foreign_site.url}/framer?{urlencode({'src': src})}")
    page.wait_for_timeout(1000)
    framed = page.frame_locator("#framed")
    assert framed.locator("[data-test-id=pay-button]").count() == 0


def test_the_sdk_works_as_an_es_module(page, account, merchant_site):
    payment = account.hs_payment()
    options = {"key": account.ns["hyperswitch"]["publishable_key"], "orderId": payment["client_secret"]}
    page.goto(f"{merchant_site.url}/module-shop?{urlencode(options)}")
    page.wait_for_function("window.moduleReady === true")
    assert page.evaluate("window.origin_seen") == account.url
    page.click("#pay")
    page.frame_locator("[data-test-id=payment-iframe]").locator("[data-test-id=pay-button]").wait_for()
