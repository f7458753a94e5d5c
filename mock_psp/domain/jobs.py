"""The scheduler's job kinds and the domain functions that run them."""

from . import payments
from . import refunds

HANDLERS = {
    "payment.complete": payments.complete_pending,
    "payment.expire": payments.expire_session,
    "refund.complete": refunds.complete_pending,
}
