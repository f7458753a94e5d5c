"""Hyperswitch refunds over HTTP: partial refunds, limits, retrieval, listing."""

from __future__ import annotations

import re


def test_refund_defaults_to_the_captured_amount(hs):
    payment = hs.pay(amount=1500)
    reply = hs.refund(payment["payment_id"], reason="customer asked")
    assert reply.status == 200
    refund = reply.json
    assert re.fullmatch(r"ref_[0-9A-Za-z]{20}", refund["refund_id"])
    assert (refund["amount"], refund["currency"], refund["status"]) == (1500, "USD", "succeeded")
    assert refund["reason"] == "customer asked" and refund["connector"] == "stripe_test"
    assert refund["payment_id"] == payment["payment_id"]


def test_several_partial_refunds_never_exceed_the_captured_amount(hs):
    payment = hs.pay(amount=1000)
    pid = payment["payment_id"]
    assert hs.refund(pid, amount=400).json["status"] == "succeeded"
    assert hs.refund(pid, amount=400).json["status"] == "succeeded"
    over = hs.refund(pid, amount=201)
    assert over.status == 400
    assert over.error == {"type": "invalid_request", "code": "IR_13",
                          "message": "The refund amount exceeds the amount captured"}
    assert hs.refund(pid, amount=200).json["status"] == "succeeded"
    refunds = hs.retrieve(pid).json["refunds"]
    assert [r["amount"] for r in refunds] == [400, 400, 200]


def test_partially_captured_payment_refunds_up_to_what_was_captured(hs):
    payment = hs.pay(capture_method="manual", amount=1000)
    hs.capture(payment["payment_id"], {"amount_to_capture": 600})
    assert hs.refund(payment["payment_id"], amount=601).error["code"] == "IR_13"
    assert hs.refund(payment["payment_id"]).json["amount"] == 600


def test_refund_of_an_unsettled_payment_is_ir_14(hs):
    held = hs.pay(capture_method="manual")
    reply = hs.refund(held["payment_id"])
    assert reply.status == 400
    assert reply.error["message"] == (
        "This Payment could not be refund because it has a status of requires_capture. "
        "The expected state is succeeded, partially_captured")


def test_refund_of_an_unknown_payment_is_he_02(hs):
    reply = hs.refund("pay_nope")
    assert reply.status == 404 and reply.error["message"] == "Payment does not exist in our records"


def test_refund_amount_must_be_positive(hs):
    payment = hs.pay()
    zero = hs.refund(payment["payment_id"], amount=0)
    assert zero.status == 422
    assert zero.error == {"type": "invalid_request", "code": "IR_05",
                          "message": "amount contains invalid data. Expected format is positive integer"}
    negative = hs.refund(payment["payment_id"], amount=-5)
    assert negative.status == 400 and "expected a positive integer" in negative.error["message"]


def test_eleventh_refund_is_refused_with_ir_12(hs):
    payment = hs.pay(amount=10_000)
    for _ in range(10):
        assert hs.refund(payment["payment_id"], amount=100).status == 200
    reply = hs.refund(payment["payment_id"], amount=100)
    assert reply.status == 400 and reply.error["code"] == "IR_12"
    assert reply.error["message"] == "Reached maximum refund attempts"


def test_duplicate_refund_id_is_he_01(hs):
    payment = hs.pay(amount=1000)
    assert hs.refund(payment["payment_id"], amount=100, refund_id="rf-1").json["refund_id"] == "rf-1"
    again = hs.refund(payment["payment_id"], amount=100, refund_id="rf-1")
    assert again.status == 400 and again.error["code"] == "HE_01"
    assert again.error["message"] == "Duplicate refund request. Refund already attempted with the refund ID"


def test_refund_requires_payment_id(hs):
    reply = hs.api.post("/hyperswitch/refunds", {"amount": 5})
    assert reply.status == 400 and reply.error["message"] == "Missing required param: payment_id"


def test_retrieve_and_update_a_refund(hs):
    payment = hs.pay()
    refund = hs.refund(payment["payment_id"], amount=300).json
    got = hs.api.get(f"/hyperswitch/refunds/{refund['refund_id']}")
    assert got.status == 200 and got.json["amount"] == 300
    updated = hs.api.post(f"/hyperswitch/refunds/{refund['refund_id']}", {"reason": "damaged", "metadata": {"k": "v"}})
    assert (updated.json["reason"], updated.json["metadata"]) == ("damaged", {"k": "v"})
    bad = hs.api.post(f"/hyperswitch/refunds/{refund['refund_id']}", {"amount": 5})
    assert bad.status == 400 and "unknown field `amount`" in bad.error["message"]


def test_unknown_refund_message_ends_with_a_full_stop(hs):
    reply = hs.api.get("/hyperswitch/refunds/ref_missing")
    assert reply.status == 404
    assert reply.error == {"type": "invalid_request", "code": "HE_02", "message": "Refund does not exist in our records."}


def test_refund_list_filters_and_counts(hs):
    first, second = hs.pay(amount=1000), hs.pay(amount=2000)
    hs.refund(first["payment_id"], amount=100)
    hs.refund(first["payment_id"], amount=200)
    hs.refund(second["payment_id"], amount=300)
    everything = hs.api.post("/hyperswitch/refunds/list", {}).json
    assert (everything["count"], everything["total_count"]) == (3, 3)
    assert [r["amount"] for r in everything["data"]] == [300, 200, 100]
    of_first = hs.api.post("/hyperswitch/refunds/list", {"payment_id": first["payment_id"], "limit": 1}).json
    assert (of_first["count"], of_first["total_count"]) == (1, 2)
    by_amount = hs.api.post("/hyperswitch/refunds/list", {"amount_filter": {"start_amount": 150}}).json
    assert sorted(r["amount"] for r in by_amount["data"]) == [200, 300]
    failed = hs.api.post("/hyperswitch/refunds/list", {"refund_status": ["failed"]}).json
    assert failed["count"] == 0


def test_refund_success_rate_zero_fails_refunds(hs):
    payment = hs.pay()
    hs.configure(success_rates={"refund": 0})
    refund = hs.refund(payment["payment_id"], amount=100).json
    assert refund["status"] == "failed" and refund["error_code"] == "DC_00"
    # a failed refund does not count against the captured amount
    hs.configure(success_rates={"refund": 1})
    assert hs.refund(payment["payment_id"]).json["amount"] == 1000


def test_refund_delay_keeps_it_pending_until_the_clock_reaches_it(vhs):
    payment = vhs.pay()
    vhs.configure(delays={"refund": 30})
    refund = vhs.refund(payment["payment_id"], amount=100).json
    assert refund["status"] == "pending"
    vhs.advance(29)
    assert vhs.api.get(f"/hyperswitch/refunds/{refund['refund_id']}").json["status"] == "pending"
    vhs.advance(1)
    assert vhs.api.get(f"/hyperswitch/refunds/{refund['refund_id']}").json["status"] == "succeeded"
