"""The hosted checkout: one set of pages for every dialect, in redirect or embedded mode.

A visit starts at a dialect's own entry point (GOV.UK ``next_url``, a Hyperswitch
payment link or 3DS ``redirect_to_url``, or the SDK's embed URL), which calls
:func:`start`. That opens a checkout session and redirects to
``/checkout/<session>``, which shows whatever the payment waits for: a payment
method, a 3DS challenge, a confirmation, or the result.

How a visit is bound to its browser depends on the mode:

- redirect mode: by the provider's first-party cookie (SameSite=Lax, see
  web/cookies.py), so a leaked checkout URL is useless in another browser;
- embedded mode (inside the SDK's modal): by the visit id alone, an unguessable
  capability in the iframe's URL. No cookie: in a cross-site iframe on plain http
  a cookie is third-party, browsers drop it, and SameSite=None or CHIPS need
  Secure. Instead the pages are shown only inside a frame (Sec-Fetch-Dest), only
  to the registered origins (CSP ``frame-ancestors``), never leak their URL in a
  Referer (Referrer-Policy same-origin), and results are posted to the exact
  parent origin, never ``"*"``.

Every form POST must come from the provider's own pages (see origins.py), so a
cross-site form can neither pay, decline, cancel nor choose a method.
Everything works without JavaScript in redirect mode.
"""

from __future__ import annotations

import json

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import jsonify
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for

from ..domain import access
from ..domain import namespaces
from ..domain import outcomes
from ..domain import payments
from ..domain.access import EMBEDDED
from ..domain.access import REDIRECT
from ..domain.cards import card_network
from ..domain.cards import digits_only
from ..domain.cards import luhn_valid
from ..domain.errors import DomainError
from ..domain.numbers import is_ascii_digits
from ..domain.payments import CardInput
from ..domain.payments import PaymentMethodInput
from ..domain.urls import is_web_url
from ..domain.urls import origin_of
from ..runtime.clock import to_datetime
from . import adapters as a
from . import origins

bp = Blueprint("checkout", __name__, url_prefix="/checkout", template_folder="templates",
               static_folder="static", static_url_path="/static")

COOKIE_KEY = "checkout"
MAX_REMEMBERED = 40


def _provider():
    return current_app.extensions["mock_psp"]


def _store():
    return _provider().store


def _dialect(name: str):
    return _provider().dialect(name)


def adapter_for(dialect: str) -> a.Adapter:
    return _dialect(dialect).checkout


# -- starting a visit -------------------------------------------------------------------


def start(namespace, payment):
    """Open a checkout visit for this browser and send it to the first page.

    ``mode=embedded&parent_origin=...`` (query or form) asks for embedded mode,
    which only a registered merchant origin may have.
    """
    values = request.values
    mode = EMBEDDED if values.get("mode") == EMBEDDED else REDIRECT
    parent_origin = origin_of(values.get("parent_origin"))  # lower case, as browsers give origins
    registered = {allowed.lower() for allowed in namespace.config.get("allowed_origins", [])}
    if mode == EMBEDDED and parent_origin not in registered:
        return refused(parent_origin or values.get("parent_origin") or "(none given)", namespace)
    visit = access.open_checkout(_store(), namespace.id, payment.id, mode, parent_origin)
    if mode == REDIRECT:  # an embedded visit is bound by its id alone (see the module's notes)
        remembered = [sid for sid in session.get(COOKIE_KEY, []) if sid != visit.id][-MAX_REMEMBERED:]
        session[COOKIE_KEY] = [*remembered, visit.id]
    adapter_for(payment.dialect).begin(_store(), payment)
    return redirect(url_for("checkout.page", sid=visit.id), code=303)


def resume(namespace_id: str, payment_id: str):
    """Send this browser back to its own (redirect-mode) visit of the payment, if it has one.

    Never inside the SDK's frame: a redirect-mode page cannot be framed.
    """
    if request.values.get("mode") == EMBEDDED:
        return None
    for sid in reversed(session.get(COOKIE_KEY, [])):
        visit = access.checkout_session(_store(), sid)
        if visit and (visit.namespace_id, visit.payment_id) == (namespace_id, payment_id):
            return redirect(url_for("checkout.page", sid=sid), code=303)
    return None


def session_expired():
    return _page("error.html", 403, None, **SESSION_EXPIRED)


def problem(status: int, heading: str, message: str, code: str = "error", link: str | None = None,
            link_text: str | None = None):
    """A page that explains why there is nothing to pay, in the checkout's look."""
    return _page("error.html", status, None, heading=heading, message=message, code=code, link=link,
                 link_text=link_text)


def refused(origin: str, namespace):
    """An unregistered origin asked to embed the checkout: explain, and show no form."""
    response = make_response(render_template(
        "checkout/refused.html", origin=origin, namespace=namespace,
        allowed=namespace.config.get("allowed_origins", [])), 403)
    # This page holds nothing to protect, so any page may show it, and its developer can read why.
    response.headers["Content-Security-Policy"] = _csp("*")
    return response


@bp.get("/embed")
def embed():
    """The SDK's entry for dialects that embed by credentials (Hyperswitch: client_secret)."""
    for dialect in _provider().dialects.values():
        try:
            found = dialect.checkout.embed_payment(_store(), request.args)
        except DomainError:
            return _page("error.html", 403, None, heading="This payment cannot be opened",
                         message="The key or client secret is not valid, or it has expired.")
        if found is not None:
            namespace, payment = found
            return start(namespace, payment)
    return _page("error.html", 400, None, heading="Nothing to pay",
                 message="Open the checkout with a client secret and publishable key, or a payment link.")


# -- pages --------------------------------------------------------------------------------


def _csp(frame_ancestors: str) -> str:
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self'; base-uri 'none'; frame-ancestors {frame_ancestors}")


def _page(template: str, status: int, visit, **context):
    response = make_response(render_template(f"checkout/{template}", visit=visit, **context), status)
    response.headers["Cache-Control"] = "no-store"
    # The visit id in the URL is a capability (embedded mode): never send it to another site.
    response.headers["Referrer-Policy"] = "same-origin"
    if visit is not None and visit.embedded:
        allowed = namespaces.get(_store(), visit.namespace_id).config.get("allowed_origins", [])
        response.headers["Content-Security-Policy"] = _csp(" ".join(allowed) or "'none'")
    else:
        response.headers["Content-Security-Policy"] = _csp("'none'")
    return response


SESSION_EXPIRED = dict(heading="Your payment session has expired", message="No money has been taken from your account.")


FOREIGN_FORM = dict(heading="This form was sent from another site",
                    message="Nothing has been paid or changed. Go back to the payment page and try again.",
                    code="foreign_origin")
OUTSIDE_FRAME = dict(heading="This payment page opens only in the shop's payment window",
                     message="Go back to the shop and open the payment again. No money has been taken.",
                     code="outside_frame")


def _own_origins() -> set[str]:
    return origins.own_origins(request, _provider().settings.public_url)


@bp.before_request
def _forms_come_from_the_checkout():
    """Every checkout POST (pay, 3DS, confirm, cancel) must come from the checkout's own pages."""
    if request.method == "POST" and origins.posted_from_elsewhere(request, _own_origins()):
        return _page("error.html", 403, None, **FOREIGN_FORM)
    return None


def _load(sid: str):
    visit = access.checkout_session(_store(), sid)
    if visit is None or (not visit.embedded and sid not in session.get(COOKIE_KEY, [])):
        abort(_page("error.html", 403, None, **SESSION_EXPIRED))
    if visit.embedded and origins.outside_its_frame(request, _own_origins(), visit.parent_origin):
        abort(_page("error.html", 403, None, **OUTSIDE_FRAME))
    namespace = namespaces.get(_store(), visit.namespace_id)
    payment = payments.get_payment(_store(), namespace.id, visit.payment_id)
    return visit, adapter_for(payment.dialect), namespace, payment


def _context(visit, adapter, namespace, payment) -> dict:
    return {
        "payment": payment,
        "summary": adapter.summary(payment, namespace),
        "amount": a.money(payment.amount, payment.currency),
    }


def _go(visit, adapter, payment):
    """The page for where the payment now stands."""
    where = a.stage(adapter, payment)
    target = {a.THREE_DS: "checkout.three_ds", a.CONFIRM: "checkout.confirm", a.DONE: "checkout.done"}.get(where)
    return redirect(url_for(target or "checkout.page", sid=visit.id), code=303)


@bp.get("/<sid>")
def page(sid: str):
    visit, adapter, namespace, payment = _load(sid)
    where = a.stage(adapter, payment)
    if where == a.ENTER:
        return _pay_page(visit, adapter, namespace, payment)
    if where == a.PROCESSING:
        return _page("processing.html", 200, visit, **_context(visit, adapter, namespace, payment))
    return _go(visit, adapter, payment)


def _pay_page(visit, adapter, namespace, payment, values=None, errors=None, status=200):
    method = request.values.get("method", "card")
    if method not in adapter.methods:
        method = "card"
    prefilled = {"cardholder_name": payment.attributes.get("prefilled_cardholder_name", "")}
    return _page("pay.html", status, visit, **_context(visit, adapter, namespace, payment),
                 method=method, methods=adapter.methods, values=values or prefilled, errors=errors or {},
                 cards=_dialect(payment.dialect).test_cards.listing(), upi=(outcomes.UPI_SUCCESS, outcomes.UPI_FAILURE),
                 banks=[(code, label) for code, (_, label) in outcomes.TEST_BANKS.items()])


def _card_from(form, now_ms: int, book: outcomes.CardBook) -> tuple[dict, dict, PaymentMethodInput | None]:
    values = {name: form.get(name, "").strip() for name in
              ("card_number", "expiry", "cvc", "cardholder_name", "address_line1", "address_city",
               "address_postcode", "address_country")}
    problems = {}
    number = digits_only(values["card_number"].replace("-", ""))
    if not luhn_valid(number):
        problems["card_number"] = "Enter a valid card number"
    month, _, year = values["expiry"].replace(" ", "").partition("/")
    now = to_datetime(now_ms)
    # ASCII digits only: "¹".isdigit() is true and int("¹") raises; "３５" would pass as 35.
    valid_expiry = (is_ascii_digits(month) and is_ascii_digits(year) and len(month) <= 2 and 1 <= int(month) <= 12
                    and len(year) in (2, 4))
    full_year = (int(year) + (2000 if len(year) == 2 else 0)) if valid_expiry else 0
    if not valid_expiry or (full_year, int(month)) < (now.year, now.month):
        problems["expiry"] = "Enter a valid expiry date"
    if not (is_ascii_digits(values["cvc"]) and 3 <= len(values["cvc"]) <= 4):
        problems["cvc"] = "Enter a valid card security code"
    if not values["cardholder_name"]:
        problems["cardholder_name"] = "Enter the name as it appears on the card"
    if problems:
        return values, problems, None
    billing = {k: values[f"address_{k}"] for k in ("line1", "city", "postcode", "country") if values[f"address_{k}"]}
    method = PaymentMethodInput(
        "card", "credit",
        CardInput(number=number, exp_month=f"{int(month):02d}", exp_year=str(full_year),
                  holder_name=values["cardholder_name"], cvc=values["cvc"], network=card_network(number), book=book),
        details={"billing_address": billing} if billing else None,
    )
    return values, problems, method


def _upi_from(form) -> tuple[dict, dict, PaymentMethodInput | None]:
    vpa = form.get("vpa", "").strip()
    if "@" not in vpa or vpa.startswith("@") or vpa.endswith("@"):
        return {"vpa": vpa}, {"vpa": "Enter a UPI ID such as name@bank"}, None
    return {"vpa": vpa}, {}, PaymentMethodInput("upi", "upi_collect", vpa=vpa)


def _bank_from(form) -> tuple[dict, dict, PaymentMethodInput | None]:
    bank = form.get("bank", "").strip()
    if bank not in outcomes.TEST_BANKS:
        return {"bank": bank}, {"bank": "Choose your bank"}, None
    return {"bank": bank}, {}, PaymentMethodInput("bank_redirect", "online_banking", details={"bank": bank})


@bp.post("/<sid>")
def submit(sid: str):
    visit, adapter, namespace, payment = _load(sid)
    if a.stage(adapter, payment) != a.ENTER:
        return _go(visit, adapter, payment)
    method = request.form.get("method", "card")
    if method == "upi" and "upi" in adapter.methods:
        values, problems, chosen = _upi_from(request.form)
    elif method == "bank" and "bank" in adapter.methods:
        values, problems, chosen = _bank_from(request.form)
    else:
        values, problems, chosen = _card_from(request.form, namespace.now_ms(), _dialect(payment.dialect).test_cards)
    if problems:
        return _pay_page(visit, adapter, namespace, payment, values, problems, status=400)
    try:
        payment = adapter.submit(_store(), payment, chosen)
    except DomainError:
        payment = payments.get_payment(_store(), namespace.id, payment.id)
    return _go(visit, adapter, payment)


@bp.get("/<sid>/confirm")
def confirm(sid: str):
    visit, adapter, namespace, payment = _load(sid)
    if a.stage(adapter, payment) != a.CONFIRM:
        return _go(visit, adapter, payment)
    card = (payment.payment_method_data or {}).get("card", {})
    return _page("confirm.html", 200, visit, **_context(visit, adapter, namespace, payment), card=card)


@bp.post("/<sid>/confirm")
def confirm_post(sid: str):
    visit, adapter, namespace, payment = _load(sid)
    if a.stage(adapter, payment) == a.CONFIRM:
        payment = adapter.confirm(_store(), payment)
    return _go(visit, adapter, payment)


@bp.get("/<sid>/3ds")
def three_ds(sid: str):
    visit, adapter, namespace, payment = _load(sid)
    if a.stage(adapter, payment) != a.THREE_DS:
        return _go(visit, adapter, payment)
    return _page("three_ds.html", 200, visit, **_context(visit, adapter, namespace, payment),
                 message=_message(a.REQUIRES_ACTION, adapter, payment, visit))


@bp.post("/<sid>/3ds")
def three_ds_post(sid: str):
    visit, adapter, namespace, payment = _load(sid)
    if a.stage(adapter, payment) == a.THREE_DS:
        payment = payments.complete_customer_action(_store(), namespace.id, payment.id, payment.attempt_id,
                                                    request.form.get("confirm") == "true")
    return _go(visit, adapter, payment)


@bp.post("/<sid>/cancel")
def cancel(sid: str):
    visit, adapter, namespace, payment = _load(sid)
    payment = adapter.cancel(_store(), payment)
    if visit.embedded and a.result_type(payment) is None:
        return _page("closed.html", 200, visit, **_context(visit, adapter, namespace, payment),
                     message=_message(a.CLOSED, adapter, payment, visit))
    return redirect(url_for("checkout.done", sid=visit.id), code=303)


@bp.get("/<sid>/done")
def done(sid: str):
    """The end: embedded, a result page that tells the parent; redirect, back to the merchant."""
    visit, adapter, namespace, payment = _load(sid)
    where = a.stage(adapter, payment)
    if where not in (a.DONE, a.ENTER):
        return _go(visit, adapter, payment)
    kind = a.result_type(payment)
    heading, text = adapter.result_text(payment)
    context = {**_context(visit, adapter, namespace, payment), "heading": heading, "text": text,
               "public_status": adapter.public_status(payment)}
    if visit.embedded:
        return _page("result.html", 200, visit, **context, message=_message(kind or a.CLOSED, adapter, payment, visit))
    finish = adapter.finish_url(payment, namespace, _provider().base_url(request.host_url))
    if finish and not is_web_url(finish):  # never a Location that is not a web page (javascript:, data:)
        finish = None
    if kind == a.SUCCEEDED or not adapter.shows_failures:
        return redirect(finish, code=303) if finish else _page("result.html", 200, visit, **context, message=None)
    return _page("result.html", 200, visit, **context, message=None, finish=finish)


@bp.get("/<sid>/status")
def status(sid: str):
    """For the processing page's polling: where the payment stands now."""
    visit, adapter, namespace, payment = _load(sid)
    return jsonify({"stage": a.stage(adapter, payment), "status": adapter.public_status(payment)})


def _message(kind: str, adapter, payment, visit) -> str | None:
    """The postMessage body for an embedding page (JSON), or None in redirect mode."""
    if not visit.embedded:
        return None
    body = {"source": "mock-psp", "type": kind, "payment": {
        "id": payment.id, "status": adapter.public_status(payment), "dialect": payment.dialect,
        "amount": payment.amount, "currency": payment.currency}}
    return json.dumps(body)
