"""The provider's Flask app factory. Nothing else lives at module level."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping

from flask import Flask
from flask import jsonify
from flask import Response
from flask import g
from flask import request
from werkzeug.exceptions import HTTPException

from mock_psp import sdk
from mock_psp.checkout import routes as checkout

from . import api_faults
from . import clock as clocks
from .config import Settings
from .connection import DropConnection
from .journal import excerpt
from .journal import shown_headers
from .control import routes as control
from .dashboard import routes as dashboard
from .dialects.govpay_lk import routes as govpay_lk
from .dialects.govpay_lk import settings as govpay_lk_settings
from .dialects.govpay_lk.checkout import GovpayLkCheckout
from .dialects.govuk import routes as govuk
from .dialects.govuk.checkout import GovukCheckout
from .dialects.hyperswitch import routes as hyperswitch
from .dialects.hyperswitch.checkout import HyperswitchCheckout
from .provider import Provider

log = logging.getLogger(__name__)

# Every face of the provider: its URL prefix, blueprint and error renderers.
# The dashboard comes before the control API: its prefix (/_mock/ui) is inside /_mock.
FACES = (hyperswitch, govuk, govpay_lk, dashboard, control)


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build one provider app with its own store, scheduler and namespaces.

    :param config: a Settings, or a mapping of Settings fields (``{"db": ":memory:"}``).
    """
    settings = config if isinstance(config, Settings) else Settings.from_mapping(config)
    app = Flask(__name__)
    # Signs the payment pages' session cookie; new for every app, so a restart
    # ends open payment-page sessions (as their single-use links already have).
    app.secret_key = secrets.token_bytes(32)
    app.json.sort_keys = False
    app.json.compact = True
    provider = Provider(settings)
    app.extensions["mock_psp"] = provider
    for face in FACES:
        app.register_blueprint(face.bp)
    app.register_blueprint(checkout.bp)
    app.register_blueprint(sdk.bp)
    app.extensions["checkout_adapters"] = {a.dialect: a for a in (HyperswitchCheckout(), GovukCheckout(),
                                                                  GovpayLkCheckout())}
    # Settings a dialect keeps per namespace, set through PUT /_mock/config {"<key>": {...}}.
    app.extensions["dialect_config"] = {govpay_lk_settings.KEY: govpay_lk_settings}
    _register_error_handlers(app)
    _register_change_hooks(app, provider)
    _register_api_faults(app, provider)
    if settings.background:
        provider.start()
    return app


def _register_change_hooks(app: Flask, provider: Provider) -> None:
    @app.before_request
    def remember_own_url():
        if provider.needs_url:
            provider.observe_url(request.host_url)

    @app.after_request
    def dispatch_changes(response):
        if request.method != "GET":
            provider.after_change()
        return response


FAULT_KEY = "mock_psp.api_fault"


def _register_api_faults(app: Flask, provider: Provider) -> None:
    """Decide each dialect API call's fault before the call runs (see api_faults.py); what
    happens to the connection is done below the app, in ApiFaultMiddleware."""

    @app.before_request
    def identify_api_call():
        face = _face_for_path(request.path)
        if face is not None and face.is_api_call():
            g.api_call = ApiCall(face, face.api_namespace(), time.perf_counter())

    @app.before_request
    def inject_api_fault():
        call = g.get("api_call")
        namespace = call.namespace if call is not None else None
        if namespace is None or not namespace.api_faults_active:
            return None
        face = call.face
        with provider.store.write() as db:
            decision = api_faults.decide(db, namespace.id, namespace.seed, request.method, request.path,
                                         namespace.now_ms())
        if not decision.acts:
            return None
        request.environ[FAULT_KEY] = decision
        if decision.latency_seconds:
            provider.stopping.wait(decision.latency_seconds)  # real time: the client's timeouts are real
        if decision.fault == api_faults.ERROR:
            return _injected_error(face, decision.error_status)
        if decision.fault == api_faults.TIMEOUT:
            provider.stopping.wait(decision.timeout_seconds)  # a stopping server lets it go at once
        if decision.fault in (api_faults.RESET, api_faults.TIMEOUT):
            return Response(status=204)  # never sent: the middleware drops the connection instead
        return None

    @app.after_request
    def journal_api_call(response):
        call = g.get("api_call")
        if call is not None:
            _journal(provider.journal, call, response, request.environ.get(FAULT_KEY))
        return response

    app.wsgi_app = ApiFaultMiddleware(app.wsgi_app)
    app.extensions.setdefault("on_server_stop", []).append(provider.stopping.set)


@dataclass(frozen=True)
class ApiCall:
    face: Any
    namespace: Any  # Namespace | None: None when the credentials match no namespace
    started: float


def _journal(journal, call: ApiCall, response, decision) -> None:
    fault = decision.fault if decision is not None and decision.fault != api_faults.NONE else None
    unanswered = fault in (api_faults.RESET, api_faults.TIMEOUT)  # the app's placeholder was never sent
    journal.record(
        call.namespace.id if call.namespace is not None else None,
        at=call.namespace.now_ms() if call.namespace is not None else clocks.system_now_ms(),
        method=request.method, path=request.path, query=request.query_string.decode("latin-1"),
        status=0 if unanswered else response.status_code,
        duration_ms=round((time.perf_counter() - call.started) * 1000, 3),
        request_headers=shown_headers(request.headers), request_body=excerpt(request.get_data()),
        response_headers={} if unanswered else shown_headers(response.headers),
        response_body="" if unanswered or response.is_streamed else excerpt(response.get_data()),
        fault=fault)


def _injected_error(face, status: int):
    if status == 500:
        response = face.injected_error()
    else:  # 502/503/504 come from a gateway in front of the provider: plain text, not the API's JSON
        reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[status]
        response = Response(f"{status} {reason}\n", status=status, mimetype="text/plain")
    response.headers["X-Mock-Fault"] = "error"
    return response


class ApiFaultMiddleware:
    """Carries out the connection faults the app decided on: drop before answering (``reset``,
    ``timeout``), after the call committed (``lost_response``), or half way through the answer
    (``truncated``)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        body = self.wsgi_app(environ, start_response)
        decision = environ.get(FAULT_KEY)
        fault = decision.fault if decision is not None else api_faults.NONE
        if fault in (api_faults.NONE, api_faults.ERROR):
            return body
        data = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        if fault == api_faults.TRUNCATED:
            return _half_then_close(data)
        raise DropConnection(reset=fault != api_faults.TIMEOUT, why=f"API fault {fault}")


def _half_then_close(data: bytes):
    yield data[: len(data) // 2]
    raise DropConnection(reset=False, why="API fault truncated")


def _face_for_path(path: str):
    for face in FACES:
        if path == face.PREFIX or path.startswith(face.PREFIX + "/"):
            return face
    return None


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        face = _face_for_path(request.path)
        if face is not None:
            return face.http_error(error.code or 500)
        response = jsonify({"error": {"code": error.name.lower().replace(" ", "_"), "message": error.description}})
        response.status_code = error.code or 500
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        face = _face_for_path(request.path) or control
        return face.unexpected_error()
