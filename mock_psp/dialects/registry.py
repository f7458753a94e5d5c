"""Every dialect the provider speaks: one line each (a dialect is its folder's dialect.py).

The first is the default: what an endpoint registered without a scheme signs with, and what a
scenario or a test merchant speaks unless told otherwise.
"""

from __future__ import annotations

from ..webhooks.schemes import STANDARD
from .base import Dialect
from .govpay_lk.dialect import GOVPAY_LK
from .govuk.dialect import GOVUK
from .hyperswitch.dialect import HYPERSWITCH

DIALECTS: tuple[Dialect, ...] = (
    HYPERSWITCH,
    GOVUK,
    GOVPAY_LK,
)

BY_NAME = {dialect.name: dialect for dialect in DIALECTS}
KEYS = frozenset(dialect.key for dialect in DIALECTS)
DEFAULT = DIALECTS[0]


def named(name: str) -> Dialect:
    """The dialect of that name (LookupError naming the ones there are)."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise LookupError(f"unknown dialect {name!r}; use one of {', '.join(BY_NAME)}") from None


def key_specs() -> dict:
    """The keys each namespace holds, per dialect: what namespaces.create makes."""
    return {dialect.key: dialect.keys for dialect in DIALECTS}


def schemes() -> dict:
    """Every signing scheme an endpoint may use, by name: the dialects' own and Standard Webhooks."""
    found = {scheme.name: scheme for dialect in DIALECTS for scheme in dialect.schemes}
    return {**found, STANDARD.name: STANDARD}
