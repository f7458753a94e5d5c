"""Hyperswitch mandates: a payment that asks for one, the mandate, off-session payments made
with it, revocation. Every answer is checked against the published OpenAPI document."""

from __future__ import annotations

import re

import pytest

from tests.support.clients import card

ACCEPTANCE = {"acceptance_type": "online", "accepted_at": "2026-11-22T10:00:00Z",
              "online": {"ip_address": "127.0.0.1", "user_agent": "Mozilla/5.0"}}


def mandate_data(kind: str = "multi_use", amount: int = 8000) -> dict:
    return {"customer_acceptance": ACCEPTANCE, "mandate_type": {kind: {"amount": amount, "currency": "USD"}}}


def first_payment(hs, kind: str = "multi_use", amount: int = 8000, **fields):
    return hs.create(amount=6000, currency="USD", confirm=True, customer_id="cus_mandate_1",
                     setup_future_usage="off_session", mandate_data=mandate_data(kind, amount), **card(), **fields)


def off_session(hs, mandate_id: str, amount: int = 1000, **fields):
    body = {"amount": amount, "currency": "USD", "confirm": True, "off_session": True, "customer_id": "cus_mandate_1",
            "recurring_details": {"type": "mandate_id", "data": mandate_id}, **fields}
    return hs.api.post("/hyperswitch/payments", body)


def test_a_payment_that_asks_for_a_mandate_creates_one_with_its_card(hs):
    paid = first_payment(hs).json
    assert paid["status"] == "succeeded" and re.fullmatch(r"man_[0-9A-Za-z]{20}", paid["mandate_id"])
    assert paid["mandate_data"]["mandate_type"] == {"multi_use": {"amount": 8000, "currency": "USD"}}
    mandate = hs.api.get(f"/hyperswitch/mandates/{paid['mandate_id']}").json
    assert (mandate["status"], mandate["payment_method"]) == ("active", "card")
    assert mandate["card"]["last4_digits"] == "4242" and mandate["payment_method_id"].startswith("pm_")
    assert mandate["customer_acceptance"]["online"] == {"ip_address": "127.0.0.1", "user_agent": "Mozilla/5.0"}
    assert [m["mandate_id"] for m in hs.api.get("/hyperswitch/customers/cus_mandate_1/mandates").json] == \
           [paid["mandate_id"]]


def test_a_declined_first_payment_makes_no_mandate(hs):
    declined = hs.create(amount=6000, currency="USD", confirm=True, customer_id="cus_mandate_1",
                         setup_future_usage="off_session", mandate_data=mandate_data(),
                         **card("4000000000000002")).json
    assert declined["status"] == "failed" and declined["mandate_id"] is None
    assert hs.api.get("/hyperswitch/customers/cus_mandate_1/mandates").status == 404


def test_a_mandate_needs_a_customer(hs):
    reply = hs.create(amount=6000, currency="USD", confirm=True, setup_future_usage="off_session",
                      mandate_data=mandate_data(), **card())
    assert (reply.status, reply.json["error"]["code"]) == (400, "IR_16")
    assert reply.json["error"]["message"] == "`customer_id` is mandatory for mandates"


def test_off_session_payments_use_the_saved_card_within_the_mandates_amount(hs):
    mandate_id = first_payment(hs).json["mandate_id"]
    first = off_session(hs, mandate_id, 5000).json
    assert first["status"] == "succeeded" and first["mandate_id"] == mandate_id
    assert first["payment_method_data"]["card"]["last4"] == "4242"
    over = off_session(hs, mandate_id, 3001)  # 5000 + 3001 > 8000
    assert (over.status, over.json["error"]["code"], over.json["error"]["reason"]) == (
        400, "HE_03", "request amount is greater than mandate amount")
    assert off_session(hs, mandate_id, 3000).json["status"] == "succeeded"


def test_a_single_use_mandate_is_spent_by_its_first_use(hs):
    mandate_id = first_payment(hs, kind="single_use").json["mandate_id"]
    assert off_session(hs, mandate_id).json["status"] == "succeeded"
    assert hs.api.get(f"/hyperswitch/mandates/{mandate_id}").json["status"] == "revoked"
    again = off_session(hs, mandate_id)
    assert (again.status, again.json["error"]["code"], again.json["error"]["message"]) == (
        400, "IR_16", "mandate is not active")


@pytest.mark.parametrize("change, status, code, text", [
    ({"customer_id": "cus_someone_else"}, 400, "IR_16", "customer_id must match mandate customer_id"),
    ({"currency": "EUR"}, 400, "HE_03", "cross currency mandates not supported"),
    ({"off_session": False}, 400, "IR_16", "`off_session` must be true for a payment made with a mandate"),
])
def test_off_session_payments_that_do_not_fit_the_mandate_are_refused(hs, change, status, code, text):
    mandate_id = first_payment(hs).json["mandate_id"]
    reply = off_session(hs, mandate_id, **change)
    error = reply.json["error"]
    assert (reply.status, error["code"]) == (status, code) and text in (error["message"], error.get("reason"))


def test_an_unknown_mandate_is_he_02(hs):
    assert hs.api.get("/hyperswitch/mandates/man_nothing").json["error"]["code"] == "HE_02"
    assert off_session(hs, "man_nothing").json["error"]["message"] == "Mandate does not exist in our records"


def test_a_revoked_mandate_takes_no_more_payments_and_cannot_be_revoked_twice(hs):
    mandate_id = first_payment(hs).json["mandate_id"]
    revoked = hs.api.post(f"/hyperswitch/mandates/revoke/{mandate_id}", {})
    assert revoked.json == {"mandate_id": mandate_id, "status": "revoked", "error_code": None, "error_message": None}
    assert off_session(hs, mandate_id).json["error"]["message"] == "mandate is not active"
    twice = hs.api.post(f"/hyperswitch/mandates/revoke/{mandate_id}", {})
    assert (twice.status, twice.json["error"]["code"], twice.json["error"]["reason"]) == (
        400, "HE_03", "Mandate has already been revoked")


def test_a_customer_with_an_active_mandate_cannot_be_deleted_until_it_is_revoked(hs):
    mandate_id = first_payment(hs).json["mandate_id"]
    refused = hs.api.call("DELETE", "/hyperswitch/customers/cus_mandate_1")
    assert (refused.status, refused.json["error"]["code"], refused.json["error"]["message"]) == (
        400, "IR_10", "Customer has active mandate/subsciption")
    hs.api.post(f"/hyperswitch/mandates/revoke/{mandate_id}", {})
    assert hs.api.call("DELETE", "/hyperswitch/customers/cus_mandate_1").json["customer_deleted"] is True
