"""The scheduler's job kinds and the domain functions that run them."""

from . import payments
from . import refunds

HANDLERS = {
    "payment.complete": payments.complete_pending,
    "payment.expire": payments.expire_session,
    "payment.capture_window": payments.expire_capture_window,
    "refund.complete": refunds.complete_pending,
}
