"""A provider the registry has never heard of, described in this file alone, is served whole:
its API, its keys in every namespace, its test cards, its signed webhooks, the control API,
the request journal, the dashboard and the CLI's banner all take it from its description.

This is the claim of docs/architecture.md ("a dialect is one folder and one registry line")
made into a test: nothing outside this file names Examplepay.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from types import SimpleNamespace

import pytest
from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import request

from mock_psp.app import create_app
from mock_psp.checkout.adapters import Summary
from mock_psp.cli import provider_banner
from mock_psp.dialects import registry
from mock_psp.dialects.base import Client
from mock_psp.dialects.base import Dialect
from mock_psp.dialects.base import Docs
from mock_psp.domain import namespaces
from mock_psp.domain import outcomes
from mock_psp.domain import payments
from mock_psp.domain.errors import DomainError
from mock_psp.domain.namespaces import KeySpec
from mock_psp.domain.payments import CardInput
from mock_psp.domain.payments import NewPayment
from mock_psp.domain.payments import PaymentMethodInput
from mock_psp.domain.randomness import HEX
from mock_psp.webhooks.events import EventDraft
from mock_psp.webhooks.schemes import Scheme
from mock_psp.webhooks.schemes import hex_hmac_header
from tests.support.clients import Api

NAME = KEY = "examplepay"
PREFIX = "/examplepay"
# Examplepay's sandbox declines the number every other sandbox approves: the book is the dialect's.
CARDS = outcomes.CardBook({
    "4242424242424242": (outcomes.magic(outcomes.FAIL, outcomes.CARD_DECLINED), "Visa: declined"),
    "5555555555554444": (outcomes.magic(), "Mastercard: succeeds"),
})

# -- its face: a blueprint, an error envelope, which calls are API calls ---------------------------

bp = Blueprint("examplepay", __name__, url_prefix=PREFIX)


def _error(status: int, message: str):
    response = jsonify({"message": message})
    response.status_code = status
    return response


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    return _error(404 if error.code == "not_found" else 400, error.message)


def credentials(headers) -> tuple[str, str] | None:
    header = headers.get("Authorization", "")
    return ("secret", header.removeprefix("Token ")) if header.startswith("Token ") else None


def _namespace():
    presented = credentials(request.headers)
    store = current_app.extensions["mock_psp"].store
    found = namespaces.find_by_key(store, KEY, *presented) if presented else None
    if found is None:
        raise DomainError("not_found", "no such key", {"object": "namespace"})
    return store, found


@bp.post("/charges")
def create_charge():
    store, namespace = _namespace()
    body = request.get_json()
    card = CardInput(body["card"], "12", "2035", "Ann", "123", book=CARDS)
    payment = payments.create_payment(store, namespace.id, NewPayment(
        dialect=NAME, id_prefix="ch_", amount=body["amount"], currency=body["currency"], confirm=True,
        payment_method=PaymentMethodInput("card", "credit", card)))
    return jsonify(_charge(payment))


@bp.get("/charges/<charge_id>")
def get_charge(charge_id: str):
    store, namespace = _namespace()
    return jsonify(_charge(payments.get_payment(store, namespace.id, charge_id)))


def _state(payment) -> str:
    return {payments.CAPTURED: "paid", payments.FAILED: "failed"}.get(payment.status, "open")


def _charge(payment) -> dict:
    return {"id": payment.id, "state": _state(payment), "amount": payment.amount}


FACE = SimpleNamespace(
    bp=bp,
    http_error=lambda status: _error(status, "no such Examplepay route"),
    unexpected_error=lambda: _error(500, "Examplepay broke"),
    injected_error=lambda: _error(500, "Examplepay broke (on purpose)"),
    is_api_call=lambda: request.path.startswith(PREFIX + "/charges"),
)

# -- its webhooks ---------------------------------------------------------------------------------


def _describe(change: dict, namespace, base_url: str) -> list[EventDraft]:
    if change["object_type"] != "payment" or change["to_status"] not in (payments.CAPTURED, payments.FAILED):
        return []
    payment = payments.Payment.from_snapshot(change["snapshot"])
    event = "charge.succeeded" if change["to_status"] == payments.CAPTURED else "charge.failed"
    return [EventDraft(event, "payments", _charge(payment))]


EVENTS = SimpleNamespace(
    EVENT_TYPES=("charge.succeeded", "charge.failed"),
    describe=_describe,
    new_event_id=lambda created_at, seed, object_id, event_type: f"ev_{seed}_{object_id}_{event_type}",
    render=lambda event_id, draft, created_at, namespace: json.dumps(
        {"id": event_id, "type": draft.event_type, "data": draft.body}).encode(),
)
SCHEME = Scheme("examplepay", (60, 600), 5.0, "Examplepay-Webhooks", NAME,
                hex_hmac_header("Example-Signature", hashlib.sha256),
                namespace_secret=lambda namespace: namespace.keys_of(KEY)["signing_secret"])

# -- its hosted checkout adapter -----------------------------------------------------------------


class Checkout:
    dialect = NAME
    methods = ("card",)
    shows_failures = True
    merchant_actions = frozenset({"refund"})

    def result_text(self, payment):
        return ("Paid", "Thank you.") if _state(payment) == "paid" else ("Not paid", "Try again.")

    def summary(self, payment, namespace):
        return Summary("Examplepay", payment.description, payment.reference)

    def awaiting_entry(self, payment):
        return payment.status == payments.CREATED

    def begin(self, store, payment):
        return payment

    def submit(self, store, payment, method):
        return payments.confirm_payment(store, payment.namespace_id, payment.id,
                                        payments.PaymentChanges(payment_method=method))

    def confirm(self, store, payment):
        return payment

    def cancel(self, store, payment):
        return payment

    def finish_url(self, payment, namespace, base_url):
        return payment.return_url

    def public_status(self, payment):
        return _state(payment)

    def embed_payment(self, store, args):
        return None


EXAMPLEPAY = Dialect(
    name=NAME, key=KEY, title="Examplepay", prefix=PREFIX, routes=FACE, credentials=credentials,
    keys=(KeySpec("secret", "ex_", 24, HEX, "examplepay secret", identifies=True),
          KeySpec("signing_secret", "exs_", 32, HEX, "examplepay signing secret")),
    test_cards=CARDS, checkout=Checkout(), events=EVENTS, schemes=(SCHEME,),
    docs=Docs(auth="Authorization: Token <secret>", shown_key="secret", ours="docs/architecture.md"),
    client=Client(default_currency="EUR", happy_card="5555555555554444",
                  headers=lambda keys, auth="secret": {"Authorization": f"Token {keys['secret']}"},
                  banner=lambda keys: [f"    Authorization: Token    {keys['secret']}"],
                  payment=lambda http, psp_url, keys, payment_id: ("", {}),
                  made_up_event=lambda keys, args: {"id": args["event_id"], "type": args["event_type"]}),
)

# -- the provider, with one dialect more than the registry's ---------------------------------------


@pytest.fixture
def app():
    app = create_app({"db": ":memory:", "background": False}, dialects=(*registry.DIALECTS, EXAMPLEPAY))
    yield app
    app.extensions["mock_psp"].close()


@pytest.fixture
def control(transport) -> Api:
    return Api(transport)


@pytest.fixture
def account(control) -> dict:
    reply = control.post("/_mock/namespaces", {"seed": 3})
    assert reply.status == 201, reply.text
    return reply.json


def test_every_namespace_holds_its_keys_and_its_api_answers_with_them(control, transport, account):
    keys = account["examplepay"]
    assert keys["secret"].startswith("ex_") and keys["signing_secret"].startswith("exs_")
    assert keys["base_url"].endswith("/examplepay")
    assert control.get("/_mock/namespaces/ns_default").json["examplepay"]["secret"].startswith("ex_")
    api = Api(transport, {"Authorization": f"Token {keys['secret']}"})
    declined = api.post("/examplepay/charges", {"amount": 900, "currency": "EUR", "card": "4242424242424242"}).json
    paid = api.post("/examplepay/charges", {"amount": 900, "currency": "EUR", "card": "5555555555554444"}).json
    assert (declined["state"], paid["state"]) == ("failed", "paid")  # its own sandbox's cards
    assert api.get(f"/examplepay/charges/{paid['id']}").json == paid
    assert api.get("/examplepay/nowhere").json == {"message": "no such Examplepay route"}  # its own envelope


def test_its_webhooks_are_signed_with_its_scheme(control, transport, account, receiver):
    ns = Api(transport, {"X-Mock-Namespace": account["id"]})
    endpoint = ns.post("/_mock/webhook-endpoints", {"url": receiver.url, "scheme": "examplepay"}).json
    assert endpoint["dialect"] == "examplepay" and endpoint["retry_schedule"] == [60, 600]
    api = Api(transport, {"Authorization": f"Token {account['examplepay']['secret']}"})
    paid = api.post("/examplepay/charges", {"amount": 900, "currency": "EUR", "card": "5555555555554444"}).json
    ns.post("/_mock/webhooks/flush")
    [delivery] = receiver.wait_for(1)
    assert delivery.json["type"] == "charge.succeeded" and delivery.json["data"]["id"] == paid["id"]
    secret = account["examplepay"]["signing_secret"]
    assert delivery.headers["Example-Signature"] == hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()


def test_the_control_api_journal_dashboard_and_banner_know_it(app, control, transport, account):
    by_key = Api(transport, {"Authorization": f"Token {account['examplepay']['secret']}"})
    assert by_key.get("/_mock/config").status == 200
    by_key.put("/_mock/config", {"success_rates": {"card": 0.5}})
    assert Api(transport, {"X-Mock-Namespace": account["id"]}).get("/_mock/config").json["success_rates"]["card"] == 0.5
    by_key.post("/examplepay/charges", {"amount": 5, "currency": "EUR", "card": "5555555555554444"})
    journal = Api(transport, {"X-Mock-Namespace": account["id"]}).get("/_mock/requests").json["data"]
    assert [e["path"] for e in journal] == ["/examplepay/charges"]
    page = transport.client.get(f"/_mock/ui/api?ns={account['id']}").get_data(as_text=True)
    assert "Examplepay" in page and "/examplepay/charges" in page and account["examplepay"]["secret"] in page
    provider = app.extensions["mock_psp"]
    banner = provider_banner(provider.settings, "http://127.0.0.1:8420", provider)
    assert "  Examplepay    http://127.0.0.1:8420/examplepay" in banner


def test_a_call_no_route_of_it_takes_is_told_the_route_it_meant(transport, account):
    reply = transport.client.post("/examplepay/charge", json={}, headers={
        "Authorization": f"Token {account['examplepay']['secret']}"})
    assert reply.status_code == 404 and reply.get_json() == {"message": "no such Examplepay route"}
    assert reply.headers["X-Mock-Near-Miss"] == "POST /examplepay/charges"
