"""What the app needs of the GovPay+ dialect's HTTP side: the blueprint its routes hang on,
its error envelope for routing errors and breakage, and which requests are API calls."""

from __future__ import annotations

from flask import Blueprint
from flask import jsonify
from flask import request

from ...domain.errors import DomainError
from . import errors

PREFIX = "/govpay-lk"

bp = Blueprint("govpay_lk", __name__, url_prefix=PREFIX)


def error_response(error: errors.GovpayError):
    response = jsonify(error.body())
    response.status_code = error.status
    return response


@bp.errorhandler(errors.GovpayError)
def _govpay_error(error: errors.GovpayError):
    return error_response(error)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    return error_response(errors.from_domain(error))


def http_error(status: int):
    return error_response(errors.routing_error(status))


def unexpected_error():
    return error_response(errors.unexpected())


def injected_error():
    """The answer to an API call failed on purpose (API fault ``error``)."""
    return error_response(errors.injected())


def is_api_call() -> bool:
    """A status inquiry (not the pay page)."""
    return request.path.startswith(PREFIX + "/v1/")
