"""How a payment ends: scripted outcomes, then magic test values, then success rates.

An Outcome is decided once, when the payment is confirmed, and stored with any
pending step (a 3DS challenge, an asynchronous completion), so a payment that
finishes later on the clock finishes the way it was decided.

Failure reasons are neutral names (``card_declined``, ``lost_card``...); each
dialect turns them into its provider's error codes and messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import INVALID_FIELD
from .errors import DomainError

SUCCEED = "succeed"
FAIL = "fail"

# Neutral failure reasons.
CARD_DECLINED = "card_declined"
INSUFFICIENT_FUNDS = "insufficient_funds"
LOST_CARD = "lost_card"
STOLEN_CARD = "stolen_card"
CARD_NOT_SUPPORTED = "card_not_supported"
AUTHENTICATION_FAILED = "authentication_failed"
PAYMENT_METHOD_FAILED = "payment_method_failed"
EXPIRED = "expired"
CANCELLED_BY_USER = "cancelled_by_user"
EXPIRED_CARD = "expired_card"
INCORRECT_CVC = "incorrect_cvc"
PROCESSING_ERROR = "processing_error"
# The card number failed its check digit, so it was never sent for authorisation.
INVALID_CARD_NUMBER = "invalid_card_number"

FAILURE_REASONS = (
    CARD_DECLINED, INSUFFICIENT_FUNDS, LOST_CARD, STOLEN_CARD, CARD_NOT_SUPPORTED,
    AUTHENTICATION_FAILED, PAYMENT_METHOD_FAILED, EXPIRED, CANCELLED_BY_USER,
    EXPIRED_CARD, INCORRECT_CVC, PROCESSING_ERROR, INVALID_CARD_NUMBER,
)


@dataclass(frozen=True)
class Outcome:
    """The decided result of an authorisation.

    ``result`` is SUCCEED or FAIL. ``challenge`` means the customer must pass a
    3DS step first (``result`` then applies if they complete it). ``asynchronous``
    means the payment waits in `processing` until the scheduler finishes it.
    """

    result: str
    reason: str | None = None
    challenge: bool = False
    asynchronous: bool = False
    source: str = "rate"

    def to_json(self) -> dict:
        return {
            "result": self.result,
            "reason": self.reason,
            "challenge": self.challenge,
            "asynchronous": self.asynchronous,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Outcome":
        return cls(**data)


# Names accepted by POST /_mock/outcomes, with aliases.
SCRIPTED: dict[str, Outcome] = {
    "succeeded": Outcome(SUCCEED, source="scripted"),
    "declined": Outcome(FAIL, CARD_DECLINED, source="scripted"),
    "insufficient_funds": Outcome(FAIL, INSUFFICIENT_FUNDS, source="scripted"),
    "lost_card": Outcome(FAIL, LOST_CARD, source="scripted"),
    "stolen_card": Outcome(FAIL, STOLEN_CARD, source="scripted"),
    "card_not_supported": Outcome(FAIL, CARD_NOT_SUPPORTED, source="scripted"),
    "3ds": Outcome(SUCCEED, challenge=True, source="scripted"),
    "3ds_failed": Outcome(FAIL, AUTHENTICATION_FAILED, challenge=True, source="scripted"),
    "processing": Outcome(SUCCEED, asynchronous=True, source="scripted"),
    "processing_failed": Outcome(FAIL, PAYMENT_METHOD_FAILED, asynchronous=True, source="scripted"),
}
ALIASES = {
    "success": "succeeded",
    "succeed": "succeeded",
    "failed": "declined",
    "decline": "declined",
    "three_ds": "3ds",
    "challenge": "3ds",
    "requires_customer_action": "3ds",
    "pending": "processing",
}


def scripted_name(name: object) -> str:
    """Validate a scripted outcome name and return its canonical spelling."""
    if isinstance(name, str):
        canonical = ALIASES.get(name, name)
        if canonical in SCRIPTED:
            return canonical
    raise DomainError(
        INVALID_FIELD,
        f"unknown outcome {name!r}; use one of {', '.join(sorted(SCRIPTED))}",
        {"field": "next"},
    )


# The magic numbers of each provider's sandbox. The SDK modal offers the union.
HYPERSWITCH_CARDS: dict[str, tuple[Outcome, str]] = {
    # Hyperswitch dummy connector (routes/dummy_connector/utils.rs)
    "4111111111111111": (Outcome(SUCCEED, source="magic_card"), "Visa: succeeds"),
    "4242424242424242": (Outcome(SUCCEED, source="magic_card"), "Visa: succeeds"),
    "5555555555554444": (Outcome(SUCCEED, source="magic_card"), "Mastercard: succeeds"),
    "38000000000006": (Outcome(SUCCEED, source="magic_card"), "Diners Club: succeeds"),
    "378282246310005": (Outcome(SUCCEED, source="magic_card"), "American Express: succeeds"),
    "6011111111111117": (Outcome(SUCCEED, source="magic_card"), "Discover: succeeds"),
    "5105105105105100": (Outcome(FAIL, CARD_DECLINED, source="magic_card"), "Mastercard: declined"),
    "4000000000000002": (Outcome(FAIL, CARD_DECLINED, source="magic_card"), "Visa: declined"),
    "4000000000009995": (Outcome(FAIL, INSUFFICIENT_FUNDS, source="magic_card"), "Visa: insufficient funds"),
    "4000000000009987": (Outcome(FAIL, LOST_CARD, source="magic_card"), "Visa: lost card"),
    "4000000000009979": (Outcome(FAIL, STOLEN_CARD, source="magic_card"), "Visa: stolen card"),
    "4000003800000446": (Outcome(SUCCEED, challenge=True, source="magic_card"), "Visa: 3DS challenge"),
}

def _govuk_authorised(label: str) -> tuple[Outcome, str]:
    return Outcome(SUCCEED, source="magic_card"), label


# GOV.UK Pay's sandbox (pay-connector SandboxCardNumbers.java).
GOVUK_CARDS: dict[str, tuple[Outcome, str]] = {
    "4444333322221111": _govuk_authorised("Visa credit: authorised"),
    "4242424242424242": _govuk_authorised("Visa: authorised"),
    "4917610000000000003": _govuk_authorised("Visa debit: authorised"),
    "4000056655665556": _govuk_authorised("Visa debit: authorised"),
    "5105105105105100": _govuk_authorised("Mastercard: authorised"),
    "5200828282828210": _govuk_authorised("Mastercard debit: authorised"),
    "371449635398431": _govuk_authorised("American Express: authorised"),
    "3566002020360505": _govuk_authorised("JCB: authorised"),
    "6011000990139424": _govuk_authorised("Discover: authorised"),
    "36148900647913": _govuk_authorised("Diners Club: authorised"),
    "4000180000000002": _govuk_authorised("Visa corporate credit: authorised"),
    "5101180000000007": _govuk_authorised("Mastercard corporate: authorised"),
    "4131840000000003": _govuk_authorised("Visa corporate prepaid debit: authorised"),
    "5555555555554444": _govuk_authorised("Mastercard credit: authorised"),
    "4000000000000010": _govuk_authorised("Visa: authorised"),
    "4000160000000004": _govuk_authorised("Visa: authorised"),
    "4000020000000000": _govuk_authorised("Visa: authorised"),
    "4988080000000000": _govuk_authorised("Visa corporate: authorised"),
    "4111111111111111": _govuk_authorised("Visa corporate: authorised"),
    "4293189100000008": _govuk_authorised("Visa corporate: authorised"),
    "4000000000000002": (Outcome(FAIL, CARD_DECLINED, source="magic_card"), "Visa: declined (P0010)"),
    "4000000000000069": (Outcome(FAIL, EXPIRED_CARD, source="magic_card"), "Visa: expired card (P0010)"),
    "4000000000000127": (Outcome(FAIL, INCORRECT_CVC, source="magic_card"), "Visa: incorrect CVC (P0010)"),
    "4000000000000119": (Outcome(FAIL, PROCESSING_ERROR, source="magic_card"), "Visa: processing error (P0050)"),
}

# GovPay+ publishes no test cards: the mock offers the common test numbers (docs/govpay-lk.md).
GOVPAY_LK_CARDS: dict[str, tuple[Outcome, str]] = {
    "4242424242424242": (Outcome(SUCCEED, source="magic_card"), "Visa: succeeds"),
    "5555555555554444": (Outcome(SUCCEED, source="magic_card"), "Mastercard: succeeds"),
    "4000000000000002": (Outcome(FAIL, CARD_DECLINED, source="magic_card"), "Visa: declined"),
    "4000000000009995": (Outcome(FAIL, INSUFFICIENT_FUNDS, source="magic_card"), "Visa: insufficient funds"),
    "4000003800000446": (Outcome(SUCCEED, challenge=True, source="magic_card"), "Visa: 3DS challenge"),
}

MAGIC_CARDS: dict[str, dict[str, tuple[Outcome, str]]] = {
    "hyperswitch": HYPERSWITCH_CARDS,
    "govuk": GOVUK_CARDS,
    "govpay-lk": GOVPAY_LK_CARDS,
}

UPI_SUCCESS = "success@upi"
UPI_FAILURE = "failure@upi"

# Test banks for bank payments (online banking): the bank says yes or no at once.
TEST_BANKS: dict[str, tuple[Outcome, str]] = {
    "TESTBANK-APPROVE": (Outcome(SUCCEED, source="magic_bank"), "Test Bank: approves"),
    "TESTBANK-DECLINE": (Outcome(FAIL, PAYMENT_METHOD_FAILED, source="magic_bank"), "Test Bank: declines"),
}


def is_magic_card(number: str) -> bool:
    return any(number in table for table in MAGIC_CARDS.values())


def test_cards(dialect: str) -> list[dict]:
    """The magic cards of a dialect (or of every dialect for "all"), for pages and docs."""
    tables = MAGIC_CARDS.values() if dialect == "all" else [MAGIC_CARDS.get(dialect, {})]
    seen: dict[str, dict] = {}
    for table in tables:
        for number, (outcome, label) in table.items():
            seen.setdefault(number, {"number": number, "label": label, "outcome": outcome.to_json()})
    return list(seen.values())


def for_card(dialect: str, number: str, card_policy: str, scripted: Outcome | None, draw_rate) -> Outcome:
    """Decide a card payment: scripted, then magic number, then policy and rate."""
    if scripted is not None:
        return scripted
    magic = MAGIC_CARDS.get(dialect, {}).get(number)
    if magic is not None:
        return magic[0]
    if card_policy == "strict":
        return Outcome(FAIL, CARD_NOT_SUPPORTED, source="card_policy")
    return by_rate(draw_rate("card"), CARD_DECLINED)


def for_upi(vpa: str, scripted: Outcome | None, draw_rate) -> Outcome:
    """UPI collect is always asynchronous: `processing` first, the result later."""
    if scripted is not None:
        return Outcome(scripted.result, scripted.reason, challenge=False, asynchronous=True, source="scripted")
    if vpa == UPI_SUCCESS:
        return Outcome(SUCCEED, asynchronous=True, source="magic_vpa")
    if vpa == UPI_FAILURE:
        return Outcome(FAIL, PAYMENT_METHOD_FAILED, asynchronous=True, source="magic_vpa")
    outcome = by_rate(draw_rate("upi"), PAYMENT_METHOD_FAILED)
    return Outcome(outcome.result, outcome.reason, asynchronous=True, source="rate")


def for_bank(bank: str, scripted: Outcome | None, draw_rate) -> Outcome:
    """A bank payment: scripted, then the test bank's answer, then the bank_redirect rate."""
    if scripted is not None:
        return scripted
    if bank in TEST_BANKS:
        return TEST_BANKS[bank][0]
    return by_rate(draw_rate("bank_redirect"), PAYMENT_METHOD_FAILED)


def for_method(method: str, scripted: Outcome | None, draw_rate) -> Outcome:
    """Any other payment method (wallet, bank redirect...) follows its success rate."""
    if scripted is not None:
        return scripted
    return by_rate(draw_rate(method), PAYMENT_METHOD_FAILED)


def by_rate(succeeded: bool, failure_reason: str) -> Outcome:
    return Outcome(SUCCEED) if succeeded else Outcome(FAIL, failure_reason)
