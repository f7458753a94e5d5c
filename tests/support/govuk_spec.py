"""Validate GOV.UK Pay responses against the provider's own OpenAPI document.

Read from ``../shared/specs/govuk_pay_publicapi.json`` (or ``$MOCK_PSP_SPECS_DIR``),
never copied. The published schemas declare no required fields and allow any
extra property, so this checker is stricter than the document: an object with
declared properties may carry no others (a misspelt field fails). Where the
real service differs from the document, the difference is listed once in
``KNOWN_SPEC_DIFFERENCES`` and applied in ``_components``; nothing else passes.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache

from openapi_schema_validator import OAS30Validator

from .spec import SPECS_DIR
from .spec import ConformanceError
from .spec import _nullable_composites

GOVUK_SPEC = SPECS_DIR / "govuk_pay_publicapi.json"
PREFIX = "/govuk"

KNOWN_SPEC_DIFFERENCES = {
    "refund_created_202": "POST /v1/payments/{id}/refunds answers 202 with the Refund body; the spec "
                          "declares 202 without a schema (and a 200 the server does not send).",
    "refund_not_available_400": "A refund of a payment that is not refundable is 400 P0603 (RequestError); "
                                "the spec lists no 400 for POST .../refunds.",
    "precondition_412": "412 P0604 carries a RequestError body; the spec declares 412 without one.",
    "undeclared_errors": "Errors the real API returns that the spec does not list: 409 P0191 on create "
                         "(Idempotency-Key reused), 422 P0602 on refund create (amount out of range) and "
                         "404 P0402 from the searches (a page past the last); their bodies are RequestError.",
    "idempotent_replay_200": "A repeated Idempotency-Key with the same body answers 200 with the payment "
                             "(CreatePaymentResult); the spec lists only 201.",
    "create_result_fields": "The create response carries authorisation_mode and card_brand like "
                            "GET does; CreatePaymentResult does not list them.",
    "card_details_nullable": "card_details fields are serialised as null when unknown "
                             "(@JsonInclude(ALWAYS)); the spec does not mark them nullable.",
    "map_artifacts": "Java Map<String, Object> fields came out of the generator as maps of objects: "
                     "PostLink.params holds strings (chargeTokenId), and metadata is a flat object of "
                     "string, number or boolean values, not {\"metadata\": {...}}.",
    "search_result_fields": "Search results and webhook resources use the payment representation, "
                            "which the spec's PaymentDetailForSearch does not list in full.",
    "agreement_fields": "Payments made to set up or with an agreement carry agreement_id (pay-publicapi's "
                        "PaymentsResourceCreateIT asserts it), and the create answer carries agreement_payment_type "
                        "like GET; the spec lists neither there.",
    "agreement_mode_in_answers": "Payments answer authorisation_mode \"agreement\" for agreement payments "
                                 "(PaymentsResourceCreateIT); the spec's response enums list only web, moto_api "
                                 "and external, though its request enum has agreement.",
    "payment_instrument_card_details": "An agreement's payment_instrument holds card_details (snake_case, as "
                                       "pay-publicapi's AgreementsApiResourceSearchIT asserts); the spec's "
                                       "PaymentInstrument names it CardDetails, a generator artefact.",
    "auth_422_field": "POST /v1/auth declares its 422 as ErrorResponse {code, description}, but pay-publicapi's "
                      "ViolationExceptionMapper answers a RequestError that names the field "
                      "(\"field\": \"card_number\"); the card checks relayed from pay-connector carry none.",
}


def spec_available() -> bool:
    return GOVUK_SPEC.is_file()


SKIP_REASON = (
    f"GOV.UK Pay OpenAPI spec not found at {GOVUK_SPEC}; set MOCK_PSP_SPECS_DIR to the folder holding "
    "govuk_pay_publicapi.json"
)


@cache
def _spec() -> dict:
    return json.loads(GOVUK_SPEC.read_text())


def _closed(node):
    """Objects with declared properties accept no others."""
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _closed(value) for key, value in node.items()}
    if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    return node


@cache
def _components() -> dict:
    components = copy.deepcopy(_spec()["components"])
    schemas = components["schemas"]
    # create_result_fields
    for name in ("authorisation_mode", "card_brand"):
        schemas["CreatePaymentResult"]["properties"][name] = {"type": "string"}
    # agreement_fields
    for name in ("CreatePaymentResult", "PaymentWithAllLinks", "PaymentDetailForSearch"):
        schemas[name]["properties"]["agreement_id"] = {"type": "string"}
    schemas["CreatePaymentResult"]["properties"]["agreement_payment_type"] = {"type": "string"}
    # agreement_mode_in_answers
    for name in ("PaymentWithAllLinks", "PaymentDetailForSearch", "CreatePaymentResult"):
        mode = schemas[name]["properties"].get("authorisation_mode")
        if mode and "enum" in mode and "agreement" not in mode["enum"]:
            mode["enum"] = [*mode["enum"], "agreement"]
    # payment_instrument_card_details
    instrument = schemas["PaymentInstrument"]["properties"]
    instrument["card_details"] = instrument.pop("CardDetails")
    # map_artifacts
    schemas["PostLink"]["properties"]["params"] = {"type": "object", "additionalProperties": {"type": "string"}}
    schemas["ExternalMetadata"] = {"type": "object", "additionalProperties": {
        "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}}
    # card_details_nullable
    for schema_name in ("CardDetails", "CardDetailsFromResponse"):
        if schema_name in schemas:
            for prop in schemas[schema_name]["properties"].values():
                prop["nullable"] = True
                if "enum" in prop:
                    prop["enum"] = [*prop["enum"], None]  # card_type: JSON null, not the string "null"
    return _closed(_nullable_composites(components))


@cache
def _validator(schema_name: str) -> OAS30Validator:
    return OAS30Validator({"components": _components(), "$ref": f"#/components/schemas/{schema_name}"})


@cache
def _operations() -> list:
    found = []
    for template, methods in _spec()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$")
        for method, operation in methods.items():
            if isinstance(operation, dict) and "responses" in operation:
                found.append((method.upper(), template, pattern, operation))
    found.sort(key=lambda op: op[1].count("{"))
    return found


def _operation(method: str, path: str):
    for op_method, template, pattern, operation in _operations():
        if op_method == method and pattern.match(path):
            return template, operation
    return None, None


def _declared(operation: dict, status: int) -> str | None:
    response = operation["responses"].get(str(status))
    if response is None:
        return None
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return ""
    return schema["$ref"].rsplit("/", 1)[1] if "$ref" in schema else ""


# (method, template, status) -> the schema the allowlist above says to use.
_ALLOWED_UNDECLARED = {
    ("POST", "/v1/payments/{paymentId}/refunds", 202): "Refund",               # refund_created_202
    ("POST", "/v1/payments/{paymentId}/refunds", 400): "RequestError",         # refund_not_available_400
    ("POST", "/v1/payments/{paymentId}/refunds", 412): "RequestError",         # precondition_412
    ("POST", "/v1/payments/{paymentId}/refunds", 422): "RequestError",         # undeclared_errors
    ("POST", "/v1/payments", 409): "RequestError",                              # undeclared_errors
    ("POST", "/v1/payments", 200): "CreatePaymentResult",                       # idempotent_replay_200
    ("GET", "/v1/payments", 404): "RequestError",                               # undeclared_errors
    ("GET", "/v1/refunds", 404): "RequestError",                                # undeclared_errors
    ("POST", "/v1/auth", 422): "RequestError",                                  # auth_422_field
}


def check_response(method: str, path: str, status: int, body) -> str | None:
    """Validate one GOV.UK response; return the schema used, or None when out of scope."""
    if not spec_available() or not path.startswith(PREFIX + "/v1/"):
        return None
    api_path = path[len(PREFIX):].split("?", 1)[0]
    template, operation = _operation(method, api_path)
    if operation is None:
        return None
    if status in (204, 401):
        if body not in (None, ""):
            raise ConformanceError(f"{method} {api_path} -> {status} must have no body, got {body!r}")
        return "empty"
    schema = _declared(operation, status)
    schema = _ALLOWED_UNDECLARED.get((method, template, status), schema)
    if not schema:
        raise ConformanceError(f"{method} {api_path} answered {status}, which the spec does not declare")
    _validate(schema, body, f"{method} {api_path} -> {status}")
    return schema


def validate(schema_name: str, body, where: str) -> None:
    _validate(schema_name, body, where)


def _validate(schema_name: str, body, where: str) -> None:
    errors = sorted(_validator(schema_name).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        details = "\n".join(
            f"  at {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in errors[:10]
        )
        raise ConformanceError(f"{where} does not match {schema_name}:\n{details}")
