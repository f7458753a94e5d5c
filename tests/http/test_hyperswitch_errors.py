"""Every way a Hyperswitch request can be wrong, answered as the real router answers it."""

from __future__ import annotations

import pytest

from tests.support.clients import card

ENDPOINTS = [
    ("POST", "/hyperswitch/payments"),
    ("POST", "/hyperswitch/payments/{pid}"),
    ("POST", "/hyperswitch/payments/{pid}/confirm"),
    ("POST", "/hyperswitch/payments/{pid}/capture"),
    ("POST", "/hyperswitch/payments/{pid}/cancel"),
    ("POST", "/hyperswitch/refunds"),
    ("POST", "/hyperswitch/refunds/list"),
    ("POST", "/hyperswitch/refunds/{rid}"),
]

BAD_BODIES = [
    b"{",
    b"[1, 2]",
    b'"text"',
    b"null",
    b"",
    b'{"amount": "ten"}',
    b'{"amount": 1.5, "currency": "USD"}',
    b'{"amount": true}',
    b'{"currency": 5}',
    b'{"payment_method_data": "card"}',
    b'{"payment_method_data": {"card": {"card_number": 4242}}}',
    b'{"payment_method_data": {"card": []}}',
    b'{"payment_method_data": {"upi": {"upi_collect": {"vpa_id": 7}}}}',
    b'{"payment_method_data": {"crypto": null}}',
    b'{"amount_to_capture": "all"}',
    b'{"metadata": {"a": [1, {"b": null}]}, "amount": 99999999999999999999}',
    b'{"limit": -1}',
    b'{"amount_filter": {"start_amount": "x"}}',
    b'{"start_time": "yesterday"}',
    b'{"reason": ["a"]}',
    b"{\"description\": \"\\ud800\"}",
    b"\xff\xfe\x00",
]


@pytest.mark.parametrize("method, template", ENDPOINTS)
@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_bodies_never_cause_a_server_error(hs, method, template, body):
    payment = hs.pay(capture_method="manual")
    refund_path = "/hyperswitch/refunds/ref_x"
    path = template.format(pid=payment["payment_id"], rid="ref_x") if "{rid}" not in template else refund_path
    reply = hs.api.call(method, path, data=body)
    assert reply.status < 500, reply.text
    assert reply.headers["Content-Type"].startswith("application/json")
    if reply.status >= 400:
        assert reply.error["code"].startswith(("IR_", "HE_"))
    else:
        # capture and cancel ignore unknown fields, as the real router does
        assert template.endswith(("/capture", "/cancel")), reply.text[:200]


def test_malformed_json_is_400_with_the_error_type_key(hs):
    reply = hs.api.post("/hyperswitch/payments", data='{"amount": ')
    assert reply.status == 400
    assert set(reply.error) == {"error_type", "message", "code"}
    assert reply.error["code"] == "IR_06" and reply.error["error_type"] == "invalid_request"
    assert reply.error["message"].startswith("Json deserialize error: ")
    assert "at line 1 column" in reply.error["message"]


def test_missing_content_type_is_refused(hs):
    reply = hs.api.post("/hyperswitch/payments", data='{"amount": 1, "currency": "USD"}', content_type=None)
    assert reply.status == 400
    assert reply.error == {"error_type": "invalid_request", "message": "Content type error", "code": "IR_06"}
    text_plain = hs.api.post("/hyperswitch/payments", data="{}", headers={"Content-Type": "text/plain"})
    assert text_plain.error["message"] == "Content type error"


def test_unknown_field_is_named_in_the_error(hs):
    reply = hs.create(amount_in_cents=5)
    assert reply.status == 400 and reply.error["code"] == "IR_06"
    assert reply.error["message"].startswith("Json deserialize error: unknown field `amount_in_cents`, expected one of `amount`")


@pytest.mark.parametrize("field, value, detail", [
    ("amount", "ten", 'invalid type: string "ten", expected i64'),
    ("amount", -5, "invalid value: integer `-5`, expected a positive integer"),
    ("currency", "XYZ", "unknown variant `XYZ`, expected one of"),
    ("capture_method", "later", "unknown variant `later`, expected one of `automatic`, `manual`"),
    ("confirm", "yes", 'invalid type: string "yes", expected a boolean'),
    ("return_url", "not a url", "relative URL without a base"),
])
def test_wrong_types_are_deserialize_errors(hs, field, value, detail):
    reply = hs.create(**{field: value})
    assert reply.status == 400 and reply.error["code"] == "IR_06"
    assert detail in reply.error["message"]


@pytest.mark.parametrize("missing", ["amount", "currency"])
def test_missing_required_fields_are_ir_04(hs, missing):
    body = {"amount": 100, "currency": "USD"}
    del body[missing]
    reply = hs.api.post("/hyperswitch/payments", body)
    assert reply.status == 400
    assert reply.error == {"type": "invalid_request", "code": "IR_04", "message": f"Missing required param: {missing}"}


def test_amount_above_the_maximum_is_ir_16(hs):
    reply = hs.create(amount=1_000_000_000)
    assert reply.status == 400
    assert reply.error["message"] == "amount should not be more than 999999999"


@pytest.mark.parametrize("card_fields, message", [
    ({"card_cvc": "12"}, "Invalid card_cvc length"),
    ({"card_exp_month": "13"}, "Invalid Expiry Month"),
    ({"card_exp_year": "2001"}, "Invalid Expiry Year"),
])
def test_bad_card_data_is_ir_16(hs, card_fields, message):
    reply = hs.create(confirm=True, **card(**card_fields))
    assert reply.status == 400 and reply.error == {"type": "invalid_request", "code": "IR_16", "message": message}


@pytest.mark.parametrize("number, message", [
    ("4242424242424241", "Json deserialize error: card number invalid"),
    ("42424242", "Json deserialize error: invalid card number length"),
])
def test_bad_card_numbers_are_deserialize_errors(hs, number, message):
    reply = hs.create(confirm=True, **card(number))
    assert reply.status == 400 and reply.error["message"] == message and "error_type" in reply.error


def test_card_expiring_earlier_this_year_is_expired_on_the_namespace_clock(vhs):
    vhs.control.post("/_mock/clock/set", {"now": "2031-06-15T12:00:00Z"})
    reply = vhs.create(confirm=True, **card(card_exp_month="05", card_exp_year="2031"))
    assert reply.status == 400 and reply.error["message"] == "Card Expired"
    current = vhs.create(confirm=True, **card(card_exp_month="06", card_exp_year="2031"))
    assert current.json["status"] == "succeeded"


def test_missing_key_on_secret_key_endpoints_is_401(hs):
    reply = hs.api.post("/hyperswitch/payments", {"amount": 1, "currency": "USD"}, headers={"api-key": None})
    assert reply.status == 401
    assert reply.error == {"type": "invalid_request", "code": "IR_01",
                           "message": "API key not provided or invalid API key used"}


def test_wrong_key_is_401(hs):
    reply = hs.api.post("/hyperswitch/payments", {"amount": 1, "currency": "USD"}, headers={"api-key": "snd_wrong"})
    assert reply.status == 401 and reply.error["code"] == "IR_01"


def test_missing_key_on_either_key_endpoints_asks_for_api_key(hs):
    payment = hs.create().json
    reply = hs.retrieve(payment["payment_id"], headers={"api-key": None})
    assert reply.status == 400
    assert reply.error == {"type": "invalid_request", "code": "IR_04", "message": "Missing required param: api_key"}


def test_publishable_key_cannot_create_or_capture(hs):
    for reply in (
        hs.api.post("/hyperswitch/payments", {"amount": 1, "currency": "USD"}, headers={"api-key": hs.publishable_key}),
        hs.api.get("/hyperswitch/payments/list", headers={"api-key": hs.publishable_key}),
    ):
        assert reply.status == 401 and reply.error["code"] == "IR_01"


def test_unknown_route_and_wrong_method(hs):
    unknown = hs.api.get("/hyperswitch/disputes/x")
    assert unknown.status == 404
    assert unknown.error == {"type": "invalid_request", "code": "IR_02", "message": "Unrecognized request URL"}
    wrong = hs.api.call("DELETE", "/hyperswitch/payments")
    assert wrong.status == 405
    assert wrong.error == {"type": "invalid_request", "code": "IR_03",
                           "message": "The HTTP method is not applicable for this API"}


def test_oversized_body_is_refused(hs):
    reply = hs.create(description="x" * 40_000)
    assert reply.status == 400 and "is larger than allowed (limit: 32768 bytes)" in reply.error["message"]


def test_an_unexpected_failure_is_a_json_500_not_a_traceback(app, hs, monkeypatch):
    from mock_psp.domain import payments

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(payments, "get_payment", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    reply = hs.retrieve("pay_x")
    assert reply.status == 500
    assert reply.error == {"type": "api", "code": "HE_00", "message": "Something went wrong"}
