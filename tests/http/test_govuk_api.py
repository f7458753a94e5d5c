"""GOV.UK Pay's public API: create, get, search, cancel, capture, refunds, events, errors."""

from __future__ import annotations

import re
import threading

import pytest

from tests.support.govuk_pages import Browser

DECLINED = {"card_number": "4000000000000002", "expiry": "12/35", "cvc": "123", "cardholder_name": "Ms Decline"}


def paid(gov, app, **fields) -> dict:
    created = gov.create(**fields).json
    Browser(app.test_client()).pay(created["_links"]["next_url"]["href"])
    return gov.get(created["payment_id"]).json


def test_create_answers_201_with_the_real_fields_and_links(gov):
    reply = gov.create(amount=1450, reference="REF-9", description="Licence", email="a@b.example",
                       metadata={"ledger": "AB100", "internal": True})
    assert reply.status == 201
    body = reply.json
    assert re.fullmatch(r"[a-z0-9]{26}", body["payment_id"])
    assert reply.headers["Location"].endswith(f"/govuk/v1/payments/{body['payment_id']}")
    assert body["state"] == {"status": "created", "finished": False}
    assert body["refund_summary"] == {"status": "pending", "amount_available": 1450, "amount_submitted": 0}
    assert body["settlement_summary"] == {}
    assert (body["payment_provider"], body["language"], body["delayed_capture"], body["moto"]) == (
        "sandbox", "en", False, False)
    assert body["metadata"] == {"ledger": "AB100", "internal": True}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["created_date"])
    links = body["_links"]
    assert set(links) == {"self", "next_url", "next_url_post", "events", "refunds", "cancel"}
    token = links["next_url"]["href"].rsplit("/", 1)[1]
    assert links["next_url_post"] == {"type": "application/x-www-form-urlencoded", "params": {"chargeTokenId": token},
                                      "href": links["next_url"]["href"].rsplit("/", 1)[0], "method": "POST"}
    assert links["cancel"]["method"] == "POST" and "capture" not in links
    assert reply.headers["Cache-Control"] == "no-store"


def test_every_read_of_an_unfinished_payment_mints_a_new_next_url(gov):
    created = gov.create().json
    first = created["_links"]["next_url"]["href"]
    again = gov.get(created["payment_id"]).json["_links"]["next_url"]["href"]
    assert first != again


def test_a_paid_payment_shows_card_details_and_settlement(gov, app):
    body = paid(gov, app)
    assert body["state"] == {"status": "success", "finished": True}
    assert body["card_details"] == {
        "last_digits_card_number": "1111", "first_digits_card_number": "444433", "cardholder_name": "Mr Test",
        "expiry_date": "12/35", "billing_address": None, "card_brand": "Visa", "card_type": None}
    assert set(body["settlement_summary"]) == {"capture_submit_time", "captured_date"}
    assert body["refund_summary"]["status"] == "available"
    assert set(body["_links"]) == {"self", "events", "refunds"}
    assert re.fullmatch(r"[0-9a-f-]+", body["provider_id"])


def test_missing_key_or_wrong_key_is_a_bare_401(gov):
    for headers in ({"Authorization": None}, {"Authorization": "Bearer api_test_wrong"},
                    {"Authorization": gov.api_key}):
        reply = gov.api.get("/govuk/v1/payments", headers=headers)
        assert reply.status == 401 and reply.text == ""


@pytest.mark.parametrize("body, status, code, field, description", [
    ({"amount": None}, 400, "P0101", "amount", "Missing mandatory attribute: amount"),
    ({"amount": "10"}, 400, "P0102", "amount", "Invalid attribute value: amount. Must be a valid numeric format"),
    ({"amount": 0}, 422, "P0102", "amount", "Invalid attribute value: amount. Must be greater than or equal to 1"),
    ({"amount": 10000001}, 422, "P0102", "amount",
     "Invalid attribute value: amount. Must be less than or equal to 10000000"),
    ({"reference": ""}, 400, "P0101", "reference", "Missing mandatory attribute: reference"),
    ({"reference": 5}, 400, "P0102", "reference", "Invalid attribute value: reference. Must be a valid string format"),
    ({"reference": "a<b"}, 400, "P0102", "reference",
     "Invalid attribute value: reference. Must be a valid string format"),
    ({"description": "x" * 256}, 422, "P0102", "description",
     "Invalid attribute value: description. Must be less than or equal to 255 characters length"),
    ({"return_url": "not a url"}, 422, "P0102", "return_url",
     "Invalid attribute value: return_url. Must be a valid URL format"),
    ({"return_url": None}, 400, "P0101", "return_url", "Missing mandatory attribute: return_url"),
    ({"delayed_capture": "yes"}, 400, "P0102", "delayed_capture",
     "Invalid attribute value: delayed_capture. Must be true or false"),
    ({"language": "fr"}, 422, "P0102", "language", 'Invalid attribute value: language. Must be "en" or "cy"'),
    ({"email": 7}, 400, "P0102", "email", "Invalid attribute value: email. Field must be a string"),
    ({"metadata": None}, 422, "P0102", "metadata", "Invalid attribute value: metadata. Value must not be null"),
    ({"metadata": {"k": {"nested": 1}}}, 422, "P0102", "metadata",
     "Invalid attribute value: metadata. Values must be of type String, Boolean or Number"),
    ({"metadata": {"x" * 31: "v"}}, 422, "P0102", "metadata",
     "Invalid attribute value: metadata. Keys must be between 1 and 30 characters long"),
    ({"metadata": {f"k{i}": i for i in range(11)}}, 422, "P0102", "metadata",
     "Invalid attribute value: metadata. Cannot have more than 10 key-value pairs"),
    ({"metadata": {"k": "v" * 51}}, 422, "P0102", "metadata",
     "Invalid attribute value: metadata. Values must be no greater than 50 characters long"),
    ({"agreement_id": "a" * 26}, 400, "P0104", "agreement_id", "Unexpected attribute: agreement_id"),
])
def test_create_validation_errors_match_the_real_api(gov, body, status, code, field, description):
    reply = gov.create(**body)
    assert reply.status == status, reply.text
    assert reply.json == {"field": field, "code": code, "description": description}


def test_bad_json_and_unknown_attributes(gov):
    reply = gov.api.post("/govuk/v1/payments", data="{nope")
    assert reply.status == 400 and reply.json == {"code": "P0197", "description": "Unable to parse JSON"}
    # the real parser reads only the fields it knows, so extras are ignored
    assert gov.create(colour="blue").status == 201


def test_idempotency_key_returns_the_original_payment_or_conflicts(gov):
    first = gov.create(headers={"Idempotency-Key": "order-77"})
    assert first.status == 201
    again = gov.create(headers={"Idempotency-Key": "order-77"})
    assert again.status == 200 and again.json["payment_id"] == first.json["payment_id"]
    assert "Location" not in again.headers or again.headers["Location"]
    other = gov.create(amount=999, headers={"Idempotency-Key": "order-77"})
    assert other.status == 409
    assert other.json == {"code": "P0191", "description":
                          "The `Idempotency-Key` you sent in the request header has already been used to create "
                          "a payment."}
    bad = gov.create(headers={"Idempotency-Key": "no spaces please"})
    assert bad.status == 422 and bad.json["header"] == "Idempotency-Key" and bad.json["code"] == "P0102"


def test_concurrent_requests_with_one_idempotency_key_create_one_payment(gov):
    replies, barrier = [], threading.Barrier(12)

    def create():
        barrier.wait()
        replies.append(gov.create(headers={"Idempotency-Key": "same-key"}))

    threads = [threading.Thread(target=create) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in replies) == [200] * 11 + [201]
    assert len({r.json["payment_id"] for r in replies}) == 1


def test_get_unknown_payment_is_p0200_and_other_dialects_payments_are_invisible(gov, hs):
    assert gov.get("nope").json == {"code": "P0200", "description": "Not found"}
    hs_payment = hs.create().json["payment_id"]
    assert gov.get(hs_payment).status == 404


def test_cancel_answers_204_then_the_payment_is_cancelled(gov):
    created = gov.create().json
    reply = gov.api.post(f"/govuk/v1/payments/{created['payment_id']}/cancel")
    assert reply.status == 204 and reply.text == ""
    body = gov.get(created["payment_id"]).json
    assert body["state"] == {"status": "cancelled", "finished": True, "code": "P0040",
                             "message": "Payment was cancelled by the service"}
    again = gov.api.post(f"/govuk/v1/payments/{created['payment_id']}/cancel")
    assert again.status == 400 and again.json == {"code": "P0501", "description": "Cancellation of payment failed"}
    assert gov.api.post("/govuk/v1/payments/nope/cancel").json["code"] == "P0500"


def test_delayed_capture_waits_as_capturable_until_captured(gov, app):
    created = gov.create(delayed_capture=True).json
    Browser(app.test_client()).pay(created["_links"]["next_url"]["href"])
    body = gov.get(created["payment_id"]).json
    assert body["state"] == {"status": "capturable", "finished": False}
    assert "capture" in body["_links"] and "next_url" not in body["_links"]
    assert body["refund_summary"]["status"] == "unavailable"
    assert gov.api.post(f"/govuk/v1/payments/{created['payment_id']}/capture").status == 204
    assert gov.get(created["payment_id"]).json["state"]["status"] == "success"
    again = gov.api.post(f"/govuk/v1/payments/{created['payment_id']}/capture")
    assert again.status == 409 and again.json == {"code": "P1003", "description": "Payment cannot be captured"}
    assert gov.api.post("/govuk/v1/payments/nope/capture").json["code"] == "P1000"


def test_capture_window_of_120_hours_expires_an_uncaptured_payment(vgov, app):
    created = vgov.create(delayed_capture=True).json
    Browser(app.test_client()).pay(created["_links"]["next_url"]["href"])
    vgov.advance(120 * 3600 - 1)
    assert vgov.get(created["payment_id"]).json["state"]["status"] == "capturable"
    vgov.advance(1)
    assert vgov.get(created["payment_id"]).json["state"] == {
        "status": "failed", "finished": True, "code": "P0020", "message": "Payment expired"}


def test_payment_expires_90_minutes_after_creation(vgov):
    created = vgov.create().json
    vgov.advance(90 * 60 - 1)
    assert vgov.get(created["payment_id"]).json["state"]["status"] == "created"
    vgov.advance(1)
    assert vgov.get(created["payment_id"]).json["state"]["code"] == "P0020"


def test_refunds_are_202_exact_and_guarded(gov, app):
    body = paid(gov, app, amount=1000)
    pid = body["payment_id"]
    reply = gov.api.post(f"/govuk/v1/payments/{pid}/refunds", {"amount": 300, "refund_amount_available": 1000})
    assert reply.status == 202
    refund = reply.json
    assert re.fullmatch(r"[a-z0-9]{26}", refund["refund_id"]) and refund["status"] == "success"
    assert refund["_links"]["payment"]["href"].endswith(f"/v1/payments/{pid}")
    stale = gov.api.post(f"/govuk/v1/payments/{pid}/refunds", {"amount": 100, "refund_amount_available": 1000})
    assert stale.status == 412 and stale.json == {"code": "P0604", "description": "Refund amount available mismatch."}
    too_much = gov.api.post(f"/govuk/v1/payments/{pid}/refunds", {"amount": 701})
    assert too_much.status == 400 and too_much.json == {
        "code": "P0603",
        "description": "The payment is not available for refund. Payment refund status: amount_not_available"}
    assert gov.api.post(f"/govuk/v1/payments/{pid}/refunds", {"amount": 700}).status == 202
    summary = gov.get(pid).json["refund_summary"]
    assert summary == {"status": "full", "amount_available": 0, "amount_submitted": 1000}
    full = gov.api.post(f"/govuk/v1/payments/{pid}/refunds", {"amount": 1})
    assert full.json["description"].endswith("Payment refund status: full")
    listed = gov.api.get(f"/govuk/v1/payments/{pid}/refunds").json
    assert listed["payment_id"] == pid and [r["amount"] for r in listed["_embedded"]["refunds"]] == [300, 700]
    one = gov.api.get(f"/govuk/v1/payments/{pid}/refunds/{refund['refund_id']}")
    assert one.status == 200 and one.json["amount"] == 300
    assert gov.api.get(f"/govuk/v1/payments/{pid}/refunds/nope").json["code"] == "P0700"


def test_refund_of_an_unfinished_payment_is_refused_with_its_summary_status(gov):
    created = gov.create().json
    reply = gov.api.post(f"/govuk/v1/payments/{created['payment_id']}/refunds", {"amount": 100})
    assert reply.status == 400
    assert reply.json["description"] == "The payment is not available for refund. Payment refund status: pending"
    missing = gov.api.post(f"/govuk/v1/payments/{created['payment_id']}/refunds", {})
    assert missing.status == 400 and missing.json["code"] == "P0601"
    zero = gov.api.post(f"/govuk/v1/payments/{created['payment_id']}/refunds", {"amount": 0})
    assert zero.status == 422 and zero.json["code"] == "P0602"
    assert gov.api.post("/govuk/v1/payments/nope/refunds", {"amount": 5}).json["code"] == "P0600"


def test_concurrent_refunds_keep_the_summary_exact(gov, app):
    body = paid(gov, app, amount=1000)
    replies, barrier = [], threading.Barrier(10)

    def refund():
        barrier.wait()
        replies.append(gov.api.post(f"/govuk/v1/payments/{body['payment_id']}/refunds", {"amount": 300}))

    threads = [threading.Thread(target=refund) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in replies) == [202] * 3 + [400] * 7
    assert gov.get(body["payment_id"]).json["refund_summary"] == {
        "status": "available", "amount_available": 100, "amount_submitted": 900}


def test_events_list_the_state_changes(gov, app):
    body = paid(gov, app)
    events = gov.api.get(f"/govuk/v1/payments/{body['payment_id']}/events").json
    assert [e["state"]["status"] for e in events["events"]] == ["created", "started", "submitted", "success"]
    assert events["events"][0]["_links"]["payment_url"]["href"].endswith(body["payment_id"])
    assert gov.api.get("/govuk/v1/payments/nope/events").json["code"] == "P0300"


def test_search_filters_pages_and_links(gov, app):
    paid_one = paid(gov, app, reference="INV-1", email="one@example.com")
    for i in range(3):
        gov.create(reference=f"INV-{i + 2}")
    everything = gov.api.get("/govuk/v1/payments").json
    assert (everything["total"], everything["count"], everything["page"]) == (4, 4, 1)
    assert set(everything["_links"]) == {"self", "first_page", "last_page"}
    by_reference = gov.api.get("/govuk/v1/payments?reference=INV-1").json
    assert [p["payment_id"] for p in by_reference["results"]] == [paid_one["payment_id"]]
    assert gov.api.get("/govuk/v1/payments?state=success").json["total"] == 1
    assert gov.api.get("/govuk/v1/payments?state=created").json["total"] == 3
    assert gov.api.get("/govuk/v1/payments?email=one@example.com").json["total"] == 1
    assert gov.api.get("/govuk/v1/payments?card_brand=visa&last_digits_card_number=1111").json["total"] == 1
    page2 = gov.api.get("/govuk/v1/payments?display_size=3&page=2").json
    assert page2["count"] == 1 and set(page2["_links"]) == {"self", "first_page", "last_page", "prev_page"}
    assert "page=1" in page2["_links"]["prev_page"]["href"] and "display_size=3" in page2["_links"]["self"]["href"]
    assert gov.api.get("/govuk/v1/payments?display_size=3&page=3").json == {"code": "P0402",
                                                                           "description": "Page not found"}
    bad = gov.api.get("/govuk/v1/payments?state=lost&display_size=501&from_date=yesterday")
    assert bad.status == 422 and bad.json == {"code": "P0401", "description":
                                              "Invalid parameters: state, display_size, from_date. "
                                              "See Public API documentation for the correct data formats"}


def test_refund_search(gov, app):
    body = paid(gov, app, amount=500)
    gov.api.post(f"/govuk/v1/payments/{body['payment_id']}/refunds", {"amount": 200})
    found = gov.api.get("/govuk/v1/refunds").json
    assert found["total"] == 1 and found["results"][0]["payment_id"] == body["payment_id"]
    assert gov.api.get("/govuk/v1/refunds?page=x").status == 422


def test_rate_limit_is_off_by_default_and_429_when_set(gov):
    for _ in range(20):
        assert gov.create().status == 201
    gov.configure(rate_limit={"post_per_second": 2})
    statuses = [gov.create().status for _ in range(5)]
    assert statuses.count(429) >= 2
    limited = next(r for r in (gov.create() for _ in range(3)) if r.status == 429)
    assert limited.json == {"code": "P0900", "description": "Too many requests"}


def test_unknown_govuk_route_is_json(gov):
    reply = gov.api.get("/govuk/v1/nothing")
    assert reply.status == 404 and reply.json["code"]


BAD_BODIES = [b"{", b"[]", b"null", b"", b'"x"', b'{"amount": []}', b'{"amount": 1e99}', b'{"amount": true}',
              b'{"metadata": "x"}', b'{"prefilled_cardholder_details": {"billing_address": 5}}',
              b'{"prefilled_cardholder_details": []}', b'{"refund_amount_available": "all", "amount": 5}',
              b'{"language": null}', b'{"moto": null}', b"\xff\xfe", b'{"return_url": "javascript:alert(1)"}']


@pytest.mark.parametrize("path", ["/govuk/v1/payments", "/govuk/v1/payments/{pid}/refunds",
                                  "/govuk/v1/payments/{pid}/cancel", "/govuk/v1/payments/{pid}/capture"])
@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_bodies_never_cause_a_server_error(gov, path, body):
    pid = gov.create().json["payment_id"]
    reply = gov.api.call("POST", path.format(pid=pid), data=body)
    assert reply.status < 500, reply.text
    if reply.status >= 400:
        assert reply.json["code"].startswith("P")
