"""The provider's Flask app factory. Nothing else lives at module level.

The app is a set of faces, each a blueprint under a URL prefix with its own error
envelope: one per dialect (from the registry), the dashboard and the control API,
plus the hosted checkout and the SDK.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask import jsonify
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound

from . import sdk
from .checkout import routes as checkout
from .config import Settings
from .control import routes as control
from .dashboard import routes as dashboard
from .dialects import registry
from .dialects.base import Dialect
from .domain import namespaces
from .provider import Provider
from .web import calls
from .web import cookies
from .web import guard
from .web import near_miss

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Face:
    """A blueprint under a URL prefix with its own error envelope (``routes``: http_error,
    unexpected_error, injected_error, is_api_call)."""

    prefix: str
    routes: Any
    dialect: Dialect | None = None  # None: one of the provider's own faces (dashboard, control API)


def create_app(config: Settings | Mapping[str, Any] | None = None,
               dialects: tuple[Dialect, ...] = registry.DIALECTS) -> Flask:
    """Build one provider app with its own store, scheduler and namespaces.

    :param config: a Settings, or a mapping of Settings fields (``{"db": ":memory:"}``).
    :param dialects: the provider APIs it serves (the registry's, unless a test brings its own).
    """
    settings = config if isinstance(config, Settings) else Settings.from_mapping(config)
    app = Flask(__name__)
    # Signs the session cookie (redirect-mode checkout visits, the dashboard); new for every
    # app, so a restart ends open payment-page sessions (as their single-use links already have).
    app.secret_key = secrets.token_bytes(32)
    app.session_interface = cookies.InstanceSessionInterface()
    app.json.sort_keys = False
    app.json.compact = True
    provider = Provider(settings, dialects)
    app.extensions["mock_psp"] = provider
    # The dashboard comes before the control API: its prefix (/_mock/ui) is inside /_mock.
    faces = [Face(d.prefix, d.routes, d) for d in provider.dialects.values()]
    faces += [Face(dashboard.PREFIX, dashboard), Face(control.PREFIX, control)]
    for face in faces:
        app.register_blueprint(face.routes.bp)
    app.register_blueprint(checkout.bp)
    app.register_blueprint(sdk.bp)

    def face_of(path: str) -> Face | None:
        return next((f for f in faces if path == f.prefix or path.startswith(f.prefix + "/")), None)

    def namespace_of(face: Face):
        presented = face.dialect.credentials(request.headers) if face.dialect is not None else None
        return namespaces.find_by_key(provider.store, face.dialect.key, *presented) if presented else None

    # First of all: a Host the provider does not answer for gets no further (web/guard.py).
    guard.check_hosts(app, guard.answered_hosts(settings.allowed_hosts, settings.public_url, settings.host))
    _register_error_handlers(app, face_of)
    _register_change_hooks(app, provider)
    calls.register(app, provider, face_of, namespace_of)
    if settings.background:
        provider.start()
    return app


def _register_change_hooks(app: Flask, provider: Provider) -> None:
    @app.after_request
    def dispatch_changes(response):
        if request.method != "GET":
            provider.after_change()
        return response


def _register_error_handlers(app: Flask, face_of) -> None:
    near_misses = near_miss.Finder(app)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        face = face_of(request.path)
        if face is not None and face.dialect is not None and _matched_no_route(error):
            # The provider's own answer, as it is; the routes it may have meant go beside it.
            hints = near_misses.suggest(face.routes, request.method, request.path)
            return near_miss.hint(face.routes.http_error(error.code), hints)
        if face is not None:
            return face.routes.http_error(error.code or 500)
        response = jsonify({"error": {"code": error.name.lower().replace(" ", "_"), "message": error.description}})
        response.status_code = error.code or 500
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        face = face_of(request.path)
        return (face.routes if face is not None else control).unexpected_error()


def _matched_no_route(error: HTTPException) -> bool:
    """A 404 or 405 from routing, not one a view raised (a payment not found matched its route)."""
    return isinstance(error, (NotFound, MethodNotAllowed)) and request.url_rule is None
