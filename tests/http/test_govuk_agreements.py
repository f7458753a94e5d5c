"""GOV.UK Pay's recurring card payments: agreements, the payment that sets one up, payments
taken with one, cancel and search. Codes and texts from pay-publicapi (docs/govuk.md)."""

from __future__ import annotations

import pytest

from tests.support.govuk_pages import Browser

CARD = {"card_number": "4444 3333 2222 1111", "expiry": "12/35", "cvc": "123", "cardholder_name": "Mr Test"}


def create_agreement(gov, **fields):
    return gov.api.post("/govuk/v1/agreements", {"reference": "CT-22-23-0001",
                                                  "description": "Council tax 2022/23", **fields})


def agreement(gov, agreement_id: str) -> dict:
    reply = gov.api.get(f"/govuk/v1/agreements/{agreement_id}")
    assert reply.status == 200, reply.text
    return reply.json


def pay_on_the_pages(gov, app, payment: dict, card_number: str = CARD["card_number"]) -> None:
    browser = Browser(app.test_client())
    card_page = browser.open(payment["_links"]["next_url"]["href"])
    confirm = browser.open(card_page.url, "POST", {**CARD, "card_number": card_number})
    if confirm.has("confirm-button"):
        browser.open(confirm.url, "POST", {})


def active_agreement(gov, app) -> str:
    made = create_agreement(gov).json
    setup = gov.create(set_up_agreement=made["agreement_id"]).json
    pay_on_the_pages(gov, app, setup)
    assert agreement(gov, made["agreement_id"])["status"] == "active"
    return made["agreement_id"]


def agreement_payment(gov, agreement_id: str, extra: dict | None = None, **fields):
    body = {"amount": 2000, "reference": "CT-2", "description": "Instalment 2", "authorisation_mode": "agreement",
            "agreement_id": agreement_id, **fields}
    body.update(extra or {})  # a test may replace agreement_id itself
    return gov.api.post("/govuk/v1/payments", body)


# -- agreements -----------------------------------------------------------------------------


def test_an_agreement_is_created_with_its_own_id_and_no_location(gov):
    reply = create_agreement(gov, user_identifier="user-3fb81107")
    assert reply.status == 201 and "Location" not in reply.headers
    body = reply.json
    assert len(body["agreement_id"]) == 26 and body["status"] == "created"
    assert (body["reference"], body["description"], body["user_identifier"]) == (
        "CT-22-23-0001", "Council tax 2022/23", "user-3fb81107")
    assert "payment_instrument" not in body and "cancelled_date" not in body
    assert agreement(gov, body["agreement_id"]) == body


@pytest.mark.parametrize("body, status, code, field, description", [
    ({"description": "d"}, 400, "P2101", "reference", "Missing mandatory attribute: reference"),
    ({"reference": "  ", "description": "d"}, 400, "P2101", "reference", "Missing mandatory attribute: reference"),
    ({"reference": "r"}, 400, "P2101", "description", "Missing mandatory attribute: description"),
    ({"reference": 12, "description": "d"}, 400, "P2102", "reference",
     "Invalid attribute value: reference. Must be a valid string format"),
    ({"reference": "a<b", "description": "d"}, 400, "P2102", "reference",
     "Invalid attribute value: reference. Must be a valid string format"),
    ({"reference": "r", "description": "d", "user_identifier": 5}, 400, "P2102", "user_identifier",
     "Invalid attribute value: user_identifier. Field must be a string"),
    ({"reference": "r" * 256, "description": "d"}, 422, "P0102", "reference",
     "Invalid attribute value: reference. Must be less than or equal to 255 characters length"),
    ({"reference": "r", "description": "d", "user_identifier": ""}, 422, "P0102", "user_identifier",
     "Invalid attribute value: user_identifier. Must be less than or equal to 255 characters length"),
])
def test_agreement_validation_errors_match_the_real_api(gov, body, status, code, field, description):
    reply = gov.api.post("/govuk/v1/agreements", body)
    assert (reply.status, reply.json) == (status, {"field": field, "code": code, "description": description})


def test_an_agreement_body_that_is_not_json_is_p2197(gov):
    reply = gov.api.call("POST", "/govuk/v1/agreements", data=b"{not json")
    assert (reply.status, reply.json) == (400, {"code": "P2197", "description": "Unable to parse JSON"})


def test_an_unknown_agreement_is_p2200_and_unknown_attributes_are_ignored(gov):
    assert gov.api.get("/govuk/v1/agreements/" + "x" * 26).json == {"code": "P2200", "description": "Not found"}
    assert create_agreement(gov, colour="red").status == 201


# -- setting one up ------------------------------------------------------------------------


def test_a_set_up_payment_is_a_web_payment_that_activates_the_agreement_with_its_card(gov, app):
    made = create_agreement(gov).json
    setup = gov.create(set_up_agreement=made["agreement_id"]).json
    assert setup["agreement_id"] == made["agreement_id"] and "next_url" in setup["_links"]
    pay_on_the_pages(gov, app, setup)
    active = agreement(gov, made["agreement_id"])
    assert active["status"] == "active"
    instrument = active["payment_instrument"]
    assert instrument["type"] == "card" and instrument["created_date"].endswith("Z")
    assert instrument["card_details"]["last_digits_card_number"] == "1111"
    assert instrument["card_details"]["card_brand"] == "Visa"


def test_a_failed_set_up_payment_leaves_the_agreement_created(gov, app):
    made = create_agreement(gov).json
    setup = gov.create(set_up_agreement=made["agreement_id"]).json
    pay_on_the_pages(gov, app, setup, "4000000000000002")
    assert gov.get(setup["payment_id"]).json["state"]["status"] == "failed"
    assert agreement(gov, made["agreement_id"])["status"] == "created"


def test_setting_up_an_unknown_agreement_is_p0103(gov):
    reply = gov.create(set_up_agreement="a" * 26)
    assert (reply.status, reply.json) == (400, {
        "field": "set_up_agreement", "code": "P0103",
        "description": "Invalid attribute value: set_up_agreement. Agreement ID does not exist"})


# -- payments taken with it -----------------------------------------------------------------


def test_an_agreement_payment_starts_then_is_authorised_with_the_saved_card(vgov, app):
    agreement_id = active_agreement(vgov, app)
    reply = agreement_payment(vgov, agreement_id, agreement_payment_type="recurring")
    assert reply.status == 201
    body = reply.json
    assert body["state"] == {"status": "started", "finished": False}
    assert body["authorisation_mode"] == "agreement" and body["agreement_id"] == agreement_id
    assert body["agreement_payment_type"] == "recurring" and "return_url" not in body
    assert {"next_url", "next_url_post", "cancel"}.isdisjoint(body["_links"])
    vgov.advance(0)  # the queued authorisation runs
    paid = vgov.get(body["payment_id"]).json
    assert paid["state"] == {"status": "success", "finished": True}
    assert paid["card_details"]["last_digits_card_number"] == "1111"
    found = vgov.api.get(f"/govuk/v1/payments?agreement_id={agreement_id}").json
    assert {p["payment_id"] for p in found["results"]} >= {body["payment_id"]}


def test_a_declined_agreement_payment_says_whether_it_can_be_retried(vgov, app):
    agreement_id = active_agreement(vgov, app)
    vgov.control.post("/_mock/outcomes", {"next": ["declined"]})
    made = agreement_payment(vgov, agreement_id).json
    vgov.advance(0)
    state = vgov.get(made["payment_id"]).json["state"]
    assert state["status"] == "failed" and state["can_retry"] is True
    web = vgov.create().json
    assert "can_retry" not in vgov.get(web["payment_id"]).json["state"]


@pytest.mark.parametrize("extra, status, body", [
    ({"return_url": "https://service.example/r"}, 400, {"code": "P0104", "description": "Unexpected attribute: return_url"}),
    ({"email": "a@b.example"}, 400, {"code": "P0104", "description": "Unexpected attribute: email"}),
    ({"set_up_agreement": "b" * 26}, 400, {"code": "P0104", "description": "Unexpected attribute: set_up_agreement"}),
    ({"agreement_id": "short"}, 422, {"field": "agreement_id", "code": "P0102",
                                      "description": "Invalid attribute value: agreement_id. Field [agreement_id] length must be 26"}),
    ({"agreement_id": None}, 400, {"field": "agreement_id", "code": "P0101",
                                   "description": "Missing mandatory attribute: agreement_id"}),
    ({"agreement_id": "c" * 26}, 400, {"field": "agreement_id", "code": "P0102",
                                       "description": "Invalid attribute value: agreement_id. Agreement does not exist"}),
    ({"agreement_payment_type": "weekly"}, 422, {"field": "agreement_payment_type", "code": "P0102",
     "description": "Invalid attribute value: agreement_payment_type. Must be one of instalment, recurring, unscheduled"}),
])
def test_agreement_payment_errors_match_the_real_api(gov, app, extra, status, body):
    agreement_id = active_agreement(gov, app)
    reply = agreement_payment(gov, agreement_id, extra)
    assert (reply.status, reply.json) == (status, body)


def test_an_agreement_that_is_not_active_cannot_take_a_payment(gov):
    created = create_agreement(gov).json
    reply = agreement_payment(gov, created["agreement_id"])
    assert reply.json == {"field": "agreement_id", "code": "P0102",
                          "description": "Invalid attribute value: agreement_id. Agreement must be active"}


def test_agreement_id_without_the_agreement_mode_is_unexpected(gov):
    reply = gov.create(agreement_id="a" * 26)
    assert reply.status == 400 and reply.json["code"] == "P0104"


# -- cancel and search ---------------------------------------------------------------------------


def test_cancelling_an_active_agreement_stops_its_payments(gov, app):
    agreement_id = active_agreement(gov, app)
    reply = gov.api.post(f"/govuk/v1/agreements/{agreement_id}/cancel", None)
    assert reply.status == 204 and reply.text == ""
    cancelled = agreement(gov, agreement_id)
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_date"].endswith("Z")
    assert agreement_payment(gov, agreement_id).json["description"].endswith("Agreement must be active")
    again = gov.api.post(f"/govuk/v1/agreements/{agreement_id}/cancel", None)
    assert (again.status, again.json) == (400, {"code": "P2501", "description": "Cancellation of agreement failed"})
    unknown = gov.api.post("/govuk/v1/agreements/" + "z" * 26 + "/cancel", None)
    assert (unknown.status, unknown.json) == (404, {"code": "P2500", "description": "Not found"})


def test_a_cancelled_agreement_can_be_set_up_again(gov, app):
    agreement_id = active_agreement(gov, app)
    gov.api.post(f"/govuk/v1/agreements/{agreement_id}/cancel", None)
    pay_on_the_pages(gov, app, gov.create(set_up_agreement=agreement_id).json)
    again = agreement(gov, agreement_id)
    assert again["status"] == "active" and "cancelled_date" not in again


def test_agreements_are_searched_newest_first_by_status_and_reference(gov, app):
    active = active_agreement(gov, app)
    created = create_agreement(gov, reference="OTHER-REF").json["agreement_id"]
    everything = gov.api.get("/govuk/v1/agreements").json
    assert [a["agreement_id"] for a in everything["results"]] == [created, active]
    assert everything["total"] == 2 and everything["_links"]["self"]["href"].endswith("/v1/agreements?page=1")
    assert [a["agreement_id"] for a in gov.api.get("/govuk/v1/agreements?status=active").json["results"]] == [active]
    by_reference = gov.api.get("/govuk/v1/agreements?reference=other-ref").json["results"]
    assert [a["agreement_id"] for a in by_reference] == [created]


def test_bad_agreement_search_parameters_are_named(gov):
    reply = gov.api.get("/govuk/v1/agreements?status=CREATED&page=0&display_size=501")
    assert (reply.status, reply.json) == (422, {
        "code": "P2401",
        "description": "Invalid parameters: status, page, display_size. See Public API documentation for the "
                       "correct data formats"})
    assert gov.api.get("/govuk/v1/agreements?page=9").json == {"code": "P2402", "description": "Page not found"}
