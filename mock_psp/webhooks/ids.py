"""Repeatable, time-ordered ids for events, deliveries and attempts."""

from __future__ import annotations

import hashlib


def hex_id(prefix: str, created_at: int, *parts: str) -> str:
    """``prefix`` + 32 hex digits in the UUIDv7 layout: 48 bits of time, then a digest of ``parts``.

    The same inputs give the same id, so a seeded namespace repeats its event ids.
    """
    digest = hashlib.blake2b(":".join(parts).encode(), digest_size=16).hexdigest()
    return f"{prefix}{created_at & (2**48 - 1):012x}7{digest[:19]}"
