"""Durations typed into the clock page: "90s", "15m", "2h", "1d", "1h30m", or plain seconds."""

from __future__ import annotations

import re

QUICK = ("1m", "5m", "15m", "1h", "1d")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d)")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_SECONDS = 366 * 86400


class DurationError(ValueError):
    pass


def parse(text: str) -> float:
    text = (text or "").strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        seconds = float(text)
    else:
        parts = _PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise DurationError(f"{text or 'nothing'!r} is not a duration: try 90s, 15m, 2h, 1d or 1h30m")
        seconds = sum(float(n) * _UNIT[u] for n, u in parts)
    if seconds <= 0 or seconds > MAX_SECONDS:
        raise DurationError("give a duration above zero and at most a year")
    return seconds
