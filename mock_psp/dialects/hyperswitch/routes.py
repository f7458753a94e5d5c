"""Hyperswitch's payments and refunds API under /hyperswitch, plus its 3DS redirect pages.

Each view does what the real router does, in its order: read the body (the
JSON extractor runs before authentication), authenticate, validate, call the
domain, render. Domain errors become Hyperswitch errors in one handler (face.py).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request

from ...checkout import routes as checkout
from ...domain import payments
from ...domain import refunds
from ...domain.namespaces import Namespace
from ...domain.payments import NewPayment
from ...domain.payments import PaymentFilter
from ...domain.refunds import NewRefund
from ...domain.refunds import RefundFilter
from ...domain.urls import is_web_url
from ...runtime.clock import parse_iso
from . import account
from . import errors
from . import parse
from . import serde
from . import serialize
from . import structs
from .auth import PUBLISHABLE
from .auth import SECRET
from .auth import authenticate as _authenticate
from .auth import body as _body
from .auth import by_merchant
from .auth import provider as _provider
from .auth import store as _store
from .face import PREFIX
from .face import bp
from .keys import keys_of


def _check_client_secret(namespace: Namespace, kind: str, payment_id: str, client_secret: str | None) -> None:
    if kind == SECRET:
        if client_secret is not None:
            raise errors.invalid_data("client_secret is not a valid parameter")
        return
    if client_secret is None:
        raise errors.missing("client_secret")
    payment = payments.get_payment(_store(), namespace.id, payment_id)
    payments.check_client_secret(payment, client_secret, namespace.now_ms())


def _base_url() -> str:
    return _provider().base_url(request.host_url) + PREFIX


def _payment_body(payment, namespace: Namespace, with_refunds: bool = True) -> dict:
    found = refunds.list_for_payment(_store(), namespace.id, payment.id) if with_refunds else []
    return serialize.payment_response(payment, namespace, found, _base_url())


# -- payments -------------------------------------------------------------------------


@bp.post("/payments")
def create_payment():
    fields = _body(structs.PAYMENT_FIELDS, "PaymentsRequest")
    namespace, _ = _authenticate(allow_publishable=False)
    for required in ("amount", "currency"):
        if required not in fields:
            raise errors.missing(required)
    if "client_secret" in fields:
        raise errors.invalid_data("client_secret is not a valid parameter")
    confirm = fields.get("confirm", False)
    if confirm and "payment_method" in fields and "payment_method_data" not in fields:
        raise errors.missing("payment_method_data")
    parse.check_amount_to_capture(fields, fields["amount"], fields.get("capture_method"))
    new = NewPayment(
        dialect="hyperswitch",
        payment_id=fields.get("payment_id"),
        confirm=confirm,
        session_expiry_seconds=fields.get("session_expiry"),
    )
    parse.payment_changes(fields, namespace.now_ms(), into=new)
    new.customer = new.attributes.get("customer") if new.customer_id else None
    if "mandate_request" in new.attributes and not new.customer_id:
        raise errors.precondition("`customer_id` is mandatory for mandates")
    new.mandate_id = parse.recurring_mandate_id(fields)
    if new.mandate_id is not None:
        _check_off_session(fields)
    payment = payments.create_payment(_store(), namespace.id, new)
    return jsonify(_payment_body(payment, namespace, with_refunds=False))


def _check_off_session(fields: dict) -> None:
    """A payment made with a mandate is confirmed at once, with nobody there."""
    for name in ("confirm", "off_session"):
        if name not in fields:
            raise errors.missing(name)
        if fields[name] is not True:
            raise errors.precondition(f"`{name}` must be true for a payment made with a mandate")


@bp.get("/payments/<payment_id>")
def retrieve_payment(payment_id: str):
    namespace, kind = _authenticate(allow_publishable=True)
    client_secret = request.args.get("client_secret") if kind == PUBLISHABLE else None
    _check_client_secret(namespace, kind, payment_id, client_secret)
    payment = payments.get_payment(_store(), namespace.id, payment_id)
    return jsonify(_payment_body(payment, namespace))


@bp.post("/payments/<payment_id>")
def update_payment(payment_id: str):
    fields = _body(structs.PAYMENT_FIELDS, "PaymentsRequest")
    namespace, kind = _authenticate(allow_publishable=True)
    _check_client_secret(namespace, kind, payment_id, fields.get("client_secret"))
    if "payment_id" in fields and fields["payment_id"] != payment_id:
        raise errors.invalid_data("payment_id in the body does not match the payment_id in the path")
    changes = parse.payment_changes(fields, namespace.now_ms())
    payment = payments.update_payment(_store(), namespace.id, payment_id, changes, confirm=fields.get("confirm", False))
    return jsonify(_payment_body(payment, namespace))


@bp.post("/payments/<payment_id>/confirm")
def confirm_payment(payment_id: str):
    fields = _body(structs.PAYMENT_FIELDS, "PaymentsRequest")
    namespace, kind = _authenticate(allow_publishable=True)
    _check_client_secret(namespace, kind, payment_id, fields.get("client_secret"))
    if "payment_method" in fields and "payment_method_data" not in fields:
        existing = payments.get_payment(_store(), namespace.id, payment_id)
        if existing.payment_method_data is None:
            raise errors.missing("payment_method_data")
    changes = parse.payment_changes(fields, namespace.now_ms())
    payment = payments.confirm_payment(_store(), namespace.id, payment_id, changes)
    return jsonify(_payment_body(payment, namespace))


@bp.post("/payments/<payment_id>/capture")
def capture_payment(payment_id: str):
    fields = _body(structs.CAPTURE_FIELDS, "PaymentsCaptureRequest", deny_unknown=False)
    namespace, _ = _authenticate(allow_publishable=False)
    amount = fields.get("amount_to_capture")
    payment = payments.get_payment(_store(), namespace.id, payment_id)
    if payment.status == payments.AUTHORIZED and payment.capture_method == payments.AUTOMATIC:
        raise errors.HyperswitchError(
            400, "IR_14",
            "This Payment could not be captured because it has a capture_method of automatic. "
            "The expected state is manual, manual_multiple, scheduled",
        )
    payment = payments.capture_payment(_store(), namespace.id, payment_id, amount)
    return jsonify(_payment_body(payment, namespace))


@bp.post("/payments/<payment_id>/cancel")
def cancel_payment(payment_id: str):
    fields = _body(structs.CANCEL_FIELDS, "PaymentsCancelRequest", deny_unknown=False)
    namespace, _ = _authenticate(allow_publishable=False)
    payment = payments.cancel_payment(_store(), namespace.id, payment_id, fields.get("cancellation_reason"))
    return jsonify(_payment_body(payment, namespace))


_LIST_QUERY = ("customer_id", "starting_after", "ending_before", "limit", "offset", "created",
               "created.lt", "created.gt", "created.lte", "created.gte")


def _query_time(name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise errors.json_error(f"Query deserialize error: invalid datetime for `{name}`: {value!r}") from None


def _limit(value: int | None) -> int:
    if value is None:
        return 10
    if not 1 <= value <= 100:
        raise errors.invalid_data("limit should be in between 1 and 100")
    return value


@bp.get("/payments/list")
def list_payments():
    namespace, _ = _authenticate(allow_publishable=False)
    for name in request.args:
        if name not in _LIST_QUERY:
            expected = ", ".join(f"`{q}`" for q in _LIST_QUERY)
            raise errors.json_error(f"Query deserialize error: unknown field `{name}`, expected one of {expected}")
    created = _query_time("created")
    found, _total = payments.list_payments(_store(), namespace.id, PaymentFilter(
        customer_id=request.args.get("customer_id"),
        created_gte=created if created is not None else _query_time("created.gte"),
        created_lte=created if created is not None else _query_time("created.lte"),
        created_gt=_query_time("created.gt"),
        created_lt=_query_time("created.lt"),
        starting_after=request.args.get("starting_after"),
        ending_before=request.args.get("ending_before"),
        limit=_limit(serde.query_int(request.args, "limit")),
        offset=serde.query_int(request.args, "offset") or 0,
    ))
    data = [_payment_body(x, namespace, with_refunds=False) for x in found]
    return jsonify({"size": len(data), "data": data})


# -- refunds --------------------------------------------------------------------------


@bp.post("/refunds")
def create_refund():
    fields = _body(structs.REFUND_FIELDS, "RefundRequest")
    namespace, _ = _authenticate(allow_publishable=False)
    if "payment_id" not in fields:
        raise errors.missing("payment_id")
    refund = refunds.create_refund(_store(), namespace.id, NewRefund(
        payment_id=fields["payment_id"],
        amount=fields.get("amount"),
        refund_id=fields.get("refund_id"),
        reason=fields.get("reason"),
        metadata=fields.get("metadata"),
        attributes={"refund_type": fields.get("refund_type", "instant")},
    ))
    return jsonify(serialize.refund_response(refund, namespace))


@bp.post("/refunds/list")
def list_refunds():
    fields = _body(structs.REFUND_LIST_FIELDS, "RefundListRequest")
    namespace, _ = _authenticate(allow_publishable=False)
    amount_filter = fields.get("amount_filter") or {}
    try:
        start = parse_iso(fields["start_time"]) if "start_time" in fields else None
        end = parse_iso(fields["end_time"]) if "end_time" in fields else None
    except ValueError as exc:
        raise errors.json_error(f"Json deserialize error: {exc}") from None
    found, total = refunds.list_refunds(_store(), namespace.id, RefundFilter(
        payment_id=fields.get("payment_id"),
        refund_id=fields.get("refund_id"),
        statuses=tuple(fields.get("refund_status") or ()) or None,
        currencies=tuple(fields.get("currency") or ()) or None,
        created_gte=start,
        created_lte=end,
        amount_gte=amount_filter.get("start_amount"),
        amount_lte=amount_filter.get("end_amount"),
        limit=_limit(fields.get("limit")),
        offset=fields.get("offset") or 0,
    ))
    data = [serialize.refund_response(x, namespace) for x in found]
    return jsonify({"count": len(data), "total_count": total, "data": data})


@bp.get("/refunds/<refund_id>")
def retrieve_refund(refund_id: str):
    namespace, _ = _authenticate(allow_publishable=False)
    return jsonify(serialize.refund_response(refunds.get_refund(_store(), namespace.id, refund_id), namespace))


@bp.post("/refunds/<refund_id>")
def update_refund(refund_id: str):
    fields = _body(structs.REFUND_UPDATE_FIELDS, "RefundUpdateRequest")
    namespace, _ = _authenticate(allow_publishable=False)
    refund = refunds.update_refund(_store(), namespace.id, refund_id, fields.get("reason"), fields.get("metadata"))
    return jsonify(serialize.refund_response(refund, namespace))


# -- the 3DS redirect flow ------------------------------------------------------------
#
# redirect_to_url -> /payments/redirect/{payment}/{merchant}/{attempt} (as the real router)
#   -> the hosted checkout's challenge page, /checkout/{visit}/3ds (Complete / Fail)
#   -> /payments/{payment}/{merchant}/redirect/response/{connector}
#   -> the merchant's return_url with status, ids and an HMAC-SHA512 signature.


def _namespace_by_merchant(merchant_id: str) -> Namespace:
    namespace = by_merchant(merchant_id)
    if namespace is None:
        raise errors.HyperswitchError(404, "HE_02", "Payment does not exist in our records")
    return namespace


def _payment_of_attempt(merchant_id: str, attempt_id: str):
    namespace = _namespace_by_merchant(merchant_id)
    payment_id = attempt_id.rsplit("_", 1)[0]
    payment = payments.get_payment(_store(), namespace.id, payment_id)
    if payment.attempt_id != attempt_id:
        raise errors.HyperswitchError(404, "HE_02", "Payment does not exist in our records")
    return namespace, payment


@bp.get("/payments/redirect/<payment_id>/<merchant_id>/<attempt_id>")
def start_redirect(payment_id: str, merchant_id: str, attempt_id: str):
    """redirect_to_url: the customer's way to the 3DS challenge, on the hosted checkout."""
    namespace, payment = _payment_of_attempt(merchant_id, attempt_id)
    if payment.id != payment_id:
        raise errors.HyperswitchError(404, "HE_02", "Payment does not exist in our records")
    return checkout.resume(namespace.id, payment.id) or checkout.start(namespace, payment)


@bp.get("/payment_link/<merchant_id>/<payment_id>")
@bp.get("/payment_link/s/<merchant_id>/<payment_id>")
def payment_link(merchant_id: str, payment_id: str):
    """A payment link (``payment_link: true``): the hosted checkout for the payment."""
    namespace = _namespace_by_merchant(merchant_id)
    payment = payments.get_payment(_store(), namespace.id, payment_id)
    if not payment.attributes.get("payment_link"):
        raise errors.HyperswitchError(404, "HE_02", "Payment Link does not exist in our records")
    return checkout.resume(namespace.id, payment.id) or checkout.start(namespace, payment)


@bp.get("/payments/<payment_id>/<merchant_id>/redirect/response/<connector>")
def redirect_response(payment_id: str, merchant_id: str, connector: str):
    namespace = _namespace_by_merchant(merchant_id)
    payment = payments.get_payment(_store(), namespace.id, payment_id)
    profile = account.profile_of(namespace)
    return_url = payment.return_url or profile["return_url"]
    if not is_web_url(return_url):  # none, or one stored before return URLs were http(s) only: no Location
        return_url = None
    if not return_url:
        return render_template("hyperswitch/result.html", payment=payment,
                               status=serialize.intent_status(payment)), 200
    return redirect(signed_return_url(payment, namespace, return_url, profile["enable_payment_response_hash"]),
                    code=302)


def signed_return_url(payment, namespace: Namespace, return_url: str, sign: bool = True) -> str:
    """The merchant's return_url with the result appended and signed as Hyperswitch signs it.

    Every query pair (the merchant's own included) is sorted by (key, value),
    joined as ``k=v&k=v`` from the decoded values, and signed with HMAC-SHA512
    keyed by the profile's payment_response_hash_key, in lowercase hex. A
    profile with ``enable_payment_response_hash: false`` gets no signature.
    """
    parts = urlsplit(return_url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    pairs += [
        ("status", serialize.intent_status(payment)),
        ("payment_id", payment.id),
        ("payment_intent_client_secret", payment.client_secret),
        ("amount", str(payment.amount)),
        ("manual_retry_allowed", str(serialize.manual_retry_allowed(payment, namespace)).lower()),
    ]
    if sign:
        signature = response_signature(pairs, keys_of(namespace).payment_response_hash_key)
        pairs += [("signature", signature), ("signature_algorithm", "HMAC-SHA512")]
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def response_signature(pairs: list[tuple[str, str]], key: str) -> str:
    message = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    return hmac.new(key.encode(), message.encode(), hashlib.sha512).hexdigest()
