"""The test merchant's books: order states derived from the provider's truth, and refunds."""

from __future__ import annotations

import pytest

from mock_psp.test_merchant import orders as o
from mock_psp.test_merchant.psp.base import PaymentTruth
from mock_psp.test_merchant.psp.base import RefundTruth
from mock_psp.test_merchant.store import Store

NOW = 1_800_000_000.0


@pytest.fixture
def store():
    store = Store(":memory:")
    yield store
    store.close()


def new_order(store, amount=1000) -> str:
    with store.write() as db:
        order, _ = o.create_order(db, dialect="hyperswitch", amount=amount, currency="USD", description="Mug",
                                  idempotency_key=None, now=NOW)
        o.attach_payment(db, order["id"], f"pay_{order['id']}", {}, NOW)
    return order["id"]


def pay(store, order_id, state="paid", status="succeeded", paid=1000):
    with store.write() as db:
        return o.record_payment(db, order_id, PaymentTruth(f"pay_{order_id}", state, status, 1000, paid), "test", NOW)


def state(store, order_id) -> str:
    with store.read() as db:
        return o.get_order(db, order_id)["state"]


def transitions(store, order_id) -> list[tuple]:
    with store.read() as db:
        return [(t["from"], t["to"]) for t in o.order_json(db, o.get_order(db, order_id))["transitions"]]


def test_a_paid_order_never_goes_back_to_pending(store):
    order_id = new_order(store)
    assert pay(store, order_id).changed
    late = pay(store, order_id, state="pending", status="processing", paid=0)
    assert late.ignored and not late.changed
    assert state(store, order_id) == "paid"
    assert transitions(store, order_id) == [(None, "pending"), ("pending", "paid")]


def test_a_cancelled_order_stays_cancelled(store):
    order_id = new_order(store)
    pay(store, order_id, state="cancelled", status="cancelled", paid=0)
    assert pay(store, order_id).ignored
    assert state(store, order_id) == "cancelled"


def test_a_failed_order_becomes_paid_when_the_provider_takes_the_money_after_all(store):
    order_id = new_order(store)
    pay(store, order_id, state="failed", status="failed", paid=0)
    pay(store, order_id)
    assert transitions(store, order_id)[-1] == ("failed", "paid")


def test_every_state_in_the_table_is_a_known_state_and_final_states_have_no_exit():
    assert set(o.TRANSITIONS) == set(o.STATES)
    assert all(targets <= set(o.STATES) for targets in o.TRANSITIONS.values())
    assert o.TRANSITIONS["refunded"] == o.TRANSITIONS["cancelled"] == frozenset()
    assert all("pending" not in targets for targets in o.TRANSITIONS.values())


def test_a_refund_stays_pending_until_the_provider_confirms_it(store):
    order_id = new_order(store)
    pay(store, order_id)
    with store.write() as db:
        refund, available = o.open_refund(db, order_id, 400, NOW)
        o.attach_refund(db, refund["id"], "ref_1", "succeeded", NOW)
    assert available == 1000
    assert state(store, order_id) == "refund_pending"
    with store.write() as db:
        o.record_refund(db, order_id, RefundTruth("ref_1", "pay", 400, "succeeded", "succeeded"), "webhook", NOW)
    assert state(store, order_id) == "partially_refunded"


def test_the_rest_refunded_makes_the_order_refunded(store):
    order_id = new_order(store)
    pay(store, order_id)
    for amount in (600, 400):
        with store.write() as db:
            refund, _ = o.open_refund(db, order_id, amount, NOW)
            o.record_refund(db, order_id, RefundTruth(refund["id"], "pay", amount, "succeeded", "succeeded"), "t", NOW)
    assert state(store, order_id) == "refunded"
    with store.write() as db, pytest.raises(o.OrderError) as refused:
        o.open_refund(db, order_id, 1, NOW)
    assert refused.value.code == "not_refundable"


def test_refunds_never_exceed_what_was_paid_counting_the_pending_ones(store):
    order_id = new_order(store)
    pay(store, order_id)
    with store.write() as db:
        o.open_refund(db, order_id, 700, NOW)
    with store.write() as db, pytest.raises(o.OrderError) as refused:
        o.open_refund(db, order_id, 301, NOW)
    assert refused.value.code == "refund_exceeds_available" and refused.value.status == 409


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True])
def test_a_refund_amount_must_be_a_positive_integer(store, amount):
    order_id = new_order(store)
    pay(store, order_id)
    with store.write() as db, pytest.raises(o.OrderError) as refused:
        o.open_refund(db, order_id, amount, NOW)
    assert refused.value.code == "invalid_amount"


@pytest.mark.parametrize("amount", [100, None])
def test_an_unpaid_order_cannot_be_refunded(store, amount):
    order_id = new_order(store)
    with store.write() as db, pytest.raises(o.OrderError) as refused:
        o.open_refund(db, order_id, amount, NOW)
    assert refused.value.code == "not_refundable"


def test_no_amount_refunds_all_that_is_left(store):
    order_id = new_order(store)
    pay(store, order_id)
    with store.write() as db:
        o.open_refund(db, order_id, 300, NOW)
        refund, _ = o.open_refund(db, order_id, None, NOW)
    assert refund["amount"] == 700


def test_a_refused_refund_rolls_the_order_back_so_it_can_be_retried(store):
    order_id = new_order(store)
    pay(store, order_id)
    with store.write() as db:
        refund, _ = o.open_refund(db, order_id, 1000, NOW)
        o.fail_refund(db, refund["id"], "HTTP 400", "provider refused", NOW)
    assert state(store, order_id) == "paid"
    assert transitions(store, order_id)[-2:] == [("paid", "refund_pending"), ("refund_pending", "paid")]
    with store.write() as db:
        o.open_refund(db, order_id, 1000, NOW)  # the full amount is available again


def test_a_final_refund_never_changes(store):
    order_id = new_order(store)
    pay(store, order_id)
    with store.write() as db:
        refund, _ = o.open_refund(db, order_id, 300, NOW)
        o.record_refund(db, order_id, RefundTruth(refund["id"], "pay", 300, "succeeded", "succeeded"), "t", NOW)
        late = o.record_refund(db, order_id, RefundTruth(refund["id"], "pay", 300, "failed", "failed"), "t", NOW)
    assert late.ignored
    assert state(store, order_id) == "partially_refunded"


def test_a_refund_made_outside_the_shop_is_added_to_the_books(store):
    order_id = new_order(store)
    pay(store, order_id)
    with store.write() as db:
        o.record_refund(db, order_id, RefundTruth("ref_desk", "pay", 1000, "succeeded", "succeeded"), "webhook", NOW)
        refunds = o.refunds_of(db, order_id)
    assert [(r["provider_refund_id"], r["source"]) for r in refunds] == [("ref_desk", "provider")]
    assert state(store, order_id) == "refunded"


def test_one_idempotency_key_makes_one_order(store):
    with store.write() as db:
        first, new = o.create_order(db, dialect="govuk", amount=5, currency="GBP", description="x",
                                    idempotency_key="k1", now=NOW)
        again, new_again = o.create_order(db, dialect="govuk", amount=5, currency="GBP", description="x",
                                          idempotency_key="k1", now=NOW)
    assert new and not new_again and first["id"] == again["id"]


def test_order_ids_are_valid_hyperswitch_payment_ids_and_govuk_idempotency_keys(store):
    order_id = new_order(store)
    assert order_id.startswith("ord-") and all(c.isalnum() or c == "-" for c in order_id) and len(order_id) <= 64
