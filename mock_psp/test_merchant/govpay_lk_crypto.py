"""GovPay+ call encryption, the merchant's half (docs/govpay-lk.md, "Encryption").

GovPay+ makes a fresh 32-character *transaction key* for every call, encrypts it
with the merchant's RSA public key (RSA-OAEP, SHA-256, MGF1-SHA-256) and sends it
base64 in the ``TransactionKey`` header. Every ``data[]`` field is AES-256-CBC
encrypted, base64, with key = SHA-256(transaction key), IV = the first 16 bytes
of that key, PKCS#7 padding. The merchant unwraps the key with its private key,
decrypts the fields, and encrypts every field of its answer the same way.

The IV is derived, not random, so a field encrypts to the same text every time
under one transaction key: that is the scheme, and what lets both sides pin
test vectors. Nothing here is hand-rolled: RSA and AES come from ``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding as asymmetric
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers import modes

HEADER = "TransactionKey"
KEY_BITS = 2048
TRANSACTION_KEY_BYTES = 32
_OAEP = asymmetric.OAEP(mgf=asymmetric.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


class DecryptionError(Exception):
    """A transaction key or a field this merchant cannot decrypt (wrong key, not base64, bad padding)."""


# -- the merchant's key pair -----------------------------------------------------------------------


def new_key_pair() -> tuple[str, str]:
    """A fresh RSA-2048 key pair as (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    return private_pem, public_pem_of(key)


def load_private_key(private_pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the GovPay+ key must be an RSA private key")
    return key


def public_pem_of(key: rsa.RSAPrivateKey | str) -> str:
    """The public half, PEM (SubjectPublicKeyInfo), as the merchant registers it with the provider."""
    if isinstance(key, str):
        key = load_private_key(key)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


# -- the transaction key ---------------------------------------------------------------------------


def unwrap_key(private_key: rsa.RSAPrivateKey, header: str | None) -> bytes:
    """The transaction key from a ``TransactionKey`` header, or DecryptionError saying why."""
    if not header or not header.strip():
        raise DecryptionError(f"missing {HEADER} header")
    try:
        wrapped = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError(f"{HEADER} is not base64") from None
    try:
        key = private_key.decrypt(wrapped, _OAEP)
    except ValueError:
        raise DecryptionError(f"{HEADER} does not decrypt with this merchant's private key") from None
    if len(key) != TRANSACTION_KEY_BYTES:
        raise DecryptionError(f"the transaction key is {len(key)} bytes, not {TRANSACTION_KEY_BYTES}")
    return key


def wrap_key(public_pem: str, transaction_key: bytes) -> str:
    """The provider's half (for tests): encrypt a transaction key for the ``TransactionKey`` header."""
    public_key = serialization.load_pem_public_key(public_pem.encode())
    return base64.b64encode(public_key.encrypt(transaction_key, _OAEP)).decode()


# -- fields ------------------------------------------------------------------------------------------


def _cipher(transaction_key: bytes) -> Cipher:
    key = hashlib.sha256(transaction_key).digest()
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt_field(transaction_key: bytes, text: str) -> str:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(text.encode("utf-8")) + padder.finalize()
    encryptor = _cipher(transaction_key).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def decrypt_field(transaction_key: bytes, value: object) -> str:
    """One encrypted field back to text, or DecryptionError (a wrong key almost always
    shows as bad padding; when it does not, the text is garbage and fails validation later)."""
    if not isinstance(value, str):
        raise DecryptionError(f"an encrypted field must be a base64 string, not {type(value).__name__}")
    try:
        data = base64.b64decode(value, validate=True)
        if not data or len(data) % 16:
            raise ValueError("not a whole number of AES blocks")
        decryptor = _cipher(transaction_key).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise DecryptionError(f"a field does not decrypt with this call's key ({error})") from None


def encrypt_object(transaction_key: bytes, obj: dict[str, str]) -> dict[str, str]:
    """Every field of a presentmentData / paymentData object, encrypted."""
    return {name: encrypt_field(transaction_key, value) for name, value in obj.items()}


def decrypt_item(transaction_key: bytes, item: dict) -> dict:
    """A ``data[]`` item with its ``seq``, ``paramName`` and ``value`` decrypted."""
    return {**item, **{name: decrypt_field(transaction_key, item[name])
                       for name in ("seq", "paramName", "value") if name in item}}
