"""Browser steps: a customer on the test shop and the provider's checkout, in Chromium."""

from __future__ import annotations

import re
import time

from .context import Run
from .context import StepFailed
from .context import step

ORDER_URL = re.compile(r"/orders/(ord-[0-9a-f]+)/return")
FINISH_SECONDS = 20


@step("open_shop")
def open_shop(run: Run, args: dict) -> dict:
    run.page.goto(run.shop_url + "/")
    return {"url": run.page.url}


@step("pay_in_browser")
def pay_in_browser(run: Run, args: dict) -> dict:
    page = run.page
    modal = args["mode"] == "modal"
    if "url" in args:  # an order the scenario made: straight to its checkout URL
        if modal:
            raise StepFailed("url goes with mode: redirect (the modal opens from the shop's page)")
        page.goto(args["url"])
    else:
        button = "[data-test-id=pay-modal-button]" if modal else "[data-test-id=pay-redirect-button]"
        if not page.url.startswith(run.shop_url + "/") or not page.locator(button).count():
            page.goto(run.shop_url + "/")  # the product page, also after a closed modal or a return page
        page.click(button)
    checkout = page.frame_locator("[data-test-id=payment-iframe]") if modal else page
    checkout.locator("[data-test-id=pay-button]").wait_for()
    if "close" in args:
        return _close(run, args["close"])
    if args.get("cancel"):
        return _cancel(run, checkout, modal)
    if args.get("method") == "upi":
        checkout.locator("[data-test-id=method-upi]").click()
        checkout.locator("[name=vpa]").fill(args.get("vpa", "success@upi"))
    elif args.get("method") == "bank":
        checkout.locator("[data-test-id=method-bank]").click()
        checkout.locator(f"[data-test-id=test-bank][value='{args.get('bank', 'TESTBANK-APPROVE')}']").check()
    else:
        _enter_card(checkout, args.get("card", run.described.client.happy_card))
    checkout.locator("[data-test-id=pay-button]").click()
    return _finish(run, checkout, args.get("three_ds"))


def _enter_card(checkout, number: str) -> None:
    listed = checkout.locator(f"[data-test-id=test-card]:text-is('{number}')")
    if listed.count():
        listed.first.click()
        return
    checkout.locator("[name=card_number]").fill(number)
    checkout.locator("[name=expiry]").fill("12/35")
    checkout.locator("[name=cvc]").fill("123")
    checkout.locator("[name=cardholder_name]").fill("Scenario Customer")


def _finish(run: Run, checkout, three_ds: str | None) -> dict:
    """Click through whatever the checkout shows next until the shop's return page (or a
    payment left processing) is reached."""
    page = run.page
    deadline = time.monotonic() + FINISH_SECONDS
    while time.monotonic() < deadline:
        if ORDER_URL.search(page.url) and page.locator("[data-test-id=order-state]").count():
            if three_ds is not None:
                raise StepFailed("the step expected a 3DS challenge but the checkout never showed one",
                                 expected=f"three_ds: {three_ds}", found=page.url)
            return _order_from_page(run)
        if _visible(checkout, '[data-test-id="3ds-complete"]'):
            if three_ds is None:
                raise StepFailed("the checkout asks for 3DS but the step says nothing about it",
                                 expected="three_ds: complete or fail")
            checkout.locator(f'[data-test-id="3ds-{three_ds}"]').click()
            three_ds = None
        elif _visible(checkout, "[data-test-id=confirm-button]"):
            checkout.locator("[data-test-id=confirm-button]").click()
        elif _visible(checkout, "[data-test-id=return-link]"):
            checkout.locator("[data-test-id=return-link]").click()
        elif _visible(checkout, "[data-test-id=payment-result][data-status=processing]"):
            return _latest_order(run)  # finishes later: the scenario moves the clock and expects
        elif _visible(checkout, "[data-test-id=error-summary]"):
            raise StepFailed("the checkout refused the details",
                             found=checkout.locator("[data-test-id=error-summary]").inner_text())
        page.wait_for_timeout(100)
    raise StepFailed(f"the payment did not reach the shop's return page within {FINISH_SECONDS} s",
                     found=page.url)


def _visible(locator_root, selector: str) -> bool:
    found = locator_root.locator(selector)
    try:
        return found.count() > 0 and found.first.is_visible()
    except Exception:  # the frame navigated while we looked
        return False


def _close(run: Run, how: str) -> dict:
    page = run.page
    if how == "escape":
        page.keyboard.press("Escape")
    else:
        page.click("[data-test-id=close-modal-button]")
    page.wait_for_selector("[data-test-id=payment-modal]", state="detached")
    return _latest_order(run)


def _cancel(run: Run, checkout, modal: bool) -> dict:
    """Press Cancel payment: on to the shop's return page, or (a Hyperswitch modal, left payable)
    the modal closes and the shop says nothing was paid."""
    page = run.page
    checkout.locator("[data-test-id=cancel-link]").click()
    deadline = time.monotonic() + FINISH_SECONDS
    while time.monotonic() < deadline:
        if ORDER_URL.search(page.url) and page.locator("[data-test-id=order-state]").count():
            return _order_from_page(run)
        if modal and _visible(page, "#closed-note"):
            return _latest_order(run)
        if _visible(checkout, "[data-test-id=return-link]"):
            checkout.locator("[data-test-id=return-link]").click()
        page.wait_for_timeout(100)
    raise StepFailed(f"after Cancel payment the shop did not show the order within {FINISH_SECONDS} s",
                     found=page.url)


def _order_from_page(run: Run) -> dict:
    order_id = ORDER_URL.search(run.page.url)[1]
    return run.merchant("GET", f"/_merchant/orders/{order_id}").json()


def _latest_order(run: Run) -> dict:
    orders = run.merchant("GET", "/_merchant/orders").json()["data"]
    if not orders:
        raise StepFailed("no order was made")
    return orders[-1]
