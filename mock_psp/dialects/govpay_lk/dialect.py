"""GovPay+ (Sri Lanka), mounted under /govpay-lk: this dialect's description."""

from __future__ import annotations

import uuid

from ...domain.outcomes import COMMON_CARDS
from ..base import Client
from ..base import Dialect
from ..base import Docs
from . import checkout
from . import client
from . import face
from . import routes
from . import serialize
from . import settings
from . import webhooks
from .auth import credentials
from .caller import Caller
from .caller import TokenCache
from .keys import KEY
from .keys import NAME
from .keys import SPECS

# Importing this hangs its views on face.bp.
VIEWS = (routes,)


def _services() -> Caller:
    """GovPay+ calls the merchant (presentment, update): one caller, tokens cached, per provider."""
    return Caller(TokenCache())


GOVPAY_LK = Dialect(
    name=NAME, key=KEY, title="GovPay+ (Sri Lanka)", prefix=face.PREFIX, routes=face, credentials=credentials,
    keys=SPECS,
    # GovPay+ publishes no test cards: the mock offers the common test numbers (docs/govpay-lk.md).
    test_cards=COMMON_CARDS,
    checkout=checkout.GovpayLkCheckout(), events=webhooks, schemes=(webhooks.SCHEME,), settings=settings,
    services=_services, senders=lambda caller: {webhooks.SCHEME.name: webhooks.UpdateSender(caller)},
    docs=Docs(auth="Authorization: Bearer <govpay_lk api_key> (status inquiry)", shown_key="api_key",
              ours="docs/govpay-lk.md"),
    client=Client(default_currency="LKR", happy_card="4242424242424242", headers=client.headers,
                  banner=client.banner, payment=client.payment, send_made_up_event=client.send_made_up_event,
                  made_up_event_id=lambda: str(uuid.uuid4().int)[:16], payment_statuses=serialize.PAYMENT_STATUSES),
)
