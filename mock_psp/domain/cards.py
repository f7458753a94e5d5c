"""Card number facts: Luhn check, network detection, the masked form we store."""

from __future__ import annotations

from .numbers import is_ascii_digits

# (network, prefixes as ranges of the leading digits) — checked longest first.
_NETWORK_RANGES: list[tuple[str, int, int, int]] = [
    # network, prefix length, low, high
    ("AmericanExpress", 2, 34, 34),
    ("AmericanExpress", 2, 37, 37),
    ("DinersClub", 3, 300, 305),
    ("DinersClub", 2, 36, 36),
    ("DinersClub", 2, 38, 39),
    ("JCB", 4, 3528, 3589),
    ("Discover", 4, 6011, 6011),
    ("Discover", 3, 644, 649),
    ("Discover", 2, 65, 65),
    ("RuPay", 2, 60, 60),
    ("RuPay", 2, 81, 82),
    ("Maestro", 2, 50, 50),
    ("Maestro", 2, 56, 58),
    ("Maestro", 2, 67, 67),
    ("Mastercard", 4, 2221, 2720),
    ("Mastercard", 2, 51, 55),
    ("Visa", 1, 4, 4),
]


def digits_only(number: str) -> str:
    return "".join(ch for ch in number if not ch.isspace())


def luhn_valid(number: str) -> bool:
    if not is_ascii_digits(number) or not 8 <= len(number) <= 19:  # "４２４２…" is not a card number
        return False
    total = 0
    for index, ch in enumerate(reversed(number)):
        digit = int(ch)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_network(number: str) -> str | None:
    if not is_ascii_digits(number):
        return None
    for network, length, low, high in sorted(_NETWORK_RANGES, key=lambda r: -r[1]):
        if len(number) >= length and low <= int(number[:length]) <= high:
            return network
    return None


def masked_card(
    number: str,
    exp_month: str,
    exp_year: str,
    holder_name: str | None,
    network: str | None = None,
    card_type: str | None = None,
    issuer: str | None = None,
    issuing_country: str | None = None,
) -> dict:
    """What we keep of a card: never the full number or the CVC."""
    return {
        "last4": number[-4:],
        "bin": number[:6],
        "extended_bin": number[:8],
        "exp_month": exp_month,
        "exp_year": exp_year,
        "holder_name": holder_name,
        "network": network or card_network(number),
        "type": card_type,
        "issuer": issuer,
        "issuing_country": issuing_country,
    }
