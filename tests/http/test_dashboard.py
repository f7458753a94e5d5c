"""The QA dashboard over HTTP: pages, filters, actions through the library, validation shown
inline, and forms refused without their token or from another site."""

from __future__ import annotations

import re

import pytest

from tests.support.clients import card

UI = "/_mock/ui"


@pytest.fixture
def ui(app):
    return app.test_client()


def token(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]


def post(ui, path: str, page_path: str, **form):
    """Post a form the way the browser does: with the token of a page just loaded."""
    form.setdefault("csrf_token", token(ui.get(page_path)))
    return ui.post(path, data=form)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["/payments", "/webhooks", "/requests", "/recurring", "/settings", "/clock", "/api",
                                  "/namespaces"])
def test_every_page_renders_for_the_default_namespace(ui, page):
    response = ui.get(f"{UI}{page}")
    assert response.status_code == 200 and response.content_type.startswith("text/html")
    assert "ns_default" in text(response)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    title = re.search(r"<title>(.*?)</title>", text(response), re.S)[1]
    assert "<" not in title and title.endswith("mock-psp")  # plain text: nothing leaked into it
    assert text(response).count("<h1>") == 1


def test_the_dashboard_root_leads_to_the_payments(ui):
    assert ui.get(f"{UI}/").headers["Location"].startswith(f"{UI}/payments")


def test_payments_are_listed_newest_first_and_found_by_id_or_reference(ui, hs):
    first = hs.pay(description="first", merchant_order_reference_id="ORDER-1")
    second = hs.pay(description="second")
    page = text(ui.get(f"{UI}/payments?ns={hs.namespace['id']}"))
    assert page.index(second["payment_id"]) < page.index(first["payment_id"])
    found = text(ui.get(f"{UI}/payments?ns={hs.namespace['id']}&q={first['payment_id'][-8:]}"))
    assert first["payment_id"] in found and second["payment_id"] not in found


@pytest.mark.parametrize("fragment", ["", "&fragment=rows"])
def test_the_status_filter_shows_only_that_status_in_the_page_and_its_rows_fragment(ui, hs, fragment):
    paid = hs.pay()
    declined = hs.pay("4000000000000002")
    response = ui.get(f"{UI}/payments?ns={hs.namespace['id']}&status=failed{fragment}")
    assert response.status_code == 200
    assert declined["payment_id"] in text(response) and paid["payment_id"] not in text(response)
    assert ("<html" in text(response)) == (not fragment)  # the fragment is only the rows, for the live refresh


@pytest.mark.parametrize("status", ["failed", "delivered", "no_such_status"])
def test_the_webhook_status_filter_answers_a_page(ui, hs, status):
    response = ui.get(f"{UI}/webhooks?ns={hs.namespace['id']}&status={status}")
    assert response.status_code == 200 and "<html" in text(response)


def test_an_unknown_payment_status_filter_shows_every_payment(ui, hs):
    paid = hs.pay()
    response = ui.get(f"{UI}/payments?ns={hs.namespace['id']}&status=partially_refunded")
    assert response.status_code == 200 and paid["payment_id"] in text(response)


def test_a_payment_page_shows_fields_transitions_and_the_allowed_actions(ui, hs):
    payment = hs.create(amount=5000, currency="USD", confirm=True, capture_method="manual", **card()).json
    page = text(ui.get(f"{UI}/payments/{payment['payment_id']}?ns={hs.namespace['id']}"))
    assert 'data-test-id="capture-button"' in page and 'data-test-id="cancel-button"' in page
    assert 'data-test-id="refund-button"' not in page
    assert page.count('data-test-id="transition"') >= 2 and "authorized" in page


def test_capture_then_refund_through_the_forms(ui, hs):
    ns = hs.namespace["id"]
    payment = hs.create(amount=5000, currency="USD", confirm=True, capture_method="manual", **card()).json
    path = f"{UI}/payments/{payment['payment_id']}?ns={ns}"
    captured = post(ui, f"{UI}/payments/{payment['payment_id']}/capture?ns={ns}", path, amount="")
    assert captured.status_code == 303 and "notice=Captured" in captured.headers["Location"]
    assert hs.retrieve(payment["payment_id"]).json["status"] == "succeeded"
    refunded = post(ui, f"{UI}/payments/{payment['payment_id']}/refund?ns={ns}", path, amount="1200")
    assert "notice=Refund" in refunded.headers["Location"]
    assert 'data-test-id="refund-row"' in text(ui.get(path))


def test_an_action_the_state_forbids_says_why(ui, hs):
    ns = hs.namespace["id"]
    payment = hs.pay()
    path = f"{UI}/payments/{payment['payment_id']}?ns={ns}"
    refused = post(ui, f"{UI}/payments/{payment['payment_id']}/cancel?ns={ns}", path)
    assert "problem=" in refused.headers["Location"]
    assert hs.retrieve(payment["payment_id"]).json["status"] == "succeeded"


def test_a_bad_refund_amount_is_explained_not_a_500(ui, hs):
    ns = hs.namespace["id"]
    payment = hs.pay()
    path = f"{UI}/payments/{payment['payment_id']}?ns={ns}"
    refused = post(ui, f"{UI}/payments/{payment['payment_id']}/refund?ns={ns}", path, amount="twelve")
    assert refused.status_code == 303 and "minor+units" in refused.headers["Location"]


@pytest.mark.parametrize("form, field, message", [
    ({"rate_card": "2"}, "rate_card", "success_rates.card"),
    ({"rate_upi": "lots"}, "rate_upi", "not a number"),
    ({"delay_refund": "1, 2, 3"}, "delay_refund", "min, max"),
    ({"fault_drop": "1.5"}, "fault_drop", "probability"),
    ({"webhook_retry_schedule": "soon"}, "webhook_retry_schedule", "not a number"),
    ({"seed": "x"}, "seed", "whole number"),
    # A good change before a bad one in the same form is not saved either.
    ({"rate_card": "0.5", "fault_drop": "1.5"}, "fault_drop", "probability"),
])
def test_settings_errors_are_shown_inline_and_nothing_is_saved(ui, app, form, field, message):
    before = app.test_client().get("/_mock/config").get_json()
    faults_before = app.test_client().get("/_mock/faults").get_json()
    page = ui.get(f"{UI}/settings")
    values = {m[0]: m[1] for m in re.findall(r'name="(\w+)" value="([^"]*)"', text(page))}
    values.update(form)
    response = ui.post(f"{UI}/settings", data=values)
    body = text(response)
    assert response.status_code == 400 and 'data-test-id="field-error"' in body and message in body
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', body)
    assert app.test_client().get("/_mock/config").get_json() == before
    assert app.test_client().get("/_mock/faults").get_json() == faults_before


def test_settings_are_saved_through_the_library(ui, app):
    page = ui.get(f"{UI}/settings")
    values = {m[0]: m[1] for m in re.findall(r'name="(\w+)" value="([^"]*)"', text(page))}
    values.update(rate_card="0.25", delay_refund="5, 10", fault_duplicate="0.5", webhook_retry_schedule="1, 2")
    response = ui.post(f"{UI}/settings", data=values)
    assert response.status_code == 303
    config = app.test_client().get("/_mock/config").get_json()
    assert config["success_rates"]["card"] == 0.25 and config["delays"]["refund"] == [5, 10]
    assert config["webhook_retry_schedule"] == [1, 2]
    assert app.test_client().get("/_mock/faults").get_json()["webhooks"]["duplicate"] == 0.5


@pytest.mark.parametrize("path", ["/settings", "/clock/advance", "/namespaces"])
def test_forms_without_the_token_are_refused(ui, path):
    response = ui.post(f"{UI}{path}", data={"duration": "1m"})
    assert response.status_code == 403 and "token" in text(response)


def test_a_form_posted_from_another_site_is_refused_even_with_a_token(ui):
    response = ui.post(f"{UI}/clock/advance", data={"csrf_token": token(ui.get(f"{UI}/clock")), "duration": "1m"},
                       headers={"Origin": "http://evil.example"})
    assert response.status_code == 403 and "another site" in text(response)


def test_the_clock_advances_and_lists_the_jobs_that_fell_due(ui, vhs):
    ns = vhs.namespace["id"]
    vhs.create(amount=100, currency="USD")  # expires after 15 minutes
    page = text(post(ui, f"{UI}/clock/advance?ns={ns}", f"{UI}/clock?ns={ns}", duration="16m"))
    assert 'data-test-id="ran-job"' in page and "payment.expire" in page
    assert re.findall(r'data-test-id="ran-effect">([^<]*)<', page) == ["expires the unpaid payment"]
    clock = re.search(r'data-test-id="clock-now">([^<]+)<', page)[1]
    assert re.search(r'data-test-id="header-now">([^<]+)<', page)[1] == clock  # the header moved too


def test_a_bad_duration_is_explained(ui, vhs):
    ns = vhs.namespace["id"]
    response = post(ui, f"{UI}/clock/advance?ns={ns}", f"{UI}/clock?ns={ns}", duration="soonish")
    assert response.status_code == 400 and "not a duration" in text(response)


def test_a_system_clock_must_be_frozen_before_it_moves(ui, hs):
    ns = hs.namespace["id"]
    response = post(ui, f"{UI}/clock/advance?ns={ns}", f"{UI}/clock?ns={ns}", duration="1m")
    assert response.status_code == 409 and "virtual" in text(response)
    frozen = post(ui, f"{UI}/clock/mode?ns={ns}", f"{UI}/clock?ns={ns}", mode="virtual")
    assert frozen.status_code == 303
    assert 'data-test-id="advance-form"' in text(ui.get(f"{UI}/clock?ns={ns}"))


def test_an_unknown_namespace_or_payment_is_a_page_not_a_500(ui):
    assert ui.get(f"{UI}/payments?ns=ns_nope").status_code == 404
    assert ui.get(f"{UI}/payments/pay_nope").status_code == 404
    assert ui.get(f"{UI}/no-such-page").status_code == 404


def test_namespaces_are_listed_and_a_new_one_can_be_made(ui, hs):
    page = text(ui.get(f"{UI}/namespaces"))
    assert hs.namespace["id"] in page and "ns_default" in page
    made = post(ui, f"{UI}/namespaces", f"{UI}/namespaces", clock="virtual")
    assert made.status_code == 303 and "ns=ns_" in made.headers["Location"]


def test_the_api_page_lists_each_dialect_with_its_docs_and_openapi(ui):
    page = text(ui.get(f"{UI}/api"))
    for name in ("hyperswitch", "govuk", "govpay-lk", "control"):
        assert f'data-test-id="api-{name}"' in page
    assert "openapi_spec_v1.json" in page and "publicapi_spec.json" in page
    assert "/hyperswitch/payments" in page and "/_mock/ui" not in page.split('data-test-id="api-control"')[1]


def test_a_quick_button_advances_by_its_own_duration_even_with_the_text_box_empty(ui, vhs):
    ns = vhs.namespace["id"]
    before = ui.application.test_client().get("/_mock/clock", headers={"X-Mock-Namespace": ns}).get_json()["now"]
    page = text(post(ui, f"{UI}/clock/advance?ns={ns}", f"{UI}/clock?ns={ns}", duration="", quick="1h"))
    after = ui.application.test_client().get("/_mock/clock", headers={"X-Mock-Namespace": ns}).get_json()["now"]
    assert 'data-test-id="jobs-ran"' in page
    assert (int(after[11:13]) - int(before[11:13])) % 24 == 1


def test_saving_settings_keeps_the_random_sequence_unless_the_seed_changes(ui, hs):
    ns = hs.namespace["id"]
    hs.pay()  # uses up some draws
    store = ui.application.extensions["mock_psp"].store

    def counter() -> int:
        with store.read() as db:
            return db.execute("SELECT rng_counter FROM namespaces WHERE id = ?", [ns]).fetchone()[0]

    before = counter()
    page = ui.get(f"{UI}/settings?ns={ns}")
    values = {m[0]: m[1] for m in re.findall(r'name="(\w+)" value="([^"]*)"', text(page))}
    assert ui.post(f"{UI}/settings?ns={ns}", data={**values, "rate_wallet": "0.5"}).status_code == 303
    assert counter() == before > 0
    assert ui.post(f"{UI}/settings?ns={ns}", data={**values, "seed": "42"}).status_code == 303
    assert counter() == 0


@pytest.mark.parametrize("page", ["/payments", "/webhooks"])
def test_a_page_number_past_the_end_shows_an_empty_list_not_a_500(ui, hs, page):
    hs.pay()
    response = ui.get(f"{UI}{page}?ns={hs.namespace['id']}&page={'9' * 40}")
    assert response.status_code == 200
    assert hs.namespace["id"] in text(response)


def test_the_payments_list_shows_what_was_refunded_and_what_is_still_pending(ui, vhs):
    vhs.configure(delays={"refund": 60})
    payment = vhs.pay(amount=5000)
    vhs.refund(payment["payment_id"], amount=1200)
    listed = f"{UI}/payments?ns={vhs.namespace['id']}&fragment=rows"
    assert "$12.00 pending" in text(ui.get(listed))
    vhs.advance(60)
    rows = text(ui.get(listed))
    assert re.search(r'data-test-id="refunded">\$12\.00</td>', rows), rows


def test_the_clock_says_what_each_waiting_job_would_do_now(ui, vhs):
    ns = vhs.namespace["id"]
    unpaid = vhs.create(amount=100, currency="USD").json
    paid = vhs.pay()
    page = text(ui.get(f"{UI}/clock?ns={ns}"))
    effects = dict(re.findall(r'payments/(\w+)\?ns=\w+"><code>\w+</code></a></td><td data-test-id="job-effect">([^<]+)<',
                              page))
    assert effects == {unpaid["payment_id"]: "expires the unpaid payment",
                       paid["payment_id"]: "nothing: the payment is already captured"}


def settings_values(ui) -> dict:
    page = text(ui.get(f"{UI}/settings"))
    values = {m[0]: m[1] for m in re.findall(r'name="(\w+)" value="([^"]*)"', page)}
    values["api_routes"] = ""
    values["api_error_status"] = "500"
    return values


def test_api_faults_are_set_from_the_settings_page_and_injected_calls_are_listed(ui, app):
    values = settings_values(ui)
    values.update(api_error="1", api_error_status="503", api_routes="POST /hyperswitch/payments\n")
    saved = ui.post(f"{UI}/settings", data=values)
    assert saved.status_code == 303
    api = app.test_client().get("/_mock/faults").get_json()["api"]
    assert api["error"] == 1 and api["error_status"] == 503 and api["routes"] == ["POST /hyperswitch/payments"]
    key = app.test_client().get("/_mock/namespaces/ns_default").get_json()["hyperswitch"]["api_key"]
    refused = app.test_client().post("/hyperswitch/payments", json={"amount": 100, "currency": "USD"},
                                     headers={"api-key": key})
    assert refused.status_code == 503
    page = text(ui.get(f"{UI}/settings"))
    assert re.search(r'data-test-id="api-fault-row">.*POST /hyperswitch/payments.*error 503', page, re.S)
    assert re.search(r'<option value="503" selected', page)


@pytest.mark.parametrize("change, field, message", [
    ({"api_reset": "0.7", "api_lost_response": "0.7"}, "api_error", "add up to more than 1"),
    ({"api_timeout_seconds": "9999"}, "api_timeout_seconds", "0 to 600"),
    ({"api_routes": "/hyperswitch/payments"}, "api_routes", "METHOD /path"),
    ({"api_truncated": "often"}, "api_truncated", "not a number"),
])
def test_bad_api_fault_settings_are_shown_inline_and_nothing_is_saved(ui, app, change, field, message):
    before = app.test_client().get("/_mock/faults").get_json()
    values = settings_values(ui)
    values.update(change)
    response = ui.post(f"{UI}/settings", data=values)
    body = text(response)
    assert response.status_code == 400 and message in body
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', body) or f'for="{field}"' in body
    assert app.test_client().get("/_mock/faults").get_json() == before


def test_the_requests_page_shows_each_api_call_with_both_bodies(ui, hs):
    made = hs.create(amount=4321, currency="USD").json
    hs.retrieve("pay_nothing_here_000000")
    page = text(ui.get(f"{UI}/requests?ns={hs.namespace['id']}"))
    rows = re.findall(r'data-test-id="request-row"[^>]*data-status="(\d+)"', page)
    assert rows == ["404", "200"]
    assert "4321" in page and made["payment_id"] in page and "HE_02" in page
    assert hs.namespace["hyperswitch"]["api_key"] not in page  # masked
    only_404 = text(ui.get(f"{UI}/requests?ns={hs.namespace['id']}&status=404&fragment=rows"))
    assert only_404.count('data-test-id="request-row"') == 1 and "<html" not in only_404


def test_the_requests_page_shows_unmatched_calls_when_asked(ui, app):
    app.test_client().get("/govuk/v1/payments", headers={"Authorization": "Bearer api_test_nobody"})
    assert 'data-test-id="request-row"' not in text(ui.get(f"{UI}/requests"))
    page = text(ui.get(f"{UI}/requests?unmatched=on"))
    assert re.search(r'data-test-id="request-row"[^>]*data-status="401"', page) and "Bearer api_te…body" in page


def test_a_govpay_lk_payment_offers_no_action_its_api_does_not_have(ui, app, provider):
    from mock_psp.domain import payments
    from mock_psp.domain.payments import CardInput
    from mock_psp.domain.payments import NewPayment
    from mock_psp.domain.payments import PaymentMethodInput

    paid = payments.create_payment(provider.store, "ns_default", NewPayment(
        amount=1450, currency="LKR", dialect="govpay-lk", confirm=True,
        payment_method=PaymentMethodInput("card", "credit", CardInput("4242424242424242", "12", "2035", "A", "123"))))
    path = f"{UI}/payments/{paid.id}"
    page = text(ui.get(path))
    assert 'data-test-id="no-api-actions"' in page and 'data-test-id="refund-button"' not in page
    refused = post(ui, f"{UI}/payments/{paid.id}/refund", f"{UI}/settings", amount="100")  # a forged form
    assert "problem=" in refused.headers["Location"] and "no+refund+API" in refused.headers["Location"]
    assert payments.get_payment(provider.store, "ns_default", paid.id).status == "captured"
    with provider.store.read() as db:
        assert db.execute("SELECT count(*) FROM refunds").fetchone()[0] == 0


def test_a_namespace_snapshot_downloads_and_imports_from_the_namespaces_page(ui, hs):
    import io
    paid = hs.pay(amount=777)
    page = text(ui.get(f"{UI}/namespaces"))
    link = re.search(rf'href="(/_mock/namespaces/{hs.namespace["id"]}/export\?download=1)"', page)[1]
    snapshot = ui.get(link).get_data()
    imported = ui.post(f"{UI}/namespaces/import", data={"csrf_token": token(ui.get(f"{UI}/namespaces")),
                                                          "snapshot": (io.BytesIO(snapshot), "snap.json")},
                       content_type="multipart/form-data")
    assert imported.status_code == 303
    new_ns = re.search(r"ns=(ns_\w+)", imported.headers["Location"])[1]
    assert new_ns != hs.namespace["id"] and paid["payment_id"] in text(ui.get(f"{UI}/payments?ns={new_ns}"))


def test_a_file_that_is_not_a_snapshot_is_explained_on_the_page(ui):
    import io
    for content in (b"{not json", b'{"format": "something else"}'):
        refused = ui.post(f"{UI}/namespaces/import", data={"csrf_token": token(ui.get(f"{UI}/namespaces")),
                                                             "snapshot": (io.BytesIO(content), "x.json")},
                          content_type="multipart/form-data")
        assert refused.status_code == 400 and 'data-test-id="import-error"' in text(refused)


def test_webhook_endpoints_are_added_repointed_toggled_and_deleted_from_the_webhooks_page(ui, hs):
    ns = hs.namespace["id"]
    page = f"{UI}/webhooks?ns={ns}"
    added = post(ui, f"{UI}/webhooks/endpoints?ns={ns}", page, url="http://127.0.0.1:9/hooks", scheme="standard")
    assert "notice=Endpoint" in added.headers["Location"]
    [endpoint] = hs.control.get("/_mock/webhook-endpoints").json["data"]
    assert (endpoint["url"], endpoint["scheme"], endpoint["enabled"]) == ("http://127.0.0.1:9/hooks", "standard", True)
    change = f"{UI}/webhooks/endpoints/{endpoint['id']}?ns={ns}"
    post(ui, change, page, action="url", url="http://127.0.0.1:10/other")
    post(ui, change, page, action="disable")
    [endpoint] = hs.control.get("/_mock/webhook-endpoints").json["data"]
    assert endpoint["url"] == "http://127.0.0.1:10/other" and endpoint["enabled"] is False
    assert re.search(rf'data-endpoint-id="{endpoint["id"]}" data-enabled="no"', text(ui.get(page)))
    refused = post(ui, change, page, action="url", url="not a url")
    assert "problem=" in refused.headers["Location"]
    post(ui, change, page, action="delete")
    assert hs.control.get("/_mock/webhook-endpoints").json["data"] == []
    gone = post(ui, change, page, action="enable")
    assert "problem=" in gone.headers["Location"]


def test_a_payment_page_names_its_customer(ui, hs):
    made = hs.create(customer_id="cus_dashboard_1", customer={"name": "Ann"}).json
    page = text(ui.get(f"{UI}/payments/{made['payment_id']}?ns={hs.namespace['id']}"))
    assert re.search(r"<dt>Customer</dt>\s*<dd>cus_dashboard_1</dd>", page), page[page.find("Customer") - 50:][:200]


def test_the_namespaces_page_shows_the_default_then_the_newest_25_and_pages_the_rest(ui, control):
    made = [control.post("/_mock/namespaces", {}).json["id"] for _ in range(30)]
    first = text(ui.get(f"{UI}/namespaces"))
    listed = re.findall(r'data-namespace-id="(ns_\w+)"', first)
    assert listed[0] == "ns_default" and listed[1:] == made[::-1][:24]
    second = re.findall(r'data-namespace-id="(ns_\w+)"', text(ui.get(f"{UI}/namespaces?page=2")))
    assert second == made[::-1][24:] and "Page 2 of 2" in text(ui.get(f"{UI}/namespaces?page=2"))


def test_the_recurring_page_lists_agreements_and_mandates_and_ends_them_through_the_library(ui, hs, gov, app):
    from mock_psp.domain import agreements

    gov_ns, hs_ns = gov.namespace["id"], hs.namespace["id"]
    made = gov.api.post("/govuk/v1/agreements", {"reference": "R-1", "description": "Council tax"}).json
    card = {"card_number": "4242424242424242", "card_exp_month": "12", "card_exp_year": "2035",
            "card_holder_name": "Ann", "card_cvc": "123"}
    paid = hs.create(amount=6000, currency="USD", confirm=True, customer_id="cus_r1", setup_future_usage="off_session",
                     mandate_data={"customer_acceptance": {"acceptance_type": "offline"},
                                   "mandate_type": {"multi_use": {"amount": 8000, "currency": "USD"}}},
                     payment_method="card", payment_method_data={"card": card}).json
    gov_page = text(ui.get(f"{UI}/recurring?ns={gov_ns}"))
    assert re.search(rf'data-agreement-id="{made["agreement_id"]}" data-status="created"', gov_page)
    assert 'data-test-id="cancel-agreement"' not in gov_page  # only an active agreement can be cancelled
    page = f"{UI}/recurring?ns={hs_ns}"
    listed = text(ui.get(page))
    assert re.search(rf'data-mandate-id="{paid["mandate_id"]}" data-status="active"', listed)
    assert "$0.00 / $80.00" in listed and "4242" in listed
    revoked = post(ui, f"{UI}/recurring/mandates/{paid['mandate_id']}/revoke?ns={hs_ns}", page)
    assert "notice=Mandate" in revoked.headers["Location"]
    assert hs.api.get(f"/hyperswitch/mandates/{paid['mandate_id']}").json["status"] == "revoked"
    refused = post(ui, f"{UI}/recurring/agreements/{made['agreement_id']}/cancel?ns={gov_ns}", f"{UI}/settings")
    assert "problem=" in refused.headers["Location"]  # created, not active
    assert agreements.get(app.extensions["mock_psp"].store, gov_ns, made["agreement_id"]).status == "created"
