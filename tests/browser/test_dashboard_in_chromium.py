"""The QA dashboard in real Chromium: find a payment made through the checkout, watch and retry
webhooks, change a success rate, move the clock. A screenshot of every page goes to test-output/."""

from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import OUTPUT
from tests.support.receiver import Receiver

pytestmark = pytest.mark.browser


class Merchant:
    """A namespace on the live provider, with a webhook endpoint to a receiver we control."""

    def __init__(self, url: str, clock: str = "system"):
        self.url = url
        self.ns = requests.post(f"{url}/_mock/namespaces", json={"clock": clock}, timeout=10).json()
        self.control = {"X-Mock-Namespace": self.ns["id"]}
        self.hs = {"api-key": self.ns["hyperswitch"]["api_key"]}
        self.receiver = Receiver().start()
        requests.post(f"{url}/_mock/webhook-endpoints", json={"url": self.receiver.url + "/hooks"},
                      headers=self.control, timeout=10).raise_for_status()

    def ui(self, page: str) -> str:
        joiner = "&" if "?" in page else "?"
        return f"{self.url}/_mock/ui/{page}{joiner}ns={self.ns['id']}"

    def payment(self, **fields) -> dict:
        body = {"amount": 2599, "currency": "USD", "description": "Dashboard test", **fields}
        reply = requests.post(f"{self.url}/hyperswitch/payments", json=body, headers=self.hs, timeout=10)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def card_payment(self, number: str) -> dict:
        return self.payment(confirm=True, payment_method="card", payment_method_data={"card": {
            "card_number": number, "card_exp_month": "12", "card_exp_year": "2035", "card_holder_name": "QA",
            "card_cvc": "123"}})

    def flush(self) -> None:
        requests.post(f"{self.url}/_mock/webhooks/flush", headers=self.control, timeout=30).raise_for_status()


@pytest.fixture
def merchant(provider_server):
    made = Merchant(provider_server.url)
    yield made
    made.receiver.stop()


@pytest.fixture
def virtual_merchant(provider_server):
    made = Merchant(provider_server.url, clock="virtual")
    yield made
    made.receiver.stop()


def shot(page, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"dashboard-{name}.png"), full_page=True)


def test_find_a_payment_made_through_the_checkout_and_see_its_story(page, merchant):
    link = merchant.payment(payment_link=True)
    page.goto(link["payment_link"]["link"])
    page.locator("[data-test-id=test-card]:text-is('4242424242424242')").first.click()
    page.click("[data-test-id=pay-button]")
    page.wait_for_url("**/redirect/response/**", wait_until="commit")
    merchant.flush()
    page.goto(merchant.ui("payments"))
    shot(page, "payments")
    page.fill("[data-test-id=search]", link["payment_id"][-10:])
    page.click("button:text('Filter')")
    rows = page.locator("[data-test-id=payment-row]")
    assert rows.count() == 1 and rows.first.get_attribute("data-status") == "captured"
    rows.first.locator("a").click()
    page.wait_for_selector("[data-test-id=transition]")
    states = page.locator("[data-test-id=transition] .status").all_inner_texts()
    assert states[0] == "created" and states[-1] == "captured"
    delivery = page.locator("[data-test-id=payment-live] [data-test-id=delivery-row]").first
    assert delivery.get_attribute("data-status") == "delivered"
    shot(page, "payment")


def test_retry_a_failed_delivery_from_the_webhooks_page(page, merchant):
    merchant.receiver.status = 500
    payment = merchant.card_payment("4242424242424242")
    merchant.flush()
    page.goto(merchant.ui("webhooks"))
    row = page.locator(f"[data-test-id=delivery-row]:has(a:text-is('{payment['payment_id']}'))")
    assert row.get_attribute("data-status") == "failed"
    row.locator("[data-test-id=attempt-count]").click()
    assert "HTTP 500" in row.locator("[data-test-id=attempt]").first.inner_text()
    shot(page, "webhooks")
    merchant.receiver.status = 200
    row.locator("[data-test-id=retry-button]").click()
    page.wait_for_selector("[data-test-id=notice]")
    row = page.locator(f"[data-test-id=delivery-row]:has(a:text-is('{payment['payment_id']}'))")
    assert row.get_attribute("data-status") == "delivered"
    assert row.locator("[data-test-id=attempt-count]").inner_text() == "2 attempts"


def test_a_changed_success_rate_decides_the_next_payment(page, merchant):
    page.goto(merchant.ui("settings"))
    page.fill("#rate_card", "lots")
    page.click("[data-test-id=save-settings]")
    assert "not a number" in page.locator("[data-test-id=field-error]").inner_text()
    shot(page, "settings-error")
    page.fill("#rate_card", "0")
    page.click("[data-test-id=save-settings]")
    page.wait_for_selector("[data-test-id=notice]")
    shot(page, "settings")
    declined = merchant.card_payment("4012888888881881")  # not a magic card: the rate decides
    assert declined["status"] == "failed"
    page.goto(merchant.ui(f"payments/{declined['payment_id']}"))
    assert page.locator("[data-test-id=payment-status]").inner_text() == "failed"


def test_advance_the_clock_and_watch_a_retry_fire(page, virtual_merchant):
    merchant = virtual_merchant
    merchant.receiver.status = 503
    payment = merchant.card_payment("4242424242424242")
    merchant.flush()
    page.goto(merchant.ui("webhooks"))
    selector = f"[data-test-id=delivery-row]:has(a:text-is('{payment['payment_id']}'))"
    assert page.locator(selector).get_attribute("data-status") == "failed"
    merchant.receiver.status = 200
    clock = page.context.new_page()  # QA moves the clock in a second tab and watches the first
    clock.goto(merchant.ui("clock"))
    clock.click("[data-test-id='advance-1m']")
    clock.wait_for_selector("[data-test-id=jobs-ran]")
    assert "webhook.deliver" in clock.locator("[data-test-id=jobs-ran]").inner_text()
    shot(clock, "clock")
    # The webhooks tab was not reloaded: its rows refresh themselves.
    page.wait_for_selector(f"{selector}[data-status=delivered]", timeout=10_000)
    assert page.locator(f"{selector} [data-test-id=attempt-count]").inner_text() == "2 attempts"


def test_the_namespace_and_api_pages(page, merchant):
    page.goto(merchant.ui("namespaces"))
    assert page.locator(f"[data-namespace-id='{merchant.ns['id']}']").count() == 1
    shot(page, "namespaces")
    page.goto(merchant.ui("api"))
    assert page.locator("[data-test-id=openapi-link]").count() == 2
    shot(page, "api")


def test_the_status_filters_narrow_the_lists_in_the_browser(page, merchant):
    merchant.receiver.status = 500
    paid = merchant.card_payment("4242424242424242")
    declined = merchant.card_payment("4000000000000002")
    merchant.flush()
    page.goto(merchant.ui("payments"))
    page.select_option("[data-test-id=status-filter]", "failed")
    page.click("button:text('Filter')")
    page.wait_for_url("**status=failed**")
    ids = page.locator("[data-test-id=payment-row] a").all_inner_texts()
    assert ids == [declined["payment_id"]]
    page.goto(merchant.ui("webhooks"))
    page.select_option("[data-test-id=delivery-status-filter]", "failed")
    page.click("button:text('Filter')")
    page.wait_for_url("**status=failed**")
    statuses = set(page.locator("[data-test-id=delivery-row]").evaluate_all("rows => rows.map(r => r.dataset.status)"))
    assert statuses == {"failed"} and paid["payment_id"] in page.locator("[data-test-id=delivery-rows]").inner_text()


def test_the_requests_page_shows_what_the_integration_sent_and_what_it_got(page, merchant):
    requests.put(f"{merchant.url}/_mock/faults", json={"api": {"next": ["error"], "error_status": 503}},
                 headers=merchant.control, timeout=10).raise_for_status()
    refused = requests.post(f"{merchant.url}/hyperswitch/payments", json={"amount": 500, "currency": "USD"},
                            headers=merchant.hs, timeout=10)
    assert refused.status_code == 503
    made = merchant.payment(description="journal test")
    page.goto(merchant.ui("requests"))
    rows = page.locator("[data-test-id=request-row]")
    assert rows.count() == 2
    assert rows.nth(1).get_attribute("data-status") == "503"
    assert rows.nth(1).locator("[data-test-id=request-fault]").inner_text() == "error"
    rows.first.locator("[data-test-id=request-details]").click()
    assert '"journal test"' in rows.first.locator("[data-test-id=request-body]").inner_text()
    assert made["payment_id"] in rows.first.locator("[data-test-id=response-body]").inner_text()
    shot(page, "requests")


def test_an_endpoint_is_disabled_then_deleted_after_a_confirmation(page, merchant):
    page.goto(merchant.ui("webhooks"))
    row = page.locator("[data-test-id=endpoint-row]")
    assert row.get_attribute("data-enabled") == "yes"
    row.locator("[data-test-id=endpoint-toggle]").click()
    page.wait_for_selector("[data-test-id=endpoint-row][data-enabled=no]")
    page.once("dialog", lambda dialog: dialog.dismiss())  # changed my mind: nothing happens
    page.locator("[data-test-id=endpoint-delete]").click()
    assert page.locator("[data-test-id=endpoint-row]").count() == 1
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("[data-test-id=endpoint-delete]").click()
    page.wait_for_selector("[data-test-id=notice]")
    assert page.locator("[data-test-id=endpoint-row]").count() == 0
    assert requests.get(f"{merchant.url}/_mock/webhook-endpoints", headers=merchant.control,
                        timeout=10).json()["data"] == []


def test_a_mandate_is_revoked_from_the_recurring_page_after_a_confirmation(page, merchant):
    card = {"card_number": "4242424242424242", "card_exp_month": "12", "card_exp_year": "2035",
            "card_holder_name": "Ann", "card_cvc": "123"}
    paid = merchant.payment(confirm=True, customer_id="cus_browser_1", setup_future_usage="off_session",
                            mandate_data={"customer_acceptance": {"acceptance_type": "offline"},
                                          "mandate_type": {"single_use": {"amount": 2599, "currency": "USD"}}},
                            payment_method="card", payment_method_data={"card": card})
    page.goto(merchant.ui("recurring"))
    row = page.locator(f"[data-mandate-id='{paid['mandate_id']}']")
    assert row.get_attribute("data-status") == "active"
    shot(page, "recurring")
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("[data-test-id=revoke-mandate]").click()
    page.wait_for_selector("[data-test-id=notice]")
    assert page.locator(f"[data-mandate-id='{paid['mandate_id']}']").get_attribute("data-status") == "revoked"
