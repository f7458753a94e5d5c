"""The test merchant's webhook receiver against good, forged, tampered, replayed, stale,
oversized and malformed deliveries. Nothing bad is applied; everything is logged."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from mock_psp.test_merchant.run import start
from tests.support.merchant import Shop

pytestmark = pytest.mark.e2e


def paid_order(shop: Shop) -> dict:
    order = shop.buy()
    shop.settle()
    assert shop.order(order["id"])["state"] == "paid"
    return order


def real_delivery(shop: Shop, event_type: str) -> tuple[bytes, dict]:
    """A delivery exactly as the provider sent it: raw body and signed headers."""
    found = [d for d in shop.deliveries(event_type=event_type)]
    assert found, f"no {event_type} delivery"
    full = shop.delivery(found[0]["id"])
    headers = {k: v for k, v in full["attempts"][0]["request_headers"].items()
               if k.lower() in ("content-type", "x-webhook-signature-512", "pay-signature", "user-agent")}
    return full["payload"].encode(), headers


def transitions(shop: Shop, order_id: str) -> list:
    return shop.order(order_id)["transitions"]


def test_a_real_delivery_is_verified_fetched_and_logged_ok(hs_shop):
    order = paid_order(hs_shop)
    [entry] = hs_shop.log()
    assert entry["result"] == "ok" and entry["signature_valid"] is True
    assert entry["event_type"] == "payment_succeeded" and entry["object_id"] == order["payment_id"]
    assert entry["headers"]["X-Webhook-Signature-512"] and entry["request_id"]


def test_a_forged_delivery_is_refused_with_401_and_logged(hs_shop):
    order = paid_order(hs_shop)
    body, headers = real_delivery(hs_shop, "payment_succeeded")
    forged = json.loads(body)
    forged["event_id"], forged["event_type"] = "evt_forged", "payment_failed"
    raw = json.dumps(forged).encode()
    reply = hs_shop.deliver(raw, {**headers, "X-Webhook-Signature-512": "0" * 128})
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "signature_invalid"
    assert hs_shop.log("signature_invalid")[0]["signature_valid"] is False
    assert hs_shop.order(order["id"])["state"] == "paid"


def test_a_tampered_body_with_the_original_signature_is_refused(hs_shop):
    order = paid_order(hs_shop)
    body, headers = real_delivery(hs_shop, "payment_succeeded")
    tampered = body.replace(b'"amount":1000', b'"amount":1')
    assert tampered != body
    assert hs_shop.deliver(tampered, headers).status_code == 401
    assert [e["result"] for e in hs_shop.log()] == ["ok", "signature_invalid"]
    assert len(transitions(hs_shop, order["id"])) == 2


def test_a_delivery_without_a_signature_is_refused(hs_shop):
    reply = hs_shop.deliver(b'{"event_id": "x"}', {"Content-Type": "application/json"})
    assert reply.status_code == 401
    assert hs_shop.log("signature_invalid")[0]["detail"] == "missing X-Webhook-Signature-512"


def test_a_replayed_delivery_is_a_duplicate_and_changes_nothing(hs_shop):
    order = paid_order(hs_shop)
    before = transitions(hs_shop, order["id"])
    body, headers = real_delivery(hs_shop, "payment_succeeded")
    reply = hs_shop.deliver(body, headers)
    assert reply.status_code == 200 and reply.json()["result"] == "duplicate"
    assert transitions(hs_shop, order["id"]) == before
    assert [e["result"] for e in hs_shop.log()] == ["ok", "duplicate"]


def test_the_same_delivery_sent_ten_times_at_once_is_acted_on_once(hs_shop):
    order = paid_order(hs_shop)
    body, _ = real_delivery(hs_shop, "payment_succeeded")
    again = json.loads(body)
    again["event_id"] = "evt_sent_ten_times"
    raw, signed = hs_shop.signed(again)
    with ThreadPoolExecutor(10) as pool:
        results = [r.json()["result"] for r in pool.map(lambda _: hs_shop.deliver(raw, signed), range(10))]
    assert sorted(results) == ["duplicate"] * 9 + ["ok"]
    copies = [e for e in hs_shop.log() if e["event_id"] == "evt_sent_ten_times"]
    assert len(copies) == 10 and len(transitions(hs_shop, order["id"])) == 2


def test_a_late_processing_event_after_success_is_stale_and_ignored(hs_shop):
    order = paid_order(hs_shop)
    body, headers = real_delivery(hs_shop, "payment_succeeded")
    late = json.loads(body)
    late["event_id"], late["event_type"] = "evt_late_processing", "payment_processing"
    late["content"]["object"]["status"] = "processing"
    raw, signed = hs_shop.signed(late)
    reply = hs_shop.deliver(raw, signed)
    assert reply.status_code == 200 and reply.json()["result"] == "stale"
    assert hs_shop.order(order["id"])["state"] == "paid"
    assert len(transitions(hs_shop, order["id"])) == 2


def test_a_lying_success_event_for_an_unpaid_order_changes_nothing(hs_shop):
    """Never trust the body: a correctly signed event is still checked against the API."""
    order = hs_shop.buy(card=None)  # pending: nobody has paid
    raw, signed = hs_shop.signed({"merchant_id": "m", "event_id": "evt_lie", "event_type": "payment_succeeded",
                                  "content": {"type": "payment_details",
                                              "object": {"payment_id": order["payment_id"], "status": "succeeded"}}})
    reply = hs_shop.deliver(raw, signed)
    assert reply.json()["result"] == "stale"
    assert "provider says requires_payment_method" in hs_shop.log()[0]["detail"]
    assert hs_shop.order(order["id"])["state"] == "pending"


def test_events_out_of_order_converge_on_the_providers_state(hs_shop):
    order = hs_shop.buy(card=None)
    early = {"merchant_id": "m", "event_id": "evt_processing_first", "event_type": "payment_processing",
             "content": {"type": "payment_details", "object": {"payment_id": order["payment_id"]}}}
    hs_shop.psp_call("PUT", "/_mock/faults", {"webhooks": {"next": ["drop_lost"]}})
    requests.post(f"{hs_shop.psp}/hyperswitch/payments/{order['payment_id']}/confirm", timeout=10,
                  headers={"api-key": hs_shop.namespace["hyperswitch"]["api_key"]},
                  json={"payment_method": "card", "payment_method_data": {"card": {
                      "card_number": "4242424242424242", "card_exp_month": "12", "card_exp_year": "2035",
                      "card_holder_name": "T", "card_cvc": "123"}}}).raise_for_status()
    hs_shop.settle()  # the success event is lost on the way
    assert hs_shop.order(order["id"])["state"] == "pending"
    reply = hs_shop.deliver(*hs_shop.signed(early))  # an older event arrives: the API says succeeded
    assert reply.json()["result"] == "ok"  # acted on: it brought the order up to date
    assert hs_shop.log()[-1]["detail"] == "provider says succeeded; order is now paid"
    assert hs_shop.order(order["id"])["state"] == "paid"


def test_an_oversized_delivery_is_refused_with_413_before_parsing(hs_shop):
    body = b'{"pad": "' + b"x" * (256 * 1024) + b'"}'
    raw, signed = hs_shop.signed(body)
    reply = hs_shop.deliver(raw, signed)
    assert reply.status_code == 413 and reply.json()["error"]["code"] == "too_large"
    [entry] = hs_shop.log("too_large")
    assert entry["signature_valid"] is None and entry["size"] > 256 * 1024


def test_an_oversized_chunked_delivery_is_refused_too(hs_shop):
    chunks = (b"x" * 65536 for _ in range(5))  # no Content-Length: the cap applies while reading
    reply = requests.post(f"{hs_shop.url}/webhooks/hyperswitch", data=chunks, timeout=30,
                          headers={"Content-Type": "application/json", "X-Webhook-Signature-512": "00"})
    assert reply.status_code == 413
    assert hs_shop.log("too_large")


def test_a_delivery_just_under_the_cap_is_read(hs_shop):
    body = b'{"pad": "' + b"x" * (256 * 1024 - 20) + b'"}'
    reply = hs_shop.deliver(*hs_shop.signed(body))
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "malformed"


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"event_id": "e1"}', b'{"content": 5}', b""])
def test_a_signed_but_malformed_delivery_gets_400_and_is_logged(hs_shop, body):
    reply = hs_shop.deliver(*hs_shop.signed(body))
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "malformed"
    [entry] = hs_shop.log("malformed")
    assert entry["signature_valid"] is True


def test_an_event_for_another_shops_payment_is_acknowledged_and_ignored(hs_shop):
    raw, signed = hs_shop.signed({"merchant_id": "m", "event_id": "evt_other", "event_type": "payment_succeeded",
                                  "content": {"type": "payment_details", "object": {"payment_id": "pay_not_ours"}}})
    reply = hs_shop.deliver(raw, signed)
    assert reply.status_code == 200
    assert "not this shop's" in hs_shop.log("ok")[0]["detail"]


def test_a_delivery_to_the_other_dialects_path_is_refused(hs_shop):
    reply = requests.post(f"{hs_shop.url}/webhooks/govuk", data=b"{}", timeout=10)
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "error"


def test_an_event_the_merchant_cannot_process_yet_stays_in_the_inbox(hs_shop):
    """If the provider cannot be asked, the accepted event is kept and acted on later."""
    order = hs_shop.buy(card=None)
    merchant = hs_shop.running.merchant
    real_client = merchant.client
    requests.post(f"{hs_shop.psp}/hyperswitch/payments/{order['payment_id']}/cancel", json={}, timeout=10,
                  headers={"api-key": hs_shop.namespace["hyperswitch"]["api_key"]}).raise_for_status()
    wiring = merchant.wiring
    merchant.rewire(type(wiring)(**{**wiring.__dict__, "psp_url": "http://127.0.0.1:9"}))  # nothing listens there
    try:
        hs_shop.settle()
        [entry] = hs_shop.log()
        assert entry["result"] == "error" and entry["processed_at"] is None
    finally:
        merchant.rewire(wiring)
    assert merchant.client is not real_client
    report = hs_shop.reconcile(older_than=3600)  # the inbox is processed whatever the age
    assert report["inbox_processed"] == 1
    assert hs_shop.log()[0]["result"] == "ok"
    assert hs_shop.order(order["id"])["state"] == "cancelled"


def test_govuk_pay_signature_is_checked(gov_shop):
    raw, signed = gov_shop.signed({"webhook_message_id": "m1", "event_type": "card_payment_succeeded",
                                   "resource_type": "payment", "resource_id": "nope", "resource": {}})
    assert gov_shop.deliver(raw, signed).status_code == 200
    assert gov_shop.deliver(raw, {**signed, "Pay-Signature": "ab" * 32}).status_code == 401
    assert gov_shop.deliver(raw, {"Content-Type": "application/json"}).status_code == 401
    assert [e["result"] for e in gov_shop.log()] == ["ok", "signature_invalid", "signature_invalid"]


def test_standard_webhooks_signatures_from_the_provider_pass_and_old_ones_are_replays(live_provider, tmp_path):
    running = start(live_provider.url, "hyperswitch", db=str(tmp_path / "std.db"), scheme="standard")
    shop = Shop(running)
    try:
        order = paid_order(shop)
        assert shop.log()[0]["scheme"] == "standard" and shop.log()[0]["result"] == "ok"
        full = shop.delivery(shop.deliveries()[0]["id"])
        headers = {k: v for k, v in full["attempts"][0]["request_headers"].items()
                   if k.lower().startswith("webhook-") or k.lower() == "content-type"}
        stamp = next(k for k in headers if k.lower() == "webhook-timestamp")
        headers[stamp] = str(int(headers[stamp]) - 3600)
        reply = shop.deliver(full["payload"].encode(), headers)
        assert reply.status_code == 401
        assert "tolerance" in shop.log("signature_invalid")[0]["detail"]
        assert shop.order(order["id"])["state"] == "paid"
    finally:
        running.stop()
