"""The QA dashboard, under /_mock/ui: see and steer one namespace in the browser.

Server-rendered pages; list pages refresh their rows every few seconds from a
``?fragment=rows`` view (static/dashboard.js). Every change goes through the same
library functions as the control API and the dialects, and every form carries a
per-session token (and must come from this origin), so another site cannot
post to it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from urllib.parse import urlencode
from urllib.parse import urlsplit

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import g
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for

from ..control import lifecycle
from ..control import settings as control_settings
from ..domain import agreements
from ..domain import durations
from ..domain import mandates
from ..domain import namespaces
from ..domain import numbers
from ..domain import payments
from ..domain import refunds
from ..domain import snapshots
from ..domain.errors import DomainError
from ..domain.namespace_config import DELAY_KEYS
from ..domain.namespace_config import RATE_KEYS
from ..domain.refunds import NewRefund
from ..runtime import clock
from ..runtime.clock import ClockError
from ..runtime.clock import iso_ms
from ..web import journal
from . import views

PREFIX = "/_mock/ui"
PAGE_SIZE = 25
QUICK_DURATIONS = ("1m", "5m", "15m", "1h", "1d")  # the clock page's buttons
MAX_PAGE = 1_000_000
CSRF_KEY = "dashboard_csrf"

bp = Blueprint("dashboard", __name__, url_prefix=PREFIX, template_folder="templates", static_folder="static",
               static_url_path="/static")


def _provider():
    return current_app.extensions["mock_psp"]


def _store():
    return _provider().store


# -- errors: pages, not JSON ---------------------------------------------------------------


def http_error(status: int):
    return _error_page(status, {404: "Not found", 405: "Method not allowed"}.get(status, "Bad request"),
                       "There is no such page in the dashboard." if status == 404 else "")


def unexpected_error():
    return _error_page(500, "Something went wrong", "An unexpected failure in the mock; it is in the log.")


def injected_error():
    return unexpected_error()


def is_api_call() -> bool:
    return False  # the dashboard is not a provider API: not journalled, never faulted (QA turns faults off here)


def _error_page(status: int, heading: str, message: str):
    response = make_response(render_template("dashboard/error.html", heading=heading, message=message,
                                             namespace=None, nav=None), status)
    return response


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    if error.code == "namespace_not_found":
        return _error_page(404, "No such namespace", error.message)
    return _error_page(404 if error.code == "not_found" else 400, "That did not work", error.message)


# -- the namespace being looked at, and cross-site protection ---------------------------------


def _namespace():
    """From ?ns= (links carry it), else the last one chosen while it exists, else the dashboard's home
    (``mock-psp up``: the shop's namespace; else, or once it is gone, the default namespace)."""
    wanted = request.args.get("ns") or request.form.get("ns")
    if wanted:
        namespace = namespaces.get(_store(), wanted)
    else:
        remembered = session.get("dashboard_ns")
        namespace = (namespaces.find(_store(), remembered) if remembered else None) or _provider().home_namespace()
    session["dashboard_ns"] = namespace.id
    g.namespace = namespace
    return namespace


# -- the control token: a login page, then a cookie --------------------------------------------

LOGIN_COOKIE = "mock_psp_dashboard"
TOKEN_HEADER = "X-Mock-Token"
OPEN_ENDPOINTS = ("dashboard.login_page", "dashboard.log_in", "dashboard.static")


def _login_proof(token: str) -> str:
    """What the login cookie holds: derived from the token (the token itself never sits in a cookie)."""
    return hmac.new(token.encode(), b"mock-psp dashboard login", hashlib.sha256).hexdigest()


def _logged_in(token: str) -> bool:
    header = request.headers.get(TOKEN_HEADER)
    if header is not None and hmac.compare_digest(header.encode(), token.encode()):
        return True
    cookie = request.cookies.get(LOGIN_COOKIE)
    return cookie is not None and hmac.compare_digest(cookie.encode(), _login_proof(token).encode())


@bp.before_request
def _require_login():
    """With --control-token, every page but the login page needs it (docs/security.md)."""
    token = _provider().settings.control_token
    if not token or request.endpoint in OPEN_ENDPOINTS or _logged_in(token):
        return None
    if request.method == "GET":
        return redirect(url_for("dashboard.login_page", next=request.full_path.rstrip("?")), code=303)
    return _login_view(401, "Log in first: this dashboard needs the provider's control token.")


def _safe_next(target: str | None) -> str:
    """Back to a dashboard page only (never another site: ``//evil.example`` is not a path here)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.payments_page")


def _login_view(status: int = 200, problem: str | None = None):
    return _page("login.html", None, http_status=status, problem=problem,
                 next=_safe_next(request.values.get("next")))


@bp.get("/login")
def login_page():
    return _login_view()


@bp.post("/login")
def log_in():
    token = _provider().settings.control_token
    given = request.form.get("token", "")
    if not token:
        return redirect(_safe_next(request.form.get("next")), code=303)
    if not hmac.compare_digest(given.encode(), token.encode()):
        return _login_view(401, "That is not this provider's control token.")
    response = redirect(_safe_next(request.form.get("next")), code=303)
    # Lax, not Strict: a link from the shop or a test report opens the dashboard logged in;
    # the dashboard's GET pages change nothing and its forms carry a CSRF token.
    response.set_cookie(LOGIN_COOKIE, _login_proof(token), httponly=True, samesite="Lax", path=PREFIX)
    return response


def csrf_token() -> str:
    token = session.get(CSRF_KEY)
    if token is None:
        token = session[CSRF_KEY] = secrets.token_urlsafe(24)
    return token


@bp.before_request
def _protect_forms():
    if request.method != "POST":
        return None
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if origin and urlsplit(origin).netloc != request.host:
        abort(_error_page(403, "Refused", "This form was posted from another site."))
    given = request.form.get("csrf_token", "")
    expected = session.get(CSRF_KEY)
    if not expected or not hmac.compare_digest(given, expected):
        abort(_error_page(403, "Refused", "The form's token is missing or out of date: reload the page and "
                                          "try again."))
    return None


@bp.app_context_processor
def _helpers():
    return {"csrf_token": csrf_token, "ui_url": ui_url, "iso_ms": iso_ms, "money": views.money}


def ui_url(endpoint: str, **values) -> str:
    """A dashboard URL that keeps the namespace being looked at."""
    namespace = g.get("namespace")
    if namespace is not None and "ns" not in values:
        values["ns"] = namespace.id
    return url_for(f"dashboard.{endpoint}", **values)


SWITCHER_SIZE = 50  # namespaces offered in the header's switcher; the Namespaces page lists them all


def _page(template: str, nav: str, *, http_status: int = 200, **context):
    # Keyword-only and not called "status": the list pages pass a "status" filter to their templates.
    namespace = g.get("namespace")
    # A whole page (not a fragment of rows) offers the other namespaces in its header.
    others = namespaces.choices(_store(), SWITCHER_SIZE) if namespace is not None and not template.startswith("_") \
        else []
    response = make_response(render_template(f"dashboard/{template}", nav=nav, namespace=namespace,
                                             switch_to=others, **context), http_status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'")
    return response


def _back(endpoint: str, notice: str | None = None, problem: str | None = None, **values):
    query = {k: v for k, v in (("notice", notice), ("problem", problem)) if v}
    target = ui_url(endpoint, **values)
    return redirect(target + ("&" if "?" in target else "?") + urlencode(query) if query else target, code=303)


# -- namespaces --------------------------------------------------------------------------------


@bp.get("/")
def home():
    _namespace()
    return redirect(ui_url("payments_page"), code=303)


@bp.get("/namespaces")
def namespaces_page():
    return _namespaces_view()


def _namespaces_view(status: int = 200, import_error: str | None = None):
    current = _namespace()
    page = _page_number()
    listed, total = namespaces.page(_store(), PAGE_SIZE, (page - 1) * PAGE_SIZE)
    home = _provider().home_namespace().id
    rows = [{**views.namespace_row(n), "home": n.namespace.id == home} for n in listed]
    return _page("namespaces.html", "namespaces", http_status=status, rows=rows, current=current,
                 import_error=import_error, page=page, total=total, pages=max(1, -(-total // PAGE_SIZE)),
                 status=None, query=None, new_clock=_provider().new_namespace_clock())


@bp.post("/namespaces/import")
def import_snapshot():
    upload = request.files.get("snapshot")
    try:
        document = json.load(upload.stream) if upload else None
    except (ValueError, RecursionError):
        document = None
    if document is None:
        return _namespaces_view(400, "That file is not a JSON snapshot.")
    try:
        created = snapshots.import_(_store(), _provider().key_specs, document)
    except DomainError as error:
        return _namespaces_view(400, error.message)
    return redirect(url_for("dashboard.payments_page", ns=created.id,
                            notice=f"Imported {document.get('exported_from') or 'the snapshot'} as {created.id}"),
                    code=303)


@bp.post("/namespaces")
def create_namespace():
    """On the clock chosen in the form, else the provider's clock for new namespaces (``serve --clock``)."""
    asked = request.form.get("clock")
    created = namespaces.create(_store(), _provider().key_specs,
                                clock_mode=_provider().new_namespace_clock(asked if asked in clock.MODES else None),
                                label=request.form.get("label"))
    return redirect(url_for("dashboard.payments_page", ns=created.id, notice=f"Created {created.id}"), code=303)


# -- reset and delete, each after a confirmation page ----------------------------------------------

@bp.get("/namespaces/<namespace_id>/<any(reset, delete):action>")
def confirm_page(namespace_id: str, action: str):
    """What the action would remove, and a form to do it: nothing changes until it is posted."""
    return _confirm_view(namespace_id, action)


def _confirm_view(namespace_id: str, action: str, status: int = 200, problem: str | None = None):
    _namespace()
    target = namespaces.get(_store(), namespace_id)
    if action == "delete" and target.is_default:
        status, problem = 409, "The default namespace cannot be deleted; reset it instead."
    return _page("namespace_confirm.html", "namespaces", http_status=status, target=target, action=action,
                 payments=namespaces.payment_count(_store(), target.id), problem=problem)


@bp.post("/namespaces/<namespace_id>/<any(reset, delete):action>")
def reset_or_delete(namespace_id: str, action: str):
    if request.form.get("confirm") != "yes":
        return _confirm_view(namespace_id, action, 400, "Tick the box to confirm first.")
    target = namespaces.get(_store(), namespace_id)
    if action == "delete":
        if target.is_default:
            return _confirm_view(namespace_id, action)
        lifecycle.delete(_provider(), target.id)
        return redirect(url_for("dashboard.namespaces_page", notice=f"Deleted {target.id}: its payments, keys, "
                                                                     "settings and webhooks are gone"), code=303)
    lifecycle.reset(_provider(), target.id, keep_config=False)
    return redirect(url_for("dashboard.payments_page", ns=target.id, notice=(
        f"Reset {target.id}: its payments, webhooks and jobs are gone; settings, faults, outcomes and clock are "
        "back to the defaults; its keys, webhook endpoints and allowed origins stay")), code=303)


# -- payments ----------------------------------------------------------------------------------


@bp.get("/payments")
def payments_page():
    namespace = _namespace()
    status, query = request.args.get("status") or None, request.args.get("q", "").strip()
    if status not in views.STATUS_CHOICES:
        status = None  # an unknown filter shows everything, as "any" does
    page = _page_number()
    rows, total = views.payment_rows(_store(), _provider().dialects, namespace, status,
                                     query, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    context = dict(rows=rows, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)), status=status,
                   query=query, statuses=views.STATUS_CHOICES)
    if request.args.get("fragment") == "rows":
        return _page("_payment_rows.html", "payments", **context)
    return _page("payments.html", "payments", **context)


@bp.get("/payments/<payment_id>")
def payment_page(payment_id: str):
    namespace = _namespace()
    detail = views.payment_detail(_store(), _provider().webhooks, _provider().dialects,
                                  namespace, payment_id)
    template = "_payment_live.html" if request.args.get("fragment") == "live" else "payment.html"
    return _page(template, "payments", **detail)


def _refuse_unless_the_api_can(namespace, payment_id: str, action: str):
    """The dashboard does only what the payment's dialect lets a merchant do by API."""
    payment = payments.get_payment(_store(), namespace.id, payment_id)
    if action not in views.merchant_actions(payment, _provider().dialects):
        return _back("payment_page", problem=f"{payment.dialect} has no {action} API, so the dashboard offers none",
                     payment_id=payment_id)
    return None


@bp.post("/payments/<payment_id>/capture")
def capture(payment_id: str):
    namespace = _namespace()
    if refused := _refuse_unless_the_api_can(namespace, payment_id, "capture"):
        return refused
    return _act(lambda: payments.capture_payment(_store(), namespace.id, payment_id,
                                                 _amount(request.form.get("amount"))),
                "Captured", payment_id=payment_id)


@bp.post("/payments/<payment_id>/cancel")
def cancel(payment_id: str):
    namespace = _namespace()
    if refused := _refuse_unless_the_api_can(namespace, payment_id, "cancel"):
        return refused
    reason = request.form.get("reason") or "cancelled from the dashboard"
    return _act(lambda: payments.cancel_payment(_store(), namespace.id, payment_id, reason),
                "Cancelled", payment_id=payment_id)


@bp.post("/payments/<payment_id>/refund")
def refund(payment_id: str):
    namespace = _namespace()
    if refused := _refuse_unless_the_api_can(namespace, payment_id, "refund"):
        return refused
    payment = payments.get_payment(_store(), namespace.id, payment_id)

    def create():
        new = NewRefund(payment_id=payment_id, amount=_amount(request.form.get("amount")),
                        reason="refunded from the dashboard",
                        **views.refund_id_shape(_provider().dialect(payment.dialect)))
        return refunds.create_refund(_store(), namespace.id, new)

    return _act(create, "Refund created", payment_id=payment_id)


def _act(action, done: str, page: str = "payment_page", **values):
    """Run a library call for a form; back to ``page`` with what happened, or why not."""
    try:
        action()
    except DomainError as error:
        return _back(page, problem=error.message, **values)
    except ValueError as error:  # the form's own values (an amount that is not a number)
        return _back(page, problem=str(error), **values)
    return _back(page, notice=done, **values)


def _amount(text: str | None) -> int | None:
    """Minor units from the form; blank means the whole amount."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return numbers.parse_int(text, "amount", 1, numbers.INT64_MAX)
    except DomainError:
        raise ValueError(f"{text!r} is not an amount in minor units (e.g. 1500 for 15.00)") from None


def _page_number() -> int:
    # Far past any real list, but small enough that its offset still fits SQLite's 64-bit integers.
    return min(max(1, _int(request.args.get("page"), 1)), MAX_PAGE)


def _int(text: str | None, default: int) -> int:
    """A whole number from the query; the default when it is not one (ASCII digits, at most 18 of them)."""
    try:
        return numbers.parse_int(text, "number", max_digits=18) if text else default
    except DomainError:
        return default


# -- webhooks ----------------------------------------------------------------------------------


@bp.get("/webhooks")
def webhooks_page():
    namespace = _namespace()
    status = request.args.get("status") or None
    if status not in (None, "pending", "failed", "delivered", "given_up"):
        status = None
    page = _page_number()
    rows, total = _provider().webhooks.log.list_deliveries(namespace.id, status=status, limit=PAGE_SIZE,
                                                       offset=(page - 1) * PAGE_SIZE, newest_first=True)
    context = dict(rows=rows, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)), status=status)
    if request.args.get("fragment") == "rows":
        return _page("_delivery_rows.html", "webhooks", **context)
    schemes = [name for name, scheme in _provider().webhooks.endpoints.schemes.items() if scheme.manual]
    return _page("webhooks.html", "webhooks", endpoints=_provider().webhooks.endpoints.list(namespace.id),
                 schemes=schemes, **context)


@bp.post("/webhooks/endpoints")
def add_endpoint():
    namespace = _namespace()
    endpoints = _provider().webhooks.endpoints
    values = {"url": request.form.get("url", "").strip(),
              "scheme": request.form.get("scheme", endpoints.default_scheme)}
    try:
        created = endpoints.create(namespace.id, values)
    except DomainError as error:
        return _back("webhooks_page", problem=error.message)
    return _back("webhooks_page", notice=f"Endpoint {created['id']} added")


@bp.post("/webhooks/endpoints/<endpoint_id>")
def change_endpoint(endpoint_id: str):
    """One of: enable, disable, delete, or a new url."""
    namespace = _namespace()
    action = request.form.get("action")
    endpoints = _provider().webhooks.endpoints
    try:
        if action == "delete":
            endpoints.delete(namespace.id, endpoint_id)
            return _back("webhooks_page", notice=f"Endpoint {endpoint_id} deleted")
        changes = {"enable": {"enabled": True}, "disable": {"enabled": False},
                   "url": {"url": request.form.get("url", "").strip()}}.get(action)
        if changes is None:
            return _back("webhooks_page", problem=f"Unknown endpoint action {action!r}")
        endpoints.update(namespace.id, endpoint_id, changes)
    except DomainError as error:
        return _back("webhooks_page", problem=error.message)
    return _back("webhooks_page", notice=f"Endpoint {endpoint_id} updated")


# -- the request journal ------------------------------------------------------------------------


@bp.get("/requests")
def requests_page():
    namespace = _namespace()
    unmatched = request.args.get("unmatched") == "on"
    method = request.args.get("method") or None
    path = request.args.get("path", "").strip()
    status = _int(request.args.get("status"), 0) or None
    entries = _provider().journal.entries(journal.UNMATCHED if unmatched else namespace.id, PAGE_SIZE * 4,
                                          method=method, path_contains=path or None, status=status)
    context = dict(rows=[views.journal_row(e) for e in entries], unmatched=unmatched, method=method, path=path,
                   status=status, limit=PAGE_SIZE * 4)
    if request.args.get("fragment") == "rows":
        return _page("_request_rows.html", "requests", **context)
    return _page("requests.html", "requests", **context)


@bp.post("/webhooks/<delivery_id>/retry")
def retry_delivery(delivery_id: str):
    namespace = _namespace()
    try:
        result = _provider().webhooks.retry_now(namespace.id, delivery_id)
    except (DomainError, LookupError, KeyError, TypeError):
        return _back("webhooks_page", problem=f"No delivery {delivery_id}")
    back_to = request.form.get("back")
    notice = f"Retried {delivery_id}: {result['status'] if result else 'done'}"
    if back_to and back_to.startswith(PREFIX + "/"):
        return redirect(back_to, code=303)
    return _back("webhooks_page", notice=notice)


# -- settings ----------------------------------------------------------------------------------


@bp.get("/settings")
def settings_page():
    namespace = _namespace()
    return _settings_view(namespace)


def _settings_view(namespace, errors: dict | None = None, values: dict | None = None, status: int = 200,
                   notice: str | None = None):
    config = control_settings.config_view(_provider(), namespace)
    faults = control_settings.faults_view(_provider(), namespace)
    form = values or views.settings_form(config, faults["webhooks"], faults["api"])
    return _page("settings.html", "settings", http_status=status, form=form, errors=errors or {}, rate_keys=RATE_KEYS,
                 delay_keys=DELAY_KEYS, api_kinds=views.API_FAULT_KINDS, api_statuses=views.API_ERROR_STATUSES,
                 api_script=faults["api"]["next"], api_log=views.api_log_rows(
                     control_settings.api_fault_log(_provider(), namespace, 20)),
                 notice=notice or request.args.get("notice"))


@bp.post("/settings")
def save_settings():
    namespace = _namespace()
    values = {k: v.strip() for k, v in request.form.items() if k not in ("csrf_token", "ns")}
    try:
        config_update, faults_update, api_update = views.parse_settings(values)
    except views.FormError as error:
        return _settings_view(namespace, {error.field: error.message}, values, 400)
    if config_update.get("seed") == namespace.seed:
        del config_update["seed"]  # unchanged: saving other settings must not restart the random sequence
    try:
        control_settings.apply_config(_provider(), namespace, config_update,
                                      faults={"webhooks": faults_update, "api": api_update})
    except DomainError as error:
        field = views.form_field_for((error.details or {}).get("field", ""), error.message)
        return _settings_view(namespace, {field: error.message}, values, 400)
    return _back("settings_page", notice="Settings saved")


# -- clock -------------------------------------------------------------------------------------


@bp.get("/clock")
def clock_page():
    namespace = _namespace()
    return _clock_view(namespace)


def _clock_view(namespace, ran: list | None = None, problem: str | None = None, status: int = 200):
    namespace = g.namespace = namespaces.get(_store(), namespace.id)  # the header shows the time after an advance
    jobs = _provider().scheduler.pending(namespace.id)
    shown = views.job_rows(_store(), _provider().webhooks.log, namespace.id, jobs[:50])
    return _page("clock.html", "clock", http_status=status, now=iso_ms(namespace.now_ms()), mode=namespace.clock_mode,
                 jobs=shown, job_count=len(jobs), ran=ran, problem=problem, quick=QUICK_DURATIONS)


@bp.post("/clock/advance")
def advance_clock():
    namespace = _namespace()
    try:
        # A quick button (+1m) names its duration; the Advance button takes the typed one.
        seconds = durations.parse(request.form.get("quick") or request.form.get("duration", ""))
        # Said before they run: afterwards a payment job cannot tell whether it was the one that acted.
        effects = _effects_of_jobs_due_within(namespace, seconds)
        ran = clock.advance(_provider().scheduler, namespace.id, seconds)
    except durations.DurationError as error:
        return _clock_view(namespace, problem=str(error), status=400)
    except ClockError as error:
        return _clock_view(namespace, problem=f"{error} Switch the clock to virtual first.", status=409)
    return _clock_view(namespace, ran=[{**views.job_row(j), "effect": effects.get(j["id"], "")} for j in ran])


def _effects_of_jobs_due_within(namespace, seconds: float) -> dict[int, str]:
    until = namespaces.get(_store(), namespace.id).now_ms() + int(round(seconds * 1000))
    due = [job for job in _provider().scheduler.pending(namespace.id) if job["due_at"] <= until]
    return {job["id"]: views.job_effect(_store(), _provider().webhooks.log, namespace.id, job) for job in due}


@bp.post("/clock/mode")
def clock_mode():
    namespace = _namespace()
    mode = request.form.get("mode")
    try:
        control_settings.apply_config(_provider(), namespace, {"clock": mode})
    except DomainError as error:
        return _clock_view(namespace, problem=error.message, status=400)
    return _back("clock_page", notice=f"The clock is now {mode}")


# -- the APIs ----------------------------------------------------------------------------------


@bp.get("/api")
def api_page():
    namespace = _namespace()
    return _page("api.html", "api", dialects=views.api_dialects(current_app.url_map, _provider().dialects.values(),
                                                                namespace, _provider().base_url(request.host_url)))



# -- recurring: agreements and mandates -------------------------------------------------------


@bp.get("/recurring")
def recurring_page():
    namespace = _namespace()
    found_agreements, _ = agreements.search(_store(), namespace.id, None, None, 100, 0)
    found_mandates = mandates.latest(_store(), namespace.id, 100)
    return _page("recurring.html", "recurring", agreements=[views.agreement_row(a) for a in found_agreements],
                 mandates=[views.mandate_row(m) for m in found_mandates])


@bp.post("/recurring/agreements/<agreement_id>/cancel")
def cancel_agreement(agreement_id: str):
    namespace = _namespace()
    return _act(lambda: agreements.cancel(_store(), namespace.id, agreement_id),
                f"Agreement {agreement_id} cancelled", "recurring_page")


@bp.post("/recurring/mandates/<mandate_id>/revoke")
def revoke_mandate(mandate_id: str):
    namespace = _namespace()
    return _act(lambda: mandates.revoke(_store(), namespace.id, mandate_id), f"Mandate {mandate_id} revoked",
                "recurring_page")
