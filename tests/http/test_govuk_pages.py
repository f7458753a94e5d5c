"""GOV.UK Pay's payment pages, driven like a browser without JavaScript, and GOV.UK webhooks."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tests.support.govuk_pages import Browser

CARD = {"card_number": "4444 3333 2222 1111", "expiry": "12/35", "cvc": "123", "cardholder_name": "Mr Test"}


def card(number: str) -> dict:
    return {**CARD, "card_number": number}


def test_the_journey_ends_at_return_url_with_nothing_added(gov, app):
    created = gov.create(return_url="https://service.example/return/42?x=1").json
    browser = Browser(app.test_client())
    card_page = browser.open(created["_links"]["next_url"]["href"])
    assert card_page.status == 200 and "/checkout/cs_" in card_page.url
    assert gov.get(created["payment_id"]).json["state"]["status"] == "started"
    confirm_page = browser.open(card_page.url, "POST", CARD)
    assert confirm_page.has("confirm-button") and "**** **** **** 1111" in confirm_page.html
    assert gov.get(created["payment_id"]).json["state"]["status"] == "submitted"
    done = browser.open(confirm_page.url, "POST", {})
    assert done.status == 303 and done.location == "https://service.example/return/42?x=1"
    assert gov.get(created["payment_id"]).json["state"] == {"status": "success", "finished": True}


def test_next_url_post_works_like_the_get_link(gov, app):
    created = gov.create().json
    post = created["_links"]["next_url_post"]
    page = Browser(app.test_client()).open(post["href"], "POST", post["params"])
    assert page.status == 200 and 'name="card_number"' in page.html


def test_next_url_is_single_use_for_other_browsers(gov, app):
    created = gov.create().json
    next_url = created["_links"]["next_url"]["href"]
    mine = Browser(app.test_client())
    assert mine.open(next_url).status == 200
    again = mine.open(next_url)
    assert again.status == 200 and 'name="card_number"' in again.html  # the same browser carries on
    stranger = Browser(app.test_client()).open(next_url)
    assert stranger.status == 403 and "Your payment session has expired" in stranger.html
    assert Browser(app.test_client()).open(next_url.rsplit("/", 1)[0] + "/not-a-token").status == 403


def test_card_pages_need_the_browser_that_used_the_link(gov, app):
    created = gov.create().json
    card_page = Browser(app.test_client()).open(created["_links"]["next_url"]["href"])
    stranger = Browser(app.test_client()).open(card_page.url)
    assert stranger.status == 403 and "Your payment session has expired" in stranger.html


@pytest.mark.parametrize("number, status, code, heading", [
    ("4000000000000002", "failed", "P0010", "Your payment has been declined"),
    ("4000000000000069", "failed", "P0010", "Your payment has been declined"),
    ("4000000000000127", "failed", "P0010", "Your payment has been declined"),
    ("4000000000000119", "error", "P0050", "technical problems"),
])
def test_sandbox_cards_decide_the_outcome(gov, app, number, status, code, heading):
    created = gov.create().json
    result = Browser(app.test_client()).submit_card(created["_links"]["next_url"]["href"], card(number))
    assert heading in result.html and result.has("payment-result")
    state = gov.get(created["payment_id"]).json["state"]
    assert (state["status"], state["code"]) == (status, code)


@pytest.mark.parametrize("number", ["4242424242424242", "5105105105105100", "371449635398431", "6011000990139424"])
def test_authorised_sandbox_cards_reach_the_confirm_page(gov, app, number):
    created = gov.create().json
    page = Browser(app.test_client()).submit_card(created["_links"]["next_url"]["href"], card(number))
    assert page.has("confirm-button")


def test_invalid_card_details_are_shown_inline_and_change_nothing(gov, app):
    created = gov.create().json
    page = Browser(app.test_client()).submit_card(created["_links"]["next_url"]["href"], {
        "card_number": "4444333322221112", "expiry": "01/20", "cvc": "1", "cardholder_name": ""})
    assert page.status == 400 and page.has("error-summary")
    for message in ("Enter a valid card number", "Enter a valid expiry date", "Enter a valid card security code",
                    "Enter the name as it appears on the card"):
        assert message in page.html
    assert gov.get(created["payment_id"]).json["state"]["status"] == "started"


def test_cancel_link_gives_p0030(gov, app):
    created = gov.create().json
    browser = Browser(app.test_client())
    card_page = browser.open(created["_links"]["next_url"]["href"])
    cancelled = browser.cancel_on(card_page)
    assert "Your payment has been cancelled" in cancelled.html
    assert gov.get(created["payment_id"]).json["state"] == {
        "status": "failed", "finished": True, "code": "P0030", "message": "Payment was cancelled by the user"}


def test_cancel_on_the_confirm_page_also_gives_p0030(gov, app):
    created = gov.create().json
    browser = Browser(app.test_client())
    confirm_page = browser.submit_card(created["_links"]["next_url"]["href"])
    browser.cancel_on(confirm_page)
    assert gov.get(created["payment_id"]).json["state"]["code"] == "P0030"


def test_expired_session_page_after_90_minutes(vgov, app):
    created = vgov.create().json
    browser = Browser(app.test_client())
    card_page = browser.open(created["_links"]["next_url"]["href"])
    vgov.advance(90 * 60)
    again = browser.open(card_page.url)
    assert "Your payment session has expired" in again.html
    assert vgov.get(created["payment_id"]).json["state"]["code"] == "P0020"


def test_a_card_needing_3ds_gets_a_challenge_page(gov, app):
    gov.control.post("/_mock/outcomes", {"next": ["3ds"]})
    created = gov.create().json
    browser = Browser(app.test_client())
    challenge = browser.submit_card(created["_links"]["next_url"]["href"])
    assert challenge.has("3ds-complete") and challenge.has("3ds-fail")
    confirm_page = browser.open(challenge.url, "POST", {"confirm": "true"})
    assert confirm_page.has("confirm-button")


def test_card_page_lists_the_sandbox_cards(gov, app):
    created = gov.create().json
    page = Browser(app.test_client()).open(created["_links"]["next_url"]["href"])
    assert "4000000000000002" in page.html and "4444333322221111" in page.html


# -- webhooks -------------------------------------------------------------------------


def test_govuk_webhooks_are_signed_and_shaped_like_the_real_ones(gov, app, receiver):
    gov.control.post("/_mock/webhook-endpoints", {"url": receiver.url, "scheme": "govuk"})
    created = gov.create().json
    Browser(app.test_client()).pay(created["_links"]["next_url"]["href"])
    gov.api.post(f"/govuk/v1/payments/{created['payment_id']}/refunds", {"amount": 100})
    gov.control.post("/_mock/webhooks/flush")
    events = [r.json for r in receiver.requests]
    assert [e["event_type"] for e in events] == ["card_payment_succeeded", "card_payment_captured",
                                                 "card_payment_refunded"]
    for request in receiver.requests:
        expected = hmac.new(gov.signing_secret.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["Pay-Signature"] == expected
    first = events[0]
    assert set(first) == {"webhook_message_id", "created_date", "resource_id", "api_version", "resource_type",
                          "event_type", "resource"}
    assert len(first["webhook_message_id"]) == 26 and first["api_version"] == 1
    assert first["resource_type"] == "payment" and first["resource_id"] == created["payment_id"]
    assert first["resource"]["state"]["status"] == "success" and "_links" not in first["resource"]
    refunded = events[2]
    assert refunded["resource_type"] == "refund" and refunded["resource"]["payment_id"] == created["payment_id"]


def test_delayed_capture_sends_succeeded_when_the_service_captures(gov, app, receiver):
    gov.control.post("/_mock/webhook-endpoints", {"url": receiver.url, "scheme": "govuk"})
    created = gov.create(delayed_capture=True).json
    Browser(app.test_client()).pay(created["_links"]["next_url"]["href"])
    gov.control.post("/_mock/webhooks/flush")
    assert receiver.requests == []
    gov.api.post(f"/govuk/v1/payments/{created['payment_id']}/capture")
    gov.control.post("/_mock/webhooks/flush")
    assert [r.json["event_type"] for r in receiver.requests] == ["card_payment_succeeded", "card_payment_captured"]


def test_failures_and_expiry_send_their_events(vgov, app, receiver):
    vgov.control.post("/_mock/webhook-endpoints", {"url": receiver.url, "scheme": "govuk"})
    declined = vgov.create().json
    Browser(app.test_client()).submit_card(declined["_links"]["next_url"]["href"], card("4000000000000002"))
    cancelled = vgov.create().json
    vgov.api.post(f"/govuk/v1/payments/{cancelled['payment_id']}/cancel")
    expired = vgov.create().json
    vgov.advance(90 * 60)
    by_payment = {r.json["resource_id"]: r.json["event_type"] for r in receiver.requests}
    assert by_payment == {declined["payment_id"]: "card_payment_failed",
                          cancelled["payment_id"]: "card_payment_failed",
                          expired["payment_id"]: "card_payment_expired"}


def test_card_payment_started_goes_only_to_endpoints_that_ask_for_it(gov, app, receiver):
    gov.control.post("/_mock/webhook-endpoints", {"url": receiver.url + "/all", "scheme": "govuk"})
    gov.control.post("/_mock/webhook-endpoints", {"url": receiver.url + "/started", "scheme": "govuk",
                                                  "events": ["card_payment_started"]})
    created = gov.create().json
    Browser(app.test_client()).open(created["_links"]["next_url"]["href"])
    gov.control.post("/_mock/webhooks/flush")
    assert [(r.path, r.json["event_type"]) for r in receiver.requests] == [
        ("/webhooks/started", "card_payment_started")]


def test_govuk_deliveries_use_the_govuk_schedule(vgov, app, receiver):
    receiver.respond_with(500)
    vgov.control.post("/_mock/webhook-endpoints", {"url": receiver.url, "scheme": "govuk"})
    created = vgov.create().json
    vgov.api.post(f"/govuk/v1/payments/{created['payment_id']}/cancel")
    vgov.advance(4 * 24 * 3600)
    [delivery] = vgov.control.get("/_mock/webhooks").json["data"]
    assert delivery["attempt_count"] == 6 and delivery["status"] == "given_up"
