"""The keys a GOV.UK Pay service account holds, as each namespace keeps them."""

from __future__ import annotations

from dataclasses import dataclass

from ...domain.namespaces import KeySpec
from ...domain.namespaces import Namespace

NAME = "govuk"  # what its payments carry
KEY = "govuk"   # its name in storage and JSON documents
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"

# The labels derive the default namespace's keys (the README lists them): never change one.
SPECS = (
    KeySpec("api_key", "api_test_", 58, _BASE36, "govuk api key", identifies=True),
    KeySpec("webhook_signing_secret", "webhook_test_", 40, _BASE36, "govuk webhook secret"),
)


@dataclass(frozen=True)
class Keys:
    api_key: str
    webhook_signing_secret: str


def keys_of(namespace: Namespace) -> Keys:
    return Keys(**namespace.keys_of(KEY))
