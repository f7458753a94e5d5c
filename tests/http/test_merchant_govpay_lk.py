"""The test merchant's GovPay+ side through Flask's test client: presentment, update, OAuth2
tokens, encryption, orders by reference, reconciliation and provisioning.

No provider runs here. The tests play GovPay+ themselves (``GovPay`` builds calls the
way the provider does, encrypting them with the shop's public key), and the shop's
status inquiry is a table the test fills (``FakeInquiry``).
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask import jsonify
from flask import request

from mock_psp.test_merchant import govpay_lk_crypto as crypto
from mock_psp.test_merchant.app import create_app
from mock_psp.test_merchant.provision import provision
from mock_psp.test_merchant.psp.base import ProviderError
from mock_psp.test_merchant.psp.govpay_lk import GovpayLkClient

SHOP = "http://shop.test"
PSP = "http://psp.test"
TID = "2611220000000001"
TRANSACTION_KEY = b"0123456789abcdefGHIJKLMNOPqrstuv"


@pytest.fixture(scope="module")
def private_pem():
    # One key pair for the module: RSA key generation is the slow part of setting a shop up.
    return crypto.new_key_pair()[0]


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.value = now

    def now(self) -> float:
        return self.value


class FakeInquiry(GovpayLkClient):
    """The shop's GovPay+ client, its status inquiry answered from ``transactions`` (newest last)."""

    def __init__(self):
        super().__init__(f"{PSP}/govpay-lk", {"api_key": "gplk_test"})
        self.transactions: list[dict] = []
        self.asked: list[str] = []
        self.down = False

    def add(self, ref: str, status: str = "SUCCESS", amount: str = "1500.00", currency: str = "LKR",
            transaction_id: str = TID) -> dict:
        transaction = {"transactionID": transaction_id, "refNo": ref, "subinstId": "", "serviceid": "SRV001",
                       "amount": amount, "currency": currency, "status": status, "paymentMethod": "CARD"}
        self.transactions = [t for t in self.transactions if t["transactionID"] != transaction_id] + [transaction]
        return transaction

    def get_transaction(self, transaction_id: str) -> dict | None:
        self.asked.append(transaction_id)
        if self.down:
            raise ProviderError("status inquiry: HTTP 503", status=503, uncertain=True)
        found = [t for t in self.transactions if t["transactionID"] == transaction_id]
        return dict(found[0]) if found else None

    def list_transactions(self, ref_no: str) -> list[dict]:
        self.asked.append(ref_no)
        if self.down:
            raise ProviderError("status inquiry by refNo: HTTP 503", status=503, uncertain=True)
        return [dict(t) for t in reversed(self.transactions) if t["refNo"] == ref_no]


class Shop:
    """A govpay-lk test merchant in memory, set up as provisioning would, and GovPay+'s side of it."""

    def __init__(self, private_pem: str, auth: str = "bearer", encryption: bool = True):
        self.app = create_app({"dialect": "govpay-lk", "db": ":memory:", "psp_url": PSP})
        self.merchant = self.app.extensions["test_merchant"]
        self.merchant.store.save_settings({"govpay_lk_private_key": private_pem})
        self.merchant.wiring.url = SHOP
        self.settings = self.merchant.govpay.setup(SHOP, "ns_test", auth=auth, encryption=encryption)
        self.inquiry = self.merchant.client = FakeInquiry()
        self.clock = self.merchant.clock = FakeClock()
        self.http = self.app.test_client()
        self.encrypt = encryption
        self.token = self.settings["auth"].get("token")

    def close(self):
        self.merchant.store.close()

    # -- the shop's own API ----------------------------------------------------------------------

    def order(self, amount: int = 150000) -> dict:
        reply = self.http.post("/_merchant/orders", json={"amount": amount, "currency": "LKR"})
        assert reply.status_code == 201, reply.get_data(as_text=True)
        return reply.get_json()

    def get_order(self, order_id: str) -> dict:
        return self.http.get(f"/_merchant/orders/{order_id}").get_json()

    def log(self, **params) -> list[dict]:
        return self.http.get("/_merchant/webhook-log", query_string=params).get_json()["data"]

    # -- GovPay+'s calls ---------------------------------------------------------------------------

    def body(self, ref: str | None, *extra: tuple[str, str], transaction_id: str = TID, **envelope) -> dict:
        items = ([("refNo", ref)] if ref is not None else []) + list(extra)
        return {"transactionID": transaction_id, "subinstId": self.settings["subinst_id"],
                "serviceid": self.settings["service_id"], "serviceName": self.settings["service_name"],
                "data": [{"seq": str(i), "paramName": name, "value": value} for i, (name, value) in enumerate(items, 1)],
                **envelope}

    def update_body(self, ref: str, status: str = "SUCCESS", amount: str = "1500.00", transaction_id: str = TID,
                    **envelope) -> dict:
        return self.body(ref, ("amount", amount), ("currency", "LKR"), ("status", status), ("paymentMethod", "CARD"),
                         ("gatewayTransactionId", "GPG0001"), ("timestamp", "2026-11-22T08:00:00.000Z"),
                         transaction_id=transaction_id, **envelope)

    def call(self, path: str, body: object, token: object = ..., encrypt: bool | None = None,
             headers: dict | None = None, raw: bytes | None = None):
        """POST as GovPay+ does: bearer token, and with encryption every data[] field encrypted
        and the key wrapped in TransactionKey. The answer's items come back decrypted."""
        encrypt = self.encrypt if encrypt is None else encrypt
        sent = dict(headers or {})
        token = self.token if token is ... else token
        if token is not None:
            sent.setdefault("Authorization", f"Bearer {token}")
        if encrypt and isinstance(body, dict):
            public_pem = crypto.public_pem_of(self.merchant.store.setting("govpay_lk_private_key"))
            sent.setdefault(crypto.HEADER, crypto.wrap_key(public_pem, TRANSACTION_KEY))
            body = {**body, "data": [crypto.encrypt_object(TRANSACTION_KEY, item) for item in body["data"]]}
        data = raw if raw is not None else json.dumps(body).encode()
        reply = self.http.post(path, data=data, headers=sent, content_type="application/json")
        answer = reply.get_json()
        if encrypt and reply.status_code == 200:
            for name in ("presentmentData", "paymentData"):
                if name in answer:
                    answer[f"raw_{name}"] = answer[name]
                    answer[name] = [{k: crypto.decrypt_field(TRANSACTION_KEY, v) for k, v in obj.items()}
                                    for obj in answer[name]]
        return reply.status_code, answer

    def present(self, ref: str | None, transaction_id: str = TID, **kwargs):
        return self.call("/govpay-lk/validate", self.body(ref, transaction_id=transaction_id), **kwargs)

    def update(self, ref: str, status: str = "SUCCESS", transaction_id: str = TID, **kwargs):
        return self.call("/govpay-lk/update", self.update_body(ref, status, transaction_id=transaction_id), **kwargs)

    def get_token(self, **kwargs):
        auth = self.settings["auth"]
        basic = base64.b64encode(f"{auth['client_id']}:{auth['client_secret']}".encode()).decode()
        reply = self.http.post("/oauth/token", data={"grant_type": "client_credentials", **kwargs},
                               headers={"Authorization": f"Basic {basic}"})
        assert reply.status_code == 200, reply.get_data(as_text=True)
        return reply


@pytest.fixture
def make_shop(private_pem):
    made = []

    def make(**options) -> Shop:
        shop = Shop(private_pem, **options)
        made.append(shop)
        return shop

    yield make
    for shop in made:
        shop.close()


@pytest.fixture
def shop(make_shop) -> Shop:
    """Bearer token, encryption on: the default set-up."""
    return make_shop()


@pytest.fixture
def clear_shop(make_shop) -> Shop:
    return make_shop(encryption=False)


@pytest.fixture
def oauth_shop(make_shop) -> Shop:
    shop = make_shop(auth="oauth2", encryption=False)
    shop.token = shop.get_token().get_json()["access_token"]
    return shop


def by_placeholder(objects: list[dict]) -> dict:
    return {obj["placeholder"]: obj for obj in objects}


# -- orders ------------------------------------------------------------------------------------------


def test_an_order_gets_a_reference_and_a_checkout_url_with_no_call_to_the_provider(shop):
    order = shop.order()
    ref = order["payment_id"]
    assert re.fullmatch(r"TS[A-Z0-9]{12}", ref)
    assert (order["state"], order["currency"], order["provider_status"]) == ("pending", "LKR", "NO_TRANSACTION")
    assert order["checkout"] == {
        "ref_no": ref,
        "redirect_url": f"{PSP}/govpay-lk/pay?ref={ref}&return={SHOP}/orders/{order['id']}/return"}
    assert shop.inquiry.asked == []


def test_an_order_with_a_card_is_refused_because_govpay_takes_payments_on_its_own_page(shop):
    reply = shop.http.post("/_merchant/orders", json={"amount": 150000, "currency": "LKR",
                                                      "card": "4242424242424242"})
    assert reply.status_code == 400
    error = reply.get_json()["error"]
    assert error["code"] == "card_not_supported" and "GovPay's page" in error["message"]
    assert "checkout" in error["message"]


def test_orders_are_in_lkr_only(shop):
    reply = shop.http.post("/_merchant/orders", json={"amount": 1000, "currency": "USD"})
    assert (reply.status_code, reply.get_json()["error"]["code"]) == (400, "invalid_currency")


def test_refunds_are_not_supported(shop):
    order = shop.order()
    shop.inquiry.add(order["payment_id"])
    shop.update(order["payment_id"])
    reply = shop.http.post(f"/_merchant/orders/{order['id']}/refunds", json={})
    assert (reply.status_code, reply.get_json()["error"]["code"]) == (409, "refunds_not_supported")
    assert shop.http.post("/_merchant/orders/ord-nope/refunds", json={}).status_code == 404


def test_the_product_page_offers_only_the_redirect_and_buying_goes_to_govpay(shop):
    page = shop.http.get("/").get_data(as_text=True)
    assert 'data-test-id="pay-redirect-button"' in page and 'data-test-id="pay-modal-button"' not in page
    assert "1,500.00" in page and "mock-psp.js" not in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    reply = shop.http.post("/buy", data={"mode": "modal", "token": "t1", "csrf_token": csrf})  # no modal: still the redirect
    assert reply.status_code == 303
    assert reply.headers["Location"].startswith(f"{PSP}/govpay-lk/pay?ref=TS")


def test_the_config_shows_the_govpay_endpoints_and_no_secret(shop):
    config = shop.http.get("/_merchant/config").get_json()
    gp = config["govpay_lk"]
    assert (gp["validate_url"], gp["update_url"], gp["auth"], gp["encryption"], gp["token_url"]) == (
        f"{SHOP}/govpay-lk/validate", f"{SHOP}/govpay-lk/update", "bearer", True, None)
    assert config["webhook_url"] == f"{SHOP}/govpay-lk/update"
    assert gp["public_key"] == shop.settings["encryption_public_key"]
    assert shop.token not in json.dumps(config)


def test_the_webhook_route_is_not_for_govpay(shop):
    reply = shop.http.post("/webhooks/govpay-lk", json={})
    assert reply.status_code == 404


# -- presentment ---------------------------------------------------------------------------------------


def test_presentment_answers_the_reference_amount_and_currency_encrypted(shop):
    order = shop.order(150000)
    ref = order["payment_id"]
    status, answer = shop.present(ref)
    assert status == 200
    assert {k: answer[k] for k in ("transactionID", "subinstId", "serviceid", "serviceName", "message")} == {
        "transactionID": TID, "subinstId": shop.settings["subinst_id"], "serviceid": "SRV001",
        "serviceName": "mock-psp test shop", "message": "Success"}
    objects = by_placeholder(answer["presentmentData"])
    assert list(objects) == ["Reference Number", "Amount To Be Paid", "Currency"]
    reference, amount, currency = objects.values()
    assert (reference["initialValue"], reference["isPaymentReference"], reference["returnedParam"]) == (
        ref, "true", "refNo")
    assert (amount["initialValue"], amount["isPaymentAmount"], amount["returnedParam"], amount["datatype"]) == (
        "1500.00", "true", "amount", "decimal")
    assert (currency["initialValue"], currency["returnedParam"]) == ("LKR", "currency")
    assert [obj["id"] for obj in objects.values()] == ["0010001", "0020002", "0030003"]
    fields = {"objType", "seq", "id", "placeholder", "initialValue", "datatype", "maxLength", "selectionType", "mask",
              "notNull", "enabled", "returned", "rows", "cols", "returnedParam", "isPaymentReference",
              "isPaymentAmount", "returnedValue"}
    for obj in answer["presentmentData"]:
        assert set(obj) == fields and all(isinstance(v, str) for v in obj.values())
    # On the wire every field was encrypted with this call's key.
    raw = answer["raw_presentmentData"][1]
    assert raw["initialValue"] == crypto.encrypt_field(TRANSACTION_KEY, "1500.00")
    [row] = shop.log()
    assert (row["event_type"], row["event_id"], row["payment_id"], row["result"], row["signature_valid"]) == (
        "govpay_presentment", f"{TID}:presentment", ref, "ok", True)


def test_presentment_without_encryption_is_in_clear(clear_shop):
    order = clear_shop.order(2750)
    status, answer = clear_shop.present(order["payment_id"])
    assert status == 200
    assert by_placeholder(answer["presentmentData"])["Amount To Be Paid"]["initialValue"] == "27.50"


def test_an_unknown_reference_is_404_invalid_reference(shop):
    shop.order()
    status, answer = shop.present("TSNOSUCHREF0")
    assert (status, answer["error"]) == (404, "invalid_reference")
    assert shop.log()[0]["result"] == "invalid_reference"


@pytest.mark.parametrize("envelope", [{"subinstId": "SUBSOMEONEELSE"}, {"serviceid": "SRV999"},
                                      {"subinstId": ""}])
def test_a_call_for_another_service_gets_what_an_unknown_reference_gets(shop, envelope):
    ref = shop.order()["payment_id"]
    status, answer = shop.call("/govpay-lk/validate", shop.body(ref, **envelope))
    assert (status, answer) == (404, {"error": "invalid_reference", "message": "invalid reference number"})
    [row] = shop.log()
    assert row["result"] == "invalid_reference" and "identity mismatch" in row["detail"]


def test_a_paid_order_is_409_not_payable(shop):
    ref = shop.order()["payment_id"]
    shop.inquiry.add(ref)
    shop.update(ref)
    status, answer = shop.present(ref, transaction_id="2611220000000002")
    assert (status, answer["error"]) == (409, "not_payable")
    assert shop.log(result="not_payable")[0]["event_type"] == "govpay_presentment"


def test_a_cancelled_order_is_409_not_payable(shop):
    order = shop.order()
    with shop.merchant.store.write() as db:
        db.execute("UPDATE orders SET state = 'cancelled', payment_state = 'cancelled' WHERE id = ?", [order["id"]])
    status, answer = shop.present(order["payment_id"])
    assert (status, answer["error"]) == (409, "not_payable")


@pytest.mark.parametrize("ref", ["TS-12345", "TS 12345", "TS12345678901234567890", "ශ්‍රී"])
def test_a_reference_that_is_not_alphanumeric_or_is_over_20_characters_is_400(shop, ref):
    status, answer = shop.present(ref)
    assert (status, answer["error"]) == (400, "bad_request")
    assert shop.log()[0]["result"] == "malformed"


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"data": []}', b'{"transactionID": "1", "data": {}}',
                                 b'{"transactionID": "1", "data": [7]}', b'{"transactionID": {}, "data": []}',
                                 b'{"transactionID": "1", "data": [{"seq": "1", "value": "x"}]}'])
def test_malformed_calls_are_400_bad_request(clear_shop, raw):
    status, answer = clear_shop.call("/govpay-lk/validate", None, raw=raw)
    assert (status, answer["error"]) == (400, "bad_request")
    [row] = clear_shop.log()
    assert (row["result"], row["event_type"]) == ("malformed", "govpay_presentment")


def test_a_presentment_without_refno_is_400(shop):
    shop.order()
    status, answer = shop.call("/govpay-lk/validate", shop.body(None, ("other", "x")))
    assert (status, answer["error"]) == (400, "bad_request")


def test_variant_field_names_and_numbers_for_strings_are_understood(clear_shop):
    ref = clear_shop.order()["payment_id"]
    body = {"transactionId": 2611220000000009, "suinstId": clear_shop.settings["subinst_id"], "serviced": "SRV001",
            "serviceName": "x", "data": [{"seq": 1, "paramName": "refNo", "value": ref}]}
    status, answer = clear_shop.call("/govpay-lk/validate", body)
    assert status == 200 and answer["transactionID"] == "2611220000000009"
    body = {"transactionID": "7", "subinstId": clear_shop.settings["subinst_id"], "serviceId": "SRV001",
            "data": [{"seq": "1", "paramName": "REFNO", "value": ref}]}
    assert clear_shop.call("/govpay-lk/validate", body)[0] == 200


def test_an_amount_sent_as_a_number_is_read_exactly(clear_shop):
    ref = clear_shop.order()["payment_id"]
    clear_shop.inquiry.add(ref)
    body = clear_shop.update_body(ref)
    body["data"][1]["value"] = 1500.00
    raw = json.dumps(body).replace('"value": 1500.0', '"value": 1500.00').encode()
    status, answer = clear_shop.call("/govpay-lk/update", None, raw=raw)
    assert status == 200 and by_placeholder(answer["paymentData"])["amount"]["initialValue"] == "1500.00"


def test_an_oversized_call_is_413_before_it_is_read(shop):
    status, answer = shop.call("/govpay-lk/validate", None, raw=b"{" + b" " * (256 * 1024) + b"}")
    assert (status, answer["error"]) == (413, "too_large")
    [row] = shop.log()
    assert row["result"] == "too_large" and row["size"] > 256 * 1024


# -- authentication -------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers, why", [({}, "missing"), ({"Authorization": "Bearer guess"}, "not this shop's"),
                                          ({"Authorization": "Basic Z292cGF5Omd1ZXNz"}, "not a bearer"),
                                          ({"Authorization": "Bearer"}, "not a bearer")])
def test_a_call_without_the_shops_token_is_401_and_logged(shop, headers, why):
    ref = shop.order()["payment_id"]
    status, answer = shop.present(ref, token=None, headers=headers)
    assert status == 401 and answer["error"] == "unauthorized" and why in answer["message"]
    [row] = shop.log()
    assert (row["result"], row["signature_valid"], row["event_type"]) == ("unauthorized", False,
                                                                         "govpay_presentment")


def test_an_update_without_the_shops_token_is_refused_and_changes_nothing(shop):
    ref = shop.order()["payment_id"]
    shop.inquiry.add(ref)
    status, answer = shop.update(ref, token="forged")
    assert (status, answer["error"]) == (401, "unauthorized")
    assert shop.log()[0]["result"] == "signature_invalid"
    assert shop.inquiry.asked == []
    assert shop.http.get("/_merchant/orders").get_json()["data"][0]["state"] == "pending"


# -- OAuth2 ---------------------------------------------------------------------------------------------


def test_oauth2_issues_short_lived_bearer_tokens_that_the_calls_accept(oauth_shop):
    reply = oauth_shop.get_token(scope="govpay")
    token = reply.get_json()
    assert (token["token_type"], token["expires_in"], token["scope"]) == ("Bearer", 300, "govpay")
    assert reply.headers["Cache-Control"] == "no-store"
    ref = oauth_shop.order()["payment_id"]
    assert oauth_shop.present(ref, token=token["access_token"])[0] == 200


def test_oauth2_client_credentials_may_come_in_the_form(oauth_shop):
    auth = oauth_shop.settings["auth"]
    assert auth["token_url"] == f"{SHOP}/oauth/token"
    reply = oauth_shop.http.post("/oauth/token", data={"grant_type": "client_credentials",
                                                       "client_id": auth["client_id"],
                                                       "client_secret": auth["client_secret"]})
    assert reply.status_code == 200 and reply.get_json()["access_token"]


@pytest.mark.parametrize("form, basic, status, error", [
    ({"grant_type": "client_credentials"}, ("{id}", "wrong"), 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, ("someone", "{secret}"), 401, "invalid_client"),
    ({"grant_type": "client_credentials", "client_id": "{id}", "client_secret": "wrong"}, None, 401,
     "invalid_client"),
    ({"grant_type": "client_credentials"}, None, 400, "invalid_request"),
    ({"grant_type": "password"}, ("{id}", "{secret}"), 400, "unsupported_grant_type"),
    ({}, ("{id}", "{secret}"), 400, "invalid_request"),
    ({"grant_type": "client_credentials", "client_id": "other"}, ("{id}", "{secret}"), 400, "invalid_request"),
])
def test_bad_token_requests_are_refused(oauth_shop, form, basic, status, error):
    auth = oauth_shop.settings["auth"]

    def fill(text):
        return text.format(id=auth["client_id"], secret=auth["client_secret"])

    headers = {}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{fill(basic[0])}:{fill(basic[1])}".encode()).decode()
    reply = oauth_shop.http.post("/oauth/token", data={k: fill(v) for k, v in form.items()}, headers=headers)
    assert (reply.status_code, reply.get_json()["error"]) == (status, error)
    if status == 401:
        assert reply.headers["WWW-Authenticate"].startswith("Basic")


def test_an_expired_token_is_refused_and_a_new_one_works(oauth_shop):
    ref = oauth_shop.order()["payment_id"]
    oauth_shop.clock.value += 299
    assert oauth_shop.present(ref)[0] == 200
    oauth_shop.clock.value += 2
    status, answer = oauth_shop.present(ref)
    assert status == 401 and "expired" in answer["message"]
    fresh = oauth_shop.get_token().get_json()["access_token"]
    assert oauth_shop.present(ref, token=fresh)[0] == 200


def test_only_tokens_the_shop_issued_are_accepted(oauth_shop, make_shop):
    ref = oauth_shop.order()["payment_id"]
    other = make_shop(auth="oauth2", encryption=False)
    foreign = other.get_token().get_json()["access_token"]
    assert oauth_shop.present(ref, token=foreign)[0] == 401
    assert oauth_shop.present(ref, token=oauth_shop.settings["auth"]["client_secret"])[0] == 401


def test_the_token_endpoint_is_not_there_for_a_bearer_shop(shop):
    reply = shop.http.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert reply.status_code == 404


# -- encryption -----------------------------------------------------------------------------------------


def test_an_encrypted_call_without_a_transaction_key_is_400(shop):
    ref = shop.order()["payment_id"]
    body = shop.body(ref)
    status, answer = shop.call("/govpay-lk/validate", body, encrypt=False)
    assert (status, answer["error"]) == (400, "bad_request") and "TransactionKey" in answer["message"]


def test_a_call_encrypted_for_another_key_is_refused(shop):
    ref = shop.order()["payment_id"]
    _, stranger = crypto.new_key_pair()
    status, answer = shop.present(ref, headers={crypto.HEADER: crypto.wrap_key(stranger, TRANSACTION_KEY)})
    assert (status, answer["error"]) == (400, "bad_request")
    assert shop.log()[0]["result"] == "malformed"


def test_fields_encrypted_with_another_transaction_key_are_refused(shop):
    ref = shop.order()["payment_id"]
    body = shop.body(ref)
    body["data"] = [crypto.encrypt_object(b"X" * 32, item) for item in body["data"]]
    public_pem = shop.settings["encryption_public_key"]
    status, answer = shop.call("/govpay-lk/validate", body, encrypt=False,
                               headers={crypto.HEADER: crypto.wrap_key(public_pem, TRANSACTION_KEY)})
    assert (status, answer["error"]) == (400, "bad_request")


def test_a_shop_without_encryption_refuses_an_encrypted_call(clear_shop):
    ref = clear_shop.order()["payment_id"]
    status, answer = clear_shop.present(ref, headers={crypto.HEADER: "c29tZXRoaW5n"})
    assert (status, answer["error"]) == (400, "bad_request")


# -- update ---------------------------------------------------------------------------------------------


def test_a_success_verified_by_the_inquiry_pays_the_order_and_is_acknowledged(shop):
    order = shop.order()
    ref = order["payment_id"]
    shop.inquiry.add(ref)
    status, answer = shop.update(ref)
    assert status == 200
    assert {k: answer[k] for k in ("transactionID", "subinstId", "serviceid", "serviceName", "message")} == {
        "transactionID": TID, "subinstId": shop.settings["subinst_id"], "serviceid": "SRV001",
        "serviceName": "mock-psp test shop", "message": "Success"}
    receipt = by_placeholder(answer["paymentData"])
    assert list(receipt) == ["refNo", "amount", "currency", "status", "paymentMethod", "gatewayTransactionId",
                             "timestamp", "Receipt Number", "Status"]
    assert (receipt["refNo"]["initialValue"], receipt["Receipt Number"]["initialValue"],
            receipt["Status"]["initialValue"]) == (ref, f"REC-{TID}", "Payment recorded")
    assert all(obj["objType"] == "label" for obj in answer["paymentData"])
    assert answer["raw_paymentData"][0]["initialValue"] == crypto.encrypt_field(TRANSACTION_KEY, ref)
    assert shop.inquiry.asked == [TID]
    paid = shop.get_order(order["id"])
    assert (paid["state"], paid["provider_status"], paid["paid_amount"]) == ("paid", "SUCCESS", 150000)
    assert "status inquiry says SUCCESS" in paid["transitions"][-1]["cause"]
    [row] = shop.log()
    assert (row["event_type"], row["event_id"], row["object_id"], row["payment_id"], row["result"]) == (
        "govpay_update", f"{TID}:SUCCESS", TID, ref, "ok")


def test_an_update_without_encryption_is_acknowledged_in_clear(clear_shop):
    ref = clear_shop.order()["payment_id"]
    clear_shop.inquiry.add(ref)
    status, answer = clear_shop.update(ref)
    assert status == 200 and by_placeholder(answer["paymentData"])["Status"]["initialValue"] == "Payment recorded"


def test_a_replayed_update_is_acknowledged_and_changes_nothing(shop):
    order = shop.order()
    ref = order["payment_id"]
    shop.inquiry.add(ref)
    first = shop.update(ref)
    again = shop.update(ref)
    assert again == first and again[0] == 200
    assert [row["result"] for row in shop.log()] == ["ok", "duplicate"]
    assert shop.inquiry.asked == [TID]
    assert len(shop.get_order(order["id"])["transitions"]) == 2


def test_an_update_the_inquiry_contradicts_is_stale_and_the_inquiry_wins(shop):
    order = shop.order()
    ref = order["payment_id"]
    shop.inquiry.add(ref, status="PENDING")
    assert shop.update(ref, "SUCCESS")[0] == 200
    assert shop.get_order(order["id"])["state"] == "pending"
    [row] = shop.log()
    assert row["result"] == "stale" and "provider says PENDING" in row["detail"]


def test_a_failed_attempt_leaves_the_order_pending_and_payable_and_is_in_its_history(shop):
    order = shop.order()
    ref = order["payment_id"]
    shop.inquiry.add(ref, status="FAILED")
    assert shop.update(ref, "FAILED")[0] == 200
    after = shop.get_order(order["id"])
    assert (after["state"], after["provider_status"]) == ("pending", "FAILED")
    assert f"transaction {TID} FAILED" in after["failure"]
    note = after["transitions"][-1]
    assert (note["from"], note["to"]) == ("pending", "pending") and "attempt failed" in note["cause"]
    assert shop.log()[0]["result"] == "ok"
    # The reference can be paid again, and a second attempt that succeeds pays the order.
    assert shop.present(ref, transaction_id="2611220000000002")[0] == 200
    shop.inquiry.add(ref, transaction_id="2611220000000002")
    assert shop.update(ref, transaction_id="2611220000000002")[0] == 200
    paid = shop.get_order(order["id"])
    assert (paid["state"], paid["failure"]) == ("paid", None)


def test_a_failed_update_arriving_after_the_payment_is_stale(shop):
    order = shop.order()
    ref = order["payment_id"]
    shop.inquiry.add(ref, transaction_id="2611220000000002")
    shop.update(ref, transaction_id="2611220000000002")
    shop.inquiry.add(ref, status="FAILED")
    assert shop.update(ref, "FAILED")[0] == 200
    assert shop.get_order(order["id"])["state"] == "paid"
    assert shop.log()[-1]["result"] == "stale"


@pytest.mark.parametrize("amount, currency", [("15.00", "LKR"), ("1500.00", "USD")])
def test_a_success_for_another_amount_or_currency_is_not_accepted(shop, amount, currency):
    order = shop.order()
    ref = order["payment_id"]
    shop.inquiry.add(ref, amount=amount, currency=currency)
    assert shop.update(ref)[0] == 200  # acknowledged: the event is safely logged
    assert shop.get_order(order["id"])["state"] == "pending"
    [row] = shop.log()
    assert row["result"] == "mismatch"


def test_a_transaction_the_inquiry_puts_on_another_reference_is_a_mismatch(shop):
    mine, other = shop.order()["payment_id"], shop.order()["payment_id"]
    shop.inquiry.add(other)
    shop.update(mine)
    assert shop.log()[0]["result"] == "mismatch"
    assert [o["state"] for o in shop.http.get("/_merchant/orders").get_json()["data"]] == ["pending", "pending"]


def test_an_update_for_a_transaction_the_provider_does_not_have_is_stale(shop):
    order = shop.order()
    assert shop.update(order["payment_id"])[0] == 200
    assert shop.log()[0]["result"] == "stale"
    assert shop.get_order(order["id"])["state"] == "pending"


def test_an_update_whose_inquiry_fails_stays_in_the_inbox_until_the_sweep(shop):
    order = shop.order()
    ref = order["payment_id"]
    shop.inquiry.add(ref)
    shop.inquiry.down = True
    status, answer = shop.update(ref)
    assert status == 200 and answer["message"] == "Success"  # in the inbox: GovPay+ need not send it again
    assert shop.log()[0]["result"] == "error"
    shop.inquiry.down = False
    report = shop.http.post("/_merchant/reconcile", json={}).get_json()
    assert report["inbox_processed"] == 1
    assert shop.get_order(order["id"])["state"] == "paid"


@pytest.mark.parametrize("status_word", ["PAID", "completed", "Success"])
def test_success_words_are_understood(clear_shop, status_word):
    order = clear_shop.order()
    clear_shop.inquiry.add(order["payment_id"])
    assert clear_shop.update(order["payment_id"], status_word)[0] == 200
    assert clear_shop.get_order(order["id"])["state"] == "paid"
    assert clear_shop.log()[0]["event_id"] == f"{TID}:SUCCESS"


def test_an_update_with_an_unknown_status_is_400(clear_shop):
    ref = clear_shop.order()["payment_id"]
    status, answer = clear_shop.update(ref, "MAYBE")
    assert (status, answer["error"]) == (400, "bad_request")
    assert clear_shop.log()[0]["result"] == "malformed"


def test_an_update_for_an_unknown_reference_is_404(shop):
    shop.order()
    status, answer = shop.update("TSNOTOURS0000")
    assert (status, answer["error"]) == (404, "invalid_reference")
    assert shop.log()[0]["result"] == "invalid_reference" and shop.inquiry.asked == []


def test_an_update_for_another_service_is_404(shop):
    ref = shop.order()["payment_id"]
    shop.inquiry.add(ref)
    body = shop.update_body(ref, subinstId="SUBOTHER")
    status, answer = shop.call("/govpay-lk/update", body)
    assert (status, answer["error"]) == (404, "invalid_reference")
    assert shop.inquiry.asked == []


def test_an_oversized_update_is_413(shop):
    status, _ = shop.call("/govpay-lk/update", None, raw=b"x" * (256 * 1024 + 1))
    assert status == 413
    assert shop.log()[0]["event_type"] == "govpay_update"


# -- reconciliation -------------------------------------------------------------------------------------


def test_the_sweep_pays_a_pending_order_the_inquiry_shows_paid(shop):
    order = shop.order()
    ref = order["payment_id"]
    report = shop.http.post("/_merchant/reconcile", json={"older_than_seconds": 0}).get_json()
    assert report["changed"] == 0 and shop.inquiry.asked == [ref]  # by refNo; nothing yet
    shop.inquiry.add(ref, status="FAILED", transaction_id="1")
    shop.inquiry.add(ref, transaction_id="2")
    report = shop.http.post("/_merchant/reconcile", json={"older_than_seconds": 0}).get_json()
    assert report["changed"] == 1
    assert shop.get_order(order["id"])["state"] == "paid"


def test_the_sweep_leaves_young_orders_and_mismatched_payments_alone(shop):
    order = shop.order()
    shop.inquiry.add(order["payment_id"], amount="1.00")
    assert shop.http.post("/_merchant/reconcile", json={}).get_json()["checked"] == 0  # younger than 900 s
    shop.clock.value += 901
    report = shop.http.post("/_merchant/reconcile", json={}).get_json()
    assert (report["checked"], report["changed"]) == (1, 0)
    after = shop.get_order(order["id"])
    assert after["state"] == "pending" and "not accepted" in after["failure"]


def test_the_return_page_asks_the_inquiry_and_offers_another_try_after_a_failure(shop):
    order = shop.order()
    shop.inquiry.add(order["payment_id"], status="FAILED")
    page = shop.http.get(f"/orders/{order['id']}/return").get_data(as_text=True)
    assert 'data-state="pending"' in page and 'data-test-id="retry-payment"' in page
    shop.inquiry.add(order["payment_id"], transaction_id="2")
    page = shop.http.get(f"/orders/{order['id']}/return").get_data(as_text=True)
    assert 'data-state="paid"' in page and "retry-payment" not in page


# -- provisioning ---------------------------------------------------------------------------------------


class StubProvider:
    """The provider's control API, as much of it as provisioning uses, behind ``requests``."""

    def __init__(self):
        self.namespaces: dict[str, dict] = {}
        self.app = Flask(__name__)
        self.app.add_url_rule("/_mock/namespaces", view_func=self.create, methods=["POST"])
        self.app.add_url_rule("/_mock/namespaces/<ns_id>", view_func=self.show)
        self.app.add_url_rule("/_mock/config", view_func=self.config, methods=["GET", "PUT"])
        self.client = self.app.test_client()

    def create(self):
        ns_id = f"ns_{len(self.namespaces) + 1}"
        self.namespaces[ns_id] = {"id": ns_id, "config": {}}
        return jsonify(self.show(ns_id)), 201

    def show(self, ns_id):
        ns = self.namespaces[ns_id]
        shown = {"id": ns_id, "clock": {"mode": "system"}}
        if "govpay_lk" in ns["config"]:
            shown["govpay_lk"] = {"api_key": f"gplk_{ns_id}", "base_url": f"{PSP}/govpay-lk"}
        return shown

    def config(self):
        ns = self.namespaces[request.headers["X-Mock-Namespace"]]
        if request.method == "PUT":
            for key, value in request.get_json().items():
                ns["config"][key] = {**ns["config"].get(key, {}), **value} if isinstance(value, dict) else value
        return jsonify(ns["config"])


@pytest.fixture
def stub_provider(monkeypatch):
    stub = StubProvider()

    class Session:
        def request(self, method, url, timeout=None, **kwargs):
            parts = urlsplit(url)
            assert f"{parts.scheme}://{parts.netloc}" == PSP
            reply = stub.client.open(parts.path, method=method, **kwargs)
            return _Response(reply)

    monkeypatch.setattr("mock_psp.test_merchant.provision.requests.Session", Session)
    return stub


class _Response:
    def __init__(self, reply):
        self.status_code = reply.status_code
        self.text = reply.get_data(as_text=True)
        self._json = reply.get_json(silent=True)

    def json(self):
        return self._json


def test_provisioning_sets_the_namespaces_govpay_settings_and_reads_the_inquiry_key(stub_provider, tmp_path):
    app = create_app({"dialect": "govpay-lk", "db": str(tmp_path / "shop.db"), "psp_url": PSP})
    merchant = app.extensions["test_merchant"]
    wiring = provision(merchant, SHOP)
    ns = stub_provider.namespaces[wiring.namespace]
    gp = ns["config"]["govpay_lk"]
    assert (gp["validate_url"], gp["update_url"], gp["service_name"]) == (
        f"{SHOP}/govpay-lk/validate", f"{SHOP}/govpay-lk/update", "mock-psp test shop")
    assert gp["subinst_id"].startswith("SUB") and gp["auth"]["type"] == "bearer" and len(gp["auth"]["token"]) > 30
    assert gp["encryption_public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert ns["config"]["allowed_origins"] == [SHOP]
    assert wiring.credentials["api_key"] == f"gplk_{wiring.namespace}"
    assert merchant.client.http.headers["Authorization"] == f"Bearer gplk_{wiring.namespace}"
    assert (wiring.scheme, wiring.endpoint_id) == ("bearer", None)
    merchant.store.close()

    # A restart on the same database keeps the namespace, the key pair and the token.
    again = create_app({"dialect": "govpay-lk", "db": str(tmp_path / "shop.db"), "psp_url": PSP})
    merchant = again.extensions["test_merchant"]
    assert merchant.wiring.namespace == wiring.namespace and merchant.client is not None
    provision(merchant, SHOP)
    assert stub_provider.namespaces[wiring.namespace]["config"]["govpay_lk"] == gp
    merchant.store.close()


def test_provisioning_with_oauth2_and_without_encryption(stub_provider):
    app = create_app({"dialect": "govpay-lk", "db": ":memory:", "psp_url": PSP})
    merchant = app.extensions["test_merchant"]
    wiring = provision(merchant, SHOP, govpay_auth="oauth2", govpay_encryption=False)
    gp = stub_provider.namespaces[wiring.namespace]["config"]["govpay_lk"]
    assert gp["auth"]["type"] == "oauth2" and gp["auth"]["token_url"] == f"{SHOP}/oauth/token"
    assert gp["auth"]["client_id"] and gp["auth"]["client_secret"] and gp["encryption_public_key"] is None
    # Another namespace gets another subinstId; the shop's secrets stay.
    other = provision(merchant, SHOP, namespace=stub_provider.client.post("/_mock/namespaces").get_json()["id"])
    moved = stub_provider.namespaces[other.namespace]["config"]["govpay_lk"]
    assert moved["subinst_id"] != gp["subinst_id"] and moved["auth"] == gp["auth"]
    merchant.store.close()


@pytest.mark.parametrize("kwargs, message", [({"scheme": "standard"}, "--scheme"),
                                             ({"govpay_auth": "basic"}, r"unknown GovPay\+ auth")])
def test_provisioning_refuses_options_that_do_not_apply(stub_provider, kwargs, message):
    from mock_psp.test_merchant.provision import ProvisionError

    app = create_app({"dialect": "govpay-lk", "db": ":memory:", "psp_url": PSP})
    with pytest.raises(ProvisionError, match=message):
        provision(app.extensions["test_merchant"], SHOP, **kwargs)
    app.extensions["test_merchant"].store.close()


# -- the command ----------------------------------------------------------------------------------------


def test_the_merchant_command_offers_govpay_lk_and_its_options():
    from click.testing import CliRunner

    from mock_psp.test_merchant.cli import merchant

    result = CliRunner().invoke(merchant, ["--help"])
    assert result.exit_code == 0
    for text in ("govpay-lk", "--govpay-auth [bearer|oauth2]", "--govpay-encryption / --no-govpay-encryption"):
        assert text in result.output


@pytest.mark.parametrize("args, message", [
    (["--dialect", "hyperswitch", "--govpay-auth", "oauth2"], "for --dialect govpay-lk only"),
    (["--dialect", "govuk", "--no-govpay-encryption"], "for --dialect govpay-lk only"),
    (["--dialect", "govpay-lk", "--scheme", "standard"], "--scheme does not apply"),
])
def test_the_merchant_command_refuses_options_for_another_dialect(args, message):
    from click.testing import CliRunner

    from mock_psp.test_merchant.cli import merchant

    result = CliRunner().invoke(merchant, [*args, "--psp-url", PSP])
    assert result.exit_code == 2 and message in result.output
