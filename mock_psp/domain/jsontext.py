"""JSON bodies read strictly, for every face that takes one.

Python's ``json`` is laxer than the services it stands in for, in ways that reach a 500:
it reads the non-standard ``NaN``/``Infinity``, turns ``1e400`` into ``inf``, raises its own
ValueError past 4,300 digits, lets ``"\\ud800"`` through as a lone surrogate (which SQLite
and every UTF-8 encoder then refuse), and keeps the last of duplicate keys. ``loads`` refuses
the first three always, and the last two when the caller says so (Hyperswitch's serde_json
refuses both; GOV.UK's Jackson accepts both, see ``replace_lone_surrogates``).

Refusals are DomainError(INVALID_FIELD) with ``details["reason"]`` (below) and
``details["position"]`` (a character offset, or None) so each dialect can word them its way.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import INVALID_FIELD
from .errors import DomainError

# details["reason"]
SYNTAX = "syntax"
NOT_UTF8 = "not_utf8"
TOO_DEEP = "too_deep"
NUMBER_OUT_OF_RANGE = "number_out_of_range"
LONE_SURROGATE = "lone_surrogate"
DUPLICATE_KEY = "duplicate_key"

# An integer literal longer than this is out of range for any field (serde_json reads one past
# u64 as f64, which overflows past ~309 digits; Jackson's long stops at 19).
MAX_INTEGER_DIGITS = 400
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class _Refused(Exception):
    def __init__(self, reason: str, message: str, key: str | None = None):
        super().__init__(message)
        self.reason, self.message, self.key = reason, message, key


def refusal(reason: str, message: str, position: int | None = None, **more: Any) -> DomainError:
    return DomainError(INVALID_FIELD, message, {"field": "body", "reason": reason, "position": position,
                                                "message": message, **more})


def _constant(name: str):
    raise _Refused(SYNTAX, f"{name} is not JSON")


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Refused(NUMBER_OUT_OF_RANGE, "number out of range")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _Refused(NUMBER_OUT_OF_RANGE, "number out of range")
    return int(text)


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(DUPLICATE_KEY, f"duplicate field `{key}`", key)
        out[key] = value
    return out


def loads(raw: bytes | str, duplicate_keys: bool = True, lone_surrogates: bool = False) -> Any:
    """The JSON value of ``raw``; DomainError (see the module docstring) when it is not one we take."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise refusal(NOT_UTF8, "invalid unicode code point", exc.start) from None
    else:
        text = raw
    hook = None if duplicate_keys else _refuse_duplicates
    try:
        data = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int,
                          object_pairs_hook=hook)
    except _Refused as refused:
        raise refusal(refused.reason, refused.message, _position_of(text, refused), key=refused.key) from None
    except json.JSONDecodeError as exc:
        raise refusal(SYNTAX, exc.msg, exc.pos) from None
    except RecursionError:  # nested deeper than Python's parser goes
        raise refusal(TOO_DEEP, "recursion limit exceeded") from None
    except ValueError as exc:  # any other reading Python refuses (kept so no input can 500)
        raise refusal(SYNTAX, str(exc)) from None
    if not lone_surrogates and has_lone_surrogate(data):
        match = _SURROGATE_ESCAPE.search(text)
        raise refusal(LONE_SURROGATE, "lone leading surrogate in hex escape",
                      match.end() if match else None)
    return data


def _position_of(text: str, refused: _Refused) -> int | None:
    if refused.key is not None:
        first = text.find(json.dumps(refused.key))
        second = text.find(json.dumps(refused.key), first + 1) if first >= 0 else -1
        return second + len(json.dumps(refused.key)) if second >= 0 else None
    return None


def has_lone_surrogate(value: Any) -> bool:
    """Whether a parsed JSON value holds a lone surrogate anywhere (in a key or a string)."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate(item) for item in value)
    return False


def replace_lone_surrogates(value: Any, replacement: str = "?") -> Any:
    """The value with each lone surrogate replaced: what Java's UTF-8 encoder writes for one."""
    if isinstance(value, str):
        return _SURROGATE.sub(replacement, value)
    if isinstance(value, dict):
        return {replace_lone_surrogates(k, replacement): replace_lone_surrogates(v, replacement)
                for k, v in value.items()}
    if isinstance(value, list):
        return [replace_lone_surrogates(item, replacement) for item in value]
    return value


def escape_lone_surrogates(text: str) -> str:
    """Text safe to encode as UTF-8: each lone surrogate shown as its ``\\udXXX`` escape."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
