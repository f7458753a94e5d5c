"""The payment domain against an in-memory store: no Flask, no HTTP."""

from __future__ import annotations

import pytest

from mock_psp.dialects import registry
from mock_psp.domain import errors
from mock_psp.domain import namespaces
from mock_psp.domain import outcomes
from mock_psp.domain import payments
from mock_psp.domain import refunds
from mock_psp.domain.errors import DomainError
from mock_psp.domain.jobs import HANDLERS
from mock_psp.domain.payments import CardInput
from mock_psp.domain.payments import NewPayment
from mock_psp.domain.payments import PaymentChanges
from mock_psp.domain.payments import PaymentMethodInput
from mock_psp.domain.refunds import NewRefund
from mock_psp.domain.work import unit_of_work
from mock_psp.runtime import clock
from mock_psp.runtime.scheduler import Scheduler
from mock_psp.runtime.store import Store


@pytest.fixture
def store():
    store = Store(":memory:")
    yield store
    store.close()


@pytest.fixture
def ns(store):
    return namespaces.create(store, seed=99)


@pytest.fixture
def virtual_ns(store):
    return namespaces.create(store, seed=99, clock_mode="virtual")


def a_card(number: str = "4242424242424242") -> PaymentMethodInput:
    return PaymentMethodInput("card", "credit", CardInput(number, "12", "2035", "Ann", "123"))


def pay(store, ns, number="4242424242424242", **kw) -> payments.Payment:
    return payments.create_payment(store, ns.id, NewPayment(amount=kw.pop("amount", 1000), currency="GBP",
                                                            confirm=True, payment_method=a_card(number), **kw))


def table_rows(store, table: str) -> int:
    with store.read() as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# -- the transition table ------------------------------------------------------------


def test_every_status_is_in_the_transition_table():
    assert set(payments.TRANSITIONS) == set(payments.STATUSES)
    for targets in payments.TRANSITIONS.values():
        assert targets <= set(payments.STATUSES)


def test_terminal_statuses_allow_no_action_but_refund():
    for action, allowed in payments.ACTIONS.items():
        terminal_allowed = allowed & payments.TERMINAL
        if action == "refund":
            assert terminal_allowed == {payments.CAPTURED, payments.PARTIALLY_CAPTURED}
        else:
            assert not terminal_allowed, action


def test_a_transition_outside_the_table_is_a_programming_error(store, ns):
    payment = pay(store, ns)
    with pytest.raises(RuntimeError, match="illegal transition captured -> authorized"):
        with unit_of_work(store, ns.id) as work:
            payments._transition(work, payment, payments.AUTHORIZED, "nope")


def publishing(store, ns):
    namespaces.set_publishing(store, ns.id, True)
    return ns


def test_every_transition_writes_an_audit_row_and_an_outbox_row(store, ns):
    publishing(store, ns)
    payment = pay(store, ns, capture_method="manual")
    payments.capture_payment(store, ns.id, payment.id, 400)
    trail = payments.audit_trail(store, ns.id, payment.id)
    assert [(e["from_status"], e["to_status"]) for e in trail] == [
        (None, "created"), ("created", "authorized"), ("authorized", "partially_captured")]
    with store.read() as db:
        outbox = db.execute("SELECT status FROM outbox WHERE object_id = ? ORDER BY id", [payment.id]).fetchall()
    assert [r["status"] for r in outbox] == ["created", "authorized", "partially_captured"]


def test_a_failed_operation_leaves_no_audit_or_outbox_trace(store, ns):
    publishing(store, ns)
    payment = pay(store, ns, capture_method="manual")
    before = (table_rows(store, "audit_events"), table_rows(store, "outbox"))
    with pytest.raises(LookupError):
        with unit_of_work(store, ns.id) as work:
            payments._transition(work, payment, payments.CANCELLED, "about to fail")
            raise LookupError("something after the transition failed")
    assert (table_rows(store, "audit_events"), table_rows(store, "outbox")) == before
    assert payments.get_payment(store, ns.id, payment.id).status == payments.AUTHORIZED


def test_no_outbox_rows_while_nobody_listens(store, ns):
    pay(store, ns)
    assert table_rows(store, "outbox") == 0
    assert table_rows(store, "audit_events") == 2


# -- outcomes ----------------------------------------------------------------------


def test_outcome_order_is_scripted_then_magic_card_then_rate(store, ns):
    namespaces.push_outcomes(store, ns.id, ["succeeded"])
    namespaces.update_config(store, ns.id, {"success_rates": {"card": 0}})
    assert pay(store, ns, "4000000000000002").status == payments.CAPTURED  # scripted beats magic
    assert pay(store, ns, "4242424242424242").status == payments.CAPTURED  # magic beats rate
    declined = pay(store, ns, "4012888888881881")  # rate 0
    assert declined.status == payments.FAILED and declined.failure_reason == outcomes.CARD_DECLINED


def test_full_card_numbers_are_never_stored_except_public_test_cards(store, ns):
    pay(store, ns, "4012888888881881")
    pay(store, ns, "4000000000000002")
    with store.read() as db:
        dump = "\n".join(str(tuple(row)) for row in db.execute("SELECT * FROM payments"))
    assert "4012888888881881" not in dump and "123" not in dump.replace("Ann", "")
    assert "4000000000000002" in dump


def test_three_ds_outcome_waits_for_the_customer(store, ns):
    payment = pay(store, ns, "4000003800000446")
    assert payment.status == payments.CUSTOMER_ACTION and payment.customer_action == "three_ds"
    done = payments.complete_customer_action(store, ns.id, payment.id, payment.attempt_id, completed=True)
    assert done.status == payments.CAPTURED


def test_seeded_namespaces_repeat_ids_and_draws(store):
    def run():
        ns = namespaces.create(store, seed=5)
        namespaces.update_config(store, ns.id, {"success_rates": {"card": 0.5}})
        return [(p.id, p.status, p.client_secret) for p in (pay(store, ns, "4012888888881881") for _ in range(20))]

    assert run() == run()


# -- capture, cancel, update ---------------------------------------------------------


def test_capture_more_than_authorised_is_refused(store, ns):
    payment = pay(store, ns, capture_method="manual")
    with pytest.raises(DomainError) as caught:
        payments.capture_payment(store, ns.id, payment.id, 1001)
    assert caught.value.code == errors.AMOUNT_TOO_LARGE and caught.value["limit"] == 1000


def test_update_is_only_allowed_before_confirmation(store, ns):
    created = payments.create_payment(store, ns.id, NewPayment(amount=10, currency="GBP"))
    updated = payments.update_payment(store, ns.id, created.id, PaymentChanges(amount=20, description="x"))
    assert (updated.amount, updated.description) == (20, "x")
    done = pay(store, ns)
    with pytest.raises(DomainError) as caught:
        payments.update_payment(store, ns.id, done.id, PaymentChanges(amount=5))
    assert caught.value.code == errors.INVALID_STATE and caught.value["action"] == "update"


def test_confirm_without_payment_method_is_refused(store, ns):
    created = payments.create_payment(store, ns.id, NewPayment(amount=10, currency="GBP"))
    with pytest.raises(DomainError) as caught:
        payments.confirm_payment(store, ns.id, created.id, PaymentChanges())
    assert caught.value.code == errors.MISSING_FIELD


# -- refunds --------------------------------------------------------------------------


def test_refunds_never_exceed_the_captured_amount(store, ns):
    payment = pay(store, ns, amount=1000)
    for amount in (300, 300, 400):
        assert refunds.create_refund(store, ns.id, NewRefund(payment.id, amount)).status == refunds.SUCCEEDED
    with pytest.raises(DomainError) as caught:
        refunds.create_refund(store, ns.id, NewRefund(payment.id, 1))
    assert caught.value.code == errors.AMOUNT_TOO_LARGE and caught.value["limit"] == 0


def test_failed_refunds_free_their_amount_again(store, ns):
    payment = pay(store, ns, amount=1000)
    namespaces.update_config(store, ns.id, {"success_rates": {"refund": 0}})
    assert refunds.create_refund(store, ns.id, NewRefund(payment.id)).status == refunds.FAILED
    namespaces.update_config(store, ns.id, {"success_rates": {"refund": 1}})
    assert refunds.create_refund(store, ns.id, NewRefund(payment.id)).amount == 1000


# -- the scheduler and the virtual clock ------------------------------------------------


def test_advancing_runs_due_jobs_in_due_time_order_at_their_own_time(store, virtual_ns):
    seen = []

    def record(store, job):
        now = namespaces.get(store, job.namespace_id).now_ms()
        seen.append((job.payload["n"], now - start))

    scheduler = Scheduler(store, {"test.record": record})
    start = namespaces.get(store, virtual_ns.id).now_ms()
    with store.write() as db:
        from mock_psp.runtime import scheduler as scheduling

        for n, delay in ((3, 30_000), (1, 10_000), (2, 20_000), (4, 90_000)):
            scheduling.schedule(db, virtual_ns.id, "test.record", start + delay, {"n": n})
    ran = clock.advance(scheduler, virtual_ns.id, 60)
    assert [r["payload"]["n"] for r in ran] == [1, 2, 3]
    assert seen == [(1, 10_000), (2, 20_000), (3, 30_000)]
    assert namespaces.get(store, virtual_ns.id).now_ms() == start + 60_000


def test_the_after_job_hook_is_skipped_only_after_quiet_jobs(store, virtual_ns):
    """A webhook delivery commits no change for the outbox pass to pick up: under load, that
    pass after every delivery cost a write turn and kept deliveries behind the events."""
    hooks = []
    scheduler = Scheduler(store, {"test.quiet": lambda s, j: None, "test.loud": lambda s, j: None},
                          after_job=lambda: hooks.append("pass"), quiet_kinds=frozenset({"test.quiet"}))
    start = namespaces.get(store, virtual_ns.id).now_ms()
    with store.write() as db:
        from mock_psp.runtime import scheduler as scheduling

        for n in range(3):
            scheduling.schedule(db, virtual_ns.id, "test.quiet", start + 1000 * (n + 1), {})
        scheduling.schedule(db, virtual_ns.id, "test.loud", start + 5000, {})
    hooks.clear()
    with scheduler.running_jobs_of(virtual_ns.id):
        hooks.clear()
        ran = scheduler.run_due_by(virtual_ns.id, start + 10_000)
    assert [r["kind"] for r in ran] == ["test.quiet"] * 3 + ["test.loud"]
    assert hooks == ["pass"]  # after the loud job only


def test_jobs_scheduled_inside_the_window_also_run(store, virtual_ns):
    scheduler = Scheduler(store, HANDLERS)
    namespaces.update_config(store, virtual_ns.id, {"delays": {"authorize": 5, "capture": 5}})
    payment = pay(store, virtual_ns)  # authorise in 5s, then capture in 5s more
    assert payment.status == payments.PROCESSING
    ran = clock.advance(scheduler, virtual_ns.id, 60)
    assert [job["kind"] for job in ran][:2] == ["payment.complete", "payment.complete"]
    assert payments.get_payment(store, virtual_ns.id, payment.id).status == payments.CAPTURED


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(store, virtual_ns):
    def boom(store, job):
        raise ValueError("bad job")

    scheduler = Scheduler(store, {"test.boom": boom, **HANDLERS})
    with store.write() as db:
        from mock_psp.runtime import scheduler as scheduling

        scheduling.schedule(db, virtual_ns.id, "test.boom", virtual_ns.now_ms() + 1, {})
    created = payments.create_payment(store, virtual_ns.id, NewPayment(amount=5, currency="GBP"))
    ran = clock.advance(scheduler, virtual_ns.id, 3600)
    assert [(r["kind"], r["state"]) for r in ran] == [("test.boom", "failed"), ("payment.expire", "done")]
    assert ran[0]["error"] == "ValueError: bad job"
    assert payments.get_payment(store, virtual_ns.id, created.id).status == payments.EXPIRED


def test_jobs_left_running_by_a_crash_run_again_after_restart(tmp_path):
    path = str(tmp_path / "crash.db")
    store = Store(path)
    ns = namespaces.create(store, seed=1, clock_mode="virtual")
    with store.write() as db:
        from mock_psp.runtime import scheduler as scheduling

        job_id = scheduling.schedule(db, ns.id, "test.count", ns.now_ms(), {})
        db.execute("UPDATE jobs SET state = 'running' WHERE id = ?", [job_id])  # claimed, then the process died
    store.close()
    runs = []
    restarted = Store(path)
    scheduler = Scheduler(restarted, {"test.count": lambda store, job: runs.append(job.id)})
    clock.advance(scheduler, ns.id, 1)
    restarted.close()
    assert runs == [job_id]


def test_system_clock_worker_runs_due_jobs(store, ns):
    scheduler = Scheduler(store, HANDLERS)
    namespaces.update_config(store, ns.id, {"delays": {"authorize": 0.001}})
    payment = pay(store, ns)
    assert payment.status == payments.PROCESSING
    import time

    deadline = time.monotonic() + 5
    while payments.get_payment(store, ns.id, payment.id).status == payments.PROCESSING:
        assert time.monotonic() < deadline, "the worker never completed the job"
        scheduler.run_due_everywhere()
    assert payments.get_payment(store, ns.id, payment.id).status == payments.CAPTURED


# -- namespaces -----------------------------------------------------------------------


def test_namespaces_do_not_see_each_others_payments(store, ns):
    other = namespaces.create(store)
    payment = pay(store, ns)
    with pytest.raises(DomainError) as caught:
        payments.get_payment(store, other.id, payment.id)
    assert caught.value.code == errors.NOT_FOUND


def test_the_same_merchant_payment_id_can_exist_in_two_namespaces(store, ns):
    other = namespaces.create(store)
    for namespace in (ns, other):
        assert pay(store, namespace, payment_id="order-1").id == "order-1"


def test_default_namespace_is_created_once_with_stable_keys(store):
    specs = registry.key_specs()
    first = namespaces.ensure_default(store, specs, seed=3)
    second = namespaces.ensure_default(store, specs, seed=3)
    assert first == second and first.keys == namespaces.default_keys(specs)


# -- customer steps on the provider's pages (GOV.UK Pay's flow) -------------------------


def page_payment(store, ns, **kw):
    return payments.create_payment(store, ns.id, NewPayment(amount=500, currency="GBP", dialect="govuk",
                                                            confirmation_required=True, **kw))


def test_payment_page_flow_authorises_then_waits_for_confirmation(store, ns):
    payment = page_payment(store, ns)
    opened = payments.open_payment_page(store, ns.id, payment.id)
    assert (opened.status, opened.customer_action) == (payments.CUSTOMER_ACTION, payments.PAYMENT_PAGE)
    assert payments.open_payment_page(store, ns.id, payment.id).status == payments.CUSTOMER_ACTION  # idempotent
    submitted = payments.submit_payment_page(store, ns.id, payment.id, PaymentChanges(
        payment_method=a_card("4444333322221111")))
    assert (submitted.status, submitted.customer_action) == (payments.AUTHORIZED, payments.CONFIRMATION)
    with pytest.raises(DomainError):
        payments.capture_payment(store, ns.id, payment.id, None)  # not before the customer confirms
    confirmed = payments.customer_confirm(store, ns.id, payment.id)
    assert confirmed.status == payments.CAPTURED


def test_delayed_capture_holds_after_confirmation_and_expires_after_its_window(store, virtual_ns):
    scheduler = Scheduler(store, HANDLERS)
    payment = page_payment(store, virtual_ns, capture_method="manual", capture_window_seconds=3600)
    payments.open_payment_page(store, virtual_ns.id, payment.id)
    payments.submit_payment_page(store, virtual_ns.id, payment.id, PaymentChanges(payment_method=a_card()))
    held = payments.customer_confirm(store, virtual_ns.id, payment.id)
    assert (held.status, held.customer_action) == (payments.AUTHORIZED, None)
    clock.advance(scheduler, virtual_ns.id, 3600)
    assert payments.get_payment(store, virtual_ns.id, payment.id).status == payments.EXPIRED


def test_customer_cancel_fails_the_payment_with_its_reason(store, ns):
    payment = page_payment(store, ns)
    payments.open_payment_page(store, ns.id, payment.id)
    cancelled = payments.customer_cancel(store, ns.id, payment.id)
    assert (cancelled.status, cancelled.failure_reason) == (payments.FAILED, outcomes.CANCELLED_BY_USER)


def test_idempotency_key_replays_or_conflicts(store, ns):
    new = NewPayment(amount=100, currency="GBP")
    first, replayed = payments.create_payment_once(store, ns.id, new, "key-1", "body-a")
    again, replayed_again = payments.create_payment_once(store, ns.id, new, "key-1", "body-a")
    assert (replayed, replayed_again, again.id) == (False, True, first.id)
    with pytest.raises(DomainError) as caught:
        payments.create_payment_once(store, ns.id, new, "key-1", "body-b")
    assert caught.value.code == errors.IDEMPOTENCY_CONFLICT


def test_refund_with_a_stale_available_amount_is_refused(store, ns):
    payment = pay(store, ns, amount=1000)
    refunds.create_refund(store, ns.id, NewRefund(payment.id, 100, expected_available=1000))
    with pytest.raises(DomainError) as caught:
        refunds.create_refund(store, ns.id, NewRefund(payment.id, 100, expected_available=1000))
    assert caught.value.code == errors.AMOUNT_MISMATCH and caught.value["actual"] == 900


def test_access_tokens_work_once(store, ns):
    from mock_psp.domain import access

    payment = page_payment(store, ns)
    token = access.issue(store, ns.id, payment.id)
    assert access.redeem(store, token) == (ns.id, payment.id)
    with pytest.raises(DomainError):
        access.redeem(store, token)
    assert access.owner(store, token) == (ns.id, payment.id)


def test_api_authorisation_skips_3ds_and_confirmation(store, ns):
    namespaces.push_outcomes(store, ns.id, ["3ds"])
    payment = page_payment(store, ns)  # even one made for the pages: nobody is there to confirm
    authorised = payments.authorise_by_api(store, ns.id, payment.id, PaymentChanges(payment_method=a_card()))
    assert (authorised.status, authorised.customer_action) == (payments.CAPTURED, None)
    with pytest.raises(DomainError) as caught:
        payments.authorise_by_api(store, ns.id, payment.id, PaymentChanges(payment_method=a_card()))
    assert caught.value.code == errors.INVALID_STATE


def test_api_authorisation_with_manual_capture_holds_for_its_window(store, virtual_ns):
    scheduler = Scheduler(store, HANDLERS)
    payment = payments.create_payment(store, virtual_ns.id, NewPayment(
        amount=500, currency="GBP", dialect="govuk", capture_method="manual", capture_window_seconds=60))
    held = payments.authorise_by_api(store, virtual_ns.id, payment.id, PaymentChanges(payment_method=a_card()))
    assert (held.status, held.customer_action) == (payments.AUTHORIZED, None)
    clock.advance(scheduler, virtual_ns.id, 60)
    assert payments.get_payment(store, virtual_ns.id, payment.id).status == payments.EXPIRED


def test_api_authorisation_rejects_a_bad_check_digit_without_using_an_outcome(store, ns):
    namespaces.push_outcomes(store, ns.id, ["succeeded"])
    payment = payments.create_payment(store, ns.id, NewPayment(amount=500, currency="GBP", dialect="govuk"))
    rejected = payments.authorise_by_api(store, ns.id, payment.id, PaymentChanges(
        payment_method=a_card("4242424242424241")))
    assert (rejected.status, rejected.failure_reason) == (payments.FAILED, outcomes.INVALID_CARD_NUMBER)
    assert rejected.payment_method_data is None
    assert namespaces.scripted_outcomes(store, ns.id) == ["succeeded"]


def test_every_domain_error_code_is_mapped_by_every_dialect():
    from mock_psp.dialects.govuk import errors as govuk_errors
    from mock_psp.dialects.hyperswitch import errors as hyperswitch_errors

    details = {"object": "payment", "object_id": "x", "action": "confirm", "status": payments.CREATED,
               "field": "amount", "key": "k", "expected": 1, "actual": 2, "limit": 0}
    for code in errors.ALL_CODES:
        error = DomainError(code, "message", dict(details))
        assert hyperswitch_errors.from_domain(error).code
        assert govuk_errors.from_domain(error).code


# -- what a waiting job would do -------------------------------------------------------


def waiting(store, ns_id: str) -> dict[str, str]:
    from mock_psp.domain import jobs
    from mock_psp.runtime import scheduler
    with store.read() as db:
        return {job["kind"]: jobs.describe(store, ns_id, job["kind"], job["payload"])
                for job in scheduler.pending_jobs(db, ns_id)}


def test_a_waiting_expiry_says_it_would_expire_an_unpaid_payment_and_nothing_once_paid(store, virtual_ns):
    unpaid = payments.create_payment(store, virtual_ns.id, NewPayment(amount=500, currency="GBP"))
    assert waiting(store, virtual_ns.id) == {"payment.expire": "expires the unpaid payment"}
    payments.confirm_payment(store, virtual_ns.id, unpaid.id, PaymentChanges(payment_method=a_card()))
    assert waiting(store, virtual_ns.id) == {"payment.expire": "nothing: the payment is already captured"}


def test_a_waiting_refund_settlement_says_how_it_ends_until_it_has(store, virtual_ns):
    namespaces.update_config(store, virtual_ns.id, {"delays": {"refund": 30}})
    paid = pay(store, virtual_ns)
    refunds.create_refund(store, virtual_ns.id, NewRefund(payment_id=paid.id, amount=300))
    assert waiting(store, virtual_ns.id)["refund.complete"] == "settles the refund (succeeds)"


# -- every namespace table is accounted for ---------------------------------------------


def namespace_tables(store) -> set[str]:
    with store.read() as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {n for n in names if "namespace_id" in [c[1] for c in db.execute(f"PRAGMA table_info({n})")]}


def test_reset_empties_every_table_of_a_namespace_but_its_endpoints(store):
    # A table added later with a namespace_id must be listed, or reset would leave its rows behind.
    kept = {"webhook_endpoints", "dialect_keys", "dialect_settings"}  # the account, not its data
    assert namespace_tables(store) - kept == set(namespaces.DATA_TABLES)


def test_a_snapshot_carries_every_table_of_a_namespace_but_browser_sessions(store):
    from mock_psp.domain import snapshots
    # A copy makes keys of its own; the dialects' settings travel as the document's namespace settings.
    elsewhere = {"access_tokens", "checkout_sessions", "dialect_keys", "dialect_settings"}
    assert namespace_tables(store) - elsewhere == set(snapshots.TABLES)


def test_a_payment_list_finds_part_of_an_id_or_a_reference(store, ns):
    first = pay(store, ns, reference="ORDER-1234")
    second = pay(store, ns)
    by_reference, total = payments.list_payments(store, ns.id, payments.PaymentFilter(contains="R-12"),
                                                 with_total=True)
    assert [x.id for x in by_reference] == [first.id] and total == 1
    by_id, _ = payments.list_payments(store, ns.id, payments.PaymentFilter(contains=second.id[-6:]))
    assert [x.id for x in by_id] == [second.id]
