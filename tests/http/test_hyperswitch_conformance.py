"""The Hyperswitch dialect against the provider's published OpenAPI document.

Every response the other tests receive is validated as it arrives (see
tests/support/clients.py); these tests check the request field sets and the
response field list against the spec, and that the checker itself can fail.
"""

from __future__ import annotations

import pytest

from mock_psp.dialects.hyperswitch import serialize
from mock_psp.dialects.hyperswitch import structs as wire
from mock_psp.dialects.hyperswitch.currencies import CURRENCIES
from tests.support import spec

pytestmark = pytest.mark.skipif(not spec.spec_available(), reason=spec.SKIP_REASON)


def schema(name: str) -> dict:
    return spec._spec()["components"]["schemas"][name]


@pytest.mark.parametrize("spec_schema", ["PaymentsCreateRequest", "PaymentsUpdateRequest", "PaymentsConfirmRequest"])
def test_every_payment_request_field_in_the_spec_is_accepted(spec_schema):
    missing = set(schema(spec_schema)["properties"]) - set(wire.PAYMENT_FIELDS)
    assert not missing


@pytest.mark.parametrize("fields, spec_schema", [
    (wire.CAPTURE_FIELDS, "PaymentsCaptureRequest"),
    (wire.CANCEL_FIELDS, "PaymentsCancelRequest"),
    (wire.REFUND_FIELDS, "RefundRequest"),
    (wire.REFUND_UPDATE_FIELDS, "RefundUpdateRequest"),
    (wire.CARD_FIELDS, "Card"),
])
def test_other_request_field_sets_match_the_spec(fields, spec_schema):
    assert set(fields) == set(schema(spec_schema)["properties"])


def test_payment_response_has_exactly_the_spec_fields():
    # attempts and captures are skipped when absent, as the real serializer does
    expected = [f for f in schema("PaymentsResponse")["properties"] if f not in ("attempts", "captures")]
    assert list(serialize.PAYMENT_RESPONSE_FIELDS) == expected


def test_enums_match_the_spec():
    assert CURRENCIES == set(schema("Currency")["enum"])
    assert tuple(schema("CaptureMethod")["enum"]) == wire.CAPTURE_METHODS
    assert tuple(schema("PaymentMethod")["enum"]) == wire.PAYMENT_METHODS
    assert tuple(schema("CardNetwork")["enum"]) == wire.CARD_NETWORKS
    intent_statuses = set(schema("IntentStatus")["enum"])
    from mock_psp.domain import payments

    produced = {serialize.intent_status_name(s, has) for s in payments.STATUSES for has in (True, False)}
    assert produced <= intent_statuses


def test_the_checker_rejects_a_body_that_breaks_the_spec(hs):
    body = hs.create().json
    body["status"] = "done"
    with pytest.raises(spec.ConformanceError, match="status"):
        spec.check_response("POST", "/hyperswitch/payments", 200, body)
    del body["payment_id"]
    with pytest.raises(spec.ConformanceError):
        spec.check_response("GET", "/hyperswitch/payments/pay_x", 200, body)


def test_the_checker_rejects_an_error_outside_the_envelope():
    with pytest.raises(spec.ConformanceError):
        spec.check_response("POST", "/hyperswitch/refunds", 400, {"message": "flat", "code": "IR_04"})


def test_every_operation_is_exercised_and_checked(hs):
    """One pass over every operation, success and failure, each validated."""
    before = spec_checked()
    p = hs.create(capture_method="manual", **{"payment_id": "conformance-1"}).json
    hs.api.post(f"/hyperswitch/payments/{p['payment_id']}", {"description": "updated"})
    hs.confirm(p["payment_id"], {"payment_method": "card", "payment_method_data": {"card": {
        "card_number": "4242424242424242", "card_exp_month": "01", "card_exp_year": "2040", "card_cvc": "999"}}})
    hs.capture(p["payment_id"], {"amount_to_capture": 500})
    refund = hs.refund(p["payment_id"], amount=100).json
    hs.api.get(f"/hyperswitch/refunds/{refund['refund_id']}")
    hs.api.post(f"/hyperswitch/refunds/{refund['refund_id']}", {"reason": "r"})
    hs.api.post("/hyperswitch/refunds/list", {"payment_id": p["payment_id"]})
    hs.api.get("/hyperswitch/payments/list")
    hs.cancel(hs.create().json["payment_id"])
    hs.retrieve(p["payment_id"])
    hs.retrieve("missing")
    hs.capture("missing")
    hs.api.get("/hyperswitch/refunds/missing")
    assert spec_checked() - before == 15


def spec_checked() -> int:
    from tests.support.clients import CHECKED

    return CHECKED["responses"]
