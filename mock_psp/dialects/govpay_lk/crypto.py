"""GovPay+ call encryption, as the public reference integration documents it.

Per call: a fresh 32-character transaction key, RSA-OAEP (SHA-256, MGF1 SHA-256)
encrypted with the merchant's public key and sent base64 in the ``TransactionKey``
header. Fields: AES-256-CBC, key = SHA-256(transaction key), IV = the first 16
bytes of that key, PKCS#7 padding, base64 text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import string

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding as asymmetric
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers import modes

HEADER = "TransactionKey"
_KEY_ALPHABET = string.ascii_letters + string.digits


class CryptoError(Exception):
    """A field or key could not be decrypted (wrong key, not base64, bad padding)."""


def new_transaction_key() -> bytes:
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(32)).encode()


def wrap_key(public_pem: str, transaction_key: bytes) -> str:
    public_key = serialization.load_pem_public_key(public_pem.encode())
    oaep = asymmetric.OAEP(mgf=asymmetric.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    return base64.b64encode(public_key.encrypt(transaction_key, oaep)).decode()


def _cipher(transaction_key: bytes) -> Cipher:
    key = hashlib.sha256(transaction_key).digest()
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(transaction_key: bytes, text: str) -> str:
    padder = padding.PKCS7(128).padder()
    data = padder.update(text.encode()) + padder.finalize()
    encryptor = _cipher(transaction_key).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def decrypt(transaction_key: bytes, value: str) -> str:
    try:
        data = base64.b64decode(value, validate=True)
        decryptor = _cipher(transaction_key).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError, TypeError) as error:
        raise CryptoError(f"cannot decrypt a field: {error}") from None


def encrypt_items(transaction_key: bytes, items: list[dict]) -> list[dict]:
    """Every string field of every item (and of nested lists of dicts) encrypted."""
    return [_map_strings(item, lambda text: encrypt(transaction_key, text)) for item in items]


def decrypt_items(transaction_key: bytes, items: list[dict]) -> list[dict]:
    return [_map_strings(item, lambda text: decrypt(transaction_key, text)) for item in items]


def _map_strings(value, convert):
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, convert) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, convert) for v in value]
    return value
