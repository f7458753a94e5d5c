"""Hyperswitch payments over HTTP: what an integration sees from create to capture."""

from __future__ import annotations

import re
from datetime import datetime
from datetime import timedelta

import pytest

from tests.support.clients import card

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_create_without_payment_method_waits_for_one(hs):
    reply = hs.create(amount=6540, currency="USD", customer_id="cus_1", description="Tea")
    assert reply.status == 200
    body = reply.json
    assert body["status"] == "requires_payment_method"
    assert re.fullmatch(r"pay_[0-9A-Za-z]{20}", body["payment_id"])
    assert body["client_secret"].startswith(body["payment_id"] + "_secret_")
    assert len(body["client_secret"].split("_secret_")[1]) == 20
    assert body["amount_capturable"] == 6540 and body["amount_received"] is None
    assert body["payment_method"] is None and body["connector"] is None
    assert body["merchant_id"] == hs.merchant_id and body["customer_id"] == "cus_1"
    assert ISO_MS.match(body["created"]) and ISO_MS.match(body["expires_on"])
    assert parse(body["expires_on"]) - parse(body["created"]) == timedelta(minutes=15)


def test_create_with_card_but_no_confirm_requires_confirmation_then_confirm_succeeds(hs):
    created = hs.create(**card()).json
    assert created["status"] == "requires_confirmation"
    confirmed = hs.confirm(created["payment_id"]).json
    assert confirmed["status"] == "succeeded"
    assert confirmed["attempt_count"] == 1


def test_confirmed_card_payment_succeeds_with_masked_card_details(hs):
    body = hs.pay("4242424242424242", amount=2500)
    assert body["status"] == "succeeded"
    assert body["amount_received"] == 2500 and body["amount_capturable"] == 0
    assert body["connector"] == "stripe_test"
    assert body["connector_transaction_id"].startswith("dummy_pay_")
    card_data = body["payment_method_data"]["card"]
    assert card_data["last4"] == "4242" and card_data["card_isin"] == "424242"
    assert card_data["card_network"] == "Visa" and card_data["card_exp_year"] == "2035"
    assert "4242424242424242" not in str(body)
    assert body["error_code"] is None and body["manual_retry_allowed"] is False


@pytest.mark.parametrize(
    "number, message",
    [
        ("4000000000000002", "Payment declined: Card declined"),
        ("5105105105105100", "Payment declined: Card declined"),
        ("4000000000009995", "Payment declined: Insufficient funds"),
        ("4000000000009987", "Payment declined: Lost card"),
        ("4000000000009979", "Payment declined: Stolen card"),
    ],
)
def test_declined_magic_cards_answer_200_with_status_failed(hs, number, message):
    reply = hs.create(confirm=True, **card(number))
    assert reply.status == 200
    body = reply.json
    assert body["status"] == "failed"
    assert body["error_code"] == "DC_08" and body["error_message"] == message
    assert body["unified_code"] == "UE_9000"
    assert body["amount_received"] is None


@pytest.mark.parametrize("number", ["4111111111111111", "5555555555554444", "378282246310005",
                                    "6011111111111117", "38000000000006"])
def test_success_magic_cards_succeed(hs, number):
    assert hs.pay(number)["status"] == "succeeded"


def test_unknown_luhn_valid_card_follows_the_card_rate_unless_the_policy_is_strict(hs):
    assert hs.pay("4012888888881881")["status"] == "succeeded"
    hs.configure(card_policy="strict")
    body = hs.pay("4012888888881881")
    assert body["status"] == "failed"
    assert (body["error_code"], body["error_message"]) == ("DC_04", "Card not supported. Please use test cards")


def test_manual_capture_full_amount_succeeds(hs):
    payment = hs.pay(capture_method="manual", amount=5000)
    assert payment["status"] == "requires_capture" and payment["amount_capturable"] == 5000
    captured = hs.capture(payment["payment_id"]).json
    assert captured["status"] == "succeeded"
    assert captured["amount_received"] == 5000 and captured["amount_capturable"] == 0


def test_partial_capture_leaves_payment_partially_captured(hs):
    payment = hs.pay(capture_method="manual", amount=5000)
    captured = hs.capture(payment["payment_id"], {"amount_to_capture": 2000}).json
    assert captured["status"] == "partially_captured"
    assert captured["amount_received"] == 2000 and captured["amount_capturable"] == 0


def test_capture_refusals_use_the_real_codes(hs):
    succeeded = hs.pay()
    reply = hs.capture(succeeded["payment_id"])
    assert reply.status == 400 and reply.error["code"] == "IR_14"
    assert reply.error["message"] == (
        "This Payment could not be captured because it has a payment.status of succeeded. "
        "The expected state is requires_capture, partially_captured_and_capturable, processing"
    )
    held = hs.pay(capture_method="manual", amount=1000)
    too_much = hs.capture(held["payment_id"], {"amount_to_capture": 1001})
    assert too_much.status == 422 and too_much.error == {
        "type": "invalid_request", "message": "amount_to_capture is greater than amount", "code": "IR_06"}
    zero = hs.capture(held["payment_id"], {"amount_to_capture": 0})
    assert zero.status == 422 and zero.error["code"] == "IR_05"


def test_cancel_voids_an_authorisation_and_refuses_a_succeeded_payment(hs):
    held = hs.pay(capture_method="manual")
    cancelled = hs.cancel(held["payment_id"], {"cancellation_reason": "requested_by_customer"}).json
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation_reason"] == "requested_by_customer"
    again = hs.cancel(held["payment_id"])
    assert again.status == 400 and again.error["code"] == "IR_16"
    assert again.error["message"] == "You cannot cancel this payment because it has status cancelled"
    succeeded = hs.pay()
    assert hs.cancel(succeeded["payment_id"]).error["message"] == (
        "You cannot cancel this payment because it has status succeeded")


def test_cancel_an_unconfirmed_payment(hs):
    created = hs.create().json
    assert hs.cancel(created["payment_id"]).json["status"] == "cancelled"


def test_confirming_twice_is_refused_with_ir_16(hs):
    payment = hs.pay()
    reply = hs.confirm(payment["payment_id"])
    assert reply.status == 400
    assert reply.error == {"type": "invalid_request", "code": "IR_16",
                           "message": "You cannot confirm this payment because it has status succeeded"}


def test_failed_payment_can_be_retried_only_with_manual_retry(hs):
    failed = hs.pay("4000000000000002")
    refused = hs.confirm(failed["payment_id"], card())
    assert refused.error["code"] == "IR_16" and "manual_retry" in refused.error["message"]
    hs.configure(manual_retry=True)
    assert hs.retrieve(failed["payment_id"]).json["manual_retry_allowed"] is True
    retried = hs.confirm(failed["payment_id"], card("4242424242424242")).json
    assert retried["status"] == "succeeded" and retried["attempt_count"] == 2


def test_confirm_without_any_payment_method_is_422(hs):
    created = hs.create().json
    reply = hs.confirm(created["payment_id"])
    assert reply.status == 422
    assert reply.error["message"] == "A payment token or payment method data or ctp service details is required"


def test_confirm_with_payment_method_but_no_data_asks_for_the_data(hs):
    reply = hs.create(confirm=True, payment_method="card")
    assert reply.status == 400
    assert reply.error == {"type": "invalid_request", "code": "IR_04",
                           "message": "Missing required param: payment_method_data"}


def test_merchant_chosen_payment_id_is_the_idempotency_key(hs):
    first = hs.create(payment_id="order_1234")
    assert first.status == 200 and first.json["payment_id"] == "order_1234"
    again = hs.create(payment_id="order_1234")
    assert again.status == 400
    assert again.error == {
        "type": "invalid_request", "code": "HE_01",
        "message": "The payment with the specified payment_id already exists in our records",
        "reason": "order_1234 already exists",
    }


@pytest.mark.parametrize("bad_id, detail", [
    ("has space", "contains invalid character ` `"),
    ("x" * 65, "the maximum allowed length for this field is 64"),
])
def test_invalid_merchant_payment_id_is_a_deserialize_error(hs, bad_id, detail):
    reply = hs.create(payment_id=bad_id)
    assert reply.status == 400 and reply.error["code"] == "IR_06"
    assert "error_type" in reply.error and detail in reply.error["message"]


def test_unknown_payment_is_404_he_02(hs):
    reply = hs.retrieve("pay_doesnotexist00000000")
    assert reply.status == 404
    assert reply.error == {"type": "invalid_request", "code": "HE_02", "message": "Payment does not exist in our records"}


def test_another_namespaces_payment_is_invisible(hs, transport, control):
    from tests.conftest import new_namespace
    from tests.support.clients import Hyperswitch

    other = Hyperswitch(transport, new_namespace(control))
    payment = other.pay()
    for reply in (hs.retrieve(payment["payment_id"]), hs.capture(payment["payment_id"]),
                  hs.refund(payment["payment_id"])):
        assert reply.status == 404 and reply.error["code"] == "HE_02"


def test_update_changes_an_unconfirmed_payment_and_refuses_a_finished_one(hs):
    created = hs.create(amount=100).json
    updated = hs.api.post(f"/hyperswitch/payments/{created['payment_id']}",
                          {"amount": 250, "description": "bigger", "metadata": {"order": "7"}}).json
    assert (updated["amount"], updated["description"], updated["metadata"]) == (250, "bigger", {"order": "7"})
    assert updated["status"] == "requires_payment_method"
    paid = hs.pay()
    refused = hs.api.post(f"/hyperswitch/payments/{paid['payment_id']}", {"amount": 1})
    assert refused.status == 400 and refused.error["message"] == (
        "You cannot update this payment because it has status succeeded")


def test_update_with_confirm_true_confirms(hs):
    created = hs.create().json
    updated = hs.api.post(f"/hyperswitch/payments/{created['payment_id']}", {"confirm": True, **card()}).json
    assert updated["status"] == "succeeded"


def test_response_echoes_customer_billing_and_metadata(hs):
    body = hs.pay(
        customer={"id": "cus_9", "name": "Ada", "email": "ada@example.com"},
        billing={"address": {"line1": "1 Way", "country": "GB"}},
        metadata={"order_id": "A-1"},
        statement_descriptor_name="SHOP",
        merchant_order_reference_id="ref-77",
    )
    assert body["customer"]["name"] == "Ada" and body["customer_id"] == "cus_9"
    assert body["email"] == "ada@example.com"
    assert body["billing"]["address"]["line1"] == "1 Way"
    assert body["metadata"] == {"order_id": "A-1"}
    assert body["statement_descriptor_name"] == "SHOP"
    assert body["merchant_order_reference_id"] == "ref-77"


def test_amount_to_capture_above_amount_is_refused_at_create(hs):
    reply = hs.create(amount=100, amount_to_capture=200, capture_method="manual")
    assert reply.status == 422 and reply.error["code"] == "IR_05"


def test_unsupported_capture_methods_are_refused(hs):
    reply = hs.create(capture_method="manual_multiple")
    assert reply.status == 400 and reply.error["code"] == "IR_19"


def test_every_response_carries_the_via_header(hs):
    assert hs.create().headers["Via"] == "HyperSwitch"
