"""GovPay+'s error envelope, ``{"error", "message"}``, and how domain errors map to it."""

from __future__ import annotations

from ...domain.errors import NOT_FOUND
from ...domain.errors import DomainError


class GovpayError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict:
        return {"error": self.code, "message": self.message}


def unauthorized() -> GovpayError:
    return GovpayError(401, "unauthorized", "send Authorization: Bearer <the namespace's govpay_lk api_key>")


def from_domain(error: DomainError) -> GovpayError:
    if error.code == NOT_FOUND:
        return GovpayError(404, "not_found", "no such transaction")
    return GovpayError(400, "bad_request", error.message)


def routing_error(status: int) -> GovpayError:
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "bad_request")
    return GovpayError(status, code, {404: "no such endpoint", 405: "method not allowed"}.get(status, "bad request"))


def injected() -> GovpayError:
    return GovpayError(500, "internal_error", "internal server error")


def unexpected() -> GovpayError:
    return GovpayError(500, "internal_error", "an unexpected failure in the mock (logged with its traceback)")
