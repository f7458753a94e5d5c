"""A minimal GovPay+ merchant ("GO") for testing the provider side: it answers presentment
and update calls as scripted, checks the caller's token, decrypts what is encrypted, and
records every call it receives (decrypted) for the test to look at."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass
from dataclasses import field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding as asymmetric
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers import modes
from flask import Flask
from flask import jsonify
from flask import request

from mock_psp.runtime.server import ServerThread


def _cipher(transaction_key: bytes) -> Cipher:
    key = hashlib.sha256(transaction_key).digest()
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def decrypt(transaction_key: bytes, text: str) -> str:
    decryptor = _cipher(transaction_key).decryptor()
    padded = decryptor.update(base64.b64decode(text)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(padded) + unpadder.finalize()).decode()


def encrypt(transaction_key: bytes, text: str) -> str:
    padder = padding.PKCS7(128).padder()
    data = padder.update(text.encode()) + padder.finalize()
    encryptor = _cipher(transaction_key).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


@dataclass
class Call:
    kind: str
    headers: dict
    body: dict  # data[] decrypted when it came encrypted
    encrypted: bool


@dataclass
class FakeGo:
    """Behaviour knobs a test sets before the provider calls."""

    amounts: dict[str, str] = field(default_factory=dict)  # refNo -> "1500.00" (payable)
    not_payable: set[str] = field(default_factory=set)
    token: str = "go-secret-token"
    oauth: bool = False
    encryption: bool = False
    update_failures: int = 0  # answer this many updates with 500 first
    bad_ack: bool = False
    revoked: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    tokens_issued: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.subinst_id = "SUB" + secrets.token_hex(4).upper()
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.lock = threading.Lock()

    @property
    def public_pem(self) -> str:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def settings(self, url: str) -> dict:
        auth = ({"type": "oauth2", "token_url": f"{url}/oauth/token", "client_id": "govpay",
                 "client_secret": "s3cret", "scope": "payments"} if self.oauth
                else {"type": "bearer", "token": self.token})
        return {"validate_url": f"{url}/validate", "update_url": f"{url}/update", "subinst_id": self.subinst_id,
                "service_id": "SRV001", "service_name": "Test service", "auth": auth,
                "encryption_public_key": self.public_pem if self.encryption else None}

    def calls_of(self, kind: str) -> list[Call]:
        return [c for c in self.calls if c.kind == kind]


def app_for(go: FakeGo) -> Flask:
    app = Flask("fake_go")

    def authorised() -> bool:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if go.oauth:
            return given in go.tokens_issued and given not in go.revoked
        return secrets.compare_digest(given, go.token)

    def read(kind: str) -> tuple[dict, bytes | None]:
        body = request.get_json()
        key = None
        if "TransactionKey" in request.headers:
            oaep = asymmetric.OAEP(mgf=asymmetric.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
            key = go.private_key.decrypt(base64.b64decode(request.headers["TransactionKey"]), oaep)
            body["data"] = [{k: decrypt(key, v) for k, v in item.items()} for item in body["data"]]
        with go.lock:
            go.calls.append(Call(kind, {k.lower(): v for k, v in request.headers.items()}, body, key is not None))
        return body, key

    def items_answer(body: dict, key: bytes | None, name: str, items: list[dict]) -> dict:
        if key is not None:
            items = [{k: encrypt(key, v) for k, v in item.items()} for item in items]
        return {"transactionID": body["transactionID"], "subinstId": body["subinstId"],
                "serviceid": body["serviceid"], "serviceName": body["serviceName"], "message": "Success", name: items}

    @app.post("/oauth/token")
    def token():
        auth = request.authorization
        if not auth or (auth.username, auth.password) != ("govpay", "s3cret"):
            return jsonify({"error": "invalid_client"}), 401
        issued = secrets.token_hex(16)
        go.tokens_issued.append(issued)
        return jsonify({"access_token": issued, "token_type": "Bearer", "expires_in": 3600})

    @app.post("/validate")
    def validate():
        if not authorised():
            return jsonify({"error": "unauthorized", "message": "bad token"}), 401
        body, key = read("validate")
        ref = body["data"][0]["value"]
        if ref in go.not_payable:
            return jsonify({"error": "not_payable", "message": "already paid"}), 409
        if ref not in go.amounts:
            return jsonify({"error": "invalid_reference", "message": "invalid reference number"}), 404
        items = [{"objType": "label", "seq": "1", "id": "0010001", "placeholder": "Reference Number",
                  "initialValue": ref, "returnedParam": "refNo", "isPaymentReference": "true",
                  "isPaymentAmount": "false"},
                 {"objType": "textBox", "seq": "2", "id": "0020002", "placeholder": "Amount To Be Paid",
                  "initialValue": go.amounts[ref], "returnedParam": "amount", "isPaymentReference": "false",
                  "isPaymentAmount": "true"},
                 {"objType": "label", "seq": "3", "id": "0030003", "placeholder": "Currency",
                  "initialValue": "LKR", "returnedParam": "currency"}]
        return jsonify(items_answer(body, key, "presentmentData", items))

    @app.post("/update")
    def update():
        if not authorised():
            return jsonify({"error": "unauthorized", "message": "bad token"}), 401
        body, key = read("update")
        with go.lock:
            if go.update_failures > 0:
                go.update_failures -= 1
                return jsonify({"error": "busy"}), 500
        if go.bad_ack:
            return jsonify({"status": "accepted"})
        receipt = [{"objType": "label", "placeholder": "Receipt Number",
                    "initialValue": f"REC-{body['transactionID']}"}]
        return jsonify(items_answer(body, key, "paymentData", receipt))

    return app


class RunningGo:
    def __init__(self, go: FakeGo):
        self.go = go
        self.server = ServerThread(app_for(go), "127.0.0.1", 0).start()
        self.url = self.server.url

    def stop(self) -> None:
        self.server.stop()
