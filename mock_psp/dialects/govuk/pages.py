"""GOV.UK Pay's payment pages: next_url -> card details -> confirm -> the service's return_url.

``next_url`` is single use; using it binds this browser (a signed session
cookie) to the payment. The sandbox's test cards decide the outcome. Nothing is
added to ``return_url``: the service fetches the payment to learn what happened.
"""

from __future__ import annotations

from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for

from ...clock import to_datetime
from ...domain import access
from ...domain import namespaces
from ...domain import outcomes
from ...domain import payments
from ...domain.cards import digits_only
from ...domain.cards import luhn_valid
from ...domain.errors import DomainError
from ...domain.payments import CardInput
from ...domain.payments import PaymentChanges
from ...domain.payments import PaymentMethodInput
from . import serialize
from .routes import _store
from .routes import bp

SESSION_KEY = "govuk_payments"


def _remember(namespace_id: str, payment_id: str) -> None:
    allowed = dict(session.get(SESSION_KEY, {}))
    allowed[payment_id] = namespace_id
    session[SESSION_KEY] = allowed


def _namespace_of(payment_id: str) -> str:
    namespace_id = session.get(SESSION_KEY, {}).get(payment_id)
    if namespace_id is None:
        abort(_page("error.html", 403, **SESSION_EXPIRED))
    return namespace_id


def _page(template: str, status: int = 200, **context):
    response = render_template(f"govuk/{template}", **context)
    from flask import make_response

    made = make_response(response, status)
    made.headers["Cache-Control"] = "no-store"
    return made


SESSION_EXPIRED = dict(heading="Your payment session has expired",
                       message="No money has been taken from your account.")


def _enter(token: str):
    """First use of a link binds this browser to the payment; a used link works only for
    the browser that used it (the real service answers others 403, session expired)."""
    try:
        namespace_id, payment_id = access.redeem(_store(), token)
    except DomainError:
        owner = access.owner(_store(), token)
        if owner is not None and owner[1] in session.get(SESSION_KEY, {}):
            return redirect(url_for("govuk.card_details", payment_id=owner[1]), code=303)
        return _page("error.html", 403, **SESSION_EXPIRED)
    _remember(namespace_id, payment_id)
    try:
        payments.open_payment_page(_store(), namespace_id, payment_id)
    except DomainError:
        pass  # already past the card page (or finished): the card page shows where it stands
    return redirect(url_for("govuk.card_details", payment_id=payment_id), code=303)


@bp.get("/secure/<token>")
def secure_get(token: str):
    return _enter(token)


@bp.post("/secure")
def secure_post():
    return _enter(request.form.get("chargeTokenId", ""))


def _load(payment_id: str):
    namespace_id = _namespace_of(payment_id)
    return namespace_id, payments.get_payment(_store(), namespace_id, payment_id)


def _finished_page(payment):
    """Where a payment that is no longer waiting for the card page stands."""
    state = serialize.payment_state(payment)
    status = state[0]
    if status == "submitted" and payment.customer_action == payments.CONFIRMATION:
        return redirect(url_for("govuk.confirm", payment_id=payment.id), code=303)
    if payment.customer_action == payments.THREE_DS:
        return redirect(url_for("govuk.three_ds", payment_id=payment.id), code=303)
    if status == "submitted":
        return _page("processing.html", payment=payment)
    if state == serialize.EXPIRED:
        return _page("result.html", 200, payment=payment, state=state, **SESSION_EXPIRED)
    if status == "failed" and state == serialize.REJECTED:
        return _page("result.html", 200, payment=payment, state=state, heading="Your payment has been declined",
                     message="Contact your bank for more details. No money has been taken from your account.")
    if state == serialize.USER_CANCELLED or status == "cancelled":
        return _page("result.html", 200, payment=payment, state=state, heading="Your payment has been cancelled",
                     message="You have not been charged.")
    if status == "error":
        return _page("result.html", 200, payment=payment, state=state,
                     heading="We're experiencing technical problems", message="No money has been taken.")
    return redirect(payment.return_url, code=303)


def _card_form(payment, namespace_id: str, values: dict | None = None, errors: dict | None = None, status=200):
    prefilled = {"cardholder_name": payment.attributes.get("prefilled_cardholder_name", "")}
    return _page("card.html", status, payment=payment, values=values or prefilled, errors=errors or {},
                 cards=outcomes.test_cards("govuk"), amount=_pounds(payment.amount))


def _pounds(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"


@bp.get("/card_details/<payment_id>")
def card_details(payment_id: str):
    namespace_id, payment = _load(payment_id)
    if payment.status == payments.CUSTOMER_ACTION and payment.customer_action == payments.PAYMENT_PAGE:
        return _card_form(payment, namespace_id)
    return _finished_page(payment)


def _check_card(form, now_ms: int) -> tuple[dict, dict]:
    values = {name: form.get(name, "").strip() for name in
              ("card_number", "expiry", "cvc", "cardholder_name", "address_line1", "address_city",
               "address_postcode", "address_country")}
    problems = {}
    number = digits_only(values["card_number"].replace("-", ""))
    if not luhn_valid(number):
        problems["card_number"] = "Enter a valid card number"
    month, _, year = values["expiry"].replace(" ", "").partition("/")
    now = to_datetime(now_ms)
    if not (month.isdigit() and year.isdigit() and 1 <= int(month) <= 12 and len(year) in (2, 4)):
        problems["expiry"] = "Enter a valid expiry date"
    else:
        full_year = int(year) + (2000 if len(year) == 2 else 0)
        if (full_year, int(month)) < (now.year, now.month):
            problems["expiry"] = "Enter a valid expiry date"
    if not (values["cvc"].isdigit() and 3 <= len(values["cvc"]) <= 4):
        problems["cvc"] = "Enter a valid card security code"
    if not values["cardholder_name"]:
        problems["cardholder_name"] = "Enter the name as it appears on the card"
    values["card_number_digits"] = number
    return values, problems


@bp.post("/card_details/<payment_id>")
def submit_card(payment_id: str):
    namespace_id, payment = _load(payment_id)
    if not (payment.status == payments.CUSTOMER_ACTION and payment.customer_action == payments.PAYMENT_PAGE):
        return _finished_page(payment)
    with _store().read() as db:
        now = namespaces.get(db, namespace_id).now_ms()
    values, problems = _check_card(request.form, now)
    if problems:
        return _card_form(payment, namespace_id, values, problems, status=400)
    month, _, year = values["expiry"].replace(" ", "").partition("/")
    billing = {k: values[f"address_{k}"] for k in ("line1", "city", "postcode", "country") if values[f"address_{k}"]}
    method = PaymentMethodInput("card", None, CardInput(
        number=values["card_number_digits"], exp_month=f"{int(month):02d}",
        exp_year=str(int(year) + (2000 if len(year) == 2 else 0)), holder_name=values["cardholder_name"],
        cvc=values["cvc"]))
    changes = PaymentChanges(payment_method=method,
                             attributes={"billing_address": billing} if billing else {})
    payment = payments.submit_payment_page(_store(), namespace_id, payment_id, changes)
    return _finished_page(payment)


@bp.get("/card_details/<payment_id>/confirm")
def confirm(payment_id: str):
    namespace_id, payment = _load(payment_id)
    if payment.customer_action != payments.CONFIRMATION:
        return _finished_page(payment)
    return _page("confirm.html", payment=payment, card=serialize.card_details(payment),
                 amount=_pounds(payment.amount))


@bp.post("/card_details/<payment_id>/confirm")
def confirm_post(payment_id: str):
    namespace_id, payment = _load(payment_id)
    if payment.customer_action != payments.CONFIRMATION:
        return _finished_page(payment)
    payment = payments.customer_confirm(_store(), namespace_id, payment_id)
    return redirect(payment.return_url, code=303)


@bp.post("/card_details/<payment_id>/cancel")
def cancel(payment_id: str):
    namespace_id, payment = _load(payment_id)
    try:
        payment = payments.customer_cancel(_store(), namespace_id, payment_id)
    except DomainError:
        pass  # already finished: show where it stands
    return _finished_page(payments.get_payment(_store(), namespace_id, payment_id))


@bp.get("/card_details/<payment_id>/3ds")
def three_ds(payment_id: str):
    namespace_id, payment = _load(payment_id)
    if payment.customer_action != payments.THREE_DS:
        return _finished_page(payment)
    return _page("three_ds.html", payment=payment, amount=_pounds(payment.amount))


@bp.post("/card_details/<payment_id>/3ds")
def three_ds_post(payment_id: str):
    namespace_id, payment = _load(payment_id)
    if payment.customer_action == payments.THREE_DS:
        payment = payments.complete_customer_action(_store(), namespace_id, payment_id, payment.attempt_id,
                                                    request.form.get("confirm") == "true")
    return _finished_page(payment)
