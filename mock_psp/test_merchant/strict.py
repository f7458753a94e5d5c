"""Numbers and JSON from the shop's own callers, read strictly.

The shop is its own app and knows nothing of the provider's code (tests/unit/test_import_graph.py),
so it keeps this small reader of its own; the provider's is mock_psp/domain/numbers.py and
jsontext.py, with the same rules: ASCII digits only (``"¹"`` and ``"４"`` are not numbers), a bound,
no ``inf``/``nan``/``1e400``, no lone surrogate.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

# Far above any provider's maximum (theirs refuse first, as they would for a real shop), and
# well inside SQLite's 64-bit integers.
MAX_AMOUNT = 10**12 - 1
_DIGITS = re.compile(r"[0-9]+")
_MONEY = re.compile(r"([0-9]{1,10})(?:\.([0-9]{1,2}))?")
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_INTEGER_DIGITS = 400


def ascii_digits(text: object) -> bool:
    return isinstance(text, str) and _DIGITS.fullmatch(text) is not None


def amount_minor(text: str) -> int | None:
    """"12.50" -> 1250 (minor units); None when it is not a plain amount of at most 2 decimals."""
    match = _MONEY.fullmatch(text)
    if match is None:
        return None
    return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))


def is_amount(value: object) -> bool:
    """A positive whole number of minor units the shop can store."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_AMOUNT


class NotJson(ValueError):
    pass


def _refuse_constant(name: str):
    raise NotJson(f"{name} is not JSON")


def _float(text: str) -> Decimal | float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise NotJson("number out of range")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise NotJson("number out of range")
    return int(text)


def loads(raw: bytes | str) -> Any:
    """JSON, or NotJson (a ValueError) for anything else, lone surrogates included."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_float, parse_int=_int)
    except RecursionError:
        raise NotJson("nested too deep") from None
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise NotJson(str(error)) from None
    if _SURROGATE.search(json.dumps(data, ensure_ascii=False)):
        raise NotJson("a lone surrogate (\\ud800) is not text")
    return data
