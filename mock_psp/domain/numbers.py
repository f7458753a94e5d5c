"""Numbers from untrusted text, one strict reading for every face.

Python's own readers are too generous for input: ``str.isdigit()`` is true for ``"¹"`` and
``"４"``, ``int()`` takes Arabic-Indic and fullwidth digits (and refuses superscripts only
after ``isdigit()`` said yes), refuses more than 4,300 digits with a ValueError of its own,
and ``float()`` reads ``"inf"``, ``"nan"`` and ``"1e400"``. Here a number is ASCII digits
(``0-9``), an optional sign only where the caller allows one, and a bound the caller gives;
anything else is a DomainError(INVALID_FIELD) that each dialect phrases in its own envelope.
"""

from __future__ import annotations

from decimal import Decimal
from decimal import InvalidOperation

from .errors import INVALID_FIELD
from .errors import DomainError

DIGITS = frozenset("0123456789")
# Enough for any amount, id, page or seconds this service takes (i64 has 19 digits).
DEFAULT_MAX_DIGITS = 19
INT64_MAX = 2**63 - 1


def is_ascii_digits(text: object) -> bool:
    """True for a non-empty string of 0-9 only (unlike ``str.isdigit``, no ``"¹"``, ``"４"``, ``"٣"``)."""
    return isinstance(text, str) and text != "" and all(ch in DIGITS for ch in text)


def refuse(field: str, message: str) -> DomainError:
    return DomainError(INVALID_FIELD, message, {"field": field, "message": message})


def parse_int(text: object, field: str, low: int | None = None, high: int | None = None,
              max_digits: int = DEFAULT_MAX_DIGITS, signed: bool = False) -> int:
    """A whole number written in ASCII digits, within ``low..high`` (either may be None)."""
    if not isinstance(text, str):
        raise refuse(field, f"{field} must be a whole number")
    digits = text[1:] if signed and text[:1] in ("-", "+") else text
    if not is_ascii_digits(digits):
        raise refuse(field, f"{field} must be a whole number written with the digits 0-9")
    if len(digits.lstrip("0")) > max_digits:
        raise refuse(field, f"{field} has more than {max_digits} digits")
    value = int(text)  # safe now: ASCII digits, bounded length
    return check_range(value, field, low, high)


def check_range(value: int, field: str, low: int | None = None, high: int | None = None) -> int:
    if (low is not None and value < low) or (high is not None and value > high):
        raise refuse(field, f"{field} must be {_bounds(low, high)}")
    return value


def check_int(value: object, field: str, low: int | None = None, high: int | None = INT64_MAX) -> int:
    """A JSON value that must be an integer (not a bool, not a float) within bounds."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise refuse(field, f"{field} must be a whole number")
    return check_range(value, field, low, high)


def parse_decimal(text: object, field: str, places: int, low: Decimal | int, high: Decimal | int,
                  max_digits: int = DEFAULT_MAX_DIGITS, signed: bool = False) -> Decimal:
    """A decimal such as ``12.50``: ASCII digits, at most ``places`` decimals, within bounds.

    Never ``inf``, ``nan``, an exponent or a thousands separator (callers strip those they allow).
    """
    if not isinstance(text, str):
        raise refuse(field, f"{field} must be a number")
    body = text[1:] if signed and text[:1] in ("-", "+") else text
    whole, dot, fraction = body.partition(".")
    if not is_ascii_digits(whole) or (dot and not is_ascii_digits(fraction)):
        raise refuse(field, f"{field} must be a number written with the digits 0-9 and at most one '.'")
    if len(fraction) > places:
        raise refuse(field, f"{field} takes at most {places} decimal places")
    if len(whole.lstrip("0")) > max_digits:
        raise refuse(field, f"{field} has more than {max_digits} digits")
    try:
        value = Decimal(text)
    except InvalidOperation:  # not reachable after the checks above; kept so no input can 500
        raise refuse(field, f"{field} must be a number") from None
    if not Decimal(low) <= value <= Decimal(high):
        raise refuse(field, f"{field} must be {_bounds(low, high)}")
    return value


def _bounds(low, high) -> str:
    if low is not None and high is not None:
        return f"from {low} to {high}"
    if low is not None:
        return f"at least {low}"
    return f"at most {high}"


def parse_number(text: object, field: str, low: int | float, high: int | float,
                 places: int = 6, max_digits: int = DEFAULT_MAX_DIGITS) -> int | float:
    """A plain decimal (``1``, ``0.25``, ``-3``) as an int when whole, else a float; never ``inf``/``nan``."""
    if isinstance(text, str):
        text = text.strip()
    value = parse_decimal(text, field, places, Decimal(str(low)), Decimal(str(high)), max_digits, signed=True)
    return int(value) if value == value.to_integral_value() else float(value)
