"""The test merchant's shop in real Chromium: both pay buttons, both dialects, then a refund."""

from __future__ import annotations

import pytest

from mock_psp.test_merchant.run import start
from tests.browser.conftest import OUTPUT

pytestmark = pytest.mark.browser

CARDS = {"hyperswitch": "4242424242424242", "govuk": "4444333322221111"}


@pytest.fixture(params=["hyperswitch", "govuk"])
def shop(request, provider_server, tmp_path):
    running = start(provider_server.url, request.param, db=str(tmp_path / "shop.db"))
    yield running
    running.stop()


def pay_on_checkout(frame, dialect: str) -> None:
    frame.locator(f"[data-test-id=test-card]:text-is('{CARDS[dialect]}')").first.click()
    frame.locator("[data-test-id=pay-button]").click()
    if dialect == "govuk":
        frame.locator("[data-test-id=confirm-button]").click()


def test_pay_in_a_window_then_refund_from_the_orders_page(page, shop):
    dialect = shop.merchant.wiring.dialect
    page.goto(shop.url + "/")
    page.click("[data-test-id=pay-modal-button]")
    page.wait_for_selector("[data-test-id=payment-modal]")
    frame = page.frame_locator("[data-test-id=payment-iframe]")
    pay_on_checkout(frame, dialect)
    page.wait_for_selector("[data-test-id=order-state][data-state=paid]")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"merchant-return-{dialect}.png"))
    page.click("[data-test-id=orders-link]")
    page.fill("input[name=amount]", "1.00")
    page.click("[data-test-id=refund-button]")
    page.wait_for_selector("text=Refund of")
    page.screenshot(path=str(OUTPUT / f"merchant-orders-{dialect}.png"))
    [order] = shop.merchant.orders()
    assert order["refunds"][0]["amount"] == 100


def test_pay_on_the_providers_page_and_come_back(page, shop):
    dialect = shop.merchant.wiring.dialect
    page.goto(shop.url + "/")
    page.click("[data-test-id=pay-redirect-button]")
    page.wait_for_selector("[data-test-id=pay-button]")
    pay_on_checkout(page, dialect)
    page.wait_for_selector("[data-test-id=order-state][data-state=paid]")
    assert page.url.startswith(shop.url + "/orders/")
    if dialect == "hyperswitch":
        assert page.locator("[data-test-id=return-signature]").get_attribute("data-valid") == "true"


def test_closing_the_window_leaves_the_order_payable(page, shop):
    page.goto(shop.url + "/")
    page.click("[data-test-id=pay-modal-button]")
    page.wait_for_selector("[data-test-id=payment-modal]")
    page.frame_locator("[data-test-id=payment-iframe]").locator("[data-test-id=pay-button]").wait_for()
    page.click("[data-test-id=close-modal-button]")
    page.wait_for_selector("#closed-note", state="visible")
    page.click("[data-test-id=open-checkout]")
    page.wait_for_selector("[data-test-id=payment-modal]")
