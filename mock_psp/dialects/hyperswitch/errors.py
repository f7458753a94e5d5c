"""Hyperswitch's error envelope, and the one place domain errors become it.

On the wire: ``{"error": {"type": "invalid_request", "message": ..., "code": "IR_04"}}``.
JSON body parse errors are built by a different handler in the real router and
use the key ``error_type`` instead of ``type``; we keep that quirk.
"""

from __future__ import annotations

from typing import Any

from ...domain import errors as domain
from ...domain.errors import DomainError


class HyperswitchError(Exception):
    def __init__(self, status: int, code: str, message: str, error_type: str = "invalid_request",
                 extra: dict[str, Any] | None = None, parse_error: bool = False):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.error_type = error_type
        self.extra = extra or {}
        self.parse_error = parse_error

    def body(self) -> dict:
        type_key = "error_type" if self.parse_error else "type"
        return {"error": {type_key: self.error_type, "message": self.message, "code": self.code, **self.extra}}


def unauthorized() -> HyperswitchError:
    return HyperswitchError(401, "IR_01", "API key not provided or invalid API key used")


def missing(field: str) -> HyperswitchError:
    return HyperswitchError(400, "IR_04", f"Missing required param: {field}")


def invalid_format(field: str, expected: str) -> HyperswitchError:
    return HyperswitchError(422, "IR_05", f"{field} contains invalid data. Expected format is {expected}")


def invalid_data(message: str) -> HyperswitchError:
    return HyperswitchError(422, "IR_06", message)


def precondition(message: str) -> HyperswitchError:
    return HyperswitchError(400, "IR_16", message)


def json_error(message: str) -> HyperswitchError:
    """A body the real router's JSON extractor would refuse: 400, ``error_type`` key."""
    return HyperswitchError(400, "IR_06", message, parse_error=True)


def not_supported(message: str) -> HyperswitchError:
    return HyperswitchError(400, "IR_19", message)


def routing_error(status: int) -> HyperswitchError:
    if status == 405:
        return HyperswitchError(405, "IR_03", "The HTTP method is not applicable for this API")
    if status != 404:  # a request the server could not read (malformed, too large, incomplete)
        return HyperswitchError(status, "IR_06", "The request could not be read")
    return HyperswitchError(404, "IR_02", "Unrecognized request URL")


def unexpected() -> HyperswitchError:
    return HyperswitchError(500, "HE_00", "Something went wrong", error_type="api")


# Hyperswitch's status names, needed to phrase state errors.
def _status_name(error: DomainError) -> str:
    from .serialize import intent_status_name

    return intent_status_name(error["status"], has_payment_method=error.get("has_payment_method", True))


def from_domain(error: DomainError) -> HyperswitchError:
    code = error.code
    if error.get("object") == "customer":
        return _customer_error(error)
    if error.get("object") == "mandate":
        return _mandate_error(error)
    if code == domain.NOT_FOUND:
        if error["object"] == "refund":
            return HyperswitchError(404, "HE_02", "Refund does not exist in our records.")
        return HyperswitchError(404, "HE_02", "Payment does not exist in our records")
    if code == domain.DUPLICATE:
        if error["object"] == "refund":
            return HyperswitchError(400, "HE_01",
                                    "Duplicate refund request. Refund already attempted with the refund ID")
        return HyperswitchError(
            400, "HE_01", "The payment with the specified payment_id already exists in our records",
            extra={"reason": f"{error['object_id']} already exists"},
        )
    if code == domain.INVALID_STATE:
        return _state_error(error)
    if code == domain.AMOUNT_TOO_LARGE:
        if error["action"] == "refund":
            return HyperswitchError(400, "IR_13", "The refund amount exceeds the amount captured")
        return invalid_data("amount_to_capture is greater than amount")
    if code == domain.AMOUNT_INVALID:
        return invalid_format("amount", "positive integer")
    if code == domain.TOO_MANY_REFUNDS:
        return HyperswitchError(400, "IR_12", "Reached maximum refund attempts")
    if code == domain.CLIENT_SECRET_MISMATCH:
        return HyperswitchError(
            400, "IR_09", "The client_secret provided does not match the client_secret associated with the Payment"
        )
    if code == domain.CLIENT_SECRET_EXPIRED:
        return HyperswitchError(400, "IR_08", "The provided client_secret has expired")
    if code == domain.MISSING_FIELD:
        if error["field"] == "payment_method_data":
            return invalid_data("A payment token or payment method data or ctp service details is required")
        return missing(error["field"])
    if code in (domain.INVALID_FIELD, domain.INVALID_CONFIG):
        return invalid_data(error.message)
    if code == domain.NAMESPACE_NOT_FOUND:
        return unauthorized()
    if code in (domain.IDEMPOTENCY_CONFLICT, domain.AMOUNT_MISMATCH, domain.TOKEN_INVALID):
        # Not reachable through Hyperswitch's API (GOV.UK Pay concepts); mapped for completeness.
        return invalid_data(error.message)
    raise AssertionError(f"unmapped domain error {code}")  # tests check every code is mapped


def _mandate_error(error: DomainError) -> HyperswitchError:
    """core/mandate.rs and payments/helpers.rs: not found, IR_16 preconditions, HE_03 validation."""
    kind = error["kind"]
    if kind == "not_found":
        return HyperswitchError(404, "HE_02", "Mandate does not exist in our records")
    if kind in ("customer_mismatch", "not_active"):
        return precondition(error.message)
    return HyperswitchError(400, "HE_03", "Mandate Validation Failed", extra={"reason": error.message})


def _customer_error(error: DomainError) -> HyperswitchError:
    """The router's CustomersErrorResponse (core/errors/transformers.rs)."""
    if error.code == domain.NOT_FOUND:
        return HyperswitchError(404, "HE_02", "Customer does not exist in our records")
    if error.code == domain.DUPLICATE:
        return HyperswitchError(400, "IR_12", "Customer with the given `customer_id` already exists")
    if error.get("status") == "mandate_active":
        return HyperswitchError(400, "IR_10", "Customer has active mandate/subsciption")  # sic, the router's text
    return HyperswitchError(400, "IR_11", "Customer has already been redacted")


def _state_error(error: DomainError) -> HyperswitchError:
    action, status = error["action"], _status_name(error)
    if action == "capture":
        return HyperswitchError(
            400, "IR_14",
            f"This Payment could not be captured because it has a payment.status of {status}. "
            "The expected state is requires_capture, partially_captured_and_capturable, processing",
        )
    if action == "refund":
        return HyperswitchError(
            400, "IR_14",
            f"This Payment could not be refund because it has a status of {status}. "
            "The expected state is succeeded, partially_captured",
        )
    if action == "confirm" and status == "failed":
        return precondition(
            "You cannot confirm this payment because it has status failed, "
            "you can enable `manual_retry` in profile to try this payment again"
        )
    verb = {"complete_customer_action": "authenticate"}.get(action, action)
    return precondition(f"You cannot {verb} this payment because it has status {status}")
