"""GOV.UK Pay MOTO API payments: authorisation_mode "moto_api" and POST /v1/auth.

The service takes the card by phone or post and sends it itself with the
payment's single-use one_time_token; no payment pages, no 3DS, no confirm step.
Codes and messages are pay-publicapi's and pay-connector's (see docs/govuk.md).
"""

from __future__ import annotations

import hashlib
import hmac
import threading

import pytest

from tests.support.clients import Govuk
from tests.support.govuk_pages import Browser


def moto_payment(gov: Govuk, **fields) -> tuple[str, str]:
    """A new moto_api payment: (payment_id, one_time_token)."""
    reply = gov.create_moto(**fields)
    assert reply.status == 201, reply.text
    body = reply.json
    return body["payment_id"], body["_links"]["auth_url_post"]["params"]["one_time_token"]


def state(gov: Govuk, payment_id: str) -> dict:
    return gov.get(payment_id).json["state"]


REJECTED = {"status": "failed", "finished": True, "code": "P0010", "message": "Payment method rejected"}


# -- creating ----------------------------------------------------------------------------


def test_a_moto_api_payment_offers_auth_url_post_and_no_next_url(gov):
    reply = gov.create_moto()
    assert reply.status == 201, reply.text
    body = reply.json
    assert body["authorisation_mode"] == "moto_api" and body["moto"] is True
    assert "return_url" not in body and body["state"] == {"status": "created", "finished": False}
    links = body["_links"]
    assert set(links) == {"self", "auth_url_post", "events", "refunds", "cancel"}
    token = links["auth_url_post"]["params"]["one_time_token"]
    assert links["auth_url_post"] == {"type": "application/json", "params": {"one_time_token": token},
                                      "href": "http://localhost/govuk/v1/auth", "method": "POST"}
    again = gov.get(body["payment_id"]).json["_links"]
    assert "next_url" not in again and again["auth_url_post"]["params"]["one_time_token"] != token


def test_return_url_is_refused_for_moto_api_and_still_required_for_web(gov):
    refused = gov.create_moto(return_url="https://service.example/return")
    assert refused.status == 400
    assert refused.json == {"code": "P0104", "description": "Unexpected attribute: return_url"}
    wrong_type = gov.create_moto(return_url=5)
    assert wrong_type.status == 400 and wrong_type.json["code"] == "P0102"
    assert gov.create_moto(return_url=None).status == 201
    web = gov.api.post("/govuk/v1/payments", {"amount": 100, "reference": "R", "description": "D"})
    assert web.status == 400 and web.json["description"] == "Missing mandatory attribute: return_url"


def test_an_unknown_authorisation_mode_is_refused(gov):
    reply = gov.create_moto(authorisation_mode="telephone")
    assert reply.status == 422 and reply.json == {
        "field": "authorisation_mode", "code": "P0102",
        "description": "Invalid attribute value: authorisation_mode. Must be one of web, moto_api, agreement"}
    assert gov.create_moto(authorisation_mode=7).status == 400


# -- authorising -------------------------------------------------------------------------


def test_a_good_card_answers_204_and_the_payment_succeeds_at_once(gov):
    payment_id, token = moto_payment(gov, amount=2500)
    reply = gov.authorise(token)
    assert reply.status == 204 and reply.text == ""
    body = gov.get(payment_id).json
    assert body["state"] == {"status": "success", "finished": True}
    assert body["card_details"]["last_digits_card_number"] == "1111"
    assert body["card_details"]["cardholder_name"] == "Ms Phone" and body["card_details"]["expiry_date"] == "12/35"
    assert body["refund_summary"] == {"status": "available", "amount_available": 2500, "amount_submitted": 0}
    assert set(body["_links"]) == {"self", "events", "refunds"}
    events = gov.api.get(f"/govuk/v1/payments/{payment_id}/events").json["events"]
    assert [e["state"]["status"] for e in events] == ["created", "success"]
    assert gov.api.post(f"/govuk/v1/payments/{payment_id}/refunds", {"amount": 500}).status == 202


def test_delayed_capture_leaves_the_payment_capturable_until_the_service_captures(gov):
    payment_id, token = moto_payment(gov, delayed_capture=True)
    assert gov.authorise(token).status == 204
    body = gov.get(payment_id).json
    assert body["state"] == {"status": "capturable", "finished": False}
    assert "capture" in body["_links"] and "auth_url_post" not in body["_links"]
    assert gov.api.post(f"/govuk/v1/payments/{payment_id}/capture").status == 204
    assert state(gov, payment_id) == {"status": "success", "finished": True}


def test_an_uncaptured_moto_payment_expires_after_120_hours(vgov):
    payment_id, token = moto_payment(vgov, delayed_capture=True)
    assert vgov.authorise(token).status == 204
    vgov.advance(120 * 3600 - 1)
    assert state(vgov, payment_id)["status"] == "capturable"
    vgov.advance(1)
    assert state(vgov, payment_id)["code"] == "P0020"


@pytest.mark.parametrize("number", ["4000000000000002", "4000000000000069", "4000000000000127"])
def test_a_declined_sandbox_card_is_402_p0010_and_the_payment_fails(gov, number):
    payment_id, token = moto_payment(gov)
    reply = gov.authorise(token, card_number=number)
    assert reply.status == 402
    assert reply.json == {"code": "P0010", "description": "The payment was rejected"}
    assert state(gov, payment_id) == REJECTED


def test_the_error_sandbox_card_is_500_p0050(gov):
    payment_id, token = moto_payment(gov)
    reply = gov.authorise(token, card_number="4000000000000119")
    assert reply.status == 500
    assert reply.json == {"code": "P0050", "description": "There was an error authorising the payment"}
    assert state(gov, payment_id)["code"] == "P0050"


def test_a_card_number_failing_the_check_digit_is_402_and_fails_the_payment(gov):
    payment_id, token = moto_payment(gov)
    reply = gov.authorise(token, card_number="4242424242424241")
    assert reply.status == 402
    assert reply.json == {"code": "P0010", "description": "The card_number is not a valid card number"}
    assert state(gov, payment_id) == REJECTED
    assert "card_details" not in gov.get(payment_id).json  # never sent for authorisation
    assert gov.authorise(token).json["code"] == "P1212"  # the token went with it


def test_success_rate_and_card_policy_decide_other_cards(gov):
    gov.configure(success_rates={"card": 0.0})
    _, token = moto_payment(gov)
    assert gov.authorise(token, card_number="4012888888881881").status == 402
    gov.configure(success_rates={"card": 1.0}, card_policy="strict")
    _, token = moto_payment(gov)
    assert gov.authorise(token, card_number="4012888888881881").json["code"] == "P0050"


def test_scripted_outcomes_win_and_3ds_is_skipped_for_moto(gov):
    gov.control.post("/_mock/outcomes", {"next": ["3ds", "3ds_failed", "declined", "succeeded"]})
    results = []
    for _ in range(4):
        payment_id, token = moto_payment(gov)
        results.append((gov.authorise(token).status, state(gov, payment_id)["status"]))
    assert results == [(204, "success"), (402, "failed"), (402, "failed"), (204, "success")]


def test_a_scripted_processing_outcome_is_an_error_now_and_finishes_on_the_clock(vgov):
    vgov.control.post("/_mock/outcomes", {"next": ["processing"]})
    payment_id, token = moto_payment(vgov)
    reply = vgov.authorise(token)
    assert reply.status == 500 and reply.json["code"] == "P0050"
    assert state(vgov, payment_id)["status"] == "submitted"
    vgov.advance(10)
    assert state(vgov, payment_id) == {"status": "success", "finished": True}


# -- the one-time token ------------------------------------------------------------------


def test_the_one_time_token_is_single_use(gov):
    _, token = moto_payment(gov)
    assert gov.authorise(token).status == 204
    again = gov.authorise(token)
    assert again.status == 400
    assert again.json == {"code": "P1212", "description": "The one_time_token has already been used"}


def test_an_unknown_token_is_p1211(gov):
    reply = gov.authorise("not-a-token")
    assert reply.status == 400
    assert reply.json == {"code": "P1211", "description": "The one_time_token is not valid"}


def test_a_web_payments_token_is_not_a_moto_token_and_is_not_used_up(gov, app):
    created = gov.create().json
    token = created["_links"]["next_url_post"]["params"]["chargeTokenId"]
    reply = gov.authorise(token)
    assert reply.status == 400
    assert reply.json == {"code": "P1211", "description": "The one_time_token is not a valid moto api token"}
    Browser(app.test_client()).pay(created["_links"]["next_url"]["href"])
    assert state(gov, created["payment_id"])["status"] == "success"


def test_another_accounts_token_is_not_valid_and_stays_usable(gov, transport, control):
    other = Govuk(transport, control.post("/_mock/namespaces", {}).json)
    payment_id, token = moto_payment(gov)
    reply = other.authorise(token)
    assert reply.status == 400 and reply.json["code"] == "P1211"
    assert state(gov, payment_id)["status"] == "created"
    assert gov.authorise(token).status == 204


def test_a_wrong_key_is_a_bare_401(gov):
    _, token = moto_payment(gov)
    reply = gov.api.post("/govuk/v1/auth", {"one_time_token": token}, headers={"Authorization": "Bearer nope"})
    assert reply.status == 401 and reply.text == ""


def test_a_finished_payment_cannot_be_authorised(gov):
    payment_id, token = moto_payment(gov)
    assert gov.api.post(f"/govuk/v1/payments/{payment_id}/cancel").status == 204
    reply = gov.authorise(token)
    assert reply.status == 500 and reply.json == {"code": "P0198", "description": "Downstream system error"}
    assert state(gov, payment_id)["code"] == "P0040"


# -- the body ----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["one_time_token", "card_number", "cvc", "expiry_date", "cardholder_name"])
@pytest.mark.parametrize("how", ["absent", "null"])
def test_a_missing_field_is_422_p0101_naming_it(gov, field, how):
    _, token = moto_payment(gov)
    body = {"one_time_token": token, "card_number": "4444333322221111", "cvc": "123", "expiry_date": "12/35",
            "cardholder_name": "Ms Phone"}
    if how == "absent":
        del body[field]
    else:
        body[field] = None
    reply = gov.api.post("/govuk/v1/auth", body)
    assert reply.status == 422
    assert reply.json == {"field": field, "code": "P0101", "description": f"Missing mandatory attribute: {field}"}
    assert gov.authorise(token).status == 204  # a refused body leaves the token unused


@pytest.mark.parametrize("card, body", [
    ({"one_time_token": "  "}, {"field": "one_time_token", "code": "P0101",
                                "description": "Missing mandatory attribute: one_time_token"}),
    ({"cardholder_name": " "}, {"field": "cardholder_name", "code": "P0101",
                                "description": "Missing mandatory attribute: cardholder_name"}),
    ({"card_number": ""}, {"field": "card_number", "code": "P0102",
                           "description": "Invalid attribute value: card_number. Must be between 12 and 19 "
                                          "characters long"}),
    ({"card_number": "4242"}, {"field": "card_number", "code": "P0102",
                               "description": "Invalid attribute value: card_number. Must be between 12 and 19 "
                                              "characters long"}),
    ({"card_number": "4242 4242 4242 4242"}, {"code": "P0102", "description":
                                              "Invalid attribute value: card_number. Must be a valid card number"}),
    ({"cvc": "12"}, {"field": "cvc", "code": "P0102",
                     "description": "Invalid attribute value: cvc. Must be between 3 and 4 characters long"}),
    ({"cvc": "12a"}, {"code": "P0102", "description": "Invalid attribute value: cvc. Must contain numbers only"}),
    ({"expiry_date": "1/35"}, {"field": "expiry_date", "code": "P0102",
                               "description": "Invalid attribute value: expiry_date. Must be a valid date with the "
                                              "format MM/YY"}),
    ({"expiry_date": "13/35"}, {"code": "P0102", "description": "Invalid attribute value: expiry_date. Must be a "
                                                               "valid date with the format MM/YY"}),
    ({"cardholder_name": "x" * 256}, {"field": "cardholder_name", "code": "P0102",
                                      "description": "Invalid attribute value: cardholder_name. Must be less than "
                                                     "or equal to 255 characters long"}),
])
def test_invalid_values_are_422_p0102_with_the_real_messages(gov, card, body):
    _, token = moto_payment(gov)
    reply = gov.authorise(card.pop("one_time_token", token), **card)
    assert reply.status == 422
    assert reply.json == body
    assert gov.authorise(token).status == 204


def test_an_expired_card_is_refused_with_12_hours_grace(vgov):
    vgov.control.post("/_mock/clock/set", {"now": "2030-06-15T09:00:00Z"})
    _, token = moto_payment(vgov)
    expired = vgov.authorise(token, expiry_date="05/30")
    assert expired.status == 422
    assert expired.json == {"code": "P0102",
                            "description": "Invalid attribute value: expiry_date. Must be a valid date in the future"}
    vgov.control.post("/_mock/clock/set", {"now": "2030-07-01T11:00:00Z"})
    _, token = moto_payment(vgov)  # the first one expired on the way
    assert vgov.authorise(token, expiry_date="06/30").status == 204  # still June somewhere behind UTC
    _, token = moto_payment(vgov)
    vgov.control.post("/_mock/clock/set", {"now": "2030-07-01T12:00:00Z"})
    assert vgov.authorise(token, expiry_date="06/30").status == 422


@pytest.mark.parametrize("data", [b"{", b"[]", b"null", b"", b'"x"', b"\xff\xfe", b"{}", b'{"card_number": 4}',
                                  b'{"one_time_token": {"a": 1}}', b'{"cvc": [1, 2, 3]}'],
                         ids=range(10))
def test_bad_json_and_wrong_types_never_give_a_server_error(gov, data):
    reply = gov.api.call("POST", "/govuk/v1/auth", data=data)
    assert 400 <= reply.status < 500, reply.text
    assert reply.json["code"].startswith("P")


def test_bad_json_is_p0197_and_a_structured_value_is_not_a_string(gov):
    bad = gov.api.call("POST", "/govuk/v1/auth", data=b"{nope")
    assert bad.status == 400 and bad.json == {"code": "P0197", "description": "Unable to parse JSON"}
    _, token = moto_payment(gov)
    wrong = gov.authorise(token, card_number=["4444333322221111"])
    assert wrong.status == 422 and wrong.json == {
        "field": "card_number", "code": "P0102",
        "description": "Invalid attribute value: card_number. Must be a valid String format"}


def test_numbers_are_read_as_text_and_unknown_fields_are_ignored(gov):
    payment_id, token = moto_payment(gov)
    reply = gov.authorise(token, card_number=4444333322221111, cvc=123, colour="blue")
    assert reply.status == 204, reply.text
    assert state(gov, payment_id)["status"] == "success"


# -- webhooks and the payment pages ---------------------------------------------------------


def test_webhooks_are_sent_as_for_a_web_payment(gov, receiver):
    gov.control.post("/_mock/webhook-endpoints", {"url": receiver.url, "scheme": "govuk"})
    paid_id, token = moto_payment(gov)
    gov.authorise(token)
    declined_id, token = moto_payment(gov)
    gov.authorise(token, card_number="4000000000000002")
    gov.control.post("/_mock/webhooks/flush")
    events = [(r.json["resource_id"], r.json["event_type"]) for r in receiver.requests]
    assert events == [(paid_id, "card_payment_succeeded"), (paid_id, "card_payment_captured"),
                      (declined_id, "card_payment_failed")]
    first = receiver.requests[0]
    assert first.headers["Pay-Signature"] == hmac.new(gov.signing_secret.encode(), first.body,
                                                      hashlib.sha256).hexdigest()
    resource = first.json["resource"]
    assert resource["authorisation_mode"] == "moto_api" and resource["state"]["status"] == "success"


def test_delayed_capture_sends_succeeded_only_when_the_service_captures(gov, receiver):
    gov.control.post("/_mock/webhook-endpoints", {"url": receiver.url, "scheme": "govuk"})
    payment_id, token = moto_payment(gov, delayed_capture=True)
    gov.authorise(token)
    gov.control.post("/_mock/webhooks/flush")
    assert receiver.requests == []
    gov.api.post(f"/govuk/v1/payments/{payment_id}/capture")
    gov.control.post("/_mock/webhooks/flush")
    assert [r.json["event_type"] for r in receiver.requests] == ["card_payment_succeeded", "card_payment_captured"]


def test_a_moto_payment_cannot_be_paid_through_the_payment_pages(gov, app):
    payment_id, token = moto_payment(gov)
    browser = Browser(app.test_client())
    for page in (browser.open(f"/govuk/secure/{token}"),
                 browser.open("/govuk/secure", "POST", {"chargeTokenId": token})):
        assert page.status == 403 and "Your payment session has expired" in page.html
        assert 'name="card_number"' not in page.html
    assert state(gov, payment_id)["status"] == "created"
    assert gov.authorise(token).status == 204


def test_concurrent_authorisations_with_one_token_authorise_once(gov):
    payment_id, token = moto_payment(gov)
    replies, barrier = [], threading.Barrier(8)

    def authorise():
        barrier.wait()
        replies.append(gov.authorise(token))

    threads = [threading.Thread(target=authorise) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in replies) == [204] + [400] * 7
    assert {r.json["code"] for r in replies if r.status == 400} == {"P1212"}
    events = gov.api.get(f"/govuk/v1/payments/{payment_id}/events").json["events"]
    assert [e["state"]["status"] for e in events] == ["created", "success"]
