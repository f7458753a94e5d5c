"""The strict readers of untrusted numbers and JSON (mock_psp/domain/numbers.py, jsontext.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mock_psp.domain import jsontext
from mock_psp.domain import numbers
from mock_psp.domain.cards import card_network
from mock_psp.domain.cards import luhn_valid
from mock_psp.domain.errors import INVALID_FIELD
from mock_psp.domain.errors import DomainError
from mock_psp.domain.urls import is_web_url

# Each of these passes str.isdigit() or int() or float(): none is a number here.
NOT_ASCII = ["¹", "²", "４２", "٣", "०", "𝟗", "1²", "⑧"]


@pytest.mark.parametrize("text", NOT_ASCII + ["", " 1", "1 ", "+1", "-1", "1_000", "0x10", "1.0", "1e3"])
def test_parse_int_takes_only_ascii_digits(text):
    with pytest.raises(DomainError) as caught:
        numbers.parse_int(text, "page")
    assert caught.value.code == INVALID_FIELD and caught.value["field"] == "page"


@pytest.mark.parametrize("text, value", [("0", 0), ("007", 7), ("42", 42), ("9223372036854775807", 2**63 - 1)])
def test_parse_int_reads_ascii_digits(text, value):
    assert numbers.parse_int(text, "n") == value


def test_parse_int_takes_a_sign_only_where_allowed():
    assert numbers.parse_int("-12", "n", signed=True) == -12
    assert numbers.parse_int("+12", "n", signed=True) == 12
    for text in ("--1", "-", "+-1", "-¹"):
        with pytest.raises(DomainError):
            numbers.parse_int(text, "n", signed=True)


def test_parse_int_is_bounded_by_digits_before_converting_and_by_value():
    with pytest.raises(DomainError, match="more than 19 digits"):
        numbers.parse_int("9" * 4301, "amount")  # int() itself would raise its own ValueError here
    with pytest.raises(DomainError, match="more than 3 digits"):
        numbers.parse_int("1000", "n", max_digits=3)
    assert numbers.parse_int("0000000000000000000000042", "n") == 42  # leading zeros do not count
    with pytest.raises(DomainError, match="from 1 to 500"):
        numbers.parse_int("501", "display_size", 1, 500)
    with pytest.raises(DomainError, match="at least 1"):
        numbers.parse_int("0", "page", 1)


@pytest.mark.parametrize("value", [True, 1.0, "1", None, 2**63])
def test_check_int_takes_an_integer_within_i64(value):
    with pytest.raises(DomainError):
        numbers.check_int(value, "amount")
    assert numbers.check_int(5, "amount", 1) == 5


@pytest.mark.parametrize("text", ["inf", "nan", "NaN", "Infinity", "1e400", "1E5", "1.", ".5", "1,000", "١٫٥",
                                  "１.００", "12.345"])
def test_parse_decimal_refuses_what_float_or_decimal_would_take(text):
    with pytest.raises(DomainError):
        numbers.parse_decimal(text, "amount", 2, 0, 10**12)


def test_parse_decimal_reads_plain_amounts_within_bounds():
    assert numbers.parse_decimal("1500.00", "amount", 2, 0, 10**12) == Decimal("1500.00")
    assert numbers.parse_decimal("7", "amount", 2, 0, 10) == 7
    with pytest.raises(DomainError, match="from 0 to 10"):
        numbers.parse_decimal("10.01", "amount", 2, 0, 10)


def test_parse_number_gives_an_int_when_whole_and_refuses_inf():
    assert numbers.parse_number("3", "f", 0, 10) == 3 and isinstance(numbers.parse_number("3", "f", 0, 10), int)
    assert numbers.parse_number("0.25", "f", 0, 1) == 0.25
    assert numbers.parse_number("-2", "f", -5, 5) == -2
    for text in ("inf", "nan", "1e400", "１"):
        with pytest.raises(DomainError):
            numbers.parse_number(text, "f", 0, 10)


@pytest.mark.parametrize("text", ["1", "123", "0000"])
def test_is_ascii_digits(text):
    assert numbers.is_ascii_digits(text)
    assert not numbers.is_ascii_digits(text + "¹") and not numbers.is_ascii_digits("")


def test_a_card_number_in_fullwidth_digits_is_not_valid():
    assert luhn_valid("4242424242424242")
    assert not luhn_valid("４２４２４２４２４２４２４２４２")
    assert card_network("４２４２４２４２４２４２４２４２") is None and card_network("4242424242424242") == "Visa"


# -- JSON -------------------------------------------------------------------------------------------


def _reason(text, **options) -> str:
    with pytest.raises(DomainError) as caught:
        jsontext.loads(text, **options)
    return caught.value["reason"]


@pytest.mark.parametrize("text", ['{"a": 1e400}', '{"a": -1e400}', '{"a": ' + "9" * 4301 + "}"])
def test_json_numbers_past_a_float_or_int_are_out_of_range(text):
    assert _reason(text) == jsontext.NUMBER_OUT_OF_RANGE


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', "{", '{"a": 01}'])
def test_json_that_is_not_json_is_a_syntax_error(text):
    assert _reason(text) == jsontext.SYNTAX


def test_json_lone_surrogates_are_refused_unless_the_caller_takes_them():
    assert _reason('{"a": "\\ud800"}') == jsontext.LONE_SURROGATE
    assert _reason('{"\\udc00": 1}') == jsontext.LONE_SURROGATE
    assert _reason('["\\ud800\\u0041"]') == jsontext.LONE_SURROGATE
    assert jsontext.loads('{"a": "\\ud83d\\ude00"}') == {"a": "\U0001F600"}  # a pair is one character
    taken = jsontext.loads('{"a": "x\\ud800"}', lone_surrogates=True)
    assert jsontext.replace_lone_surrogates(taken) == {"a": "x?"}


def test_json_duplicate_keys_are_refused_only_when_asked():
    assert jsontext.loads('{"a": 1, "a": 2}') == {"a": 2}
    with pytest.raises(DomainError) as caught:
        jsontext.loads('{"a": 1, "b": {"c": 1, "c": 2}}', duplicate_keys=False)
    assert caught.value["reason"] == jsontext.DUPLICATE_KEY and caught.value["key"] == "c"


def test_json_that_is_not_utf8_or_nested_too_deep_is_refused():
    assert _reason(b'{"a": "\xff"}') == jsontext.NOT_UTF8
    assert _reason("[" * 100_000 + "]" * 100_000) == jsontext.TOO_DEEP


def test_escape_lone_surrogates_makes_text_encodable():
    text = jsontext.escape_lone_surrogates("a\ud800b\U0001F600")
    assert text == "a\\ud800b\U0001F600" and text.encode("utf-8")


@pytest.mark.parametrize("url, ok", [
    ("https://shop.example/r", True), ("http://127.0.0.1:5000/x", True), ("HTTPS://SHOP.EXAMPLE/", True),
    ("javascript:alert(1)", False), ("data:text/html,x", False), ("file:///etc/passwd", False),
    ("https:///nohost", False), ("//shop.example/r", False), ("/relative", False), ("https://[::1/", False),
    (" https://shop.example/", False), ("https://shop.example/\r\nSet-Cookie: x", False), (None, False),
])
def test_is_web_url(url, ok):
    assert is_web_url(url) is ok
