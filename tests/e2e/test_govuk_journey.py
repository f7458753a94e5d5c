"""A GOV.UK Pay service's whole journey against a live provider, over HTTP only."""

from __future__ import annotations

import hashlib
import hmac

import pytest
import requests

from tests.conftest import new_namespace
from tests.support.clients import Api
from tests.support.clients import Govuk
from tests.support.clients import LiveTransport
from tests.support.govuk_pages import Browser

pytestmark = pytest.mark.e2e


def test_create_pay_confirm_return_verify_webhook_and_refund(live_provider, receiver):
    transport = LiveTransport(live_provider.url)
    service = Govuk(transport, new_namespace(Api(transport)))
    assert service.control.post("/_mock/webhook-endpoints", {"url": receiver.url, "scheme": "govuk"}).status == 201

    created = service.create(amount=2500, reference="APPLICATION-7", description="Licence fee",
                             return_url="https://service.example/applications/7/done")
    assert created.status == 201
    payment_id = created.json["payment_id"]

    citizen = Browser(requests.Session())
    done = citizen.pay(created.json["_links"]["next_url"]["href"], {
        "card_number": "4444333322221111", "expiry": "11/34", "cvc": "321", "cardholder_name": "A Citizen"})
    assert done.status == 303 and done.location == "https://service.example/applications/7/done"

    payment = service.get(payment_id).json
    assert payment["state"] == {"status": "success", "finished": True}
    assert payment["card_details"]["last_digits_card_number"] == "1111"

    [succeeded, captured] = receiver.wait_for(2, timeout=10)
    for request in (succeeded, captured):
        signature = hmac.new(service.signing_secret.encode(), request.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(request.headers["Pay-Signature"], signature)
    assert (succeeded.json["event_type"], succeeded.json["resource_id"]) == ("card_payment_succeeded", payment_id)

    refund = service.api.post(f"/govuk/v1/payments/{payment_id}/refunds",
                              {"amount": 1000, "refund_amount_available": 2500})
    assert refund.status == 202 and refund.json["status"] == "success"
    assert service.get(payment_id).json["refund_summary"] == {
        "status": "available", "amount_available": 1500, "amount_submitted": 1000}
    refunded = receiver.wait_for(3, timeout=10)[2]
    assert refunded.json["event_type"] == "card_payment_refunded"
