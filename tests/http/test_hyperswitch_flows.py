"""Client-side flows, 3DS, asynchronous methods, outcomes and listing."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest

from tests.support.clients import card

THREE_DS = "4000003800000446"


# -- the client_secret flow -----------------------------------------------------


def test_browser_confirms_with_publishable_key_and_client_secret(hs):
    created = hs.create(return_url="https://shop.example/done").json
    pk = {"api-key": hs.publishable_key}
    fetched = hs.retrieve(created["payment_id"], headers=pk, data=None)
    assert fetched.status == 400 and fetched.error["message"] == "Missing required param: client_secret"
    fetched = hs.api.get(f"/hyperswitch/payments/{created['payment_id']}?client_secret={created['client_secret']}",
                         headers=pk)
    assert fetched.status == 200 and fetched.json["status"] == "requires_payment_method"
    confirmed = hs.confirm(created["payment_id"], {"client_secret": created["client_secret"], **card()}, headers=pk)
    assert confirmed.status == 200 and confirmed.json["status"] == "succeeded"


def test_wrong_client_secret_is_ir_09(hs):
    created = hs.create().json
    reply = hs.confirm(created["payment_id"], {"client_secret": created["payment_id"] + "_secret_wrong", **card()},
                       headers={"api-key": hs.publishable_key})
    assert reply.status == 400 and reply.error["code"] == "IR_09"
    assert reply.error["message"] == (
        "The client_secret provided does not match the client_secret associated with the Payment")


def test_client_secret_expires_after_fifteen_minutes_on_the_clock(vhs):
    created = vhs.create().json
    body = {"client_secret": created["client_secret"], **card()}
    vhs.advance(15 * 60)
    still = vhs.api.get(f"/hyperswitch/payments/{created['payment_id']}?client_secret={created['client_secret']}",
                        headers={"api-key": vhs.publishable_key})
    assert still.status == 200
    vhs.advance(1)
    reply = vhs.confirm(created["payment_id"], body, headers={"api-key": vhs.publishable_key})
    assert reply.status == 400
    assert reply.error == {"type": "invalid_request", "code": "IR_08", "message": "The provided client_secret has expired"}


def test_session_expiry_can_be_chosen_per_payment(vhs):
    created = vhs.create(session_expiry=60).json
    vhs.advance(61)
    assert vhs.retrieve(created["payment_id"]).json["status"] == "expired"


def test_unconfirmed_payment_expires_with_its_session(vhs):
    created = vhs.create().json
    ran = vhs.advance(15 * 60)["ran"]
    assert [job["kind"] for job in ran] == ["payment.expire"]
    assert vhs.retrieve(created["payment_id"]).json["status"] == "expired"
    assert vhs.confirm(created["payment_id"], card()).error["message"] == (
        "You cannot confirm this payment because it has status expired")


def test_secret_key_with_client_secret_is_refused(hs):
    created = hs.create().json
    reply = hs.confirm(created["payment_id"], {"client_secret": created["client_secret"], **card()})
    assert reply.status == 422
    assert reply.error == {"type": "invalid_request", "code": "IR_06", "message": "client_secret is not a valid parameter"}


# -- 3DS ------------------------------------------------------------------------------


def _follow(client, url: str, method: str = "GET", data=None):
    """Follow provider redirects until one leaves the provider; return that URL."""
    path = urlsplit(url)
    response = client.open(path.path + ("?" + path.query if path.query else ""), method=method, data=data)
    while response.status_code in (301, 302, 303):
        location = response.headers["Location"]
        target = urlsplit(location)
        if target.netloc and target.netloc != "localhost":
            return location, response
        response = client.open(target.path + ("?" + target.query if target.query else ""))
    return None, response


def _verify_return_url(location: str, hash_key: str) -> dict:
    """Independent check of Hyperswitch's redirect signature."""
    pairs = parse_qsl(urlsplit(location).query, keep_blank_values=True)
    params = dict(pairs)
    signed = [(k, v) for k, v in pairs if k not in ("signature", "signature_algorithm")]
    message = "&".join(f"{k}={v}" for k, v in sorted(signed))
    expected = hmac.new(hash_key.encode(), message.encode(), hashlib.sha512).hexdigest()
    assert params["signature_algorithm"] == "HMAC-SHA512"
    assert hmac.compare_digest(params["signature"], expected)
    return params


@pytest.mark.parametrize("choice, status", [("true", "succeeded"), ("false", "failed")])
def test_3ds_round_trip_returns_to_the_merchant_signed(app, hs, choice, status):
    created = hs.create(confirm=True, return_url="https://shop.example/return?order=77", **card(THREE_DS)).json
    assert created["status"] == "requires_customer_action"
    action = created["next_action"]
    assert action["type"] == "redirect_to_url"
    assert f"/payments/redirect/{created['payment_id']}/{hs.merchant_id}/{created['payment_id']}_1" in (
        action["redirect_to_url"])
    client = app.test_client()
    _, page = _follow(client, action["redirect_to_url"])
    html = page.get_data(as_text=True)
    assert 'data-test-id="3ds-complete"' in html and 'data-test-id="3ds-fail"' in html
    complete = html.split('action="', 1)[1].split('"', 1)[0]
    location, _ = _follow(client, complete, method="POST", data={"confirm": choice})
    assert location.startswith("https://shop.example/return?order=77&status=")
    params = _verify_return_url(location, hs.hash_key)
    assert params["status"] == status and params["payment_id"] == created["payment_id"]
    assert params["payment_intent_client_secret"] == created["client_secret"]
    assert params["amount"] == "1000" and params["manual_retry_allowed"] == "false"
    assert params["order"] == "77"
    after = hs.retrieve(created["payment_id"]).json
    assert after["status"] == status and after["next_action"] is None
    if status == "failed":
        assert after["error_code"] == "DC_08"


def test_3ds_with_manual_capture_ends_in_requires_capture(app, hs):
    created = hs.create(confirm=True, capture_method="manual", return_url="https://shop.example/r",
                        **card(THREE_DS)).json
    client = app.test_client()
    _, page = _follow(client, created["next_action"]["redirect_to_url"])
    complete = page.get_data(as_text=True).split('action="', 1)[1].split('"', 1)[0]
    location, _ = _follow(client, complete, method="POST", data={"confirm": "true"})
    assert dict(parse_qsl(urlsplit(location).query))["status"] == "requires_capture"


def test_3ds_without_return_url_shows_the_result_page(app, hs):
    created = hs.create(confirm=True, **card(THREE_DS)).json
    client = app.test_client()
    _, page = _follow(client, created["next_action"]["redirect_to_url"])
    complete = page.get_data(as_text=True).split('action="', 1)[1].split('"', 1)[0]
    location, result = _follow(client, complete, method="POST", data={"confirm": "true"})
    assert location is None and 'data-test-id="payment-result"' in result.get_data(as_text=True)


def test_a_3ds_challenge_cannot_be_completed_twice(app, hs):
    created = hs.create(confirm=True, **card(THREE_DS)).json
    client = app.test_client()
    _, page = _follow(client, created["next_action"]["redirect_to_url"])
    complete = page.get_data(as_text=True).split('action="', 1)[1].split('"', 1)[0]
    _follow(client, complete, method="POST", data={"confirm": "true"})
    again = client.post(urlsplit(complete).path, data={"confirm": "false"})
    assert again.status_code == 303 and not again.headers["Location"].endswith("/3ds")
    assert hs.retrieve(created["payment_id"]).json["status"] == "succeeded"


def test_pending_3ds_payment_can_be_cancelled(hs):
    created = hs.create(confirm=True, **card(THREE_DS)).json
    assert hs.cancel(created["payment_id"]).json["status"] == "cancelled"


# -- asynchronous methods, delays, outcomes --------------------------------------------


def upi(vpa: str) -> dict:
    return {"payment_method": "upi", "payment_method_type": "upi_collect",
            "payment_method_data": {"upi": {"upi_collect": {"vpa_id": vpa}}}}


@pytest.mark.parametrize("vpa, final", [("success@upi", "succeeded"), ("failure@upi", "failed")])
def test_upi_collect_processes_then_finishes_on_the_clock(vhs, vpa, final):
    created = vhs.create(confirm=True, **upi(vpa)).json
    assert created["status"] == "processing"
    assert created["payment_method_data"]["upi"]["upi_collect"]["vpa_id"].endswith("@upi")
    vhs.advance(9)
    assert vhs.retrieve(created["payment_id"]).json["status"] == "processing"
    vhs.advance(1)
    assert vhs.retrieve(created["payment_id"]).json["status"] == final


def test_upi_follows_its_own_success_rate(vhs):
    vhs.configure(success_rates={"upi": 0})
    created = vhs.create(confirm=True, **upi("someone@okbank")).json
    vhs.advance(10)
    assert vhs.retrieve(created["payment_id"]).json["status"] == "failed"


def test_authorize_delay_parks_a_card_payment_in_processing(vhs):
    vhs.configure(delays={"authorize": 5})
    created = vhs.pay()
    assert created["status"] == "processing"
    vhs.advance(5)
    assert vhs.retrieve(created["payment_id"]).json["status"] == "succeeded"


def test_capture_delay_keeps_the_capture_processing(vhs):
    vhs.configure(delays={"capture": 60})
    held = vhs.pay(capture_method="manual")
    assert held["status"] == "requires_capture"
    capturing = vhs.capture(held["payment_id"]).json
    assert capturing["status"] == "processing"
    vhs.advance(60)
    assert vhs.retrieve(held["payment_id"]).json["status"] == "succeeded"


def test_cancelling_during_processing_is_refused(vhs):
    vhs.configure(delays={"authorize": 5})
    created = vhs.pay()
    assert vhs.cancel(created["payment_id"]).error["message"] == (
        "You cannot cancel this payment because it has status processing")


def test_scripted_outcomes_apply_to_the_next_payments_in_order(hs):
    reply = hs.control.post("/_mock/outcomes", {"next": ["declined", "3ds", "succeeded"]})
    assert reply.json["next"] == ["declined", "3ds", "succeeded"]
    assert hs.pay("4242424242424242")["status"] == "failed"
    assert hs.pay("4242424242424242")["status"] == "requires_customer_action"
    assert hs.pay("4000000000000002")["status"] == "succeeded"
    assert hs.pay("4000000000000002")["status"] == "failed"  # queue empty: the magic card decides
    assert hs.control.get("/_mock/outcomes").json["next"] == []


def test_unknown_scripted_outcome_is_refused(hs):
    reply = hs.control.post("/_mock/outcomes", {"next": ["maybe"]})
    assert reply.status == 400 and "unknown outcome 'maybe'" in reply.error["message"]


def test_card_success_rate_zero_declines_ordinary_cards_but_not_magic_ones(hs):
    hs.configure(success_rates={"card": 0})
    assert hs.pay("4012888888881881")["error_message"] == "Payment declined: Card declined"
    assert hs.pay("4242424242424242")["status"] == "succeeded"


def test_same_seed_gives_same_ids_and_outcomes(transport, control):
    from tests.conftest import new_namespace
    from tests.support.clients import Hyperswitch

    def run() -> list:
        ns = Hyperswitch(transport, new_namespace(control, seed=1234))
        ns.configure(success_rates={"card": 0.5})
        return [(p["payment_id"], p["status"], p["connector_transaction_id"])
                for p in (ns.pay("4012888888881881") for _ in range(12))]

    first, second = run(), run()
    assert first == second
    assert {status for _, status, _ in first} == {"succeeded", "failed"}


def test_different_seeds_give_different_ids(transport, control):
    from tests.conftest import new_namespace
    from tests.support.clients import Hyperswitch

    ids = {Hyperswitch(transport, new_namespace(control, seed=s)).pay()["payment_id"] for s in (1, 2)}
    assert len(ids) == 2


# -- listing ------------------------------------------------------------------------


def test_list_is_newest_first_with_the_real_shape(vhs):
    ids = []
    for _ in range(3):
        ids.append(vhs.create().json["payment_id"])
        vhs.advance(1)
    listed = vhs.api.get("/hyperswitch/payments/list").json
    assert set(listed) == {"size", "data"}
    assert listed["size"] == 3 and [p["payment_id"] for p in listed["data"]] == ids[::-1]
    limited = vhs.api.get("/hyperswitch/payments/list?limit=2").json
    assert limited["size"] == 2
    after = vhs.api.get(f"/hyperswitch/payments/list?starting_after={ids[2]}").json
    assert [p["payment_id"] for p in after["data"]] == [ids[1], ids[0]]
    before = vhs.api.get(f"/hyperswitch/payments/list?ending_before={ids[0]}").json
    assert [p["payment_id"] for p in before["data"]] == [ids[2], ids[1]]


def test_list_filters_by_customer_and_creation_time(vhs):
    vhs.control.post("/_mock/clock/set", {"now": "2030-01-01T00:00:00Z"})
    early = vhs.create(customer_id="cus_a").json
    vhs.advance(3600)
    late = vhs.create(customer_id="cus_b").json
    by_customer = vhs.api.get("/hyperswitch/payments/list?customer_id=cus_a").json
    assert [p["payment_id"] for p in by_customer["data"]] == [early["payment_id"]]
    since = vhs.api.get("/hyperswitch/payments/list?created.gte=2030-01-01T00:30:00Z").json
    assert [p["payment_id"] for p in since["data"]] == [late["payment_id"]]
    until = vhs.api.get("/hyperswitch/payments/list?created.lt=2030-01-01T00:30:00Z").json
    assert [p["payment_id"] for p in until["data"]] == [early["payment_id"]]


@pytest.mark.parametrize("query", ["limit=0", "limit=101"])
def test_list_limit_must_be_between_1_and_100(hs, query):
    reply = hs.api.get(f"/hyperswitch/payments/list?{query}")
    assert reply.status == 422
    assert reply.error == {"type": "invalid_request", "code": "IR_06", "message": "limit should be in between 1 and 100"}


@pytest.mark.parametrize("query, detail", [
    ("created_lt=2030-01-01T00:00:00Z", "unknown field `created_lt`"),
    ("limit=ten", "invalid digit found in string"),
    ("created.gt=yesterday", "invalid datetime"),
])
def test_bad_list_queries_are_json_errors(hs, query, detail):
    reply = hs.api.get(f"/hyperswitch/payments/list?{query}")
    assert reply.status == 400 and detail in reply.error["message"]
    assert reply.error["message"].startswith("Query deserialize error")


def test_same_seed_and_clock_repeat_whole_responses_including_timings(transport, control):
    """Ids, outcomes, drawn delays and timestamps all repeat; only the account's own ids differ."""
    from tests.conftest import new_namespace
    from tests.support.clients import Hyperswitch

    def run() -> list:
        ns = Hyperswitch(transport, new_namespace(control, seed=77, clock="virtual"))
        ns.control.post("/_mock/clock/set", {"now": "2031-03-01T09:00:00Z"})
        ns.configure(success_rates={"card": 0.7}, delays={"authorize": [1, 30]})
        bodies = [ns.pay("4012888888881881") for _ in range(6)]
        advanced = ns.advance(30)
        bodies.append([advanced["now"]] + [{k: v for k, v in job.items() if k != "id"} for job in advanced["ran"]])
        bodies += [ns.retrieve(b["payment_id"]).json for b in bodies[:6]]
        text = str(bodies)
        for own in (ns.merchant_id, ns.namespace["hyperswitch"]["profile_id"].removeprefix("pro_")):
            text = text.replace(own, "<account>")
        return text

    assert run() == run()
