"""The key a GovPay+ merchant sends on the status inquiry, as each namespace keeps it."""

from __future__ import annotations

from ...domain.namespaces import KeySpec
from ...domain.namespaces import Namespace
from ...domain.randomness import HEX

NAME = "govpay-lk"  # what its payments carry
KEY = "govpay_lk"   # its name in storage and JSON documents (and PUT /_mock/config {"govpay_lk": ...})
UPDATE_SCHEME = "govpay_lk"  # the webhook scheme of its update call to the merchant

SPECS = (KeySpec("api_key", "gplk_", 40, HEX, "govpay-lk api key", identifies=True),)


def api_key(namespace: Namespace) -> str:
    return namespace.keys_of(KEY)["api_key"]
