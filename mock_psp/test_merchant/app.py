"""The test merchant's Flask app: the shop pages, the webhook receiver and /_merchant/.

``create_app(config)`` builds one self-contained shop; two can run side by side.
Config keys: ``dialect`` (hyperswitch | govuk | govpay-lk), ``psp_url``, ``db`` (a file, or
``:memory:``), ``scheme`` (webhook signature scheme; default the dialect's),
``reconcile_after`` (seconds, default 900), ``product`` ({name, amount, currency}),
``allowed_hosts`` (Host names answered besides the loopback ones and its own URL's; see guard.py),
``control_token`` (the provider's, when it was started with one: provisioning needs it).
Connect it to the provider with :func:`test_merchant.provision.provision` once it
has a URL (``test_merchant.run.start`` does both).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.exceptions import HTTPException

from . import guard
from . import strict
from .govpay_lk import MAX_TOKEN_REQUEST_BYTES
from .orders import OrderError
from .provision import saved_wiring
from .psp.base import ProviderError
from .psp.clients import DIALECTS
from .psp.govpay_lk import DIALECT as GOVPAY_LK
from .service import DEFAULT_RECONCILE_AFTER
from .service import Merchant
from .service import Wiring
from .store import Store
from .webhooks import MAX_WEBHOOK_BYTES

PRODUCTS = {
    "hyperswitch": {"name": "Blue mug", "amount": 1999, "currency": "USD"},
    "govuk": {"name": "Passport renewal fee", "amount": 8250, "currency": "GBP"},
    "govpay-lk": {"name": "Birth certificate copy", "amount": 150000, "currency": "LKR"},
}

shop = Blueprint("shop", __name__)
api = Blueprint("merchant_api", __name__, url_prefix="/_merchant")
hooks = Blueprint("webhooks", __name__)
govpay = Blueprint("govpay_lk", __name__)  # GovPay+ calls the shop (docs/merchant.md, "GovPay+")


def create_app(config: dict | None = None) -> Flask:
    config = dict(config or {})
    dialect = config.get("dialect", "hyperswitch")
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}")
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=None, JSON_SORT_KEYS=False)
    store = Store(config.get("db", ":memory:"))
    merchant = Merchant(store, Wiring(dialect=dialect, psp_url=config.get("psp_url", "http://127.0.0.1:8420"),
                                      scheme=config.get("scheme"), control_token=config.get("control_token")),
                        reconcile_after=float(config.get("reconcile_after", DEFAULT_RECONCILE_AFTER)))
    saved = saved_wiring(merchant)
    if saved is not None and saved.dialect == dialect:
        merchant.rewire(saved)
    app.extensions["test_merchant"] = merchant
    app.extensions["test_merchant_product"] = config.get("product") or PRODUCTS[dialect]
    app.extensions["test_merchant_hosts"] = tuple(config.get("allowed_hosts") or ())
    app.before_request(_guard)
    app.register_blueprint(shop)
    app.register_blueprint(api)
    app.register_blueprint(hooks)
    app.register_blueprint(govpay)
    app.register_error_handler(OrderError, _order_error)
    app.register_error_handler(ProviderError, _provider_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    app.after_request(_security_headers)
    app.after_request(guard.set_token_cookie)
    app.context_processor(lambda: {"csrf_token": guard.form_token})
    return app


def _merchant() -> Merchant:
    return current_app.extensions["test_merchant"]


GOVPAY_PATHS = ("/govpay-lk/", "/oauth/")


def _wants_json() -> bool:
    return request.path.startswith(("/_merchant", "/webhooks", *GOVPAY_PATHS))


def _error(status: int, code: str, message: str, **extra):
    if request.path.startswith("/oauth/"):
        return jsonify({"error": code, "error_description": message}), status  # RFC 6749's error shape
    if request.path.startswith(GOVPAY_PATHS):
        return jsonify({"error": code, "message": message}), status  # GovPay+'s error shape
    if _wants_json():
        return jsonify({"error": {"code": code, "message": message, **extra}}), status
    return render_template("merchant/error.html", status=status, message=message), status


def _order_error(error: OrderError):
    return _error(error.status, error.code, error.message)


def _provider_error(error: ProviderError):
    return _error(502, "provider_error", str(error))


def _http_error(error: HTTPException):
    code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(error.code, "bad_request")
    return _error(error.code or 500, code, error.description or error.name)


def _unexpected(error: Exception):
    current_app.logger.exception("unexpected error")
    return _error(500, "internal_error", f"{error.__class__.__name__}: {error}")


FORM_ENDPOINTS = ("shop.buy", "shop.refund_from_page")


def _guard():
    """Host allow-list for everything; then the JSON API's and the forms' rules (guard.py)."""
    names = guard.answered_hosts(current_app.extensions["test_merchant_hosts"], _merchant().wiring.url)
    if guard.ANY_HOST not in names and "HTTP_HOST" in request.environ and guard.hostname(request.host) not in names:
        return guard.host_refusal()
    if request.path.startswith("/_merchant/") or request.path == "/_merchant":
        if guard.is_preflight():
            return _error(403, "cross_site_request", "Refused: the test merchant's JSON API answers no "
                                                     "cross-origin calls")
        reason = guard.cross_site_reason()
        if reason is not None:
            return _error(403, "cross_site_request", f"Refused: {reason}")
        reason = guard.content_type_reason()
        if reason is not None:
            return _error(415, "unsupported_media_type", f"Refused: {reason}")
    if request.method == "POST" and request.endpoint in FORM_ENDPOINTS:
        return guard.form_refusal()
    return None


def _security_headers(response):
    if response.mimetype == "text/html":
        psp = urlsplit(_merchant().wiring.psp_url)
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'self' {psp.scheme}://{psp.netloc}; style-src 'self'; "
            f"frame-src {psp.scheme}://{psp.netloc}; img-src 'self' data:; base-uri 'none'; form-action 'self' "
            f"{psp.scheme}://{psp.netloc}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# -- /_merchant: the JSON API for scenarios and tests ---------------------------------------------


def _json_body(allowed: tuple[str, ...]) -> dict:
    raw = request.get_data()
    try:
        data = strict.loads(raw) if raw else {}
    except strict.NotJson:  # not JSON (or not UTF-8), nested too deep, NaN, 1e400, "\ud800"
        data = None
    if not isinstance(data, dict):
        raise OrderError(400, "bad_request", "the body must be a JSON object")
    unknown = set(data) - set(allowed)
    if unknown:
        raise OrderError(400, "unknown_field", f"unknown field(s): {', '.join(sorted(unknown))}; "
                                               f"allowed: {', '.join(allowed)}")
    return data


@api.get("/config")
def config():
    merchant = _merchant()
    wiring = merchant.wiring
    return jsonify({"dialect": wiring.dialect, "psp_url": wiring.psp_url, "namespace": wiring.namespace,
                    "url": wiring.url, "webhook_url": f"{wiring.url}/webhooks/{wiring.dialect}" if wiring.url else None,
                    "webhook_endpoint_id": wiring.endpoint_id, "signature_scheme": wiring.scheme,
                    "reconcile_after_seconds": merchant.reconcile_after,
                    "max_webhook_bytes": MAX_WEBHOOK_BYTES, **_govpay_config(merchant)})


def _govpay_config(merchant: Merchant) -> dict:
    if merchant.wiring.dialect != GOVPAY_LK:
        return {}
    described = merchant.govpay.describe(merchant.wiring.url)
    return {"webhook_url": described["update_url"] if described else None, "govpay_lk": described}


@api.post("/orders")
def create_order():
    body = _json_body(("amount", "currency", "card", "description"))
    if "amount" not in body or "currency" not in body:
        raise OrderError(400, "missing_field", "amount and currency are required")
    order, new = _merchant().create_order(body["amount"], body["currency"], body.get("description"),
                                          body.get("card"), request.headers.get("Idempotency-Key"))
    return jsonify(order), 201 if new else 200


@api.get("/orders")
def list_orders():
    return jsonify({"data": _merchant().orders(request.args.get("state"))})


@api.get("/orders/<order_id>")
def get_order(order_id: str):
    return jsonify(_merchant().order(order_id))


@api.post("/orders/<order_id>/refunds")
def refund_order(order_id: str):
    body = _json_body(("amount",))
    return jsonify(_merchant().refund(order_id, body.get("amount"))), 201


@api.post("/orders/<order_id>/sync")
def sync_order(order_id: str):
    return jsonify(_merchant().sync_order(order_id, "sync requested"))


@api.get("/webhook-log")
def webhook_log():
    return jsonify({"data": _merchant().webhooks.log(request.args.get("result"))})


@api.post("/reconcile")
def reconcile():
    body = _json_body(("older_than_seconds",))
    older_than = body.get("older_than_seconds")
    if older_than is not None and (isinstance(older_than, bool) or not isinstance(older_than, (int, float))
                                   or older_than < 0):
        raise OrderError(400, "invalid_field", "older_than_seconds must be a number of seconds, 0 or more")
    return jsonify(_merchant().reconcile(older_than))


@api.post("/reset")
def reset():
    _merchant().reset()
    return jsonify({"reset": True})


# -- webhooks --------------------------------------------------------------------------------------


@hooks.post("/webhooks/<dialect>")
def receive_webhook(dialect: str):
    # Read at most one byte over the cap: a huge body is refused before it is read or parsed.
    declared = request.content_length
    body = b"" if (declared or 0) > MAX_WEBHOOK_BYTES else request.stream.read(MAX_WEBHOOK_BYTES + 1)
    status, answer = _merchant().webhooks.receive(dialect, body, request.headers, request.remote_addr, declared)
    return jsonify(answer), status


# -- GovPay+: the provider calls the shop ----------------------------------------------------------


def _capped_body(cap: int) -> tuple[bytes, int | None]:
    """The body, read to at most one byte over ``cap`` (none of it if the declared length is over)."""
    declared = request.content_length
    return (b"" if (declared or 0) > cap else request.stream.read(cap + 1)), declared


@govpay.post("/govpay-lk/validate")
def govpay_presentment():
    body, declared = _capped_body(MAX_WEBHOOK_BYTES)
    status, answer = _merchant().govpay.presentment(body, request.headers, request.remote_addr, declared)
    return jsonify(answer), status


@govpay.post("/govpay-lk/update")
def govpay_update():
    body, declared = _capped_body(MAX_WEBHOOK_BYTES)
    status, answer = _merchant().govpay.update(body, request.headers, request.remote_addr, declared)
    return jsonify(answer), status


@govpay.post("/oauth/token")
def oauth_token():
    body, declared = _capped_body(MAX_TOKEN_REQUEST_BYTES)
    status, answer, headers = _merchant().govpay.issue_token(request.headers.get("Authorization"), body, declared)
    return jsonify(answer), status, headers


# -- the shop --------------------------------------------------------------------------------------


def _product() -> dict:
    return current_app.extensions["test_merchant_product"]


def _money(amount: int, currency: str) -> str:
    symbol = {"GBP": "£", "USD": "$", "EUR": "€", "INR": "₹", "LKR": "Rs "}.get(currency)
    value = f"{amount / 100:,.2f}"
    return f"{symbol}{value}" if symbol else f"{value} {currency}"


@shop.app_template_filter("money")
def money_filter(order_or_amount: Any, currency: str | None = None) -> str:
    if isinstance(order_or_amount, dict):
        return _money(order_or_amount["amount"], order_or_amount["currency"])
    return _money(order_or_amount, currency or "")


@shop.get("/")
def product_page():
    # The form token makes a double-clicked Pay one order (it is the order's idempotency key).
    # GovPay+ has no SDK modal: its payments are made on GovPay's own page only.
    return render_template("merchant/product.html", product=_product(), token=secrets.token_hex(12),
                           connected=_merchant().client is not None,
                           redirect_only=_merchant().wiring.dialect == GOVPAY_LK)


@shop.post("/buy")
def buy():
    mode = request.form.get("mode", "redirect")
    product = _product()
    order, _ = _merchant().create_order(product["amount"], product["currency"], product["name"],
                                        idempotency_key=request.form.get("token") or None)
    checkout = order["checkout"]
    if order["state"] != "pending" or not checkout.get("redirect_url"):
        return redirect(url_for("shop.returned", order_id=order["id"]), code=303)
    if mode == "modal" and _merchant().wiring.dialect != GOVPAY_LK:
        return render_template("merchant/pay.html", order=order, checkout=checkout,
                               sdk=f"{_merchant().wiring.psp_url}/sdk/v1/mock-psp.js",
                               return_url=url_for("shop.returned", order_id=order["id"]))
    return redirect(checkout["redirect_url"], code=303)


@shop.get("/orders/<order_id>/return")
def returned(order_id: str):
    """Where the customer lands. The query string is the customer's to edit, so the page
    asks the provider for the truth; a Hyperswitch signature is checked and shown."""
    merchant = _merchant()
    merchant.order(order_id)  # an unknown order is a 404, whatever else is wrong
    signature = merchant.psp.verify_return(request.url)
    order = merchant.sync_order(order_id, "customer returned")
    # A GovPay+ reference stays payable after a failed attempt: offer to try again.
    retry_url = order["checkout"].get("redirect_url") if (merchant.wiring.dialect == GOVPAY_LK
                                                          and order["state"] == "pending") else None
    return render_template("merchant/return.html", order=order, signature=signature,
                           payment_error=request.args.get("payment_error"), claimed=request.args.get("status"),
                           retry_url=retry_url)


@shop.get("/orders")
def order_history():
    return render_template("merchant/orders.html", orders=list(reversed(_merchant().orders())),
                           notice=request.args.get("notice"), problem=request.args.get("problem"))


@shop.post("/orders/<order_id>/refund")
def refund_from_page(order_id: str):
    merchant = _merchant()
    raw = request.form.get("amount", "").strip()
    amount = strict.amount_minor(raw) if raw else None  # float() would take "inf", "nan" and "1e400"
    if raw and not amount:
        return redirect(url_for("shop.order_history", problem=f"{raw!r} is not an amount (e.g. 12.50)"), code=303)
    try:
        order = merchant.refund(order_id, amount)
    except OrderError as error:
        return redirect(url_for("shop.order_history", problem=error.message), code=303)
    latest = order["refunds"][-1] if order["refunds"] else None
    amount = latest["amount"] if latest else amount
    if latest and latest["state"] == "failed":
        query = {"problem": f"The provider refused the refund: {latest['error']}"}
    else:
        query = {"notice": f"Refund of {_money(amount, order['currency'])} requested; it completes when the "
                           "provider confirms it."}
    return redirect(url_for("shop.order_history") + "?" + urlencode(query), code=303)
