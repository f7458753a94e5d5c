"""GOV.UK Pay's public API under /govuk: payments, refunds, events, searches and
MOTO authorisation (``POST /v1/auth``).

Authentication comes first (``Authorization: Bearer``; a bad key is a bare
401), then the namespace's rate limit, then the body (auth.py). Domain errors
become GOV.UK errors in one handler (face.py); which "not found" code applies
depends on the endpoint, so each view names it.
"""

from __future__ import annotations

import math
import string

from flask import Response
from flask import g
from flask import jsonify
from flask import request

from ...checkout import routes as checkout
from ...domain import access
from ...domain import agreements
from ...domain import namespaces
from ...domain import outcomes
from ...domain import payments
from ...domain import refunds
from ...domain.cards import card_network
from ...domain.errors import INVALID_STATE
from ...domain.errors import DomainError
from ...domain.namespaces import Namespace
from ...domain.numbers import is_ascii_digits
from ...domain.payments import CardInput
from ...domain.payments import NewPayment
from ...domain.payments import Payment
from ...domain.payments import PaymentChanges
from ...domain.payments import PaymentFilter
from ...domain.payments import PaymentMethodInput
from ...domain.payments import StatusMatch
from ...domain.refunds import NewRefund
from ...domain.refunds import RefundFilter
from ...runtime.clock import iso_ms
from ...runtime.clock import parse_iso
from . import errors
from . import paging
from . import parse as wire
from . import serialize
from .auth import authenticate as _authenticate
from .auth import base as _base
from .auth import store as _store
from .cards import TEST_CARDS
from .face import bp
from .keys import NAME

SESSION_SECONDS = 90 * 60          # a payment expires 90 minutes after it is created
CAPTURE_WINDOW_SECONDS = 120 * 3600  # a delayed capture must happen within 120 hours
PAYMENT_ID_ALPHABET = string.ascii_lowercase + string.digits


# -- representations ------------------------------------------------------------------


_link = serialize.link


def payment_body(payment, namespace: Namespace, mint_next_url: bool = True, base: str | None = None) -> dict:
    """The payment as GET answers it; a fresh single-use next_url is minted while it is unfinished."""
    totals = refunds.totals_for(_store(), namespace.id, payment.id)
    token = access.issue(_store(), namespace.id, payment.id) \
        if mint_next_url and serialize.wants_next_url(payment) else None
    return serialize.payment_json(payment, totals, serialize.payment_links(payment, base or _base(), token))


def _payment(namespace: Namespace, payment_id: str):
    payment = payments.get_payment(_store(), namespace.id, payment_id)
    if payment.dialect != NAME:
        raise errors.not_found(g.get("not_found_code", "P0200"))
    return payment


# -- payments ---------------------------------------------------------------------------


@bp.post("/v1/payments")
def create_payment():
    namespace = _authenticate()
    key = wire.idempotency_key(request.headers.get("Idempotency-Key"))
    data = wire.read_json(request.get_data(cache=True))
    fields = wire.create_payment(data)
    prefilled = fields["prefilled_cardholder_details"] or {}
    new = NewPayment(
        dialect=NAME, id_prefix="", id_length=26, id_alphabet=PAYMENT_ID_ALPHABET,
        amount=fields["amount"], currency="GBP",
        capture_method=payments.MANUAL if fields["delayed_capture"] else payments.AUTOMATIC,
        description=fields["description"], return_url=fields["return_url"], reference=fields["reference"],
        metadata=fields["metadata"],
        attributes={k: v for k, v in {
            "language": fields["language"], "email": fields["email"], "moto": fields["moto"],
            "authorisation_mode": fields["authorisation_mode"],
            "prefilled_cardholder_name": prefilled.get("cardholder_name"),
            "billing_address": prefilled.get("billing_address"),
            # Both a set-up payment and an agreement payment show the agreement's id.
            "agreement_id": fields["agreement_id"] or fields["set_up_agreement"],
            "set_up_agreement": fields["set_up_agreement"],
            "agreement_payment_type": fields["agreement_payment_type"],
        }.items() if v is not None},
        # Only the payment pages have a confirm step; moto_api and agreement payments are authorised by API.
        session_expiry_seconds=SESSION_SECONDS, confirmation_required=fields["authorisation_mode"] == "web",
        capture_window_seconds=CAPTURE_WINDOW_SECONDS if fields["delayed_capture"] else None,
        agreement_id=fields["agreement_id"],
    )
    if fields["set_up_agreement"]:
        _check_agreement_exists(namespace, fields["set_up_agreement"])
    try:
        if key is None:
            payment, replayed = payments.create_payment(_store(), namespace.id, new), False
        else:
            payment, replayed = payments.create_payment_once(_store(), namespace.id, new, key,
                                                             wire.fingerprint(data))
    except DomainError as error:
        if (error.details or {}).get("object") == "agreement":
            raise _agreement_refusal(error) from None
        raise
    response = jsonify(payment_body(payment, namespace))
    response.status_code = 200 if replayed else 201
    response.headers["Location"] = f"{_base()}/v1/payments/{payment.id}"
    return response


def _check_agreement_exists(namespace: Namespace, agreement_id: str) -> None:
    try:
        agreements.get(_store(), namespace.id, agreement_id)
    except DomainError:
        raise errors.GovukError(400, "P0103", "Invalid attribute value: set_up_agreement. Agreement ID does not exist",
                                "set_up_agreement") from None


def _agreement_refusal(error: DomainError) -> errors.GovukError:
    """An agreement payment's agreement is missing or not active (pay-publicapi's CreateChargeExceptionMapper)."""
    rule = "Agreement does not exist" if error.code == "not_found" else "Agreement must be active"
    return errors.GovukError(400, "P0102", f"Invalid attribute value: agreement_id. {rule}", "agreement_id")


@bp.get("/v1/payments/<payment_id>")
def get_payment(payment_id: str):
    namespace = _authenticate("P0200")
    return jsonify(payment_body(_payment(namespace, payment_id), namespace))


@bp.post("/v1/payments/<payment_id>/cancel")
def cancel_payment(payment_id: str):
    namespace = _authenticate("P0500")
    _payment(namespace, payment_id)
    payments.cancel_payment(_store(), namespace.id, payment_id, "cancelled by the service")
    return Response(status=204)


@bp.post("/v1/payments/<payment_id>/capture")
def capture_payment(payment_id: str):
    namespace = _authenticate("P1000")
    payment = _payment(namespace, payment_id)
    if serialize.payment_state(payment)[0] != "capturable":
        raise errors.GovukError(409, "P1003", "Payment cannot be captured")
    payments.capture_payment(_store(), namespace.id, payment_id, None)
    return Response(status=204)


def _event_state(row: dict, payment) -> tuple | None:
    """The GOV.UK state a transition entered (a failure takes the payment's reason)."""
    to = row["to_status"]
    if to == payments.AUTHORIZED:
        confirming = payment.confirmation_required and row["from_status"] != payments.AUTHORIZED
        return serialize.SUBMITTED if confirming else serialize.CAPTURABLE
    action = payments.PAYMENT_PAGE if to == payments.CUSTOMER_ACTION else None
    return serialize.state_of(to, action, payment.failure_reason)


@bp.get("/v1/payments/<payment_id>/events")
def payment_events(payment_id: str):
    namespace = _authenticate("P0300")
    payment = _payment(namespace, payment_id)
    self_href = f"{_base()}/v1/payments/{payment_id}"
    events, last = [], None
    for row in payments.audit_trail(_store(), namespace.id, payment_id):
        if row["object_type"] != "payment":
            continue
        state = _event_state(row, payment)
        if state == last:
            continue
        last = state
        events.append({"payment_id": payment_id, "state": serialize.state_json(state), "updated": iso_ms(row["at"]),
                       "_links": {"payment_url": _link(self_href)}})
    return jsonify({"payment_id": payment_id, "events": events, "_links": {"self": _link(f"{self_href}/events")}})


# -- search -------------------------------------------------------------------------------

_PROVIDER_ERRORS = frozenset({"processing_error", "card_not_supported"})

STATE_MATCHES = {
    "created": (StatusMatch(payments.CREATED),),
    "started": (StatusMatch(payments.CUSTOMER_ACTION),),
    "submitted": (StatusMatch(payments.AUTHORIZED, customer_action=payments.CONFIRMATION),
                  StatusMatch(payments.PROCESSING)),
    "capturable": (StatusMatch(payments.AUTHORIZED, customer_action=None),),
    "success": (StatusMatch(payments.CAPTURED), StatusMatch(payments.PARTIALLY_CAPTURED)),
    "failed": (StatusMatch(payments.FAILED, not_reasons=_PROVIDER_ERRORS), StatusMatch(payments.EXPIRED)),
    "cancelled": (StatusMatch(payments.CANCELLED),),
    "error": (StatusMatch(payments.FAILED, reasons=_PROVIDER_ERRORS),),
}

SEARCH_PARAMS = ("reference", "email", "state", "card_brand", "from_date", "to_date", "page", "display_size",
                 "cardholder_name", "first_digits_card_number", "last_digits_card_number", "from_settled_date",
                 "to_settled_date", "agreement_id")


def _query_time(args, name: str, invalid: list[str]) -> int | None:
    raw = args.get(name)
    if not raw:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        invalid.append(name)
        return None


def _invalid(names: list[str]) -> errors.GovukError:
    return errors.GovukError(422, "P0401", f"Invalid parameters: {', '.join(names)}. "
                                           "See Public API documentation for the correct data formats")


@bp.get("/v1/payments")
def search_payments():
    namespace = _authenticate()
    args = request.args
    invalid = [name for name in args if name not in SEARCH_PARAMS]
    state = args.get("state")
    if state and state not in STATE_MATCHES:
        invalid.append("state")
    page, size = paging.page_and_size(args, invalid)
    from_date, to_date = _query_time(args, "from_date", invalid), _query_time(args, "to_date", invalid)
    for name, length in (("first_digits_card_number", 6), ("last_digits_card_number", 4)):
        value = args.get(name)
        if value and (not is_ascii_digits(value) or len(value) != length):
            invalid.append(name)
    if invalid:
        raise _invalid(invalid)
    card = {}
    if args.get("card_brand"):
        brands = {v.lower(): k for k, v in serialize.CARD_BRANDS.items()}
        card["network"] = brands.get(args["card_brand"].lower(), args["card_brand"])
    for name, key in (("first_digits_card_number", "bin"), ("last_digits_card_number", "last4"),
                      ("cardholder_name", "holder_name")):
        if args.get(name):
            card[key] = args[name]
    found, total = payments.list_payments(_store(), namespace.id, PaymentFilter(
        dialect=NAME, reference=args.get("reference") or None,
        attributes={k: args[k] for k in ("email", "agreement_id") if args.get(k)} or None,
        card=card or None, matches=STATE_MATCHES[state] if state else None,
        created_gte=from_date, created_lt=to_date, limit=size, offset=(page - 1) * size,
    ), with_total=True)
    last_page = max(1, math.ceil(total / size))
    if page > last_page:
        raise errors.GovukError(404, "P0402", "Page not found")
    base = _base()
    results = [payment_body(p, namespace, mint_next_url=False, base=base) for p in found]
    return jsonify({"total": total, "count": len(results), "page": page, "results": results,
                    "_links": paging.page_links(base, "/v1/payments", args, page, last_page)})


# -- refunds ---------------------------------------------------------------------------------


def _refund_body(refund, base: str) -> dict:
    payment_href = f"{base}/v1/payments/{refund.payment_id}"
    return serialize.refund_json(refund, payment_href, f"{payment_href}/refunds/{refund.id}")


@bp.post("/v1/payments/<payment_id>/refunds")
def create_refund(payment_id: str):
    namespace = _authenticate("P0600")
    amount, expected = wire.create_refund(wire.read_json(request.get_data(cache=True)))
    payment = _payment(namespace, payment_id)
    summary = serialize.refund_summary(payment, refunds.totals_for(_store(), namespace.id, payment_id))
    if summary["status"] != "available":
        raise errors.GovukError(400, "P0603", "The payment is not available for refund. "
                                              f"Payment refund status: {summary['status']}")
    try:
        refund = refunds.create_refund(_store(), namespace.id, NewRefund(
            payment_id=payment_id, amount=amount, expected_available=expected,
            id_prefix="", id_length=26, id_alphabet=PAYMENT_ID_ALPHABET))
    except DomainError as exc:
        if exc.code == "amount_too_large":
            raise errors.GovukError(400, "P0603", "The payment is not available for refund. "
                                                  "Payment refund status: amount_not_available") from None
        raise
    response = jsonify(_refund_body(refund, _base()))
    response.status_code = 202
    return response


@bp.get("/v1/payments/<payment_id>/refunds")
def list_payment_refunds(payment_id: str):
    namespace = _authenticate("P0800")
    _payment(namespace, payment_id)
    base = _base()
    found = refunds.list_for_payment(_store(), namespace.id, payment_id)
    href = f"{base}/v1/payments/{payment_id}"
    return jsonify({"payment_id": payment_id,
                    "_links": {"self": _link(f"{href}/refunds"), "payment": _link(href)},
                    "_embedded": {"refunds": [_refund_body(r, base) for r in found]}})


@bp.get("/v1/payments/<payment_id>/refunds/<refund_id>")
def get_refund(payment_id: str, refund_id: str):
    namespace = _authenticate("P0700")
    _payment(namespace, payment_id)
    refund = refunds.get_refund(_store(), namespace.id, refund_id)
    if refund.payment_id != payment_id:
        raise errors.not_found("P0700")
    return jsonify(_refund_body(refund, _base()))


@bp.get("/v1/refunds")
def search_refunds():
    namespace = _authenticate()
    args = request.args
    allowed = ("from_date", "to_date", "page", "display_size", "from_settled_date", "to_settled_date")
    invalid = [name for name in args if name not in allowed]
    page, size = paging.page_and_size(args, invalid)
    from_date, to_date = _query_time(args, "from_date", invalid), _query_time(args, "to_date", invalid)
    if invalid:
        raise _invalid(invalid)
    found, total = refunds.list_refunds(_store(), namespace.id, RefundFilter(
        dialect=NAME, created_gte=from_date, created_lte=to_date, limit=size, offset=(page - 1) * size))
    last_page = max(1, math.ceil(total / size))
    if page > last_page:
        raise errors.GovukError(404, "P0402", "Page not found")
    base = _base()
    results = [{**_refund_body(r, base), "payment_id": r.payment_id} for r in found]
    return jsonify({"total": total, "count": len(results), "page": page, "results": results,
                    "_links": paging.page_links(base, "/v1/refunds", args, page, last_page)})


# -- MOTO: the service sends the card details itself --------------------------------------


def _moto_payment(namespace: Namespace, token: str) -> Payment:
    """The payment a one_time_token belongs to, checked as pay-connector's TokenService does.

    Unknown, or another namespace's: P1211. Used: P1212. The token of a web
    payment: P1211 "not a valid moto api token", and it stays unused. Otherwise
    the token is used up here, before the card is looked at, as in the real service.
    """
    found = access.find(_store(), token)
    if found is None or found.namespace_id != namespace.id:
        raise errors.one_time_token_invalid()
    if found.used:
        raise errors.one_time_token_used()
    try:
        payment = payments.get_payment(_store(), namespace.id, found.payment_id)
    except DomainError:
        raise errors.one_time_token_invalid() from None
    if payment.dialect != NAME or not serialize.is_moto_api(payment):
        raise errors.one_time_token_invalid("The one_time_token is not a valid moto api token")
    try:
        access.redeem(_store(), token)
    except DomainError:
        raise errors.one_time_token_used() from None  # a concurrent request used it first
    return payment


def _authorisation_result(payment: Payment) -> Response:
    """204 once authorised; otherwise pay-connector's outcome as pay-publicapi maps it."""
    if payment.status == payments.FAILED:
        if payment.failure_reason == outcomes.INVALID_CARD_NUMBER:
            raise errors.authorisation_rejected("The card_number is not a valid card number")
        if serialize.payment_state(payment) == serialize.ERROR:
            raise errors.authorisation_error()
        raise errors.authorisation_rejected()
    if payment.status == payments.PROCESSING and (payment.pending or {}).get("operation") == "authorize":
        # An authorisation still submitted is an error to the caller (AUTHORISATION_SUBMITTED);
        # the payment finishes later on the namespace clock.
        raise errors.authorisation_error()
    return Response(status=204)


@bp.post("/v1/auth")
def authorise_payment():
    """Authorise a moto_api payment with the card its service took by phone or post."""
    namespace = _authenticate()
    fields = wire.authorisation(wire.read_json(request.get_data(cache=True)), namespace.now_ms())
    payment = _moto_payment(namespace, fields["one_time_token"])
    number = fields["card_number"]
    card = CardInput(number=number, exp_month=fields["exp_month"], exp_year=fields["exp_year"],
                     holder_name=fields["cardholder_name"], cvc=fields["cvc"], network=card_network(number),
                     book=TEST_CARDS)
    try:
        payment = payments.authorise_by_api(_store(), namespace.id, payment.id, PaymentChanges(
            payment_method=PaymentMethodInput("card", "credit", card)))
    except DomainError as exc:
        if exc.code != INVALID_STATE:
            raise
        # Finished (cancelled, expired) or already authorised through another of its tokens:
        # pay-connector cannot lock the charge, and pay-publicapi answers with its default.
        raise errors.unexpected_failure() from None
    return _authorisation_result(payment)


# -- the way into the payment pages ------------------------------------------------------


def _is_moto_token(token: str) -> bool:
    found = access.find(_store(), token)
    if found is None:
        return False
    try:
        return serialize.is_moto_api(payments.get_payment(_store(), found.namespace_id, found.payment_id))
    except DomainError:
        return False


def _enter(token: str):
    """next_url: a single-use link into the hosted checkout.

    Its first use binds this browser to the payment. A used (or unknown) link
    works only for the browser that used it; others get the session-expired
    page, with a 403, as the real service answers. A moto_api payment's
    one_time_token never opens the pages (and is not used up trying).
    """
    if _is_moto_token(token):
        return checkout.session_expired()
    try:
        namespace_id, payment_id = access.redeem(_store(), token)
    except DomainError:
        owner = access.owner(_store(), token)
        resumed = checkout.resume(*owner) if owner else None
        return resumed or checkout.session_expired()
    namespace = namespaces.get(_store(), namespace_id)
    return checkout.start(namespace, payments.get_payment(_store(), namespace_id, payment_id))


@bp.get("/secure/<token>")
def secure_get(token: str):
    return _enter(token)


@bp.post("/secure")
def secure_post():
    return _enter(request.form.get("chargeTokenId", ""))
