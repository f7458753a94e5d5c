"""What the app needs of the GOV.UK Pay dialect's HTTP side: the blueprint its routes hang on,
its error envelope for routing errors and breakage, and which requests are API calls.

The views live in routes.py (payments, refunds, events, searches, MOTO, the way into
the payment pages) and agreement_routes.py; dialect.py imports them, which hangs
them on ``bp``.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import g
from flask import jsonify
from flask import request

from ...domain.errors import DomainError
from . import errors

PREFIX = "/govuk"

bp = Blueprint("govuk", __name__, url_prefix=PREFIX, template_folder="templates")


def error_response(error: errors.GovukError):
    response = jsonify(error.body())
    response.status_code = error.status
    return response


@bp.errorhandler(errors.GovukError)
def _govuk_error(error: errors.GovukError):
    return error_response(error)


@bp.errorhandler(errors.Unauthorized)
def _unauthorized(_error):
    return Response(status=401)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    # Which "not found" code applies depends on the endpoint: each view names it (auth.authenticate).
    return error_response(errors.from_domain(error, g.get("not_found_code", "P0200")))


@bp.after_request
def _no_caching(response):
    if request.path.startswith(PREFIX + "/v1/"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def http_error(status: int):
    return error_response(errors.routing_error(status))


def unexpected_error():
    return error_response(errors.unexpected_failure())


def injected_error():
    """The answer to an API call failed on purpose (API fault ``error``): the API's own 500."""
    return error_response(errors.unexpected_failure())


def is_api_call() -> bool:
    """A call to the API (not the payment pages)."""
    return request.path.startswith(PREFIX + "/v1/")
