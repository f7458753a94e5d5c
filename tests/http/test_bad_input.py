"""Hostile input found in issue 14, each answered in its own dialect's error, never a 500:
Unicode digits, numbers past every bound, lone surrogates, return URLs that are not web
pages, and duplicate JSON keys."""

from __future__ import annotations

import json
import re

import pytest

from mock_psp.test_merchant import app as test_merchant
from tests.support.clients import card

NOWHERE = "http://127.0.0.1:9"


def raw(app, method: str, path: str, body: str | bytes, headers: dict | None = None):
    return app.test_client().open(path, method=method, data=body,
                                  headers={"Content-Type": "application/json", **(headers or {})})


def hs_key(hs) -> dict:
    return {"api-key": hs.namespace["hyperswitch"]["api_key"]}


def gov_key(gov) -> dict:
    return {"Authorization": f"Bearer {gov.namespace['govuk']['api_key']}"}


def serde_error(reply) -> str:
    body = reply.get_json()
    assert reply.status_code == 400 and body["error"]["code"] == "IR_06" and "error_type" in body["error"], body
    return body["error"]["message"]


# -- Unicode digits ----------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["¹", "４", "٣", "99999999999999999999", "-1", "1e3"])
def test_a_govuk_search_page_that_is_not_ascii_digits_is_p0401(gov, app, page):
    reply = app.test_client().get(f"/govuk/v1/payments?page={page}", headers=gov_key(gov))
    assert reply.status_code == 422 and reply.get_json()["code"] == "P0401", reply.data
    assert "page" in reply.get_json()["description"]


@pytest.mark.parametrize("field", ["first_digits_card_number", "last_digits_card_number"])
def test_a_govuk_search_by_card_digits_in_another_script_is_p0401(gov, app, field):
    digits = "４２４２４２" if field.startswith("first") else "４２４２"
    reply = app.test_client().get(f"/govuk/v1/payments?{field}={digits}", headers=gov_key(gov))
    assert reply.status_code == 422 and field in reply.get_json()["description"]


def test_a_hyperswitch_expiry_month_in_superscript_is_invalid_expiry_month(hs):
    payment = hs.create(amount=1000, currency="USD").json
    reply = hs.confirm(payment["payment_id"], card(card_exp_month="¹"))
    assert reply.status == 400 and reply.error["code"] == "IR_16" and reply.error["message"] == "Invalid Expiry Month"


@pytest.mark.parametrize("number", ["424242424242424²", "４２４２４２４２４２４２４２４２"])
def test_a_hyperswitch_card_number_with_non_ascii_digits_is_not_a_card_number(hs, number):
    payment = hs.create(amount=1000, currency="USD").json
    reply = hs.confirm(payment["payment_id"], card(number))
    assert reply.status == 400 and reply.error["code"] == "IR_06", reply.json
    assert reply.error["message"] == "Json deserialize error: invalid card number length"


@pytest.mark.parametrize("query", ["status=¹", "status=٢٠٠", "limit=¹", "offset=４", "limit=9" * 30])
def test_the_journal_refuses_numbers_that_are_not_ascii_digits(control, query):
    reply = control.get(f"/_mock/requests?{query}")
    assert reply.status == 400 and reply.json["error"]["code"] == "bad_request", reply.text


def test_the_hyperswitch_list_offset_past_i64_is_a_query_deserialize_error(hs, app):
    reply = app.test_client().get(f"/hyperswitch/payments/list?offset={'9' * 30}", headers=hs_key(hs))
    assert serde_error(reply).startswith("Query deserialize error: number too large")


# -- numbers past every bound ----------------------------------------------------------------------

HUGE_INTEGER = "9" * 4301


@pytest.mark.parametrize("number", [HUGE_INTEGER, "1e400", "-1e400", "NaN", "Infinity"])
def test_hyperswitch_refuses_numbers_serde_cannot_read(hs, app, number):
    reply = raw(app, "POST", "/hyperswitch/payments", f'{{"amount": {number}, "currency": "USD"}}', hs_key(hs))
    message = serde_error(reply)
    assert message.startswith("Json deserialize error: "), message


@pytest.mark.parametrize("number", [HUGE_INTEGER, "1e400", "NaN", "-Infinity"])
def test_govuk_refuses_numbers_jackson_cannot_read_as_unable_to_parse_json(gov, app, number):
    body = f'{{"amount": {number}, "reference": "R", "description": "d", "return_url": "https://s.example/r"}}'
    reply = raw(app, "POST", "/govuk/v1/payments", body, gov_key(gov))
    assert reply.status_code == 400 and reply.get_json() == {"code": "P0197", "description": "Unable to parse JSON"}


@pytest.mark.parametrize("number", [HUGE_INTEGER, "1e400", "NaN"])
def test_the_control_api_refuses_numbers_past_json_with_bad_request(app, number):
    reply = raw(app, "PUT", "/_mock/config", f'{{"success_rates": {{"card": {number}}}}}')
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "bad_request", reply.data


@pytest.mark.parametrize("duration", [1e18, "1e18", "1e400", "NaN", "inf", "99999999d", "１s", "٣m"])
def test_clock_advance_refuses_what_is_not_a_duration_of_at_most_a_century(app, control, duration):
    ns = control.post("/_mock/namespaces", {"clock": "virtual"}).json
    reply = control.post("/_mock/clock/advance", {"duration": duration}, headers={"X-Mock-Namespace": ns["id"]})
    assert reply.status == 400 and reply.json["error"]["code"] == "bad_request", reply.text
    assert "duration" in reply.json["error"]["message"]


@pytest.mark.parametrize("literal", ["1e400", "NaN", "1" * 5000])
def test_clock_advance_refuses_json_numbers_past_a_float(app, control, literal):
    ns = control.post("/_mock/namespaces", {"clock": "virtual"}).json
    reply = raw(app, "POST", "/_mock/clock/advance", f'{{"duration": {literal}}}', {"X-Mock-Namespace": ns["id"]})
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "bad_request"


# -- the test merchant ---------------------------------------------------------------------------------


@pytest.fixture(params=["hyperswitch", "govuk"])
def shop(request):
    return test_merchant.create_app({"dialect": request.param, "db": ":memory:", "psp_url": NOWHERE}).test_client()


@pytest.mark.parametrize("amount", [2**63, 10**30])
def test_a_merchant_order_amount_past_what_the_shop_can_store_is_invalid_amount(shop, amount):
    reply = shop.post("/_merchant/orders", json={"amount": amount, "currency": "GBP"})
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "invalid_amount", reply.data


@pytest.mark.parametrize("amount", ["inf", "nan", "1e400", "１０", "-5", "1.234"])
def test_a_shop_refund_amount_that_is_not_money_is_a_problem_notice_not_a_traceback(shop, amount):
    token = re.search(r'name="csrf_token" value="([^"]+)"', shop.get("/").get_data(as_text=True))[1]
    reply = shop.post("/orders/ord-nothing/refund", data={"amount": amount, "csrf_token": token})
    assert reply.status_code == 303 and "problem=" in reply.headers["Location"], reply.data[:300]


@pytest.mark.parametrize("body", ['{"amount": 1e400, "currency": "GBP"}', '{"amount": NaN, "currency": "GBP"}',
                                  '{"amount": 100, "currency": "GBP", "description": "\\ud800"}'])
def test_the_merchant_api_refuses_json_it_cannot_store_as_bad_request(shop, body):
    reply = shop.post("/_merchant/orders", data=body, content_type="application/json")
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "bad_request", reply.data


# -- lone surrogates ---------------------------------------------------------------------------------

SURROGATE_BODY = '{"amount": 1000, "currency": "USD", "description": "mug \\ud800"}'


def test_hyperswitch_refuses_a_lone_surrogate_as_serde_json_does(hs, app):
    reply = raw(app, "POST", "/hyperswitch/payments", SURROGATE_BODY, hs_key(hs))
    assert serde_error(reply).startswith("Json deserialize error: lone leading surrogate in hex escape")


def test_hyperswitch_takes_a_surrogate_pair_as_the_character_it_encodes(hs, app):
    reply = raw(app, "POST", "/hyperswitch/payments",
                '{"amount": 1000, "currency": "USD", "description": "mug \\ud83d\\ude00"}', hs_key(hs))
    assert reply.status_code == 200 and reply.get_json()["description"] == "mug \U0001F600"


def test_govuk_takes_a_lone_surrogate_as_jackson_does_and_stores_a_question_mark(gov, app):
    body = '{"amount": 1000, "reference": "R\\ud800", "description": "d", "return_url": "https://s.example/r"}'
    reply = raw(app, "POST", "/govuk/v1/payments", body, gov_key(gov))
    assert reply.status_code == 201 and reply.get_json()["reference"] == "R?", reply.data
    assert gov.get(reply.get_json()["payment_id"]).json["reference"] == "R?"


def test_the_control_api_refuses_a_lone_surrogate(app):
    reply = raw(app, "PUT", "/_mock/config", '{"allowed_origins": ["https://\\udc00.example"]}')
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "bad_request"


def test_a_call_with_a_lone_surrogate_leaves_the_requests_page_working(hs, gov, app):
    raw(app, "POST", "/hyperswitch/payments", SURROGATE_BODY, hs_key(hs))
    raw(app, "POST", "/govuk/v1/payments", '{"amount": 1000, "reference": "\\ud800", "description": "d", '
                                           '"return_url": "https://s.example/r"}', gov_key(gov))
    raw(app, "POST", "/govuk/v1/payments", b'{"reference": "\xed\xa0\x80"}', gov_key(gov))  # CESU-8
    for ns in (hs.namespace["id"], gov.namespace["id"]):
        page = app.test_client().get(f"/_mock/ui/requests?ns={ns}")
        assert page.status_code == 200, page.data[:300]
        assert "\\ud800" in page.get_data(as_text=True)
        assert app.test_client().get("/_mock/requests", headers={"X-Mock-Namespace": ns}).status_code == 200


def test_the_journal_stores_a_lone_surrogate_as_its_escape(provider):
    entry = provider.journal.record("ns_x", at=0, method="POST", path="/p\udfff", query="", status=200,
                                    duration_ms=1.0, request_headers={"user-agent": "a\ud800"},
                                    request_body="\ud800", response_headers={}, response_body="", fault=None)
    assert entry.path == "/p\\udfff" and entry.request_body == "\\ud800"
    assert entry.request_headers == {"user-agent": "a\\ud800"}
    json.dumps(entry.as_json(), ensure_ascii=False).encode("utf-8")  # encodes: no lone surrogate left


# -- return URLs ---------------------------------------------------------------------------------------

NOT_WEB = ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "file:///etc/passwd",
           "JavaScript://%0aalert(1)", "ftp://shop.example/"]


@pytest.mark.parametrize("url", NOT_WEB)
def test_a_hyperswitch_return_url_that_is_not_http_or_https_is_ir_05(hs, url):
    reply = hs.create(amount=1000, currency="USD", return_url=url)
    assert reply.status == 422 and reply.error["code"] == "IR_05", reply.json
    assert reply.error["message"].startswith("return_url contains invalid data")


@pytest.mark.parametrize("url", NOT_WEB[:2])
def test_a_hyperswitch_confirm_or_update_return_url_that_is_not_web_is_ir_05(hs, url):
    payment = hs.create(amount=1000, currency="USD").json
    updated = hs.api.post(f"/hyperswitch/payments/{payment['payment_id']}", {"return_url": url})
    assert updated.status == 422 and updated.error["code"] == "IR_05"
    confirmed = hs.confirm(payment["payment_id"], {**card(), "return_url": url})
    assert confirmed.status == 422 and confirmed.error["code"] == "IR_05"


def test_a_business_profile_return_url_that_is_not_web_is_ir_05(hs):
    ids = hs.namespace["hyperswitch"]
    reply = hs.api.post(f"/hyperswitch/account/{ids['merchant_id']}/business_profile/{ids['profile_id']}",
                        {"return_url": "javascript:alert(1)"})
    assert reply.status == 422 and reply.error["code"] == "IR_05", reply.json


def test_the_redirect_back_never_sends_a_location_that_is_not_a_web_page(hs, app, provider):
    """A return URL stored before the rule (an old database, a snapshot) is not followed."""
    payment = hs.create(amount=1000, currency="USD", return_url="https://shop.example/back").json
    with provider.store.write() as db:
        db.execute("UPDATE payments SET return_url = ? WHERE id = ?", ["javascript:alert(1)", payment["payment_id"]])
    ids = hs.namespace["hyperswitch"]
    reply = app.test_client().get(f"/hyperswitch/payments/{payment['payment_id']}/{ids['merchant_id']}"
                                  "/redirect/response/stripe_test")
    assert reply.status_code == 200 and "Location" not in reply.headers, reply.headers


def _govpay_namespace(control, validate_url: str = f"{NOWHERE}/validate") -> dict:
    ns = control.post("/_mock/namespaces", {}).json
    reply = control.put("/_mock/config", {"govpay_lk": {"validate_url": validate_url, "update_url":
                                                        "https://updates.shop.example/update", "subinst_id": "SUB9",
                                                        "service_id": "SRV9", "service_name": "Shop"},
                                          "allowed_origins": ["https://www.shop.example"]},
                        headers={"X-Mock-Namespace": ns["id"]})
    assert reply.status == 200, reply.text
    return ns


@pytest.mark.parametrize("return_url", ["https://elsewhere.example/thanks", "https://shop.example.evil.test/",
                                        "javascript:alert(1)", "https://user@elsewhere.example/"])
def test_govpay_sends_the_citizen_back_only_to_the_registered_merchants_hosts(app, control, return_url):
    _govpay_namespace(control)
    page = app.test_client().get("/govpay-lk/pay", query_string={"ref": "TS1", "return": return_url,
                                                                  "subinstId": "SUB9"})
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and 'data-code="invalid_return"' in text, text[:400]
    assert "Location" not in page.headers


@pytest.mark.parametrize("return_url", [f"{NOWHERE}/orders/1/return", "https://updates.shop.example/back",
                                        "https://www.shop.example/orders/1"])
def test_govpay_takes_a_return_url_on_a_host_the_merchant_registered(app, control, return_url):
    _govpay_namespace(control)
    page = app.test_client().get("/govpay-lk/pay", query_string={"ref": "TS1", "return": return_url,
                                                                  "subinstId": "SUB9"})
    # Past the return check: the provider asked the merchant (nobody listens there) for the amount.
    assert page.status_code == 502 and 'data-code="unavailable"' in page.get_data(as_text=True)


# -- duplicate keys --------------------------------------------------------------------------------------


def test_hyperswitch_refuses_a_field_given_twice_as_serde_does(hs, app):
    reply = raw(app, "POST", "/hyperswitch/payments", '{"amount": 1000, "currency": "USD", "amount": 1}', hs_key(hs))
    assert serde_error(reply).startswith("Json deserialize error: duplicate field `amount`")


def test_govuk_takes_the_last_of_a_field_given_twice_as_jackson_does(gov, app):
    body = ('{"amount": 1000, "amount": 2500, "reference": "R", "description": "d", '
            '"return_url": "https://s.example/r"}')
    reply = raw(app, "POST", "/govuk/v1/payments", body, gov_key(gov))
    assert reply.status_code == 201 and reply.get_json()["amount"] == 2500


# -- integers past their Rust type ------------------------------------------------------------------


@pytest.mark.parametrize("value, detail", [
    (2**63, "invalid value: integer `9223372036854775808`, expected u32"),
    (2**64, "invalid type: floating point `1.8446744073709552e+19`, expected u32"),
])
def test_a_hyperswitch_session_expiry_past_u32_is_a_deserialize_error(hs, value, detail):
    reply = hs.create(session_expiry=value)
    assert reply.status == 400 and reply.error["code"] == "IR_06", reply.json
    assert reply.error["message"] == f"Json deserialize error: {detail}"


@pytest.mark.parametrize("field", ["limit", "offset"])
def test_the_hyperswitch_events_list_refuses_a_limit_past_u32(hs, app, field):
    reply = raw(app, "POST", f"/hyperswitch/events/{hs.namespace['hyperswitch']['merchant_id']}",
                json.dumps({field: 2**63}), {"api-key": "test_admin"})
    assert serde_error(reply).endswith(f"integer `{2**63}`, expected u32")


# -- the hosted checkout's card form ----------------------------------------------------------------


@pytest.mark.parametrize("field, value", [("expiry", "¹2/35"), ("expiry", "12/３５"), ("cvc", "１２３"),
                                          ("card_number", "４４４４３３３３２２２２１１１１")])
def test_the_card_form_shows_a_problem_for_digits_in_another_script(gov, app, field, value):
    from tests.support.govuk_pages import CARD
    from tests.support.govuk_pages import Browser

    created = gov.create(amount=1000, reference="R", description="d", return_url="https://service.example/r").json
    page = Browser(app.test_client()).submit_card(created["_links"]["next_url"]["href"], {**CARD, field: value})
    assert page.status == 400 and not page.has("confirm-button"), (page.status, page.html[:300])
    assert f'id="{field}"' in page.html and 'aria-invalid="true"' in page.html
