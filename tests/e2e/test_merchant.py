"""The test merchant against a live provider: set-up, orders, refunds, reconciliation, pages, CLI."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from urllib.parse import urljoin

import pytest
import requests

from tests.support.merchant import Shop

pytestmark = pytest.mark.e2e

DECLINED = "4000000000000002"
THREE_DS = "4000003800000446"


def hs_api(shop: Shop, method: str, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(method, f"{shop.psp}/hyperswitch{path}", json=body, timeout=10,
                            headers={"api-key": shop.namespace["hyperswitch"]["api_key"]})


# -- set-up ----------------------------------------------------------------------------------------


def test_the_merchant_registers_its_webhook_endpoint_and_origin_with_its_namespace(hs_shop):
    config = hs_shop.get("/_merchant/config")
    assert config["dialect"] == "hyperswitch" and config["namespace"].startswith("ns_")
    [endpoint] = hs_shop.psp_call("GET", "/_mock/webhook-endpoints")["data"]
    assert endpoint["url"] == f"{hs_shop.url}/webhooks/hyperswitch" and endpoint["scheme"] == "hyperswitch"
    assert hs_shop.psp_call("GET", "/_mock/config")["allowed_origins"] == [hs_shop.url]


def test_a_restarted_merchant_keeps_its_namespace_and_endpoint(live_provider, tmp_path):
    from mock_psp.test_merchant.run import start

    db = str(tmp_path / "shop.db")
    first = start(live_provider.url, "hyperswitch", db=db)
    namespace, endpoint = first.merchant.wiring.namespace, first.merchant.wiring.endpoint_id
    order = requests.post(f"{first.url}/_merchant/orders", json={"amount": 500, "currency": "USD"}, timeout=10).json()
    port = first.server.port
    first.stop()
    second = start(live_provider.url, "hyperswitch", db=db, port=port)
    try:
        assert (second.merchant.wiring.namespace, second.merchant.wiring.endpoint_id) == (namespace, endpoint)
        assert requests.get(f"{second.url}/_merchant/orders/{order['id']}", timeout=10).json()["amount"] == 500
    finally:
        second.stop()


def test_a_merchant_can_join_an_existing_namespace(live_provider, tmp_path):
    from mock_psp.test_merchant.run import start

    namespace = requests.post(f"{live_provider.url}/_mock/namespaces", json={}, timeout=10).json()["id"]
    running = start(live_provider.url, "govuk", db=str(tmp_path / "g.db"), namespace=namespace)
    try:
        assert Shop(running).namespace_id == namespace
    finally:
        running.stop()


def test_an_unknown_namespace_is_a_clear_error(live_provider):
    from mock_psp.test_merchant.provision import ProvisionError
    from mock_psp.test_merchant.run import start

    with pytest.raises(ProvisionError, match="no namespace ns_nope"):
        start(live_provider.url, "hyperswitch", namespace="ns_nope")


# -- orders ----------------------------------------------------------------------------------------


def test_an_order_paid_by_card_is_paid_with_its_history(hs_shop):
    order = hs_shop.buy(1999)
    assert order["state"] == "paid" and order["paid_amount"] == 1999 and order["payment_id"] == order["id"]
    assert [(t["from"], t["to"]) for t in order["transitions"]] == [(None, "pending"), ("pending", "paid")]
    assert order["transitions"][1]["cause"] == "create payment: provider says succeeded"


def test_a_declined_card_fails_the_order_with_the_reason(hs_shop):
    order = hs_shop.buy(card=DECLINED)
    assert order["state"] == "failed" and "declined" in order["failure"].lower()


def test_a_3ds_card_leaves_the_order_pending_with_the_challenge_url(hs_shop):
    order = hs_shop.buy(card=THREE_DS)
    assert order["state"] == "pending" and "/payments/redirect/" in order["checkout"]["redirect_url"]


def test_an_order_without_a_card_waits_for_the_customer(hs_shop):
    order = hs_shop.buy(card=None)
    assert order["state"] == "pending"
    assert order["checkout"]["client_secret"].startswith(order["payment_id"] + "_secret_")
    assert "/payment_link/" in order["checkout"]["redirect_url"]


def test_a_retried_order_request_charges_once(hs_shop):
    first = hs_shop.post("/_merchant/orders", {"amount": 700, "currency": "USD", "card": "4242424242424242"},
                         headers={"Idempotency-Key": "basket-42"}, expect=201)
    again = hs_shop.post("/_merchant/orders", {"amount": 700, "currency": "USD", "card": "4242424242424242"},
                         headers={"Idempotency-Key": "basket-42"}, expect=200)
    assert again["id"] == first["id"]
    payments = hs_api(hs_shop, "GET", "/payments/list?limit=100").json()
    assert payments["size"] == 1


def test_a_lost_create_answer_is_retried_without_a_second_charge(hs_shop):
    """The payment exists at the provider but the shop never heard: creating it again is safe."""
    merchant = hs_shop.running.merchant
    order = hs_shop.buy(card=None)
    again = merchant.client.create_payment({"id": order["id"], "amount": 1000, "currency": "USD", "description": "x"},
                                           "http://127.0.0.1/", None)
    assert again[0].payment_id == order["payment_id"]
    assert hs_api(hs_shop, "GET", "/payments/list?limit=100").json()["size"] == 1


def test_a_webhook_waits_while_an_order_has_no_payment_id_and_reconciliation_releases_it(hs_shop):
    """Webhooks can come before the create call answers (or when its answer is lost): an event for
    an unknown payment waits while one of our orders has no payment id, instead of being dropped."""
    merchant = hs_shop.running.merchant
    from mock_psp.test_merchant import orders as o

    with merchant.store.write() as db:
        lost, _ = o.create_order(db, dialect="hyperswitch", amount=100, currency="USD", description="x",
                                 idempotency_key=None, now=merchant.now())
    # The provider got the create (and confirms it), but the shop never heard the answer.
    created = hs_api(hs_shop, "POST", "/payments", {
        "payment_id": lost["id"], "amount": 100, "currency": "USD", "confirm": True, "payment_method": "card",
        "payment_method_data": {"card": {"card_number": "4242424242424242", "card_exp_month": "12",
                                         "card_exp_year": "2035", "card_holder_name": "Ann", "card_cvc": "123"}}})
    created.raise_for_status()
    hs_shop.settle()
    [entry] = hs_shop.log()
    assert entry["result"] == "pending" and hs_shop.order(lost["id"])["state"] == "pending"
    hs_shop.reconcile()
    assert hs_shop.order(lost["id"])["state"] == "paid"
    [entry] = hs_shop.log()
    assert entry["result"] == "ok", entry


def test_a_moto_authorisation_still_under_way_keeps_the_payment_and_its_webhook_pays_the_order(gov_shop):
    gov_shop.virtual_clock()
    gov_shop.psp_call("PUT", "/_mock/config", {"delays": {"authorize": 30}})
    order = gov_shop.buy(1450, card="4444333322221111")  # POST /v1/auth answers 500 P0050: outcome unknown
    assert order["state"] == "pending" and order["payment_id"]
    assert gov_shop.provider_payment(order["payment_id"])["state"]["status"] == "submitted"
    gov_shop.advance(30)
    gov_shop.settle()
    assert gov_shop.order(order["id"])["state"] == "paid"


@pytest.mark.parametrize("body, code", [
    ({"amount": -1, "currency": "USD"}, "invalid_amount"),
    ({"amount": "10", "currency": "USD"}, "invalid_amount"),
    ({"amount": 10, "currency": "usd"}, "invalid_currency"),
    ({"amount": 10}, "missing_field"),
    ({"amount": 10, "currency": "USD", "colour": "red"}, "unknown_field"),
    ({"amount": 10, "currency": "USD", "card": {"number": "4242", "pin": "1"}}, "invalid_card"),
    ({"amount": 10, "currency": "USD", "card": 4242}, "invalid_card"),
])
def test_bad_order_requests_get_a_clear_error(hs_shop, body, code):
    reply = requests.post(f"{hs_shop.url}/_merchant/orders", json=body, timeout=10)
    assert reply.status_code == 400 and reply.json()["error"]["code"] == code


def test_bad_json_and_unknown_paths_answer_json(hs_shop):
    reply = requests.post(f"{hs_shop.url}/_merchant/orders", data=b"{nope", timeout=10,
                          headers={"Content-Type": "application/json"})
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "bad_request"
    assert requests.get(f"{hs_shop.url}/_merchant/nothing", timeout=10).json()["error"]["code"] == "not_found"
    assert requests.get(f"{hs_shop.url}/_merchant/orders/ord-none", timeout=10).status_code == 404
    wrong_method = requests.delete(f"{hs_shop.url}/_merchant/orders", timeout=10)
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert requests.get(f"{hs_shop.url}/_merchant/orders?state=lost", timeout=10).json()["error"]["code"] == \
        "invalid_state"


def test_orders_filter_by_state(hs_shop):
    paid, failed = hs_shop.buy(), hs_shop.buy(card=DECLINED)
    assert [o["id"] for o in hs_shop.get("/_merchant/orders", state="paid")["data"]] == [paid["id"]]
    assert [o["id"] for o in hs_shop.get("/_merchant/orders", state="failed")["data"]] == [failed["id"]]


# -- refunds ---------------------------------------------------------------------------------------


def test_a_refund_is_pending_until_the_providers_webhook_finalises_it(hs_shop):
    hs_shop.virtual_clock()
    hs_shop.psp_call("PUT", "/_mock/config", {"delays": {"refund": 30}})
    order = hs_shop.buy(1000)
    hs_shop.settle()
    refunded = hs_shop.refund(order["id"], 400)
    assert refunded["state"] == "refund_pending" and refunded["refunds"][0]["state"] == "pending"
    hs_shop.advance(30)
    order = hs_shop.order(order["id"])
    assert order["state"] == "partially_refunded" and order["refunded_amount"] == 400
    assert "webhook refund_succeeded" in order["transitions"][-1]["cause"]
    hs_shop.refund(order["id"])  # the rest
    hs_shop.advance(30)
    assert hs_shop.order(order["id"])["state"] == "refunded"


def test_a_refund_over_what_is_left_is_refused_before_calling_the_provider(hs_shop):
    order = hs_shop.buy(1000)
    hs_shop.refund(order["id"], 600)
    reply = requests.post(f"{hs_shop.url}/_merchant/orders/{order['id']}/refunds", json={"amount": 401}, timeout=10)
    assert reply.status_code == 409 and reply.json()["error"]["code"] == "refund_exceeds_available"
    assert len(hs_shop.provider_refunds(order["payment_id"])) == 1


def test_a_refund_the_provider_refuses_rolls_the_order_back_for_a_retry(hs_shop):
    order = hs_shop.buy(1000)
    hs_shop.settle()
    hs_shop.psp_call("PUT", "/_mock/faults", {"webhooks": {"next": ["drop_lost"]}})
    # Someone refunds 800 at the provider's dashboard; the shop never hears of it.
    hs_api(hs_shop, "POST", "/refunds", {"payment_id": order["payment_id"], "amount": 800}).raise_for_status()
    hs_shop.settle()
    after = hs_shop.refund(order["id"], 500)
    assert after["state"] == "paid" and after["refunds"][0]["state"] == "failed"
    assert "IR_13" in after["refunds"][0]["error"]
    assert [(t["from"], t["to"]) for t in after["transitions"][-2:]] == [("paid", "refund_pending"),
                                                                          ("refund_pending", "paid")]
    synced = hs_shop.post(f"/_merchant/orders/{order['id']}/sync")
    assert synced["state"] == "partially_refunded" and synced["refundable_amount"] == 200


def test_concurrent_refunds_never_exceed_the_payment(hs_shop):
    from concurrent.futures import ThreadPoolExecutor

    order = hs_shop.buy(1000)
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: requests.post(f"{hs_shop.url}/_merchant/orders/{order['id']}/refunds",
                                                        json={"amount": 300}, timeout=30), range(8)))
    assert sorted(r.status_code for r in replies).count(201) == 3
    hs_shop.settle()
    assert sum(r["amount"] for r in hs_shop.provider_refunds(order["payment_id"])) == 900
    assert hs_shop.order(order["id"])["refunded_amount"] == 900


# -- reconciliation --------------------------------------------------------------------------------


def test_reconciliation_finds_what_lost_webhooks_never_said(hs_shop):
    hs_shop.psp_call("PUT", "/_mock/faults", {"webhooks": {"drop": 1.0, "drop_mode": "lost"}})
    order = hs_shop.buy(card=None)
    hs_api(hs_shop, "POST", f"/payments/{order['payment_id']}/cancel", {}).raise_for_status()
    hs_shop.settle()
    assert hs_shop.order(order["id"])["state"] == "pending"
    report = hs_shop.reconcile()
    assert report["changed"] == 1 and report["actions"][0]["detail"] == "provider says pending -> cancelled"
    assert hs_shop.order(order["id"])["transitions"][-1]["cause"] == "reconcile: provider says cancelled"
    assert hs_shop.reconcile()["changed"] == 0  # a second sweep changes nothing


def test_reconciliation_waits_for_the_age_on_the_providers_virtual_clock(hs_shop):
    hs_shop.virtual_clock()
    hs_shop.psp_call("PUT", "/_mock/faults", {"webhooks": {"drop": 1.0, "drop_mode": "lost"}})
    order = hs_shop.buy(card=None)
    hs_api(hs_shop, "POST", f"/payments/{order['payment_id']}/cancel", {}).raise_for_status()
    assert hs_shop.reconcile(older_than=None)["checked"] == 0  # younger than 15 minutes
    hs_shop.advance(14 * 60)
    assert hs_shop.reconcile(older_than=None)["checked"] == 0
    hs_shop.advance(61)
    assert hs_shop.reconcile(older_than=None)["changed"] == 1
    assert hs_shop.order(order["id"])["state"] == "cancelled"


def test_an_order_whose_payment_was_never_created_fails_on_reconciliation(hs_shop):
    merchant = hs_shop.running.merchant
    with merchant.store.write() as db:
        from mock_psp.test_merchant import orders as o
        lost, _ = o.create_order(db, dialect="hyperswitch", amount=100, currency="USD", description="x",
                                 idempotency_key=None, now=merchant.now())
        found, _ = o.create_order(db, dialect="hyperswitch", amount=100, currency="USD", description="x",
                                  idempotency_key=None, now=merchant.now())
    # The provider got the second one's create; the answer was lost.
    created = hs_api(hs_shop, "POST", "/payments", {"payment_id": found["id"], "amount": 100, "currency": "USD"})
    created.raise_for_status()
    hs_shop.reconcile()
    assert hs_shop.order(lost["id"])["state"] == "failed"
    assert hs_shop.order(lost["id"])["failure"] == "the provider has no payment for this order"
    assert hs_shop.order(found["id"])["payment_id"] == found["id"]
    assert hs_shop.order(found["id"])["state"] == "pending"


def test_a_refund_whose_answer_was_lost_is_adopted_or_failed_by_reconciliation(hs_shop):
    from mock_psp.test_merchant import orders as o

    order = hs_shop.buy(1000)
    merchant = hs_shop.running.merchant
    with merchant.store.write() as db:
        reached, _ = o.open_refund(db, order["id"], 300, merchant.now())
        never, _ = o.open_refund(db, order["id"], 200, merchant.now())
    hs_api(hs_shop, "POST", "/refunds", {"payment_id": order["payment_id"], "refund_id": reached["id"],
                                         "amount": 300}).raise_for_status()
    report = hs_shop.reconcile()
    refunds = {r["id"]: r for r in hs_shop.order(order["id"])["refunds"]}
    assert refunds[reached["id"]]["state"] == "succeeded" and refunds[never["id"]]["state"] == "failed"
    assert hs_shop.order(order["id"])["state"] == "partially_refunded"
    assert {a["kind"] for a in report["actions"]} == {"refund"}


def test_the_reconcile_command_runs_the_sweep_of_a_running_merchant(hs_shop):
    from click.testing import CliRunner

    from mock_psp.cli import cli

    result = CliRunner().invoke(cli, ["merchant", "reconcile", "--url", hs_shop.url, "--older-than", "0"])
    assert result.exit_code == 0, result.output
    assert "checked 0, changed 0, errors 0" in result.output


# -- the shop pages --------------------------------------------------------------------------------


def test_the_product_page_offers_both_ways_to_pay(hs_shop):
    page = requests.get(hs_shop.url + "/", timeout=10)
    assert page.status_code == 200 and "$19.99" in page.text
    assert 'data-test-id="pay-modal-button"' in page.text and 'data-test-id="pay-redirect-button"' in page.text
    assert "https://" not in page.text  # no external assets


def test_the_redirect_flow_pays_and_the_return_page_asks_the_provider(hs_shop):
    session = requests.Session()
    product = session.get(hs_shop.url + "/", timeout=10).text
    token = re.search(r'name="token" value="(\w+)"', product)[1]
    buy = session.post(hs_shop.url + "/buy", data={"mode": "redirect", "token": token, "csrf_token": csrf(product)},
                       allow_redirects=False)
    assert buy.status_code == 303 and "/payment_link/" in buy.headers["Location"]
    # The customer pays on the hosted checkout.
    page = session.get(buy.headers["Location"], timeout=10)
    form = {"method": "card", "card_number": "4242424242424242", "expiry": "12/35", "cvc": "123",
            "cardholder_name": "Test"}
    done = session.post(page.url, data=form, timeout=10)
    assert done.url.startswith(hs_shop.url + "/orders/") and "/return?" in done.url
    assert 'data-state="paid"' in done.text and 'data-valid="true"' in done.text
    # A tampered return link is flagged, and the page still shows the provider's answer.
    forged = re.sub(r"status=\w+", "status=failed", done.url)
    page = session.get(forged, timeout=10)
    assert 'data-valid="false"' in page.text and 'data-state="paid"' in page.text


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]


def shop_session(shop: Shop, path: str = "/") -> tuple[requests.Session, str]:
    """A browser's session on a shop page: its cookie, and the CSRF token its forms carry."""
    session = requests.Session()
    return session, csrf(session.get(shop.url + path, timeout=10).text)


def test_a_double_submitted_pay_form_makes_one_order(hs_shop):
    session, token = shop_session(hs_shop)
    for _ in range(2):
        session.post(hs_shop.url + "/buy", data={"mode": "redirect", "token": "same-form", "csrf_token": token},
                     allow_redirects=False, timeout=10)
    assert len(hs_shop.get("/_merchant/orders")["data"]) == 1


def test_the_modal_page_loads_the_sdk_from_the_provider(hs_shop):
    session, token = shop_session(hs_shop)
    page = session.post(hs_shop.url + "/buy", data={"mode": "modal", "token": "t1", "csrf_token": token}, timeout=10)
    assert f'src="{hs_shop.psp}/sdk/v1/mock-psp.js"' in page.text and "data-client-secret=\"ord-" in page.text
    csp = page.headers["Content-Security-Policy"]
    assert f"script-src 'self' {hs_shop.psp}" in csp


def test_the_orders_page_refunds_with_its_button(hs_shop):
    order = hs_shop.buy(1000)
    session = requests.Session()
    page = session.get(hs_shop.url + "/orders", timeout=10)
    assert f'data-order-id="{order["id"]}" data-state="paid"' in page.text
    form = {"amount": "2.50", "csrf_token": csrf(page.text)}
    reply = session.post(f"{hs_shop.url}/orders/{order['id']}/refund", data=form, timeout=10)
    assert "Refund of $2.50 requested" in reply.text
    assert hs_shop.order(order["id"])["refunds"][0]["amount"] == 250
    reply = session.post(f"{hs_shop.url}/orders/{order['id']}/refund", data={**form, "amount": "50"}, timeout=10)
    assert "more than the 750 still refundable" in reply.text


def test_a_failed_return_shows_the_providers_failure_and_a_payment_error(gov_shop):
    order = gov_shop.buy(card=None)
    requests.post(f"{gov_shop.psp}/govuk/v1/payments/{order['payment_id']}/cancel", timeout=10,
                  headers={"Authorization": f"Bearer {gov_shop.namespace['govuk']['api_key']}"}).raise_for_status()
    page = requests.get(f"{gov_shop.url}/orders/{order['id']}/return?payment_error=declined", timeout=10)
    assert 'data-state="cancelled"' in page.text and 'data-test-id="payment-error"' in page.text


# -- the command ------------------------------------------------------------------------------------


def test_mock_psp_merchant_starts_prints_its_url_and_stops_on_ctrl_c(live_provider, tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "mock_psp", "merchant", "--port", "0", "--psp-url",
                                live_provider.url, "--dialect", "govuk", "--db", str(tmp_path / "m.db")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        url = re.search(r"on (http://127\.0\.0\.1:\d+)", first)[1]
        assert requests.get(urljoin(url, "/_merchant/config"), timeout=10).json()["dialect"] == "govuk"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "stopped" in out
