"""The magic card numbers of Hyperswitch's dummy connector (routes/dummy_connector/utils.rs)."""

from __future__ import annotations

from ...domain.outcomes import CARD_DECLINED
from ...domain.outcomes import FAIL
from ...domain.outcomes import INSUFFICIENT_FUNDS
from ...domain.outcomes import LOST_CARD
from ...domain.outcomes import STOLEN_CARD
from ...domain.outcomes import CardBook
from ...domain.outcomes import magic

TEST_CARDS = CardBook({
    "4111111111111111": (magic(), "Visa: succeeds"),
    "4242424242424242": (magic(), "Visa: succeeds"),
    "5555555555554444": (magic(), "Mastercard: succeeds"),
    "38000000000006": (magic(), "Diners Club: succeeds"),
    "378282246310005": (magic(), "American Express: succeeds"),
    "6011111111111117": (magic(), "Discover: succeeds"),
    "5105105105105100": (magic(FAIL, CARD_DECLINED), "Mastercard: declined"),
    "4000000000000002": (magic(FAIL, CARD_DECLINED), "Visa: declined"),
    "4000000000009995": (magic(FAIL, INSUFFICIENT_FUNDS), "Visa: insufficient funds"),
    "4000000000009987": (magic(FAIL, LOST_CARD), "Visa: lost card"),
    "4000000000009979": (magic(FAIL, STOLEN_CARD), "Visa: stolen card"),
    "4000003800000446": (magic(challenge=True), "Visa: 3DS challenge"),
})
