"""Validate Hyperswitch responses against the provider's own OpenAPI document.

The document is read from ``$MOCK_PSP_SPECS_DIR`` or the nearest ``shared/specs`` beside an
ancestor of the checkout (``../shared/specs`` here) and
never copied into the project. Where the published spec disagrees with what the
real server sends, the difference is listed once in ``KNOWN_SPEC_DIFFERENCES``
and handled in ``_apply_known_differences``; nothing else is let through.
"""

from __future__ import annotations

import copy
import json
import os
import re
from functools import cache
from functools import lru_cache
from pathlib import Path

from openapi_schema_validator import OAS30Validator

ROOT = Path(__file__).resolve().parents[2]


def _find_specs_dir() -> Path:
    """$MOCK_PSP_SPECS_DIR, else the nearest ``shared/specs`` beside the checkout or above it."""
    explicit = os.environ.get("MOCK_PSP_SPECS_DIR")
    if explicit:
        return Path(explicit)
    for folder in ROOT.parents:
        candidate = folder / "shared" / "specs"
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared" / "specs"


SPECS_DIR = _find_specs_dir()
HYPERSWITCH_SPEC = SPECS_DIR / "hyperswitch_openapi_v1.json"
PREFIX = "/hyperswitch"

# The explicit allowlist. Each entry is a difference between the published
# spec and the real server, as read in the server's source (see
# ../shared/reference/hyperswitch.md, "Where the spec disagrees with the server").
KNOWN_SPEC_DIFFERENCES = {
    "list_shape": "GET /payments/list returns one {size, data} object (PaymentListResponse), "
                  "not the array the spec declares.",
    "error_envelope": "Errors are wrapped as {\"error\": {...}} and use the key `type`; the spec's "
                      "GenericErrorResponseOpenApi is flat with `error_type` (only JSON parse errors "
                      "use `error_type` on the wire).",
    "payment_method_nullable": "PaymentsResponse.payment_method is Option in Rust: null before a "
                               "payment method is attached, though the spec marks it required.",
    "payment_id_length": "The spec pins payment_id to exactly 30 characters; the server generates "
                         "pay_ + 20 characters (24) and accepts merchant-chosen ids of 1 to 64.",
    "minimum_100": "The spec gives amount_capturable and RefundResponse.amount a minimum of 100 (an "
                   "example annotation); the server reports amount_capturable 0 once captured, failed "
                   "or cancelled, and refunds any positive amount.",
    "undocumented_bodies": "Some responses have no schema in the spec (cancel 200, 404s); the server "
                           "sends a PaymentsResponse or the error envelope there.",
}


def spec_available() -> bool:
    return HYPERSWITCH_SPEC.is_file()


SKIP_REASON = (
    f"Hyperswitch OpenAPI spec not found at {HYPERSWITCH_SPEC}; set MOCK_PSP_SPECS_DIR to the folder "
    "holding hyperswitch_openapi_v1.json"
)


@lru_cache(maxsize=1)
def _spec() -> dict:
    return json.loads(HYPERSWITCH_SPEC.read_text())


_NULL_ONLY = {"type": "object", "nullable": True, "enum": [None]}


def _nullable_composites(node):
    """Read the spec as its generator (utoipa) means it.

    Makes ``{"allOf": [...], "nullable": true}`` accept null, and drops unresolvable
    discriminators (see below).

    OpenAPI 3.0 validators apply ``nullable`` only next to ``type``, so a nullable
    ``allOf``/``$ref`` would wrongly reject null. This reads the spec, it does not
    relax it: the non-null branch is validated exactly as written.
    """
    if isinstance(node, list):
        return [_nullable_composites(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_composites(value) for key, value in node.items()}
    # A discriminator without a mapping over inline oneOf branches points at
    # schema names that do not exist (#/components/schemas/redirect_to_url);
    # the oneOf alone still demands exactly one matching branch.
    if "discriminator" in node and "mapping" not in node["discriminator"]:
        node.pop("discriminator")
    if node.get("nullable") is True and "type" not in node and any(
        key in node for key in ("allOf", "oneOf", "anyOf", "$ref")
    ):
        rest = {k: v for k, v in node.items() if k != "nullable"}
        return {"anyOf": [rest, _NULL_ONLY]}
    return node


@lru_cache(maxsize=1)
def _components() -> dict:
    components = _nullable_composites(copy.deepcopy(_spec()["components"]))
    for name in ("PaymentsResponse", "PaymentsCreateResponseOpenApi"):
        schema = components["schemas"][name]
        # payment_method_nullable
        schema["required"] = [f for f in schema["required"] if f != "payment_method"]
        schema["properties"]["payment_method"] = _nullable_composites({
            "allOf": [{"$ref": "#/components/schemas/PaymentMethod"}], "nullable": True,
        })
        # payment_id_length
        schema["properties"]["payment_id"] = {"type": "string", "minLength": 1, "maxLength": 64}
        # minimum_100
        schema["properties"]["amount_capturable"] = {"type": "integer", "format": "int64", "minimum": 0}
    components["schemas"]["RefundResponse"]["properties"]["amount"] = {"type": "integer", "format": "int64",
                                                                       "minimum": 1}
    return components


@cache
def _validator(schema_name: str) -> OAS30Validator:
    root = {"components": _components(), "$ref": f"#/components/schemas/{schema_name}"}
    return OAS30Validator(root)


@lru_cache(maxsize=1)
def _operations() -> list[tuple[str, re.Pattern, dict]]:
    found = []
    for template, methods in _spec()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$")
        for method, operation in methods.items():
            found.append((method.upper(), template, pattern, operation))
    # Literal paths (/payments/list) before templated ones (/payments/{payment_id}).
    found.sort(key=lambda op: op[1].count("{"))
    return [(m, p, o) for m, _, p, o in found]


def _operation(method: str, path: str) -> dict | None:
    for op_method, pattern, operation in _operations():
        if op_method == method and pattern.match(path):
            return operation
    return None


def _declared_schema(operation: dict, status: int) -> str | None:
    response = operation.get("responses", {}).get(str(status))
    if not response:
        return None
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if not schema:
        return None
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if schema.get("type") == "array" and "$ref" in schema.get("items", {}):
        return "array:" + schema["items"]["$ref"].rsplit("/", 1)[1]
    return None


class ConformanceError(AssertionError):
    pass


def check_response(method: str, path: str, status: int, body) -> str | None:
    """Validate one Hyperswitch response; return the schema used, or None if out of scope.

    Raises ConformanceError on a mismatch that is not a known difference.
    """
    if not spec_available() or not path.startswith(PREFIX + "/"):
        return None
    api_path = path[len(PREFIX):].split("?", 1)[0]
    operation = _operation(method, api_path)
    if operation is None:
        return None  # provider pages (3DS redirect) are not API operations
    if status >= 400:
        return _check_error(body, status)
    schema_name = _declared_schema(operation, status)
    if method == "GET" and api_path == "/payments/list":
        schema_name = "PaymentListResponse"  # list_shape
    if schema_name is None and api_path.startswith("/payments/"):
        schema_name = "PaymentsResponse"  # undocumented_bodies
    if schema_name is None:
        raise ConformanceError(f"no schema to check {method} {api_path} {status} against")
    if schema_name.startswith("array:"):
        if not isinstance(body, list):
            raise ConformanceError(f"{method} {api_path} -> {status}: expected an array, got {type(body).__name__}")
        item_schema = schema_name.removeprefix("array:")
        for index, item in enumerate(body):
            _validate(item_schema, item, f"{method} {api_path} -> {status} [{index}]")
        return schema_name
    _validate(schema_name, body, f"{method} {api_path} -> {status}")
    return schema_name


def _check_error(body, status: int) -> str:
    # error_envelope: unwrap, and accept `type` where the spec says `error_type`.
    if not isinstance(body, dict) or set(body) != {"error"}:
        raise ConformanceError(f"error body is not {{'error': {{...}}}}: {body!r}")
    inner = dict(body["error"])
    if "type" in inner:
        inner["error_type"] = inner.pop("type")
    inner = {k: v for k, v in inner.items() if k in ("error_type", "message", "code")}
    _validate("GenericErrorResponseOpenApi", inner, f"error {status}")
    return "GenericErrorResponseOpenApi"


def _validate(schema_name: str, body, where: str) -> None:
    errors = sorted(_validator(schema_name).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        details = "\n".join(
            f"  at {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in errors[:10]
        )
        raise ConformanceError(f"{where} does not match {schema_name}:\n{details}")
