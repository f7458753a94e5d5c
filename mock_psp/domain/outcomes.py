"""How a payment ends: scripted outcomes, then magic test values, then success rates.

An Outcome is decided once, when the payment is confirmed, and stored with any
pending step (a 3DS challenge, an asynchronous completion), so a payment that
finishes later on the clock finishes the way it was decided.

Failure reasons are neutral names (``card_declined``, ``lost_card``...); each
dialect turns them into its provider's error codes and messages.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    def from_json(cls, data: dict) -> Outcome:
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


@dataclass(frozen=True)
class CardBook:
    """A sandbox's magic card numbers: what each one does, and how the pages list it.

    Each dialect has its provider's own book (``dialects/<name>/cards.py``) and hands
    it in with every card entered through it (``CardInput.book``); the card is stored
    with the outcome its book gives, so the domain decides without knowing whose
    sandbox it mimics.
    """

    cards: Mapping[str, tuple[Outcome, str]]

    def outcome(self, number: str) -> Outcome | None:
        found = self.cards.get(number)
        return found[0] if found else None

    def listing(self) -> list[dict]:
        """The cards for a page or a document: number, label and outcome."""
        return [{"number": number, "label": label, "outcome": outcome.to_json()}
                for number, (outcome, label) in self.cards.items()]


def magic(result: str = SUCCEED, reason: str | None = None, challenge: bool = False) -> Outcome:
    """The outcome of a magic test card."""
    return Outcome(result, reason, challenge=challenge, source="magic_card")


# The numbers every sandbox shares: the book of a card that comes with no dialect's outcome
# (the domain used on its own, or a card stored before cards carried their outcome).
COMMON_CARDS = CardBook({
    "4242424242424242": (magic(), "Visa: succeeds"),
    "5555555555554444": (magic(), "Mastercard: succeeds"),
    "4000000000000002": (magic(FAIL, CARD_DECLINED), "Visa: declined"),
    "4000000000009995": (magic(FAIL, INSUFFICIENT_FUNDS), "Visa: insufficient funds"),
    "4000003800000446": (magic(challenge=True), "Visa: 3DS challenge"),
})

UPI_SUCCESS = "success@upi"
UPI_FAILURE = "failure@upi"

# Test banks for bank payments (online banking): the bank says yes or no at once.
TEST_BANKS: dict[str, tuple[Outcome, str]] = {
    "TESTBANK-APPROVE": (Outcome(SUCCEED, source="magic_bank"), "Test Bank: approves"),
    "TESTBANK-DECLINE": (Outcome(FAIL, PAYMENT_METHOD_FAILED, source="magic_bank"), "Test Bank: declines"),
}


def for_card(magic_outcome: Outcome | None, card_policy: str, scripted: Outcome | None, draw_rate) -> Outcome:
    """Decide a card payment: scripted, then the magic number's outcome, then policy and rate."""
    if scripted is not None:
        return scripted
    if magic_outcome is not None:
        return magic_outcome
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
