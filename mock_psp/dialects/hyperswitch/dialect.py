"""The Hyperswitch payments API (v1), mounted under /hyperswitch: this dialect's description."""

from __future__ import annotations

from ..base import Client
from ..base import Dialect
from ..base import Docs
from . import account
from . import checkout
from . import client
from . import customers
from . import face
from . import mandates
from . import routes
from . import serialize
from . import webhooks
from .auth import credentials
from .cards import TEST_CARDS
from .keys import KEY
from .keys import NAME
from .keys import SPECS

# Importing these hangs their views on face.bp.
VIEWS = (routes, account, customers, mandates)

HYPERSWITCH = Dialect(
    name=NAME, key=KEY, title="Hyperswitch", prefix=face.PREFIX, routes=face, credentials=credentials,
    keys=SPECS, test_cards=TEST_CARDS, checkout=checkout.HyperswitchCheckout(), events=webhooks,
    schemes=(webhooks.SCHEME,),
    docs=Docs(auth="api-key: <secret key>", shown_key="api_key", ours="docs/hyperswitch.md",
              reference="https://api-reference.hyperswitch.io/",
              openapi="https://github.com/juspay/hyperswitch/blob/main/api-reference/v1/openapi_spec_v1.json"),
    client=Client(default_currency="USD", happy_card="4242424242424242", headers=client.headers,
                  banner=client.banner, payment=client.payment, made_up_event=client.made_up_event,
                  payment_statuses=serialize.PAYMENT_STATUSES),
)
