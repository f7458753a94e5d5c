"""The GOV.UK Pay dialect against the provider's published OpenAPI document.

Every response the other tests receive is validated as it arrives; these tests
check the request field set against the spec and that the checker can fail.
"""

from __future__ import annotations

import pytest

from mock_psp.dialects.govuk import parse as wire
from tests.support import govuk_spec
from tests.support.spec import ConformanceError

pytestmark = pytest.mark.skipif(not govuk_spec.spec_available(), reason=govuk_spec.SKIP_REASON)


def schema(name: str) -> dict:
    return govuk_spec._spec()["components"]["schemas"][name]


def test_create_request_fields_match_the_spec():
    assert set(wire.CREATE_FIELDS) == set(schema("CreateCardPaymentRequest")["properties"])
    assert set(schema("CreateCardPaymentRequest")["required"]) == {"amount", "description", "reference", "return_url"}


def test_the_checker_rejects_a_misspelt_field(gov):
    body = gov.create().json
    body["refund_sumary"] = body.pop("refund_summary")
    with pytest.raises(ConformanceError, match="refund_sumary"):
        govuk_spec.check_response("POST", "/govuk/v1/payments", 201, body)


def test_the_checker_rejects_a_wrong_type(gov):
    body = gov.create().json
    body["amount"] = "1450"
    with pytest.raises(ConformanceError, match="amount"):
        govuk_spec.check_response("GET", f"/govuk/v1/payments/{body['payment_id']}", 200, body)


def test_the_checker_rejects_a_body_on_a_204():
    with pytest.raises(ConformanceError):
        govuk_spec.check_response("POST", "/govuk/v1/payments/x/cancel", 204, {"oops": True})


def test_the_checker_rejects_an_undeclared_status():
    with pytest.raises(ConformanceError, match="does not declare"):
        govuk_spec.check_response("GET", "/govuk/v1/payments/x", 418, {"code": "P0000", "description": "teapot"})
