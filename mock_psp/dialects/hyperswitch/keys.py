"""The keys a Hyperswitch merchant account holds, as each namespace keeps them."""

from __future__ import annotations

from dataclasses import dataclass

from ...domain.namespaces import KeySpec
from ...domain.namespaces import Namespace
from ...domain.randomness import ALPHANUMERIC
from ...domain.randomness import HEX

NAME = "hyperswitch"  # what its payments carry
KEY = "hyperswitch"  # its name in storage and JSON documents

# The labels derive the default namespace's keys (the README lists them): never change one.
SPECS = (
    KeySpec("merchant_id", "merchant_", 12, "0123456789", "merchant", identifies=True),
    KeySpec("profile_id", "pro_", 20, ALPHANUMERIC, "profile"),
    KeySpec("api_key", "snd_", 64, ALPHANUMERIC, "api key", identifies=True),
    KeySpec("publishable_key", "pk_snd_", 32, HEX, "publishable key", identifies=True),
    KeySpec("payment_response_hash_key", "", 64, ALPHANUMERIC, "hash key"),
)


@dataclass(frozen=True)
class Keys:
    merchant_id: str
    profile_id: str
    api_key: str
    publishable_key: str
    payment_response_hash_key: str


def keys_of(namespace: Namespace) -> Keys:
    return Keys(**namespace.keys_of(KEY))
