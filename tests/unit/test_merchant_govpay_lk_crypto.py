"""GovPay+ call encryption, the merchant's half: RSA-OAEP key unwrap, AES-256-CBC fields.

The fixed vectors below were made with the OpenSSL command line, not with the
``cryptography`` library the merchant uses, so a misreading shared by the code
and its round-trip tests would still be caught:

    TK=0123456789abcdefGHIJKLMNOPqrstuv
    KEY=$(printf %s "$TK" | openssl dgst -sha256 -hex | awk '{print $2}')   # key = SHA-256(TK)
    printf %s "refNo" | openssl enc -aes-256-cbc -K $KEY -iv ${KEY:0:32} -base64 -A   # IV = key[:16]
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out test.pem
    printf %s "$TK" | openssl pkeyutl -encrypt -pubin -inkey <(openssl pkey -in test.pem -pubout) \\
        -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 | base64 -w0

The private key is a throwaway made for this test and nothing else.
"""

from __future__ import annotations

import base64

import pytest

from mock_psp.test_merchant import govpay_lk_crypto as crypto

TRANSACTION_KEY = b"0123456789abcdefGHIJKLMNOPqrstuv"
# AES-256-CBC, key = SHA-256(TRANSACTION_KEY), IV = key[:16], PKCS#7, base64 (openssl enc).
FIELD_VECTORS = {
    "refNo": "mAupQBIQEgyMUTI16B9IwA==",
    "TS8K2M4Q7ZP1": "lkieBfrrhlD8gUuYw/CkVg==",
    "1500.00": "jn7X0f2B04HvbM9VPjxkKA==",
    "": "Q4+lV8zXGYWtcJFtVEHOQA==",
    "Amount To Be Paid": "5U01R2aK/CVH9eJkNdVrdQznGUHDWWvUAx1yOeDSfbk=",  # two blocks
    "Payment recorded": "h+hSMAl70Zd4+I8EFA2w1Dg9tTU0qOxKM9NiL/nz+eI=",  # exactly one block, then a padding block
}
TEST_PRIVATE_KEY = """\
-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDKHFy3W49DLXq8
Z8o6nbzcZSqJdlotzC67eDVt8uyZzf8xtP+gen3HO79LW/gjvJu6c9LTGGIMZFmD
q268lBLe/kmoCT1MFR7KFStxi6FeWs05CtfrpotirX7Yz1grueAQdKjhcle+7v9y
TX08X25weVSFvsuk3iJYLo5tAvZAn1sf9XHG2/SUYe1azWbqJmEECWlz/Z28dDgp
bd9J20GR3KokUTifIXrEsCD1B1kO3ImOx8CW1SoyDKdWb9ZRC55yP2wTJyw3JXmE
CgWCl6j35kNUAi3Kvz3ImnuPnRl7SwfJdxP3KZJ2rB0mY+8CDcPd3rmyacvMFf6P
tRqvS+AZAgMBAAECggEAALOCPVcdm0CvRDPSe2tUbknSENXGqJHEqD0Zp1rgSATT
UbV0bRa7tLsf9eeY5+vVuPsBpF6ZaXxYJKktuk0Dtz8X25PDoQ3SNGaIJu3SdqC3
RU9EskI6ydH7Bo7KmiU8EiaLdvPF+uk6nOeIq5LTr+N13/xqWbU1Fov7zcREvTLm
wllqmMsUg0S1h2iEviobn5bKbjvsk0+M6foNP5b9K5jhWLXrV1QNQyVGS6na4G8D
0DZU3SoP8xYI/55bjMCh0If96GL8JNHAgAaKRQTCTL1vs0aNdN4xEHRDQZu3/goF
FJ0MDfdc7NeDhIOZWZtCFtpYYI827JLkOKmONDs6EQKBgQDrlQFsWkpS0TYNbzwW
0zG7Gy5YeSXYZgFUjQJDM6FwjKXKsGpiT9gBa2IdltyhJ8EPOjTnu99Ot7ZwbBA4
Hk3Pn8oJudKRjjjFRcgq4wdAHj7ZemaHcUDazCYERxn8d/gcIYYLL5OlmHFOk4h/
PjcwrNgQcnxUejvcnS8FU4W/cQKBgQDboLXgUKT9jXEQV5mWQIATUl05w/p3PvHc
ry1KlOcxU/hO9GBgF/USG3rVaqnmKWApJqvP/l5L5nCT6PzFnwtrRzTa0MvGFhzm
CHNXrA620cnSCbyaMeustW/dvnpGPW828NcXHqdbrb6NzbHKcxMDF8RlhaE0kUAd
qieoqxYnKQKBgQCEJIO03HyeMb4JESD6iKJ3moqHlAT3elg6rhHb0iU3NZ11sTkr
RjAas7pIcKv3NY5kVTkB128t/3y1WNhMMithT/cLN5F2lfkgJsFd1RTnEVAduzux
s4Q2dpbIhX19EWo5lVBUC+7cz0KXWcgR37sjcYCM0TsOQ7Y6TGzopu358QKBgQDP
ktDStOV7DlcxztlF/KgPmuSpV+Q9F6yXmqj/uEPZhzdDyAveRkZFWtt5IVp6Qdi0
i+wOpKaSrbTw1l8wl+S++4mk1XoCOZwOfSYmUmOFvjk03ib2xP+tN74GoaQHBsE5
994R59Lc/xT+CM5kPOZXIftoyCdX+3/RiaP58dj6IQKBgGuyzHSqPZFkVSO2IGOb
dN9YJtjdRmZk9XXIYTrgRYzfD04cg31GzamUXC3Xm2LoR2epZFDHt/GTlKtEUPPc
VLQ3ylqCuc82E3/ySCbxW92kEGnT8AAMH+oVj/18Aa7iZuCACTv09bG2uz+qubKQ
RJ8Y59Iy5TC1Hcr/DO5dd+ZR
-----END PRIVATE KEY-----
"""
# TRANSACTION_KEY, RSA-OAEP (SHA-256, MGF1-SHA-256) encrypted to TEST_PRIVATE_KEY's public half (openssl pkeyutl).
WRAPPED_TRANSACTION_KEY = (
    "VfNMqGO2feYTr9Mq8tIrncPLZqKNKhx+Qe/clAHkD9SSWClmMErzJvJBezaRFiN/0paGWANGDZ8bB9D4vuE+y7BLGNbFsgrC"
    "AQJBplPq+EbVIGOXIUL3wqx1I6P1MVZs9+hbB7gpvlWv4MUy3M0yILWY1T/oGPDSUtI82IVrv+l0R4qEO6pbYJD7aI1XTIRM"
    "UHwMQpmhmBKM4X3L4pcA7i9PTacm3JreHF0LqgM2mjmTHElw8oHJDIT+E11Xg83oUdkcYM4aPqnqZLz8z/2UEfejqH8GyEu+"
    "ywYREq7IeFXBNXx7GWMvU6gUMuXJC8AzJxAWBTBxxRK6intxA3Y26A=="
)


@pytest.fixture(scope="module")
def key_pair():
    return crypto.new_key_pair()


@pytest.fixture(scope="module")
def test_key():
    return crypto.load_private_key(TEST_PRIVATE_KEY)


# -- fields ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", FIELD_VECTORS.items())
def test_fields_encrypt_to_the_openssl_vectors(text, expected):
    assert crypto.encrypt_field(TRANSACTION_KEY, text) == expected


@pytest.mark.parametrize("text, ciphertext", FIELD_VECTORS.items())
def test_the_openssl_vectors_decrypt(text, ciphertext):
    assert crypto.decrypt_field(TRANSACTION_KEY, ciphertext) == text


@pytest.mark.parametrize("text", ["TS8K2M4Q7ZP1", "", "x" * 16, "Rs 1,500.00 — ශ්‍රී ලංකා", "a" * 1000])
def test_fields_round_trip(text):
    key = b"k" * 32
    assert crypto.decrypt_field(key, crypto.encrypt_field(key, text)) == text


def test_the_same_field_encrypts_the_same_way_under_one_key_and_differently_under_another():
    assert crypto.encrypt_field(TRANSACTION_KEY, "refNo") == crypto.encrypt_field(TRANSACTION_KEY, "refNo")
    assert crypto.encrypt_field(b"B" * 32, "refNo") != crypto.encrypt_field(TRANSACTION_KEY, "refNo")


def test_a_field_under_another_key_is_refused():
    # With the wrong key the padding check fails (for these vectors); never garbage passed on as text.
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_field(b"B" * 32, FIELD_VECTORS["TS8K2M4Q7ZP1"])


@pytest.mark.parametrize("value", ["not base64!", "", "AAAA", base64.b64encode(b"x" * 15).decode(), 42, None])
def test_a_field_that_is_not_a_ciphertext_is_refused(value):
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_field(TRANSACTION_KEY, value)


def test_every_field_of_an_object_is_encrypted_and_an_item_decrypts_its_three_fields():
    obj = {"placeholder": "Amount To Be Paid", "initialValue": "1500.00", "mask": ""}
    sealed = crypto.encrypt_object(TRANSACTION_KEY, obj)
    assert sealed == {"placeholder": FIELD_VECTORS["Amount To Be Paid"], "initialValue": FIELD_VECTORS["1500.00"],
                      "mask": FIELD_VECTORS[""]}
    item = {"seq": crypto.encrypt_field(TRANSACTION_KEY, "1"), "paramName": FIELD_VECTORS["refNo"],
            "value": FIELD_VECTORS["TS8K2M4Q7ZP1"]}
    assert crypto.decrypt_item(TRANSACTION_KEY, item) == {"seq": "1", "paramName": "refNo", "value": "TS8K2M4Q7ZP1"}


# -- the transaction key ---------------------------------------------------------------------------


def test_the_openssl_wrapped_transaction_key_unwraps(test_key):
    assert crypto.unwrap_key(test_key, WRAPPED_TRANSACTION_KEY) == TRANSACTION_KEY


def test_a_transaction_key_round_trips_through_a_fresh_key_pair(key_pair):
    private_pem, public_pem = key_pair
    wrapped = crypto.wrap_key(public_pem, TRANSACTION_KEY)
    assert crypto.unwrap_key(crypto.load_private_key(private_pem), wrapped) == TRANSACTION_KEY
    assert crypto.wrap_key(public_pem, TRANSACTION_KEY) != wrapped  # OAEP is randomised


def test_a_transaction_key_wrapped_for_another_merchant_is_refused(key_pair, test_key):
    _, public_pem = key_pair
    with pytest.raises(crypto.DecryptionError, match="private key"):
        crypto.unwrap_key(test_key, crypto.wrap_key(public_pem, TRANSACTION_KEY))


def test_a_key_wrapped_with_sha1_oaep_is_refused(test_key):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    sha1 = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    wrapped = base64.b64encode(test_key.public_key().encrypt(TRANSACTION_KEY, sha1)).decode()
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap_key(test_key, wrapped)


@pytest.mark.parametrize("header, why", [(None, "missing"), ("", "missing"), ("%%%", "not base64"),
                                         (base64.b64encode(b"x" * 256).decode(), "private key")])
def test_a_missing_or_broken_transaction_key_header_is_refused(test_key, header, why):
    with pytest.raises(crypto.DecryptionError, match=why):
        crypto.unwrap_key(test_key, header)


def test_a_transaction_key_of_the_wrong_length_is_refused(test_key):
    wrapped = crypto.wrap_key(crypto.public_pem_of(test_key), b"short")
    with pytest.raises(crypto.DecryptionError, match="not 32"):
        crypto.unwrap_key(test_key, wrapped)


def test_the_key_pair_is_rsa_2048_and_its_public_half_is_pem(key_pair):
    private_pem, public_pem = key_pair
    key = crypto.load_private_key(private_pem)
    assert key.key_size == 2048
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----") and crypto.public_pem_of(private_pem) == public_pem
