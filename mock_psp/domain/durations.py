"""Durations as people write them, one grammar for every surface that takes one: the control API
(``POST /_mock/clock/advance {"duration": ...}``), the dashboard's clock page, the CLI
(``mock-psp clock advance``), scenario files and the pytest plugin (``psp_clock.advance``).

- a number: seconds (``90``, ``1.5``);
- text: seconds (``"90"``), or one or more amounts with a unit, ``ms``, ``s``, ``m``, ``h``
  or ``d`` (``"90s"``, ``"15m"``, ``"1.5h"``, ``"2d"``, ``"1h30m"``, ``"500ms"``); case and
  spaces between the parts do not matter (``"1h 30m"``).

Never negative (a clock moves back only by being set), and at most a century.
"""

from __future__ import annotations

import re
from typing import Any

_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")  # ASCII: \\d would take "١٢"
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_SECONDS = 100 * 366 * 86400
EXAMPLES = "90, 90s, 15m, 1.5h, 2d or 1h30m"


class DurationError(ValueError):
    """The value is not a duration; the message says what would be."""


def parse(value: Any) -> float:
    """Seconds from a duration (see the module docstring); DurationError if it is not one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_text(value)
    else:
        raise DurationError(f"{value!r} is not a duration: give seconds or text such as {EXAMPLES}")
    if not 0 <= seconds <= MAX_SECONDS:  # also refuses NaN
        raise DurationError(f"{value!r} is not a duration here: give one from 0 to 100 years "
                            "(a clock moves back only by being set)")
    return seconds


def _parse_text(value: str) -> float:
    text = "".join(value.split()).lower()
    if _NUMBER.fullmatch(text):
        return float(text)
    parts = _PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise DurationError(f"{value!r} is not a duration: give seconds or text such as {EXAMPLES}")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def describe(total: float) -> str:
    """Whole seconds as the shortest duration text: 5400 -> "1h30m"."""
    total = int(round(total))
    if total == 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            out.append(f"{total // size}{unit}")
            total %= size
    return "".join(out)
