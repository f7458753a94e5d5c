"""GOV.UK Pay's sandbox cards (pay-connector SandboxCardNumbers.java)."""

from __future__ import annotations

from ...domain.outcomes import CARD_DECLINED
from ...domain.outcomes import EXPIRED_CARD
from ...domain.outcomes import FAIL
from ...domain.outcomes import INCORRECT_CVC
from ...domain.outcomes import PROCESSING_ERROR
from ...domain.outcomes import CardBook
from ...domain.outcomes import magic

_AUTHORISED = {
    "4444333322221111": "Visa credit", "4242424242424242": "Visa", "4917610000000000003": "Visa debit",
    "4000056655665556": "Visa debit", "5105105105105100": "Mastercard", "5200828282828210": "Mastercard debit",
    "371449635398431": "American Express", "3566002020360505": "JCB", "6011000990139424": "Discover",
    "36148900647913": "Diners Club", "4000180000000002": "Visa corporate credit",
    "5101180000000007": "Mastercard corporate", "4131840000000003": "Visa corporate prepaid debit",
    "5555555555554444": "Mastercard credit", "4000000000000010": "Visa", "4000160000000004": "Visa",
    "4000020000000000": "Visa", "4988080000000000": "Visa corporate", "4111111111111111": "Visa corporate",
    "4293189100000008": "Visa corporate",
}

TEST_CARDS = CardBook({
    **{number: (magic(), f"{brand}: authorised") for number, brand in _AUTHORISED.items()},
    "4000000000000002": (magic(FAIL, CARD_DECLINED), "Visa: declined (P0010)"),
    "4000000000000069": (magic(FAIL, EXPIRED_CARD), "Visa: expired card (P0010)"),
    "4000000000000127": (magic(FAIL, INCORRECT_CVC), "Visa: incorrect CVC (P0010)"),
    "4000000000000119": (magic(FAIL, PROCESSING_ERROR), "Visa: processing error (P0050)"),
})
