"""Hyperswitch's customers API, and the customers payments create. Every answer is checked
against the published OpenAPI document by the test client."""

from __future__ import annotations

import re

import pytest


def create(hs, **fields):
    return hs.api.post("/hyperswitch/customers", fields)


def test_a_customer_is_created_with_a_generated_id_and_every_field_present(hs):
    reply = create(hs, name="Ann Lee", email="ann@example.com", phone="7700900123", phone_country_code="+44",
                   description="VIP", address={"city": "Leeds", "country": "GB"}, metadata={"tier": "gold"})
    assert reply.status == 200
    body = reply.json
    assert re.fullmatch(r"cus_[0-9A-Za-z]{20}", body["customer_id"])
    assert (body["name"], body["email"], body["phone"], body["phone_country_code"]) == (
        "Ann Lee", "ann@example.com", "7700900123", "+44")
    assert body["address"] == {"city": "Leeds", "country": "GB"} and body["metadata"] == {"tier": "gold"}
    assert body["default_payment_method_id"] is None and re.fullmatch(r"\S+T\S+\.\d{3}Z", body["created_at"])
    assert hs.api.get(f"/hyperswitch/customers/{body['customer_id']}").json == body


def test_a_chosen_id_is_kept_and_a_second_create_is_ir_12(hs):
    assert create(hs, customer_id="shop-user_42").json["customer_id"] == "shop-user_42"
    again = create(hs, customer_id="shop-user_42")
    assert (again.status, again.json["error"]["code"]) == (400, "IR_12")
    assert again.json["error"]["message"] == "Customer with the given `customer_id` already exists"


@pytest.mark.parametrize("customer_id, detail", [
    ("has space", "value `has space` contains invalid character ` `"),
    ("x" * 65, "the maximum allowed length for this field is 64"),
])
def test_a_bad_customer_id_is_a_json_deserialize_error(hs, customer_id, detail):
    reply = create(hs, customer_id=customer_id)
    assert reply.status == 400 and reply.json["error"]["code"] == "IR_06"
    assert reply.json["error"]["message"] == f"Json deserialize error: {detail}"


def test_an_unknown_customer_is_he_02_and_the_publishable_key_is_refused(hs):
    reply = hs.api.get("/hyperswitch/customers/cus_nobody")
    assert (reply.status, reply.json["error"]["code"], reply.json["error"]["message"]) == (
        404, "HE_02", "Customer does not exist in our records")
    made = create(hs, name="Ann").json
    refused = hs.api.get(f"/hyperswitch/customers/{made['customer_id']}",
                         headers={"api-key": hs.namespace["hyperswitch"]["publishable_key"]})
    assert (refused.status, refused.json["error"]["code"]) == (401, "IR_01")


def test_an_update_changes_only_the_fields_given(hs):
    made = create(hs, name="Ann", email="ann@example.com", address={"city": "Leeds"}).json
    changed = hs.api.post(f"/hyperswitch/customers/{made['customer_id']}", {"phone": "123", "name": None}).json
    assert (changed["name"], changed["email"], changed["phone"]) == ("Ann", "ann@example.com", "123")
    assert changed["address"] is None  # the real router answers with the request's address
    assert hs.api.get(f"/hyperswitch/customers/{made['customer_id']}").json["address"] == {"city": "Leeds"}


def test_a_deleted_customer_is_redacted_and_cannot_be_changed(hs):
    made = create(hs, name="Ann", email="ann@example.com", address={"city": "Leeds", "country": "GB"}).json
    path = f"/hyperswitch/customers/{made['customer_id']}"
    assert hs.api.call("DELETE", path).json == {"customer_id": made["customer_id"], "customer_deleted": True,
                                                 "address_deleted": True, "payment_methods_deleted": True}
    redacted = hs.api.get(path).json
    assert (redacted["name"], redacted["email"]) == ("Redacted", "Redacted")
    assert redacted["address"] == {"city": "Redacted", "country": "GB"}
    for again in (hs.api.call("DELETE", path), hs.api.post(path, {"name": "Bob"}),
                  create(hs, customer_id=made["customer_id"])):
        assert (again.status, again.json["error"]["code"]) == (400, "IR_11")


def test_the_list_is_oldest_first_paged_and_shows_no_addresses(hs):
    ids = [create(hs, name=f"C{i}", address={"city": "Leeds"}).json["customer_id"] for i in range(12)]
    first = hs.api.get("/hyperswitch/customers/list").json
    assert [c["customer_id"] for c in first] == ids[:10] and all(c["address"] is None for c in first)
    assert [c["customer_id"] for c in hs.api.get("/hyperswitch/customers/list?limit=5&offset=10").json] == ids[10:]


def test_a_customer_has_no_saved_payment_methods(hs):
    made = create(hs, name="Ann").json
    reply = hs.api.get(f"/hyperswitch/customers/{made['customer_id']}/payment_methods")
    assert reply.json == {"customer_payment_methods": [], "is_guest_customer": None}
    assert hs.api.get("/hyperswitch/customers/cus_nobody/payment_methods").status == 404


def test_a_payment_naming_a_new_customer_creates_it_and_later_details_update_it(hs):
    hs.create(customer_id="cus_buyer_1", customer={"name": "Ann", "email": "ann@example.com"})
    assert hs.api.get("/hyperswitch/customers/cus_buyer_1").json["name"] == "Ann"
    hs.create(customer_id="cus_buyer_1", phone="555")
    customer = hs.api.get("/hyperswitch/customers/cus_buyer_1").json
    assert (customer["name"], customer["phone"]) == ("Ann", "555")
    hs.create(amount=100, currency="USD")  # no customer named: none created
    assert len(hs.api.get("/hyperswitch/customers/list").json) == 1


def test_customer_id_and_customer_id_that_differ_are_ambiguous(hs):
    reply = hs.create(customer_id="cus_a", customer={"id": "cus_b"})
    assert (reply.status, reply.json["error"]["code"]) == (400, "IR_16")
    assert reply.json["error"]["message"] == "The field names `customer_id and customer.id` sent in both places is ambiguous"
    assert hs.api.get("/hyperswitch/customers/cus_a").status == 404


@pytest.mark.parametrize("query", ["limit=70000", "offset=-1", "limit=abc"])
def test_list_numbers_outside_u16_are_query_errors(hs, query):
    reply = hs.api.get(f"/hyperswitch/customers/list?{query}")
    assert reply.status == 400 and reply.json["error"]["code"] == "IR_06"
