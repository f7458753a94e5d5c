"""Namespace snapshots: export a namespace's state, import it as a new namespace."""

from __future__ import annotations

import copy

import pytest

from mock_psp.app import create_app
from tests.support.clients import Api
from tests.support.clients import FlaskTransport
from tests.support.clients import Hyperswitch


def export(client) -> dict:
    reply = client.control.get(f"/_mock/namespaces/{client.namespace['id']}/export")
    assert reply.status == 200, reply.text
    return reply.json


def import_into(control: Api, document) -> dict:
    reply = control.post("/_mock/namespaces/import", document)
    assert reply.status == 201, reply.text
    return reply.json


@pytest.fixture
def busy(transport, control, receiver) -> Hyperswitch:
    """A namespace with a captured, a refunded, a declined and an unpaid payment, and webhooks."""
    ns = control.post("/_mock/namespaces", {"seed": 5, "clock": "virtual"}).json
    client = Hyperswitch(transport, ns)
    client.register(receiver.url + "/hooks")
    paid = client.pay(amount=2500)
    client.refund(paid["payment_id"], amount=1000)
    client.pay("4000000000000002")
    client.create(amount=900, currency="USD")
    client.flush()
    return client


def test_a_snapshot_imports_as_a_new_namespace_with_the_same_payments_refunds_and_history(busy, transport, control):
    document = export(busy)
    copy_ns = import_into(control, document)
    assert copy_ns["id"] != busy.namespace["id"] and copy_ns["imported_from"] == busy.namespace["id"]
    assert copy_ns["hyperswitch"]["api_key"] != busy.namespace["hyperswitch"]["api_key"]
    twin = Hyperswitch(transport, copy_ns)
    original = busy.api.get("/hyperswitch/payments/list").json["data"]
    copied = twin.api.get("/hyperswitch/payments/list").json["data"]
    assert [(p["payment_id"], p["status"], p["amount"]) for p in copied] == \
           [(p["payment_id"], p["status"], p["amount"]) for p in original]
    paid = next(p for p in original if p["status"] == "succeeded")["payment_id"]
    assert twin.events(paid) == busy.events(paid)
    assert [d["status"] for d in twin.deliveries()] == [d["status"] for d in busy.deliveries()]


def test_the_copy_stands_still_at_the_moment_of_the_export_with_its_endpoints_off(busy, transport, control):
    document = export(busy)
    copy_ns = import_into(control, document)
    twin = Hyperswitch(transport, copy_ns)
    mine, theirs = twin.control.get("/_mock/clock").json, busy.control.get("/_mock/clock").json
    assert (mine["now"], mine["mode"]) == (theirs["now"], "virtual")
    assert [(j["kind"], j["due_at"], j["payload"]) for j in mine["pending_jobs"]] == \
           [(j["kind"], j["due_at"], j["payload"]) for j in theirs["pending_jobs"]]
    assert [e["enabled"] for e in twin.control.get("/_mock/webhook-endpoints").json["data"]] == [False]
    assert busy.control.get("/_mock/webhook-endpoints").json["data"][0]["enabled"] is True


def test_the_copy_continues_the_same_random_sequence(busy, transport, control):
    twin = Hyperswitch(transport, import_into(control, export(busy)))
    assert twin.create(amount=100, currency="USD").json["payment_id"] == \
           busy.create(amount=100, currency="USD").json["payment_id"]


def test_waiting_jobs_travel_and_run_when_the_copys_clock_moves(busy, transport, control):
    twin = Hyperswitch(transport, import_into(control, export(busy)))
    unpaid = next(p for p in twin.api.get("/hyperswitch/payments/list").json["data"]
                  if p["status"] == "requires_payment_method")["payment_id"]
    twin.advance(16 * 60)  # past the 15-minute session
    assert twin.retrieve(unpaid).json["status"] == "expired"
    assert busy.retrieve(unpaid).json["status"] == "requires_payment_method"  # the original is untouched


def test_a_snapshot_moves_between_two_providers(busy):
    other = create_app({"db": ":memory:", "background": False})
    try:
        control = Api(FlaskTransport(other.test_client()))
        twin = Hyperswitch(FlaskTransport(other.test_client()), import_into(control, export(busy)))
        assert len(twin.api.get("/hyperswitch/payments/list").json["data"]) == 3
    finally:
        other.extensions["mock_psp"].close()


def test_the_export_can_be_downloaded_as_a_file(busy):
    reply = busy.control.get(f"/_mock/namespaces/{busy.namespace['id']}/export?download=1")
    assert reply.headers["Content-Disposition"] == f'attachment; filename="{busy.namespace["id"]}.snapshot.json"'


def _broken(document: dict, how: str) -> object:
    broken = copy.deepcopy(document)
    if how == "not_a_snapshot":
        return {"hello": "world"}
    if how == "newer_version":
        broken["version"] = 99
    elif how == "unknown_table":
        broken["tables"]["secrets"] = []
    elif how == "unknown_column":
        broken["tables"]["payments"][0]["colour"] = "red"
    elif how == "row_twice":
        broken["tables"]["payments"].append(broken["tables"]["payments"][0])
    elif how == "bad_clock":
        broken["namespace_now"] = "yesterday"
    elif how == "nested_value":
        broken["tables"]["refunds"][0]["amount"] = {"value": 1}
    elif how == "huge_number":
        broken["tables"]["payments"][0]["amount"] = 10**30
    return broken


@pytest.mark.parametrize("how", ["not_a_snapshot", "newer_version", "unknown_table", "unknown_column", "row_twice",
                                 "bad_clock", "nested_value", "huge_number"])
def test_a_broken_snapshot_is_refused_and_creates_nothing(busy, control, how):
    document = export(busy)
    before = len(control.get("/_mock/namespaces").json["data"])
    reply = control.post("/_mock/namespaces/import", _broken(document, how))
    assert reply.status == 400 and reply.json["error"]["message"].startswith("snapshot: "), reply.text
    assert len(control.get("/_mock/namespaces").json["data"]) == before


def test_an_unknown_namespace_cannot_be_exported(control):
    assert control.get("/_mock/namespaces/ns_nobody/export").status == 404


def test_a_govuk_namespace_travels_with_its_idempotency_keys_and_gets_fresh_links(gov, transport, control):
    from tests.support.clients import Govuk
    made = gov.create(headers={"Idempotency-Key": "order-1"}).json
    agreement = gov.api.post("/govuk/v1/agreements", {"reference": "R", "description": "D"}).json
    document = gov.control.get(f"/_mock/namespaces/{gov.namespace['id']}/export").json
    twin = Govuk(transport, import_into(control, document))
    again = twin.create(headers={"Idempotency-Key": "order-1"})
    assert again.json["payment_id"] == made["payment_id"]  # the key still names the same payment
    fetched = twin.get(made["payment_id"]).json
    assert fetched["state"]["status"] == "created" and fetched["_links"]["next_url"]["href"]
    assert fetched["_links"]["next_url"]["href"] != made["_links"]["next_url"]["href"]
    assert twin.api.get(f"/govuk/v1/agreements/{agreement['agreement_id']}").json == agreement
