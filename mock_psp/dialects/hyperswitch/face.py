"""What the app needs of the Hyperswitch dialect's HTTP side: the blueprint its routes hang on,
its error envelope for routing errors and breakage, and which requests are API calls.

The views live in routes.py (payments, refunds, redirects), account.py, customers.py and
mandates.py; dialect.py imports them, which hangs them on ``bp``.
"""

from __future__ import annotations

from flask import Blueprint
from flask import jsonify
from flask import request

from ...domain.errors import DomainError
from . import errors

PREFIX = "/hyperswitch"

bp = Blueprint("hyperswitch", __name__, url_prefix=PREFIX, template_folder="templates")
# Pages a browser visits: never faulted as API calls.
PAGE_PREFIXES = (PREFIX + "/payment_link/",)


def error_response(error: errors.HyperswitchError):
    response = jsonify(error.body())
    response.status_code = error.status
    return response


@bp.errorhandler(errors.HyperswitchError)
def _hyperswitch_error(error: errors.HyperswitchError):
    return error_response(error)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    return error_response(errors.from_domain(error))


@bp.after_request
def _via_header(response):
    response.headers["Via"] = "HyperSwitch"
    return response


def http_error(status: int):
    """Routing errors under the prefix (unknown URL, wrong method)."""
    return error_response(errors.routing_error(status))


def unexpected_error():
    return error_response(errors.unexpected())


def injected_error():
    """The answer to an API call failed on purpose (API fault ``error``): the router's own 500."""
    return error_response(errors.unexpected())


def is_api_call() -> bool:
    """A call to the API (not a page a browser visits)."""
    return not request.path.startswith(PAGE_PREFIXES) and "/redirect/" not in request.path
