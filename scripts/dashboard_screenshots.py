"""Screenshots of every dashboard page, for docs/dashboard.md.

Starts the harness (provider + Hyperswitch test merchant) on free ports, makes a small
shop's worth of activity on a virtual clock with webhook faults switched on, and
photographs each page in Chromium. Deterministic under the seed, except for the times
shown (the virtual clock starts at the real time).

Usage:  .venv/bin/python scripts/dashboard_screenshots.py [--out docs/images]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import requests

from mock_psp.harness import start_harness
from mock_psp.scenarios.browser import LazyBrowser

SEED = 20261122
CARDS = ["4242424242424242"] * 5 + ["4000000000000002", "4242424242424242", "4000000000009995"]


def make_activity(psp: str, shop: str) -> tuple[str, str]:
    """Orders paid, declined and refunded through the test merchant, a few minutes apart on the
    namespace clock; returns the namespace id and the id of a partly refunded payment."""
    namespace = requests.get(f"{shop}/_merchant/config", timeout=10).json()["namespace"]
    control = {"X-Mock-Namespace": namespace}
    key = {"api-key": requests.get(f"{psp}/_mock/namespaces/{namespace}", timeout=10).json()["hyperswitch"]["api_key"]}
    requests.patch(f"{psp}/_mock/config", json={"clock": "virtual", "seed": SEED}, headers=control,
                   timeout=10).raise_for_status()
    requests.put(f"{psp}/_mock/faults", json={"webhooks": {"drop": 0.3, "duplicate": 0.15}}, headers=control,
                 timeout=10).raise_for_status()
    orders = []
    for index, (number, amount) in enumerate(zip(CARDS, (2599, 1250, 4999, 899, 15000, 3200, 750, 6400), strict=True)):
        if index == 3:  # this order's create answer is lost; the shop retries with the same payment id
            requests.patch(f"{psp}/_mock/faults", json={"api": {"next": ["lost_response"]}}, headers=control,
                           timeout=10).raise_for_status()
        reply = requests.post(f"{shop}/_merchant/orders", json={
            "amount": amount, "currency": "USD", "description": "Mug", "card": number}, timeout=10)
        reply.raise_for_status()
        orders.append(reply.json())
        advance(psp, control, 97)
    # A subscriber: a first payment that asks for a mandate, and one payment made with it.
    card = {"card_number": "4242424242424242", "card_exp_month": "12", "card_exp_year": "2035",
            "card_holder_name": "Ann Lee", "card_cvc": "123"}
    first = requests.post(f"{psp}/hyperswitch/payments", headers=key, timeout=10, json={
        "amount": 1500, "currency": "USD", "confirm": True, "customer_id": "cus_subscriber",
        "setup_future_usage": "off_session", "payment_method": "card", "payment_method_data": {"card": card},
        "mandate_data": {"customer_acceptance": {"acceptance_type": "offline"},
                         "mandate_type": {"multi_use": {"amount": 6000, "currency": "USD"}}}}).json()
    requests.post(f"{psp}/hyperswitch/payments", headers=key, timeout=10, json={
        "amount": 1500, "currency": "USD", "confirm": True, "off_session": True, "customer_id": "cus_subscriber",
        "recurring_details": {"type": "mandate_id", "data": first["mandate_id"]}}).raise_for_status()
    # The refunds' first webhook attempts fail: the clock page's "+5m" sends their retries.
    requests.patch(f"{psp}/_mock/faults", json={"webhooks": {"next": ["drop", "drop"]}}, headers=control,
                   timeout=10).raise_for_status()
    for order, amount in ((orders[0], 1000), (orders[2], None)):
        body = {"amount": amount} if amount else {}
        requests.post(f"{shop}/_merchant/orders/{order['id']}/refunds", json=body, timeout=10).raise_for_status()
    return namespace, requests.get(f"{shop}/_merchant/orders/{orders[0]['id']}", timeout=10).json()["payment_id"]


def advance(psp: str, control: dict, seconds: float) -> None:
    requests.post(f"{psp}/_mock/clock/advance", json={"seconds": seconds}, headers=control,
                  timeout=30).raise_for_status()


def photograph(psp: str, namespace: str, refunded_payment: str, out: Path) -> None:
    browser = LazyBrowser()
    page = browser.new_page(width=1200, height=800)

    def ui(path: str) -> str:
        joiner = "&" if "?" in path else "?"
        return f"{psp}/_mock/ui/{path}{joiner}ns={namespace}"

    def shot(name: str) -> None:
        page.screenshot(path=str(out / f"dashboard-{name}.png"), full_page=True)
        print(f"wrote {out / f'dashboard-{name}.png'}")

    try:
        page.goto(ui("clock"))
        page.click("[data-test-id='advance-5m']")
        page.wait_for_selector("text=Jobs that fell due")
        shot("clock")
        page.goto(ui("payments"))
        shot("payments")
        page.goto(ui(f"payments/{refunded_payment}"))
        page.locator("[data-test-id=attempt-count]").last.click()  # open the attempts of the retried delivery
        shot("payment")
        page.goto(ui("webhooks"))
        shot("webhooks")
        page.goto(ui("requests?status=400"))  # the shop's retried create: HE_01, "already have it"
        if page.locator("[data-test-id=request-row]").count() == 0:
            page.goto(ui("requests"))
        page.locator("[data-test-id=request-details]").first.click()
        shot("requests")
        page.goto(ui("recurring"))
        shot("recurring")
        page.goto(ui("settings"))
        page.fill("input[name=rate_card]", "1.5")
        page.click("button:text('Save settings')")
        page.wait_for_selector(".error-message")
        shot("settings")
        page.goto(ui("api"))
        shot("api")
        page.goto(ui("namespaces"))
        shot("namespaces")
    finally:
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"), help="where the PNGs go")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    harness = start_harness({"db": ":memory:", "port": 0}, dialect="hyperswitch")
    try:
        namespace, refunded_payment = make_activity(harness.psp_url, harness.shop_url)
        photograph(harness.psp_url, namespace, refunded_payment, args.out)
    finally:
        harness.stop()


if __name__ == "__main__":
    main()
