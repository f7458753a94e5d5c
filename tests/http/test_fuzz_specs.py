"""Property-based fuzzing of every operation the providers publish, generated from their own
OpenAPI documents by schemathesis and sent to the provider in-process (Flask's WSGI app).

Every operation of ../shared/specs/hyperswitch_openapi_v1.json and govuk_pay_publicapi.json gets
data that fits its schema and data that does not, with real object ids half of the time (so the
handlers behind the path parameters run, not only the 404). Whatever comes back must be the
dialect's own answer: never a 5xx, and an error always JSON (GOV.UK's bare 401 aside, as the real
API sends it).

Bounded for CI (about half a minute on one core): a fixed number of examples per operation
(``MOCK_PSP_FUZZ_EXAMPLES``, default 8), a fixed seed (``derandomize``), no example database.
Select it with ``-m fuzz``; run it longer with, e.g.::

    MOCK_PSP_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest -m fuzz tests/http/test_fuzz_specs.py -x

The specs are read where the conformance tests read them (tests/support/spec.py: SPECS_DIR,
$MOCK_PSP_SPECS_DIR); without them the test is skipped with the reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from mock_psp.app import create_app
from tests.support import govuk_spec
from tests.support import spec
from tests.support.clients import card

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402  (after the importorskip)

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("MOCK_PSP_FUZZ_EXAMPLES", "8"))
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@dataclass(frozen=True)
class Face:
    name: str
    spec_path: object
    available: bool
    skip_reason: str
    prefix: str


FACES = {
    "hyperswitch": Face("hyperswitch", spec.HYPERSWITCH_SPEC, spec.spec_available(), spec.SKIP_REASON,
                        "/hyperswitch"),
    "govuk": Face("govuk", govuk_spec.GOVUK_SPEC, govuk_spec.spec_available(), govuk_spec.SKIP_REASON, "/govuk"),
}


def _operations(face: Face) -> list:
    if not face.available:
        return [pytest.param(None, id=f"{face.name}-no-spec",
                             marks=pytest.mark.skip(reason=face.skip_reason))]
    schema = schemathesis.openapi.from_path(face.spec_path)
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        found.append(pytest.param(operation, id=f"{face.name} {operation.method.upper()} {operation.path}"))
    return found


@pytest.fixture(scope="module")
def provider_app():
    app = create_app({"db": ":memory:", "background": False})
    yield app
    app.extensions["mock_psp"].close()


@pytest.fixture(scope="module")
def world(provider_app) -> dict:
    """Keys, and real objects of each kind whose ids the path parameters may take."""
    client = provider_app.test_client()
    ns = client.get("/_mock/namespaces/ns_default").get_json()
    hs_headers = {"api-key": ns["hyperswitch"]["api_key"]}
    gov_headers = {"Authorization": f"Bearer {ns['govuk']['api_key']}"}
    paid = client.post("/hyperswitch/payments", headers=hs_headers, json={
        "amount": 5000, "currency": "USD", "confirm": True, "customer_id": "cus_fuzz", **card()}).get_json()
    refund = client.post("/hyperswitch/refunds", headers=hs_headers,
                         json={"payment_id": paid["payment_id"], "amount": 100}).get_json()
    gov = client.post("/govuk/v1/payments", headers=gov_headers, json={
        "amount": 1000, "reference": "R", "description": "d", "return_url": "https://service.example/r"}).get_json()
    agreement = client.post("/govuk/v1/agreements", headers=gov_headers,
                            json={"reference": "A", "description": "d"}).get_json()
    hs_ids = {"payment_id": paid["payment_id"], "refund_id": refund["refund_id"], "customer_id": "cus_fuzz",
              "merchant_id": ns["hyperswitch"]["merchant_id"], "account_id": ns["hyperswitch"]["merchant_id"],
              "profile_id": ns["hyperswitch"]["profile_id"]}
    gov_ids = {"paymentId": gov["payment_id"], "agreementId": agreement.get("agreement_id", "none")}
    return {"hyperswitch": (hs_headers, hs_ids), "govuk": (gov_headers, gov_ids)}


def _strategy(operation, ids: dict):
    names = [p.name for p in operation.path_parameters]
    real = {name: ids[name] for name in names if name in ids}
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    if real:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real))
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=real))
    return st.one_of(strategies)


def _content_type(response) -> str:
    return (response.headers.get("Content-Type") or response.headers.get("content-type") or [""])[0]


def _check(face: Face, case, response) -> None:
    where = f"{case.method} {case.formatted_path} -> {response.status_code}"
    assert response.status_code < 500, f"{where}: {response.content[:500]!r}"
    if response.status_code < 400:
        return
    if face.name == "govuk" and response.status_code == 401 and not response.content:
        return  # pay-publicapi's bare 401
    assert "json" in _content_type(response), f"{where}: {_content_type(response)} {response.content[:300]!r}"


def _run(face: Face, operation, app, world) -> None:
    headers, ids = world[face.name]

    @SETTINGS
    @given(case=_strategy(operation, ids), keyed=st.booleans())
    def fuzz(case, keyed):
        response = case.call(app=app, base_url=f"http://localhost{face.prefix}", headers=headers if keyed else None)
        _check(face, case, response)

    fuzz()


@pytest.mark.parametrize("operation", _operations(FACES["hyperswitch"]))
def test_every_hyperswitch_operation_answers_fuzzed_requests_in_its_envelope(provider_app, world, operation):
    _run(FACES["hyperswitch"], operation, provider_app, world)


@pytest.mark.parametrize("operation", _operations(FACES["govuk"]))
def test_every_govuk_operation_answers_fuzzed_requests_in_its_envelope(provider_app, world, operation):
    _run(FACES["govuk"], operation, provider_app, world)
