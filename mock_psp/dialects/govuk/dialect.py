"""GOV.UK Pay's public API, mounted under /govuk: this dialect's description."""

from __future__ import annotations

from ..base import Client
from ..base import Dialect
from ..base import Docs
from ..base import IdShape
from . import agreement_routes
from . import checkout
from . import client
from . import face
from . import routes
from . import serialize
from . import webhooks
from .auth import credentials
from .cards import TEST_CARDS
from .keys import KEY
from .keys import NAME
from .keys import SPECS

# Importing these hangs their views on face.bp.
VIEWS = (routes, agreement_routes)

GOVUK = Dialect(
    name=NAME, key=KEY, title="GOV.UK Pay", prefix=face.PREFIX, routes=face, credentials=credentials,
    keys=SPECS, test_cards=TEST_CARDS, checkout=checkout.GovukCheckout(), events=webhooks,
    schemes=(webhooks.SCHEME,),
    # GOV.UK Pay's refund ids: 26 lowercase characters and digits, no prefix.
    refund_ids=IdShape(prefix="", length=26, alphabet=routes.PAYMENT_ID_ALPHABET),
    docs=Docs(auth="Authorization: Bearer <API key>", shown_key="api_key", ours="docs/govuk.md",
              reference="https://docs.payments.service.gov.uk/api_reference/",
              openapi="https://github.com/alphagov/pay-publicapi/blob/master/openapi/publicapi_spec.json"),
    client=Client(default_currency="GBP", happy_card="4444333322221111", headers=client.headers,
                  banner=client.banner, payment=client.payment, made_up_event=client.made_up_event,
                  payment_statuses=serialize.PAYMENT_STATUSES),
)
