"""Per-namespace clocks: the real time, or a virtual time that moves only when told.

Times are integer milliseconds since the Unix epoch, UTC, everywhere in the
store. A virtual clock's "now" lives in its namespace's row, so it survives a
restart and is shared by every thread that serves the namespace.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone, UTC

SYSTEM = "system"
VIRTUAL = "virtual"
MODES = (SYSTEM, VIRTUAL)


def system_now_ms() -> int:
    return time.time_ns() // 1_000_000


class SystemClock:
    mode = SYSTEM

    def now_ms(self) -> int:
        return system_now_ms()


class VirtualClock:
    mode = VIRTUAL

    def __init__(self, now_ms: int):
        self._now_ms = int(now_ms)

    def now_ms(self) -> int:
        return self._now_ms


def clock_for(mode: str, virtual_now_ms: int | None) -> SystemClock | VirtualClock:
    if mode == VIRTUAL:
        return VirtualClock(virtual_now_ms if virtual_now_ms is not None else system_now_ms())
    return SystemClock()


def to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_ms(ms: int | None) -> str | None:
    """Format as ISO-8601 UTC with milliseconds and a Z, as Hyperswitch does."""
    if ms is None:
        return None
    dt = to_datetime(ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> int:
    """Parse an ISO-8601 timestamp (a trailing Z or an offset; naive means UTC)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)
