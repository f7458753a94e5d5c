"""Deterministic draws from a namespace's seed.

Every random choice a namespace makes (ids, outcome draws, delay draws) is
``blake2b(seed, counter)`` for the next value of a counter stored in the
namespace row. The counter advances inside the same transaction as the change
that used it, so the same seed and the same sequence of requests give the same
ids and outcomes, and a restart continues the sequence instead of repeating it.
"""

from __future__ import annotations

import hashlib

ALPHANUMERIC = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
HEX = "0123456789abcdef"


class Draws:
    """Random values for one transaction; call save() before it commits."""

    def __init__(self, seed: int, counter: int):
        self._key = int(seed).to_bytes(16, "big", signed=True)
        self.counter = counter
        self._start = counter

    def _next_block(self) -> bytes:
        self.counter += 1
        return hashlib.blake2b(
            self.counter.to_bytes(8, "big"), key=self._key, digest_size=32
        ).digest()

    def random(self) -> float:
        """A float in [0, 1)."""
        return int.from_bytes(self._next_block()[:8], "big") / 2**64

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def token(self, length: int, alphabet: str = ALPHANUMERIC) -> str:
        # Rejection sampling keeps every character equally likely.
        limit = 256 - (256 % len(alphabet))
        chars: list[str] = []
        while len(chars) < length:
            for byte in self._next_block():
                if byte < limit:
                    chars.append(alphabet[byte % len(alphabet)])
                    if len(chars) == length:
                        break
        return "".join(chars)

    @property
    def used(self) -> bool:
        return self.counter != self._start
