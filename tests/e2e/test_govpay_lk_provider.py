"""GovPay+ (Sri Lanka) on the provider side, against a small fake merchant ("GO") on a live port:
presentment, the hosted payment, the update call, the status inquiry, sessions and auth."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
import requests

from tests.support.govpay_go import FakeGo
from tests.support.govpay_go import RunningGo

pytestmark = pytest.mark.e2e

CARD = {"method": "card", "card_number": "4242424242424242", "expiry": "12/35", "cvc": "123",
        "cardholder_name": "Nimal Perera"}


class Setup:
    def __init__(self, psp_url: str, go: FakeGo):
        self.psp = psp_url
        self.go = go
        self.running = RunningGo(go)
        self.ns = requests.post(f"{psp_url}/_mock/namespaces", json={"clock": "virtual"}, timeout=10).json()
        self.control = {"X-Mock-Namespace": self.ns["id"]}
        self.inquiry = {"Authorization": f"Bearer {self.ns['govpay_lk']['api_key']}"}
        reply = requests.put(f"{psp_url}/_mock/config", headers=self.control, timeout=10,
                             json={"govpay_lk": go.settings(self.running.url), "allowed_origins": [self.running.url]})
        assert reply.status_code == 200, reply.text

    def visit(self, ref: str, browser: requests.Session | None = None) -> tuple[requests.Session, requests.Response]:
        browser = browser or requests.Session()
        page = browser.get(f"{self.psp}/govpay-lk/pay", params={"ref": ref, "return": f"{self.running.url}/back"},
                           timeout=30)
        return browser, page

    def pay(self, ref: str, form: dict | None = None) -> requests.Response:
        browser, page = self.visit(ref)
        assert page.status_code == 200 and 'data-test-id="pay-button"' in page.text, page.text[:500]
        done = browser.post(page.url, data=form or CARD, allow_redirects=False, timeout=30)
        return browser.get(urljoin(page.url, done.headers["Location"]), allow_redirects=False, timeout=30)

    def settle(self) -> None:
        requests.post(f"{self.psp}/_mock/webhooks/flush", headers=self.control, timeout=30).raise_for_status()

    def advance(self, seconds: float) -> None:
        requests.post(f"{self.psp}/_mock/clock/advance", json={"seconds": seconds}, headers=self.control,
                      timeout=60).raise_for_status()

    def deliveries(self) -> list[dict]:
        return requests.get(f"{self.psp}/_mock/webhooks", headers=self.control, timeout=10).json()["data"]

    def transactions(self, ref: str) -> list[dict]:
        reply = requests.get(f"{self.psp}/govpay-lk/v1/transactions", params={"refNo": ref}, headers=self.inquiry,
                             timeout=10)
        assert reply.status_code == 200, reply.text
        return reply.json()["transactions"]


@pytest.fixture
def setup(live_provider):
    made = []

    def make(**behaviour) -> Setup:
        created = Setup(live_provider.url, FakeGo(**behaviour))
        made.append(created)
        return created

    yield make
    for created in made:
        created.running.stop()


def update_data(call) -> dict:
    return {item["paramName"]: item["value"] for item in call.body["data"]}


def test_a_payment_asks_the_merchant_then_tells_it_and_sends_the_citizen_back(setup):
    gp = setup(amounts={"TS100200": "1500.00"})
    back = gp.pay("TS100200")
    assert back.status_code == 303 and back.headers["Location"] == f"{gp.running.url}/back"  # unchanged
    [presentment] = gp.go.calls_of("validate")
    assert presentment.headers["authorization"] == "Bearer go-secret-token"
    assert presentment.body["data"] == [{"seq": "1", "paramName": "refNo", "value": "TS100200"}]
    assert (presentment.body["subinstId"], presentment.body["serviceid"], presentment.body["serviceName"]) == (
        gp.go.subinst_id, "SRV001", "Test service")
    assert len(presentment.body["transactionID"]) == 16 and presentment.body["transactionID"].isdigit()
    gp.settle()
    [update] = gp.go.calls_of("update")
    data = update_data(update)
    assert update.body["transactionID"] == presentment.body["transactionID"]
    assert {k: data[k] for k in ("refNo", "amount", "currency", "status", "paymentMethod")} == {
        "refNo": "TS100200", "amount": "1500.00", "currency": "LKR", "status": "SUCCESS", "paymentMethod": "CARD"}
    assert data["gatewayTransactionId"].startswith("GPG") and data["timestamp"].endswith("Z")
    [delivery] = gp.deliveries()
    assert (delivery["event_type"], delivery["status"]) == ("govpay_update", "delivered")
    [transaction] = gp.transactions("TS100200")
    assert (transaction["status"], transaction["amount"], transaction["paymentMethod"]) == ("SUCCESS", "1500.00",
                                                                                             "CARD")


def test_the_checkout_shows_the_amount_the_merchant_presented(setup):
    gp = setup(amounts={"TS7": "2750.50"})
    _, page = gp.visit("TS7")
    assert "2,750.50" in page.text and "TS7" in page.text and "Test service" in page.text


def test_calls_are_encrypted_as_govpay_does_when_the_merchant_gives_a_key(setup):
    gp = setup(amounts={"TS9": "10.00"}, encryption=True)
    gp.pay("TS9")
    gp.settle()
    presentment, update = gp.go.calls_of("validate")[0], gp.go.calls_of("update")[0]
    assert presentment.encrypted and update.encrypted and "transactionkey" in presentment.headers
    assert presentment.headers["transactionkey"] != update.headers["transactionkey"]  # a fresh key per call
    assert update_data(update)["status"] == "SUCCESS"  # the fake decrypted it with its private key
    assert gp.deliveries()[0]["status"] == "delivered"  # and the provider read the encrypted acknowledgement


@pytest.mark.parametrize("ref, status, code", [("UNKNOWN1", 404, "invalid_reference"),
                                                ("PAIDREF", 409, "not_payable")])
def test_a_refused_reference_shows_the_matching_page_and_opens_nothing(setup, ref, status, code):
    gp = setup(amounts={}, not_payable={"PAIDREF"})
    _, page = gp.visit(ref)
    assert page.status_code == status and f'data-code="{code}"' in page.text
    assert f'href="{gp.running.url}/back"' in page.text  # a way back to the service
    assert gp.transactions(ref) == []


def test_a_malformed_reference_never_reaches_the_merchant(setup):
    gp = setup(amounts={})
    _, page = gp.visit("not-valid!")
    assert page.status_code == 400 and gp.go.calls == []


def test_a_merchant_that_cannot_be_reached_gives_an_unavailable_page(setup):
    gp = setup(amounts={"TS1": "1.00"})
    gp.running.stop()
    _, page = gp.visit("TS1")
    assert page.status_code == 502 and 'data-code="unavailable"' in page.text


def test_a_second_visit_resumes_the_open_session(setup):
    gp = setup(amounts={"TS2": "5.00"})
    browser, first = gp.visit("TS2")
    _, second = gp.visit("TS2")
    assert first.status_code == second.status_code == 200
    assert len(gp.go.calls_of("validate")) == 1 and len(gp.transactions("TS2")) == 1


def test_a_failed_payment_sends_a_failed_update_and_the_reference_is_payable_again(setup):
    gp = setup(amounts={"TS3": "5.00"})
    gp.pay("TS3", {**CARD, "card_number": "4000000000000002"})
    gp.settle()
    assert update_data(gp.go.calls_of("update")[0])["status"] == "FAILED"
    gp.pay("TS3")
    gp.settle()
    statuses = [t["status"] for t in gp.transactions("TS3")]
    assert statuses == ["SUCCESS", "FAILED"]  # newest first: a new transaction for the same reference
    assert len(gp.go.calls_of("validate")) == 2


@pytest.mark.parametrize("bank, status", [("TESTBANK-APPROVE", "SUCCESS"), ("TESTBANK-DECLINE", "FAILED")])
def test_the_test_bank_option(setup, bank, status):
    gp = setup(amounts={"TS4": "12.00"})
    gp.pay("TS4", {"method": "bank", "bank": bank})
    gp.settle()
    data = update_data(gp.go.calls_of("update")[0])
    assert (data["status"], data["paymentMethod"]) == (status, "BANK")


def test_an_update_the_merchant_fails_is_retried_on_the_schedule(setup):
    gp = setup(amounts={"TS5": "5.00"}, update_failures=2)
    gp.pay("TS5")
    gp.settle()
    assert gp.deliveries()[0]["status"] == "failed"
    gp.advance(60)
    assert gp.deliveries()[0]["attempt_count"] == 2
    gp.advance(300)
    [delivery] = gp.deliveries()
    assert (delivery["status"], delivery["attempt_count"]) == ("delivered", 3)
    assert len(gp.go.calls_of("update")) == 3


def test_an_update_without_a_proper_acknowledgement_is_not_delivered(setup):
    gp = setup(amounts={"TS6": "5.00"}, bad_ack=True)
    gp.pay("TS6")
    gp.settle()
    [delivery] = gp.deliveries()
    full = requests.get(f"{gp.psp}/_mock/webhooks/{delivery['id']}", headers=gp.control, timeout=10).json()
    assert delivery["status"] == "failed"
    assert "acknowledgement" in full["attempts"][0]["error"]


def test_oauth2_tokens_are_fetched_once_and_again_after_a_401(setup):
    gp = setup(amounts={"TS8": "5.00", "TS9": "6.00"}, oauth=True)
    gp.pay("TS8")
    gp.settle()
    assert len(gp.go.tokens_issued) == 1  # one token for the presentment and the update
    gp.go.revoked.add(gp.go.tokens_issued[0])  # the merchant stops accepting it
    gp.pay("TS9")
    assert len(gp.go.tokens_issued) == 2
    assert gp.transactions("TS9")[0]["status"] == "SUCCESS"
    update_headers = [c.headers["authorization"] for c in gp.go.calls_of("update")]
    assert all(h.startswith("Bearer ") for h in update_headers)


def test_an_abandoned_session_expires_on_the_clock_and_a_new_one_starts(setup):
    gp = setup(amounts={"TS10": "5.00"})
    gp.visit("TS10")
    gp.advance(901)
    assert gp.transactions("TS10")[0]["status"] == "EXPIRED"
    assert gp.deliveries() == []  # nobody paid: no update call
    _, page = gp.visit("TS10")
    assert page.status_code == 200
    assert [t["status"] for t in gp.transactions("TS10")] == ["PENDING", "EXPIRED"]


def test_the_inquiry_needs_the_namespaces_key(setup, live_provider):
    gp = setup(amounts={"TS11": "5.00"})
    gp.pay("TS11")
    transaction_id = gp.transactions("TS11")[0]["transactionID"]
    url = f"{gp.psp}/govpay-lk/v1/transactions/{transaction_id}"
    assert requests.get(url, timeout=10).json()["error"] == "unauthorized"
    assert requests.get(url, headers={"Authorization": "Bearer gplk_wrong"}, timeout=10).status_code == 401
    other = setup(amounts={})
    assert requests.get(url, headers=other.inquiry, timeout=10).status_code == 404  # another namespace's
    bad = requests.get(f"{gp.psp}/govpay-lk/v1/transactions?refNo=bad-ref", headers=gp.inquiry, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"] == "bad_request"


@pytest.mark.parametrize("update, field", [
    ({"validate_url": "ftp://x"}, "govpay_lk.validate_url"),
    ({"auth": {"type": "bearer"}}, "govpay_lk.auth.token"),
    ({"auth": {"type": "magic"}}, "govpay_lk.auth"),
    ({"encryption_public_key": "not a key"}, "govpay_lk.encryption_public_key"),
    ({"session_ttl_seconds": 5}, "govpay_lk.session_ttl_seconds"),
    ({"colour": "red"}, "govpay_lk.colour"),
])
def test_bad_settings_are_refused_naming_the_field(live_provider, update, field):
    ns = requests.post(f"{live_provider.url}/_mock/namespaces", json={}, timeout=10).json()
    reply = requests.put(f"{live_provider.url}/_mock/config", json={"govpay_lk": update},
                         headers={"X-Mock-Namespace": ns["id"]}, timeout=10)
    assert reply.status_code == 400 and reply.json()["error"]["message"].startswith(field)


def test_subinst_id_picks_the_namespace_when_origins_are_shared(setup):
    gp = setup(amounts={"TS12": "5.00"})
    # On the merchant's host (GovPay+ returns only there) but not a registered origin (another port).
    back = "http://127.0.0.1:9/back"
    page = requests.get(f"{gp.psp}/govpay-lk/pay", params={"ref": "TS12", "return": back,
                                                           "subinstId": gp.go.subinst_id}, timeout=30)
    assert page.status_code == 200 and len(gp.go.calls_of("validate")) == 1


def journal(gp: Setup) -> list[dict]:
    return requests.get(f"{gp.psp}/_mock/requests", headers=gp.control, timeout=10).json()["data"]


def test_the_presentment_call_to_the_merchant_is_in_the_request_journal_marked_out(setup):
    gp = setup(amounts={"TS3": "12.00"}, encryption=True)
    gp.visit("TS3")
    [call] = journal(gp)
    assert call["direction"] == "out" and call["method"] == "POST" and call["path"].endswith("/validate")
    assert call["status"] == 200 and '"refNo"' in call["request_body"] and "TS3" in call["request_body"]
    assert call["request_headers"]["authorization"].startswith("Bearer ")
    assert gp.go.calls_of("validate")[0].encrypted  # what went over the wire was encrypted; the journal shows it plain


def test_an_unreachable_merchant_is_journalled_with_why(setup):
    gp = setup(amounts={"TS4": "1.00"})
    gp.running.stop()
    gp.visit("TS4")
    [call] = journal(gp)
    assert call["direction"] == "out" and call["status"] == 0 and call["response_body"].startswith("(no answer: ")
