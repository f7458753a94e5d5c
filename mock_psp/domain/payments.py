"""Payments: the lifecycle every dialect maps onto.

Internal statuses (each dialect has its own names for them)::

    created --> customer_action --> processing --> authorized --> captured
       |              |                 |             |      \\--> partially_captured
       |              |                 |             \\--> cancelled / expired
       \\--------------+-----------------+--> failed, cancelled, expired

``TRANSITIONS`` is the only place that says which moves are legal and
``ACTIONS`` the only place that says which operations a status allows.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any

from sqlite_utils import Database

from ..runtime.store import Store
from . import agreements
from . import customers
from . import mandates
from . import namespace_config
from . import namespaces
from . import outcomes
from .cards import luhn_valid
from .cards import masked_card
from .errors import AMOUNT_INVALID
from .errors import AMOUNT_TOO_LARGE
from .errors import CLIENT_SECRET_EXPIRED
from .errors import CLIENT_SECRET_MISMATCH
from .errors import DUPLICATE
from .errors import IDEMPOTENCY_CONFLICT
from .errors import INVALID_STATE
from .errors import MISSING_FIELD
from .errors import NOT_FOUND
from .errors import DomainError
from .outcomes import Outcome
from .work import Work
from .work import dumps
from .work import loads
from .work import unit_of_work

CREATED = "created"
CUSTOMER_ACTION = "customer_action"
PROCESSING = "processing"
AUTHORIZED = "authorized"
CAPTURED = "captured"
PARTIALLY_CAPTURED = "partially_captured"
FAILED = "failed"
CANCELLED = "cancelled"
EXPIRED = "expired"

STATUSES = (
    CREATED, CUSTOMER_ACTION, PROCESSING, AUTHORIZED, CAPTURED,
    PARTIALLY_CAPTURED, FAILED, CANCELLED, EXPIRED,
)

TRANSITIONS: dict[str, frozenset[str]] = {
    CREATED: frozenset({CUSTOMER_ACTION, PROCESSING, AUTHORIZED, CAPTURED, FAILED, CANCELLED, EXPIRED}),
    # customer_action -> customer_action: one customer step leads to another (the
    # payment page's card needs a 3DS challenge).
    CUSTOMER_ACTION: frozenset({CUSTOMER_ACTION, PROCESSING, AUTHORIZED, CAPTURED, FAILED, CANCELLED, EXPIRED}),
    # processing -> processing: an authorisation finished and its capture is now pending.
    PROCESSING: frozenset({PROCESSING, AUTHORIZED, CAPTURED, PARTIALLY_CAPTURED, FAILED}),
    # authorized -> authorized: the customer confirmed an authorisation (GOV.UK's
    # confirm page) and it now waits for the merchant's capture.
    # authorized -> failed: the customer walked away from the confirm page.
    AUTHORIZED: frozenset({PROCESSING, CAPTURED, PARTIALLY_CAPTURED, CANCELLED, EXPIRED, AUTHORIZED, FAILED}),
    # A failed payment can be confirmed again only where manual retry is on.
    FAILED: frozenset({CUSTOMER_ACTION, PROCESSING, AUTHORIZED, CAPTURED, FAILED}),
    CAPTURED: frozenset(),
    PARTIALLY_CAPTURED: frozenset(),
    CANCELLED: frozenset(),
    EXPIRED: frozenset(),
}

ACTIONS: dict[str, frozenset[str]] = {
    "confirm": frozenset({CREATED}),
    "update": frozenset({CREATED}),
    "capture": frozenset({AUTHORIZED}),
    "cancel": frozenset({CREATED, CUSTOMER_ACTION, AUTHORIZED}),
    "complete_customer_action": frozenset({CUSTOMER_ACTION}),
    "refund": frozenset({CAPTURED, PARTIALLY_CAPTURED}),
    # The customer's own steps on the provider's payment pages.
    "open_payment_page": frozenset({CREATED, CUSTOMER_ACTION}),
    "submit_payment_page": frozenset({CUSTOMER_ACTION}),
    "customer_confirm": frozenset({AUTHORIZED}),
    "customer_cancel": frozenset({CREATED, CUSTOMER_ACTION, AUTHORIZED}),
    # The merchant sends the card itself, no customer present (GOV.UK Pay's MOTO API).
    "authorise_by_api": frozenset({CREATED}),
}

# What a payment in CUSTOMER_ACTION, or AUTHORIZED, waits for the customer to do.
THREE_DS = "three_ds"
PAYMENT_PAGE = "payment_page"
CONFIRMATION = "confirm"
AGREEMENT = "agreement"  # not the customer: authorisation with an agreement's saved card is queued

TERMINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)

AUTOMATIC = "automatic"
MANUAL = "manual"
CAPTURE_METHODS = (AUTOMATIC, MANUAL)


@dataclass
class CardInput:
    number: str
    exp_month: str
    exp_year: str
    holder_name: str | None = None
    cvc: str | None = None
    network: str | None = None
    card_type: str | None = None
    issuer: str | None = None
    issuing_country: str | None = None
    # The magic numbers of the sandbox the card was entered into (the dialect's); None: the common ones.
    book: outcomes.CardBook | None = None

    def test_outcome(self) -> Outcome | None:
        return (self.book or outcomes.COMMON_CARDS).outcome(self.number)


@dataclass
class PaymentMethodInput:
    """A payment method as the domain sees it, whatever the dialect's wire shape."""

    method: str  # card | upi | wallet | bank_redirect | pay_later
    method_type: str | None = None
    card: CardInput | None = None
    vpa: str | None = None
    details: dict[str, Any] | None = None

    def stored(self) -> dict[str, Any]:
        """What is kept: a masked card, the VPA, or the wallet details; never a PAN or CVC."""
        if self.card is not None:
            c = self.card
            card = masked_card(c.number, c.exp_month, c.exp_year, c.holder_name,
                               c.network, c.card_type, c.issuer, c.issuing_country)
            # A public test number is kept whole, with what its sandbox does, so a later confirm honours it.
            magic = c.test_outcome()
            card["test_card"] = c.number if magic is not None else None
            card["test_outcome"] = magic.to_json() if magic is not None else None
            return {"card": card}
        if self.vpa is not None:
            return {"upi": {"vpa": self.vpa}}
        return {self.method: self.details or {}}


@dataclass
class PaymentChanges:
    """Fields a create, update or confirm may set. None means "leave as it is"."""

    amount: int | None = None
    currency: str | None = None
    capture_method: str | None = None
    payment_method: PaymentMethodInput | None = None
    authentication_type: str | None = None
    customer_id: str | None = None
    description: str | None = None
    return_url: str | None = None
    reference: str | None = None
    metadata: dict | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class NewPayment(PaymentChanges):
    # The dialect whose API made it (each dialect names itself; the domain used alone leaves it empty).
    dialect: str = ""
    payment_id: str | None = None
    # Length of a generated id, and its alphabet (GOV.UK: 26 lowercase characters).
    id_prefix: str = "pay_"
    id_length: int = 20
    id_alphabet: str | None = None
    confirm: bool = False
    session_expiry_seconds: int | None = None
    confirmation_required: bool = False
    capture_window_seconds: int | None = None
    # Pay with this agreement's saved card, without the customer: authorised by a job, at once.
    agreement_id: str | None = None
    # The customer the payment names ({"id", "name"?, "email"?, "phone"?, "phone_country_code"?}):
    # created if new, its details updated if given.
    customer: dict | None = None
    # Pay off session with this mandate's saved card (confirmed at once, no customer there).
    mandate_id: str | None = None


@dataclass
class Payment:
    namespace_id: str
    id: str
    dialect: str
    status: str
    amount: int
    currency: str
    capture_method: str
    amount_captured: int
    payment_method: str | None
    payment_method_type: str | None
    payment_method_data: dict | None
    authentication_type: str | None
    client_secret: str
    customer_id: str | None
    description: str | None
    return_url: str | None
    reference: str | None
    metadata: dict | None
    attributes: dict
    failure_reason: str | None
    customer_action: str | None
    pending: dict | None
    attempt_id: str | None
    attempt_count: int
    connector_transaction_id: str | None
    cancellation_reason: str | None
    session_expires_at: int
    created_at: int
    updated_at: int
    confirmation_required: bool = False
    capture_window_seconds: int | None = None

    @property
    def amount_capturable(self) -> int:
        """What could still be captured: all of it until authorised and captured, then nothing."""
        if self.status in (CREATED, CUSTOMER_ACTION):
            return self.amount
        if self.status == PROCESSING:
            return self.amount if (self.pending or {}).get("operation") == "authorize" else 0
        if self.status == AUTHORIZED:
            return self.amount - self.amount_captured
        return 0

    @classmethod
    def from_snapshot(cls, snapshot: dict) -> Payment:
        """The payment as an outbox row's snapshot holds it (the change's moment)."""
        return cls(**{name: snapshot[name] for name in cls.__dataclass_fields__})

    @classmethod
    def from_row(cls, row) -> Payment:
        data = dict(row)
        for key in ("payment_method_data", "metadata", "pending"):
            data[key] = loads(data[key])
        data["attributes"] = json.loads(data["attributes"])
        data["confirmation_required"] = bool(data["confirmation_required"])
        return cls(**data)


_COLUMNS = [f for f in Payment.__dataclass_fields__]


# -- reading ------------------------------------------------------------------


def _read(db: Database, namespace_id: str, payment_id: str) -> Payment | None:
    row = db.execute(
        "SELECT * FROM payments WHERE namespace_id = ? AND id = ?", [namespace_id, payment_id]
    ).fetchone()
    return Payment.from_row(row) if row is not None else None


def _not_found(payment_id: str) -> DomainError:
    return DomainError(NOT_FOUND, "payment not found", {"object": "payment", "object_id": payment_id})


def _read_or_fail(db: Database, namespace_id: str, payment_id: str) -> Payment:
    found = _read(db, namespace_id, payment_id)
    if found is None:
        raise _not_found(payment_id)
    return found


def load(work: Work, payment_id: str) -> Payment:
    """The payment, in the caller's unit of work (DomainError not_found if there is none)."""
    return _read_or_fail(work.db, work.namespace.id, payment_id)


def find(work: Work, payment_id: str) -> Payment | None:
    """The payment, or None (a job's payment is gone when its namespace was reset)."""
    return _read(work.db, work.namespace.id, payment_id)


def get_payment(store: Store, namespace_id: str, payment_id: str) -> Payment:
    with store.read() as db:
        return _read_or_fail(db, namespace_id, payment_id)


def find_payment(store: Store, namespace_id: str, payment_id: str) -> Payment | None:
    with store.read() as db:
        return _read(db, namespace_id, payment_id)


ANY = object()  # in a StatusMatch: "whatever the value"


@dataclass(frozen=True)
class StatusMatch:
    """One way for a payment to match a status filter: its status, and optionally
    what it waits for and why it failed (``reasons``/``not_reasons`` are sets)."""

    status: str
    customer_action: object = ANY
    reasons: frozenset[str] | None = None
    not_reasons: frozenset[str] | None = None


@dataclass
class PaymentFilter:
    customer_id: str | None = None
    created_gte: int | None = None
    created_gt: int | None = None
    created_lte: int | None = None
    created_lt: int | None = None
    starting_after: str | None = None
    ending_before: str | None = None
    reference: str | None = None
    statuses: tuple[str, ...] | None = None
    # Alternatives, any of which matches (finer than ``statuses``).
    matches: tuple[StatusMatch, ...] | None = None
    dialect: str | None = None
    # Equality on stored details: attributes (e.g. {"email": ...}) and the card
    # (e.g. {"network": "Visa", "last4": "4242"}).
    attributes: dict[str, Any] | None = None
    card: dict[str, str] | None = None
    # Part of the payment id or of the reference (a search box's words).
    contains: str | None = None
    limit: int = 10
    offset: int = 0


def _match_clause(match: StatusMatch) -> tuple[str, list]:
    parts, params = ["status = ?"], [match.status]
    if match.customer_action is not ANY:
        if match.customer_action is None:
            parts.append("customer_action IS NULL")
        else:
            parts.append("customer_action = ?")
            params.append(match.customer_action)
    if match.reasons is not None:
        parts.append(f"failure_reason IN ({', '.join('?' * len(match.reasons))})")
        params.extend(sorted(match.reasons))
    if match.not_reasons is not None:
        parts.append(f"coalesce(failure_reason, '') NOT IN ({', '.join('?' * len(match.not_reasons))})")
        params.extend(sorted(match.not_reasons))
    return "(" + " AND ".join(parts) + ")", params


def list_payments(store: Store, namespace_id: str, f: PaymentFilter,
                  with_total: bool = False) -> tuple[list[Payment], int | None]:
    """Newest first. Returns the page, and the number matching the filter if asked (it costs a count)."""
    where, params = ["namespace_id = ?"], [namespace_id]
    for column, op, value in (
        ("customer_id", "=", f.customer_id),
        ("reference", "=", f.reference),
        ("dialect", "=", f.dialect),
        ("created_at", ">=", f.created_gte),
        ("created_at", ">", f.created_gt),
        ("created_at", "<=", f.created_lte),
        ("created_at", "<", f.created_lt),
    ):
        if value is not None:
            where.append(f"{column} {op} ?")
            params.append(value)
    if f.statuses:
        where.append(f"status IN ({', '.join('?' * len(f.statuses))})")
        params.extend(f.statuses)
    if f.contains:
        where.append("(instr(id, ?) > 0 OR instr(coalesce(reference, ''), ?) > 0)")
        params += [f.contains, f.contains]
    if f.matches is not None:
        clauses = [_match_clause(m) for m in f.matches] or [("0", [])]
        where.append("(" + " OR ".join(c for c, _ in clauses) + ")")
        params.extend(p for _, ps in clauses for p in ps)
    for column, prefix, wanted in (("attributes", "$.", f.attributes), ("payment_method_data", "$.card.", f.card)):
        for key, value in (wanted or {}).items():
            if not key.replace("_", "").isalnum():
                raise ValueError(f"bad filter key {key!r}")
            where.append(f"json_extract({column}, '{prefix}{key}') = ?")
            params.append(value)
    with store.read() as db:
        for cursor_id, op in ((f.starting_after, "<"), (f.ending_before, ">")):
            if cursor_id is not None:
                anchor = _read_or_fail(db, namespace_id, cursor_id)
                where.append(f"(created_at, rowid) {op} "
                             "(?, (SELECT rowid FROM payments WHERE namespace_id = ? AND id = ?))")
                params.extend([anchor.created_at, namespace_id, cursor_id])
        clause = " AND ".join(where)
        total = db.execute(f"SELECT count(*) FROM payments WHERE {clause}", params).fetchone()[0] \
            if with_total else None
        rows = db.execute(
            f"SELECT * FROM payments WHERE {clause} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
            params + [f.limit, f.offset],
        ).fetchall()
    return [Payment.from_row(r) for r in rows], total


def open_by_reference(store: Store, namespace_id: str, dialect: str, reference: str,
                      statuses: tuple[str, ...]) -> Payment | None:
    """The newest payment of the dialect with this reference that is in one of ``statuses`` and
    whose session has not expired (GovPay+ resumes it rather than starting another)."""
    with store.read() as db:
        now = namespaces.get(store, namespace_id).now_ms()
        row = db.execute(
            f"SELECT * FROM payments WHERE namespace_id = ? AND dialect = ? AND reference = ? AND status IN "
            f"({', '.join('?' * len(statuses))}) AND session_expires_at > ? ORDER BY created_at DESC LIMIT 1",
            [namespace_id, dialect, reference, *statuses, now]).fetchone()
    return Payment.from_row(row) if row else None


def draw_id(store: Store, namespace_id: str, length: int, alphabet: str) -> str:
    """An id from the namespace's seeded sequence, for a payment made later (GovPay+ names the
    transaction in its call to the merchant, before the payment exists)."""
    with unit_of_work(store, namespace_id) as work:
        return work.draws.token(length, alphabet)


def audit_trail(store: Store, namespace_id: str, payment_id: str) -> list[dict]:
    with store.read() as db:
        _read_or_fail(db, namespace_id, payment_id)
        rows = db.execute(
            """SELECT object_type, object_id, from_status, to_status, reason, at FROM audit_events
               WHERE namespace_id = ? AND payment_id = ? ORDER BY id""",
            [namespace_id, payment_id],
        ).fetchall()
    return [dict(r) for r in rows]


# -- writing ------------------------------------------------------------------


def _save(work: Work, payment: Payment) -> None:
    payment.updated_at = work.now
    values = {name: getattr(payment, name) for name in _COLUMNS}
    for key in ("payment_method_data", "metadata", "pending"):
        values[key] = dumps(values[key])
    values["attributes"] = json.dumps(values["attributes"], separators=(",", ":"))
    values["confirmation_required"] = int(values["confirmation_required"])
    assignments = ", ".join(f"{name} = :{name}" for name in _COLUMNS if name not in ("namespace_id", "id"))
    work.db.execute(f"UPDATE payments SET {assignments} WHERE namespace_id = :namespace_id AND id = :id", values)


def _transition(work: Work, payment: Payment, to: str, reason: str) -> None:
    if to not in TRANSITIONS[payment.status]:
        # A programming error, not a user one: the guards in ACTIONS come first.
        raise RuntimeError(f"illegal transition {payment.status} -> {to} for {payment.id}")
    work.record_transition("payment", payment, payment.status, to, reason, payment.dialect)
    payment.status = to
    if _paid(payment):
        _saved_card_hooks(work, payment)


def _saved_card_hooks(work: Work, payment: Payment) -> None:
    """A payment that was authorised may save its card (an agreement set up, a mandate asked
    for) or spend a mandate it was made with."""
    attrs, card = payment.attributes, (payment.payment_method_data or {}).get("card")
    if attrs.get("set_up_agreement") and card:
        agreements.activate(work, attrs["set_up_agreement"], card)
    if attrs.get("mandate_request") and not attrs.get("mandate_id") and card and payment.customer_id:
        attrs["mandate_id"] = mandates.create_for(work, attrs["mandate_request"], payment.customer_id, payment.id,
                                                  card, payment.payment_method_type)
    if attrs.get("paid_with_mandate") and not attrs.get("mandate_used"):
        mandates.record_use(work, attrs["paid_with_mandate"], payment.amount)
        attrs["mandate_used"] = True


def _paid(payment: Payment) -> bool:
    """Authorised for good: captured, or held for a later capture (not awaiting the customer's confirmation)."""
    return payment.status in (CAPTURED, PARTIALLY_CAPTURED) or (
        payment.status == AUTHORIZED and payment.customer_action is None)


def guard(payment: Payment, action: str, allowed: frozenset[str] | None = None) -> None:
    """DomainError invalid_state unless the payment's status allows the action (ACTIONS)."""
    allowed = ACTIONS[action] if allowed is None else allowed
    if payment.status not in allowed:
        raise _state_error(payment, action, allowed)


def _state_error(payment: Payment, action: str, allowed: frozenset[str]) -> DomainError:
    return DomainError(
        INVALID_STATE,
        f"cannot {action} a payment in status {payment.status}"
        + (f" waiting for {payment.customer_action}" if payment.customer_action else ""),
        {"object": "payment", "action": action, "status": payment.status, "allowed": sorted(allowed),
         "has_payment_method": payment.payment_method_data is not None,
         "customer_action": payment.customer_action},
    )


def _guard_step(payment: Payment, action: str, waiting_for: str | None) -> None:
    """A customer step needs the payment in the right status and waiting for that step."""
    guard(payment, action)
    if payment.status != CREATED and payment.customer_action != waiting_for:
        raise _state_error(payment, action, ACTIONS[action])


def _apply_changes(payment: Payment, changes: PaymentChanges) -> None:
    for name in ("amount", "currency", "capture_method", "authentication_type", "customer_id",
                 "description", "return_url", "reference"):
        value = getattr(changes, name)
        if value is not None:
            setattr(payment, name, value)
    if changes.metadata is not None:
        payment.metadata = changes.metadata
    if changes.payment_method is not None:
        payment.payment_method = changes.payment_method.method
        payment.payment_method_type = changes.payment_method.method_type
        payment.payment_method_data = changes.payment_method.stored()
    payment.attributes = {**payment.attributes, **changes.attributes}


def create_payment(store: Store, namespace_id: str, new: NewPayment) -> Payment:
    """Create a payment; with ``confirm`` it is authorised in the same transaction."""
    _check_new(new)
    with unit_of_work(store, namespace_id) as work:
        return _create(work, new)


def create_payment_once(store: Store, namespace_id: str, new: NewPayment, key: str,
                        fingerprint: str) -> tuple[Payment, bool]:
    """Create a payment under an idempotency key; return it and whether it already existed.

    The same key with the same request (``fingerprint``) gives back the payment it
    created; with a different request it is refused. The check and the create
    share one transaction, so concurrent requests with one key create one payment.
    """
    _check_new(new)
    with unit_of_work(store, namespace_id) as work:
        row = work.db.execute("SELECT fingerprint, payment_id FROM idempotency_keys WHERE namespace_id = ? AND key = ?",
                              [namespace_id, key]).fetchone()
        if row is not None:
            if row["fingerprint"] != fingerprint:
                raise DomainError(IDEMPOTENCY_CONFLICT, "idempotency key reused with a different request",
                                  {"key": key})
            return load(work, row["payment_id"]), True
        payment = _create(work, new)
        work.db.execute(
            "INSERT INTO idempotency_keys (namespace_id, key, fingerprint, payment_id, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [namespace_id, key, fingerprint, payment.id, work.now],
        )
        return payment, False


def _check_new(new: NewPayment) -> None:
    if new.amount is None or new.amount < 0:
        raise DomainError(AMOUNT_INVALID, "amount must not be negative", {"action": "create", "field": "amount"})


def _create(work: Work, new: NewPayment) -> Payment:
    namespace_id = work.namespace.id
    payment_id = new.payment_id or new.id_prefix + work.draws.token(new.id_length, *(
        [new.id_alphabet] if new.id_alphabet else []))
    expiry = new.session_expiry_seconds or work.config["session_expiry_seconds"]
    payment = Payment(
        namespace_id=namespace_id, id=payment_id, dialect=new.dialect, status=CREATED,
        amount=new.amount, currency=new.currency, capture_method=new.capture_method or AUTOMATIC,
        amount_captured=0, payment_method=None, payment_method_type=None, payment_method_data=None,
        authentication_type=None, client_secret=f"{payment_id}_secret_{work.draws.token(20)}",
        customer_id=None, description=None, return_url=None, reference=None, metadata=None,
        attributes={}, failure_reason=None, customer_action=None, pending=None, attempt_id=None,
        attempt_count=0, connector_transaction_id=None, cancellation_reason=None,
        session_expires_at=work.now + expiry * 1000, created_at=work.now, updated_at=work.now,
        confirmation_required=new.confirmation_required, capture_window_seconds=new.capture_window_seconds,
    )
    _apply_changes(payment, new)
    work.record_transition("payment", payment, None, CREATED, "created", payment.dialect)
    work.schedule("payment.expire", expiry, {"payment_id": payment.id})
    if new.customer and new.customer.get("id"):
        customers.for_payment(work, new.customer)
    if new.agreement_id is not None:
        _queue_agreement_authorisation(work, payment, new.agreement_id)
    elif new.mandate_id is not None:
        _pay_with_mandate(work, payment, new.mandate_id)
    elif new.confirm:
        _confirm(work, payment, PaymentChanges())
    # Inserted once, in its final state; the primary key catches a duplicate id
    # (and the whole transaction, confirmation included, rolls back).
    _insert(work, payment)
    return payment


def _queue_agreement_authorisation(work: Work, payment: Payment, agreement_id: str) -> None:
    card = agreements.usable_card(work, agreement_id)
    payment.payment_method, payment.payment_method_type = "card", card.get("type")
    payment.payment_method_data = {"card": card}
    payment.customer_action = AGREEMENT
    _transition(work, payment, CUSTOMER_ACTION, f"authorisation with agreement {agreement_id}'s saved card queued")
    work.schedule("payment.authorise_with_agreement", 0, {"payment_id": payment.id})


def _pay_with_mandate(work: Work, payment: Payment, mandate_id: str) -> None:
    mandate = mandates.usable(work, mandate_id, payment.customer_id, payment.amount,
                              payment.currency)
    payment.payment_method, payment.payment_method_type = "card", mandate.payment_method_type
    payment.payment_method_data = {"card": mandate.card}
    payment.attributes["paid_with_mandate"] = mandate_id
    payment.attributes["mandate_id"] = mandate_id
    _confirm(work, payment, PaymentChanges(), challenge=False)  # off session: nobody to pass 3DS


def authorise_with_agreement(store: Store, job) -> None:
    """Job `payment.authorise_with_agreement`: the queued authorisation of an agreement payment."""
    with unit_of_work(store, job.namespace_id) as work:
        payment = find(work, job.payload["payment_id"])
        if payment is None or not agreement_authorisation_is_queued(payment):
            return
        payment.customer_action = None
        _authorize(work, payment, _decide(work, payment), "authorised with the agreement's saved card")
        _save(work, payment)


def agreement_authorisation_is_queued(payment: Payment) -> bool:
    return payment.status == CUSTOMER_ACTION and payment.customer_action == AGREEMENT


def _insert(work: Work, payment: Payment) -> None:
    values = {name: getattr(payment, name) for name in _COLUMNS}
    for key in ("payment_method_data", "metadata", "pending"):
        values[key] = dumps(values[key])
    values["attributes"] = json.dumps(values["attributes"], separators=(",", ":"))
    values["confirmation_required"] = int(values["confirmation_required"])
    columns = ", ".join(_COLUMNS)
    placeholders = ", ".join(f":{name}" for name in _COLUMNS)
    try:
        work.db.execute(f"INSERT INTO payments ({columns}) VALUES ({placeholders})", values)
    except sqlite3.IntegrityError:
        raise DomainError(DUPLICATE, "payment already exists", {"object": "payment", "object_id": payment.id}) from None


def update_payment(store: Store, namespace_id: str, payment_id: str, changes: PaymentChanges,
                   confirm: bool = False) -> Payment:
    with unit_of_work(store, namespace_id) as work:
        payment = load(work, payment_id)
        guard(payment, "update")
        _apply_changes(payment, changes)
        if payment.amount < 0:
            raise DomainError(AMOUNT_INVALID, "amount must not be negative", {"action": "update", "field": "amount"})
        if confirm:
            _confirm(work, payment, PaymentChanges())
        _save(work, payment)
    return payment


def check_client_secret(payment: Payment, client_secret: str, now: int) -> None:
    """The publishable-key flows prove their right to a payment with its client_secret."""
    if client_secret != payment.client_secret:
        raise DomainError(CLIENT_SECRET_MISMATCH, "client_secret does not match", {"object_id": payment.id})
    if now > payment.session_expires_at:
        raise DomainError(CLIENT_SECRET_EXPIRED, "client_secret has expired", {"object_id": payment.id})


def confirm_payment(store: Store, namespace_id: str, payment_id: str, changes: PaymentChanges) -> Payment:
    with unit_of_work(store, namespace_id) as work:
        payment = load(work, payment_id)
        _confirm(work, payment, changes)
        _save(work, payment)
    return payment


def _confirm(work: Work, payment: Payment, changes: PaymentChanges, action: str = "confirm",
             challenge: bool = True) -> None:
    """Authorise with the payment method: the outcome is decided here, once.

    ``challenge=False`` when no customer is there to pass 3DS: the decided result
    then applies at once (a scripted ``3ds`` succeeds, ``3ds_failed`` fails).
    """
    allowed = ACTIONS[action] | ({FAILED} if action == "confirm" and work.config["manual_retry"] else set())
    guard(payment, action, frozenset(allowed))
    _apply_changes(payment, changes)
    if payment.payment_method_data is None:
        raise DomainError(MISSING_FIELD, "a payment method is required to confirm", {"field": "payment_method_data"})
    payment.attempt_count += 1
    payment.attempt_id = f"{payment.id}_{payment.attempt_count}"
    # The processor's reference for this attempt; each dialect shows it its own way.
    payment.connector_transaction_id = _uuid(work.draws.token(32, "0123456789abcdef"))
    payment.failure_reason = None
    outcome = _decide(work, payment)
    if outcome.challenge and not challenge:
        outcome = replace(outcome, challenge=False)
    if outcome.challenge:
        payment.customer_action = THREE_DS
        payment.pending = {"operation": "authorize", "outcome": replace(outcome, challenge=False).to_json()}
        _transition(work, payment, CUSTOMER_ACTION, f"confirm: 3DS challenge required ({outcome.source})")
        return
    _authorize(work, payment, outcome, f"confirm ({outcome.source})")


def _uuid(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-4{hex32[13:16]}-{hex32[16:20]}-{hex32[20:]}"


def _decide(work: Work, payment: Payment) -> Outcome:
    scripted_name = work.pop_scripted_outcome()
    scripted = outcomes.SCRIPTED[scripted_name] if scripted_name else None
    rates = work.config["success_rates"]

    def draw_rate(method: str) -> bool:
        return work.draws.random() < rates.get(method, 1.0)

    stored = payment.payment_method_data or {}
    if "card" in stored:
        magic = stored["card"].get("test_outcome")
        return outcomes.for_card(Outcome.from_json(magic) if magic else None, work.config["card_policy"], scripted,
                                 draw_rate)
    if "upi" in stored:
        return outcomes.for_upi(stored["upi"]["vpa"], scripted, draw_rate)
    if "bank_redirect" in stored:
        return outcomes.for_bank(stored["bank_redirect"].get("bank", ""), scripted, draw_rate)
    return outcomes.for_method(payment.payment_method or "card", scripted, draw_rate)


def _delay(work: Work, operation: str) -> float:
    return namespace_config.draw_delay_seconds(work.config["delays"][operation], work.draws)


def _authorize(work: Work, payment: Payment, outcome: Outcome, reason: str) -> None:
    """Authorise now, or park the payment in `processing` until the clock reaches it."""
    delay = _delay(work, "async_completion") if outcome.asynchronous else _delay(work, "authorize")
    if outcome.asynchronous or delay > 0:
        payment.pending = {"operation": "authorize", "outcome": outcome.to_json()}
        _transition(work, payment, PROCESSING, f"{reason}: completes in {delay:g}s")
        work.schedule("payment.complete", delay, {"payment_id": payment.id, "attempt_id": payment.attempt_id})
        return
    _finish_authorization(work, payment, outcome, reason)


def _finish_authorization(work: Work, payment: Payment, outcome: Outcome, reason: str) -> None:
    payment.pending = None
    payment.customer_action = None
    if outcome.result == outcomes.FAIL:
        payment.failure_reason = outcome.reason
        _transition(work, payment, FAILED, f"{reason}: {outcome.reason}")
    elif payment.confirmation_required:
        payment.customer_action = CONFIRMATION
        _transition(work, payment, AUTHORIZED, f"{reason}: authorized, awaiting the customer's confirmation")
    elif payment.capture_method == MANUAL:
        _transition(work, payment, AUTHORIZED, f"{reason}: authorized")
        if payment.capture_window_seconds:
            work.schedule("payment.capture_window", payment.capture_window_seconds, {"payment_id": payment.id})
    else:
        _capture(work, payment, payment.amount, f"{reason}: authorized, automatic capture")


def _capture(work: Work, payment: Payment, amount: int, reason: str) -> None:
    delay = _delay(work, "capture")
    if delay > 0:
        payment.pending = {"operation": "capture", "amount": amount}
        _transition(work, payment, PROCESSING, f"{reason}: capture completes in {delay:g}s")
        work.schedule("payment.complete", delay, {"payment_id": payment.id, "attempt_id": payment.attempt_id})
        return
    _finish_capture(work, payment, amount, reason)


def _finish_capture(work: Work, payment: Payment, amount: int, reason: str) -> None:
    payment.pending = None
    payment.amount_captured = amount
    to = CAPTURED if amount == payment.amount else PARTIALLY_CAPTURED
    _transition(work, payment, to, f"{reason}: captured {amount}")


def capture_payment(store: Store, namespace_id: str, payment_id: str, amount: int | None) -> Payment:
    with unit_of_work(store, namespace_id) as work:
        payment = load(work, payment_id)
        guard(payment, "capture")
        if payment.customer_action is not None:
            raise _state_error(payment, "capture", ACTIONS["capture"])
        capturable = payment.amount_capturable
        amount = capturable if amount is None else amount
        if amount <= 0:
            raise DomainError(AMOUNT_INVALID, "capture amount must be positive",
                              {"action": "capture", "field": "amount_to_capture"})
        if amount > capturable:
            raise DomainError(AMOUNT_TOO_LARGE, "capture amount exceeds the capturable amount",
                              {"action": "capture", "limit": capturable})
        _capture(work, payment, amount, "capture")
        _save(work, payment)
    return payment


def cancel_payment(store: Store, namespace_id: str, payment_id: str, reason: str | None) -> Payment:
    with unit_of_work(store, namespace_id) as work:
        payment = load(work, payment_id)
        guard(payment, "cancel")
        payment.cancellation_reason = reason
        payment.pending = None
        payment.customer_action = None
        _transition(work, payment, CANCELLED, "cancel" + (f": {reason}" if reason else ""))
        _save(work, payment)
    return payment


def complete_customer_action(store: Store, namespace_id: str, payment_id: str, attempt_id: str,
                             completed: bool) -> Payment:
    """The customer finished (or refused) the 3DS challenge on the provider's page."""
    with unit_of_work(store, namespace_id) as work:
        payment = load(work, payment_id)
        if payment.attempt_id != attempt_id:
            raise DomainError(NOT_FOUND, "payment attempt not found", {"object": "payment", "object_id": attempt_id})
        guard(payment, "complete_customer_action")
        if completed:
            outcome = Outcome.from_json(payment.pending["outcome"])
            payment.customer_action = None
            _authorize(work, payment, outcome, "3DS challenge completed")
        else:
            rejected = Outcome(outcomes.FAIL, outcomes.AUTHENTICATION_FAILED, source="customer")
            _finish_authorization(work, payment, rejected, "3DS challenge rejected")
        _save(work, payment)
    return payment


# -- the customer's steps on the provider's payment pages ---------------------------


def open_payment_page(store: Store, namespace_id: str, payment_id: str) -> Payment:
    """The customer reached the payment page: created -> customer_action (idempotent)."""
    with unit_of_work(store, namespace_id) as work:
        payment = load(work, payment_id)
        if payment.status == CUSTOMER_ACTION and payment.customer_action == PAYMENT_PAGE:
            return payment
        _guard_step(payment, "open_payment_page", PAYMENT_PAGE)
        payment.customer_action = PAYMENT_PAGE
        _transition(work, payment, CUSTOMER_ACTION, "customer opened the payment page")
        _save(work, payment)
    return payment


def submit_payment_page(store: Store, namespace_id: str, payment_id: str, changes: PaymentChanges) -> Payment:
    """The customer submitted a payment method on the page: authorise it now."""
    with unit_of_work(store, namespace_id) as work:
        payment = load(work, payment_id)
        _guard_step(payment, "submit_payment_page", PAYMENT_PAGE)
        payment.customer_action = None
        _confirm(work, payment, changes, action="submit_payment_page")
        _save(work, payment)
    return payment


def customer_confirm(store: Store, namespace_id: str, payment_id: str) -> Payment:
    """The customer confirmed an authorised payment: capture it, or hold it for a delayed capture."""
    with unit_of_work(store, namespace_id) as work:
        payment = load(work, payment_id)
        _guard_step(payment, "customer_confirm", CONFIRMATION)
        payment.customer_action = None
        if payment.capture_method == MANUAL:
            _transition(work, payment, AUTHORIZED, "customer confirmed; awaiting capture")
            if payment.capture_window_seconds:
                work.schedule("payment.capture_window", payment.capture_window_seconds, {"payment_id": payment.id})
        else:
            _capture(work, payment, payment.amount, "customer confirmed")
        _save(work, payment)
    return payment


def customer_cancel(store: Store, namespace_id: str, payment_id: str) -> Payment:
    """The customer cancelled on the payment page: the payment fails."""
    with unit_of_work(store, namespace_id) as work:
        payment = load(work, payment_id)
        guard(payment, "customer_cancel")
        if payment.status == AUTHORIZED and payment.customer_action != CONFIRMATION:
            raise _state_error(payment, "customer_cancel", ACTIONS["customer_cancel"])
        payment.customer_action = None
        payment.pending = None
        payment.failure_reason = outcomes.CANCELLED_BY_USER
        _transition(work, payment, FAILED, "customer cancelled on the payment page")
        _save(work, payment)
    return payment


# -- the merchant's own card entry (no customer present) ---------------------------


def authorise_by_api(store: Store, namespace_id: str, payment_id: str, changes: PaymentChanges) -> Payment:
    """The merchant sends the card details itself (GOV.UK Pay's MOTO API): authorise now.

    Nobody is there to pass 3DS or to confirm, so the decided outcome applies at
    once, and an authorised payment is captured, or held for the merchant's
    capture when its capture method is manual. A card number that fails its
    check digit is rejected without an authorisation (no outcome is used up).
    """
    with unit_of_work(store, namespace_id) as work:
        payment = load(work, payment_id)
        guard(payment, "authorise_by_api")
        payment.confirmation_required = False  # nobody is there to confirm
        card = changes.payment_method.card if changes.payment_method else None
        if card is not None and not luhn_valid(card.number):
            rejected = Outcome(outcomes.FAIL, outcomes.INVALID_CARD_NUMBER, source="card_number")
            _finish_authorization(work, payment, rejected, "card number rejected")
        else:
            _confirm(work, payment, changes, action="authorise_by_api", challenge=False)
        _save(work, payment)
    return payment


# -- scheduled jobs -----------------------------------------------------------


def completion_is_current(payment: Payment, attempt_id: str) -> bool:
    """A `payment.complete` job still has work: the attempt it was scheduled for is still parked."""
    return payment.status == PROCESSING and payment.attempt_id == attempt_id and bool(payment.pending)


def session_can_expire(payment: Payment) -> bool:
    """A `payment.expire` job still has work: the customer has not finished paying."""
    waiting_to_confirm = payment.status == AUTHORIZED and payment.customer_action == CONFIRMATION
    return payment.status in (CREATED, CUSTOMER_ACTION) or waiting_to_confirm


def capture_window_can_expire(payment: Payment) -> bool:
    """A `payment.capture_window` job still has work: the authorisation was never captured."""
    return payment.status == AUTHORIZED and payment.customer_action is None


def complete_pending(store: Store, job) -> None:
    """Job `payment.complete`: finish an authorisation or capture parked in `processing`."""
    with unit_of_work(store, job.namespace_id) as work:
        payment = load(work, job.payload["payment_id"])
        if not completion_is_current(payment, job.payload["attempt_id"]):
            return  # superseded: cancelled, or completed by another path
        pending = payment.pending
        if pending["operation"] == "authorize":
            _finish_authorization(work, payment, Outcome.from_json(pending["outcome"]), "asynchronous completion")
        else:
            _finish_capture(work, payment, pending["amount"], "capture completed")
        _save(work, payment)


def expire_session(store: Store, job) -> None:
    """Job `payment.expire`: a payment never confirmed within its session expires."""
    with unit_of_work(store, job.namespace_id) as work:
        payment = find(work, job.payload["payment_id"])
        if payment is None or not session_can_expire(payment):
            return
        payment.customer_action = None
        payment.pending = None
        payment.failure_reason = outcomes.EXPIRED
        _transition(work, payment, EXPIRED, "session expired")
        _save(work, payment)


def expire_capture_window(store: Store, job) -> None:
    """Job `payment.capture_window`: an authorisation never captured in its window expires."""
    with unit_of_work(store, job.namespace_id) as work:
        payment = find(work, job.payload["payment_id"])
        if payment is None or not capture_window_can_expire(payment):
            return
        payment.failure_reason = outcomes.EXPIRED
        _transition(work, payment, EXPIRED, "capture window elapsed")
        _save(work, payment)
