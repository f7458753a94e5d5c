"""GOV.UK Pay's error body, and the one place domain errors become it.

On the wire: ``{"field": "amount", "code": "P0102", "description": "..."}``, with
``field`` (and ``header``) left out when they do not apply. A missing or wrong
API key is a 401 with no body at all.
"""

from __future__ import annotations

from ...domain import errors as domain
from ...domain.errors import DomainError


class GovukError(Exception):
    def __init__(self, status: int, code: str, description: str, field: str | None = None,
                 header: str | None = None):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description
        self.field, self.header = field, header

    def body(self) -> dict:
        body = {"code": self.code, "description": self.description}
        if self.field is not None:
            body = {"field": self.field, **body}
        if self.header is not None:
            body = {"header": self.header, **body}
        return body


class Unauthorized(Exception):
    """401 with an empty body, as the real API answers a bad key."""


def missing(field: str, code: str = "P0101") -> GovukError:
    return GovukError(400, code, f"Missing mandatory attribute: {field}", field)


def wrong_type(field: str, expected: str) -> GovukError:
    return GovukError(400, "P0102", f"Invalid attribute value: {field}. {expected}", field)


def out_of_range(field: str, rule: str, code: str = "P0102") -> GovukError:
    return GovukError(422, code, f"Invalid attribute value: {field}. {rule}", field)


def unexpected(field: str) -> GovukError:
    return GovukError(400, "P0104", f"Unexpected attribute: {field}", field)


# POST /v1/auth (MOTO). pay-publicapi's Bean Validation answers 422 with the field;
# the rest relays pay-connector's message (AuthorisationRequestExceptionMapper).
def authorisation_missing(field: str) -> GovukError:
    return GovukError(422, "P0101", f"Missing mandatory attribute: {field}", field)


def authorisation_invalid(description: str) -> GovukError:
    return GovukError(422, "P0102", description)


def one_time_token_invalid(description: str = "The one_time_token is not valid") -> GovukError:
    return GovukError(400, "P1211", description)


def one_time_token_used() -> GovukError:
    return GovukError(400, "P1212", "The one_time_token has already been used")


def authorisation_rejected(description: str = "The payment was rejected") -> GovukError:
    return GovukError(402, "P0010", description)


def authorisation_error() -> GovukError:
    return GovukError(500, "P0050", "There was an error authorising the payment")


def bad_json() -> GovukError:
    return GovukError(400, "P0197", "Unable to parse JSON")


def not_found(code: str) -> GovukError:
    return GovukError(404, code, "Not found")


def too_many_requests() -> GovukError:
    return GovukError(429, "P0900", "Too many requests")


def routing_error(status: int) -> GovukError:
    if status == 405:
        return GovukError(405, "P0199", "Method not allowed")
    if status != 404:  # a request the server could not read (malformed, too large, incomplete)
        return GovukError(status, "P0197", "Unable to parse the request")
    return GovukError(404, "P0199", "Not found")


def unexpected_failure() -> GovukError:
    return GovukError(500, "P0198", "Downstream system error")


# Which code a "not found" takes depends on the endpoint (P0200 payment, P0300
# events, P0500 cancel, P0600 refund create, P0700 refund, P0800 refunds, P1000 capture).
def from_domain(error: DomainError, not_found_code: str = "P0200") -> GovukError:
    code = error.code
    if code in (domain.NOT_FOUND, domain.NAMESPACE_NOT_FOUND):
        return not_found(not_found_code)
    if code == domain.IDEMPOTENCY_CONFLICT:
        return GovukError(409, "P0191", "The `Idempotency-Key` you sent in the request header has already been "
                                        "used to create a payment.")
    if code == domain.INVALID_STATE:
        action = error["action"]
        if action == "cancel":
            # the real connector answers 400 for a payment that can no longer be cancelled
            return GovukError(400, "P0501", "Cancellation of payment failed")
        if action == "capture":
            return GovukError(409, "P1003", "Payment cannot be captured")
        return GovukError(409, "P0199", error.message)
    if code == domain.AMOUNT_MISMATCH:
        return GovukError(412, "P0604", "Refund amount available mismatch.")
    if code in (domain.AMOUNT_TOO_LARGE, domain.AMOUNT_INVALID, domain.TOO_MANY_REFUNDS):
        return GovukError(400, "P0603", "The payment is not available for refund. "
                                        "Payment refund status: amount_not_available")
    if code in (domain.MISSING_FIELD,):
        return missing(error["field"])
    if code in (domain.INVALID_FIELD, domain.INVALID_CONFIG, domain.CLIENT_SECRET_MISMATCH,
                domain.CLIENT_SECRET_EXPIRED, domain.TOKEN_INVALID, domain.DUPLICATE):
        return GovukError(422, "P0102", error.message, error.get("field"))
    raise AssertionError(f"unmapped domain error {code}")  # tests check every code is mapped
