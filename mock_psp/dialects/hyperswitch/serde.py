"""Reading Hyperswitch request bodies the way its router does: serde's rules and wording.

The real router deserialises bodies with serde (``deny_unknown_fields`` on the
payment and refund requests) behind an actix JSON extractor that insists on
``Content-Type: application/json``. Those failures are 400s with the
``error_type`` key; the messages below follow serde's wording. The field tables
are in structs.py; turning checked fields into domain inputs is parse.py's job.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ...domain import jsontext
from ...domain import numbers
from ...domain.errors import DomainError
from ...domain.numbers import is_ascii_digits
from ...domain.urls import is_web_url
from . import errors

MAX_BODY_BYTES = 32_768
MAX_AMOUNT = 999_999_999
_MERCHANT_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")


class Mismatch(Exception):
    """A value of the wrong type or an invalid value, phrased as serde phrases it."""


def _unexpected(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    if isinstance(value, list):
        return "sequence"
    return "map"


def _type_error(value: Any, expected: str) -> Mismatch:
    return Mismatch(f"invalid type: {_unexpected(value)}, expected {expected}")


# -- field kinds: each checks one value and returns it (or raises Mismatch) -----

Kind = Callable[[Any], Any]


def string(value: Any) -> str:
    if not isinstance(value, str):
        raise _type_error(value, "a string")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _type_error(value, "a boolean")
    return value


I64 = (-(2**63), 2**63 - 1)
U32 = (0, 2**32 - 1)
U64_MAX = 2**64 - 1


def _within(value: int, bounds: tuple[int, int], expected: str) -> int:
    """serde_json's integer range checks: past u64 it has read a float, within u64 an integer."""
    low, high = bounds
    if low <= value <= high:
        return value
    if not -(2**63) <= value <= U64_MAX:
        raise Mismatch(f"invalid type: floating point `{float(value)!r}`, expected {expected}")
    raise Mismatch(f"invalid value: integer `{value}`, expected {expected}")


def integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(value, "i64")
    return _within(value, I64, "i64")


def unsigned(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(value, "u32")
    return _within(value, U32, "u32")


def amount(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(value, "i64")
    if value < 0:
        raise Mismatch(f"invalid value: integer `{value}`, expected a positive integer")
    return _within(value, I64, "i64")


def obj(value: Any) -> dict:
    if not isinstance(value, dict):
        raise _type_error(value, "a map")
    return value


def array(value: Any) -> list:
    if not isinstance(value, list):
        raise _type_error(value, "a sequence")
    return value


def anything(value: Any) -> Any:
    return value


def enum(name: str, variants: tuple[str, ...] | frozenset[str]) -> Kind:
    ordered = sorted(variants) if isinstance(variants, frozenset) else list(variants)

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _type_error(value, f"enum {name}")
        if value not in variants:
            listed = ", ".join(f"`{v}`" for v in ordered)
            raise Mismatch(f"unknown variant `{value}`, expected one of {listed}")
        return value

    return check


def url(value: Any) -> str:
    text = string(value)
    parts = urlsplit(text)
    if not parts.scheme:
        raise Mismatch("relative URL without a base")
    if parts.scheme in ("http", "https") and not parts.netloc:
        raise Mismatch("empty host")
    return text


def web_url(value: Any) -> str:
    """A URL the customer is sent to (return_url): serde's url, and http(s) only.

    The router's ``url::Url`` alone takes ``javascript:`` and ``data:``; this refuses them with the
    router's data-format error (IR_05) rather than ever answering with such a Location.
    """
    text = url(value)
    if not is_web_url(text):
        raise errors.invalid_format("return_url", "an absolute URL with the http or https scheme")
    return text


def merchant_chosen_id(value: Any) -> str:
    text = string(value)
    if len(text) > 64:
        raise Mismatch("the maximum allowed length for this field is 64")
    if not text:
        raise Mismatch("the minimum required length for this field is 1")
    bad = _MERCHANT_ID_CHARS.search(text)
    if bad:
        raise Mismatch(f"value `{text}` contains invalid character `{bad.group()}`")
    return text


def array_of(kind: Kind) -> Kind:
    def check(value: Any) -> list:
        return [kind(item) for item in array(value)]

    return check


def check_nested(value: Any, fields: dict[str, Kind]) -> dict:
    """Type-check a nested object's known fields (raising Mismatch), ignoring unknown ones."""
    checked = {}
    for key, item in obj(value).items():
        if key in fields and item is not None:
            checked[key] = fields[key](item)
    return checked


# -- reading the body -----------------------------------------------------------


def _position(raw: str, index: int) -> str:
    line = raw.count("\n", 0, index) + 1
    column = index - (raw.rfind("\n", 0, index) + 1) + 1
    return f" at line {line} column {column}"


def deserialize_error(detail: str) -> errors.HyperswitchError:
    """A value serde refuses while reading the body (e.g. a bad id): a JSON deserialize error."""
    return errors.json_error(f"Json deserialize error: {detail}")


_SERDE_WORDING = {
    jsontext.TOO_DEEP: "recursion limit exceeded",
    jsontext.NUMBER_OUT_OF_RANGE: "number out of range",
    jsontext.LONE_SURROGATE: "lone leading surrogate in hex escape",
}


def _serde_wording(refused: DomainError) -> str:
    reason = refused["reason"]
    if reason == jsontext.SYNTAX:
        return refused.message.lower()
    if reason == jsontext.DUPLICATE_KEY:
        return f"duplicate field `{refused['key']}`"
    return _SERDE_WORDING.get(reason, refused.message)


def _at(text: str, position: int | None) -> str:
    return _position(text, position) if position is not None else ""


def read_json(content_type: str | None, raw: bytes, struct: str) -> tuple[dict, str]:
    """Check the content type, the size and the JSON syntax; return the object and its text."""
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime != "application/json" and not mime.endswith("+json"):
        raise errors.json_error("Content type error")
    if len(raw) > MAX_BODY_BYTES:
        raise errors.json_error(
            f"JSON payload ({len(raw)} bytes) is larger than allowed (limit: {MAX_BODY_BYTES} bytes)."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise deserialize_error("invalid unicode code point at line 1 column 1") from None
    if not text.strip():
        raise deserialize_error("EOF while parsing a value" + _position(text, len(text)))
    try:
        # serde_json's rules: no NaN, no number past f64, no lone surrogate, no field twice.
        data = jsontext.loads(text, duplicate_keys=False)
    except DomainError as refused:
        raise deserialize_error(_serde_wording(refused) + _at(text, refused.get("position"))) from None
    if not isinstance(data, dict):
        raise deserialize_error(f"invalid type: {_unexpected(data)}, expected struct {struct}")
    return data, text


def check_fields(data: dict, fields: dict[str, Kind], raw: str = "", deny_unknown: bool = True) -> dict:
    """Type-check known fields; refuse unknown ones like serde's deny_unknown_fields.

    Returns only the non-null known fields.
    """
    checked: dict[str, Any] = {}
    for key, value in data.items():
        kind = fields.get(key)
        if kind is None:
            if deny_unknown:
                expected = ", ".join(f"`{name}`" for name in fields)
                where = raw.find(json.dumps(key))
                position = _position(raw, where + len(json.dumps(key))) if where >= 0 else ""
                raise deserialize_error(f"unknown field `{key}`, expected one of {expected}{position}")
            continue
        if value is None:
            continue
        try:
            checked[key] = kind(value)
        except Mismatch as exc:
            raise deserialize_error(str(exc)) from None
    return checked


def parse_body(content_type: str | None, raw: bytes, fields: dict[str, Kind], struct: str,
               deny_unknown: bool = True) -> dict:
    data, text = read_json(content_type, raw, struct)
    return check_fields(data, fields, text, deny_unknown)


def query_int(args, name: str) -> int | None:
    """An i64 from the query string, read as serde_urlencoded reads one (ASCII digits, a sign)."""
    value = args.get(name)
    if value is None or value == "":
        return None
    digits = value[1:] if value[:1] in ("-", "+") else value
    if not is_ascii_digits(digits):
        raise errors.json_error(f"Query deserialize error: invalid digit found in string for `{name}`")
    try:
        return numbers.parse_int(value, name, -numbers.INT64_MAX - 1, numbers.INT64_MAX, signed=True)
    except DomainError:
        raise errors.json_error(
            f"Query deserialize error: number too large to fit in target type for `{name}`") from None
