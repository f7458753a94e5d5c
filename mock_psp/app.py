"""The provider's Flask app factory. Nothing else lives at module level."""

from __future__ import annotations

import logging
import secrets
from typing import Any
from collections.abc import Mapping

from flask import Flask
from flask import jsonify
from flask import request
from werkzeug.exceptions import HTTPException

import sdk
from checkout import routes as checkout

from .config import Settings
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
