"""Hyperswitch's customers API: create, retrieve, update, delete (redact), list, and a customer's
saved payment methods (none: the mock saves no cards for Hyperswitch customers).

Its views hang on the dialect's blueprint (face.py); dialect.py imports this module. Facts from the
router's core/customers.rs, api_models/src/customers.rs and the error transformers;
docs/hyperswitch.md lists the differences.
"""

from __future__ import annotations

import re

from flask import jsonify
from flask import request

from ...domain import customers
from ...runtime.clock import iso_ms
from . import errors
from . import serde
from .auth import authenticate as _authenticate
from .auth import body as _body
from .auth import store as _store
from .face import bp

CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_ID_LENGTH = 64
EXTRA_FIELDS = ("tax_registration_id", "document_details")
FIELDS = {
    "customer_id": serde.string, "name": serde.string, "email": serde.string, "phone": serde.string,
    "phone_country_code": serde.string, "description": serde.string, "address": serde.obj, "metadata": serde.anything,
    "tax_registration_id": serde.string, "document_details": serde.anything,
}
DEFAULT_LIST_LIMIT = 10
MAX_QUERY_NUMBER = 65535  # the router reads limit and offset as u16


def customer_json(customer: customers.Customer, address: dict | None | bool = True) -> dict:
    """CustomerResponse: every key present, null when unset. ``address``: True for the stored
    one; anything else is shown instead (the update and list answers' quirks)."""
    return {
        "customer_id": customer.id, "name": customer.name, "email": customer.email, "phone": customer.phone,
        "phone_country_code": customer.phone_country_code, "description": customer.description,
        "address": customer.address if address is True else address,
        "created_at": iso_ms(customer.created_at), "metadata": customer.metadata,
        "default_payment_method_id": None,
        **{key: customer.extra.get(key) for key in EXTRA_FIELDS},
    }


def _customer_id(value: str | None) -> str | None:
    """The router's CustomerId: 1 to 64 of A-Z a-z 0-9 _ -, trimmed; a serde error otherwise."""
    if value is None:
        return None
    value = value.strip()
    if len(value) > MAX_ID_LENGTH:
        raise serde.deserialize_error(f"the maximum allowed length for this field is {MAX_ID_LENGTH}")
    if not value:
        raise serde.deserialize_error("the minimum required length for this field is 1")
    bad = next((c for c in value if not CUSTOMER_ID.match(c)), None)
    if bad is not None:
        raise serde.deserialize_error(f"value `{value}` contains invalid character `{bad}`")
    return value


def _query_u16(name: str) -> int | None:
    value = serde.query_int(request.args, name)
    if value is not None and not 0 <= value <= MAX_QUERY_NUMBER:
        problem = "number too large to fit in target type" if value > 0 else "invalid digit found in string"
        raise errors.json_error(f"Query deserialize error: {problem} for `{name}`")
    return value


def _values(fields: dict) -> tuple[dict, dict]:
    values = {key: fields.get(key) for key in customers.FIELDS}
    extra = {key: fields[key] for key in EXTRA_FIELDS if key in fields}
    return values, extra


@bp.post("/customers")
def create_customer():
    namespace, _ = _authenticate(allow_publishable=False)
    fields = _body(FIELDS, "CustomerRequest", deny_unknown=False)
    values, extra = _values(fields)
    made = customers.create(_store(), namespace.id, _customer_id(fields.get("customer_id")), values, extra)
    return jsonify(customer_json(made))


@bp.get("/customers/list")
def list_customers():
    namespace, _ = _authenticate(allow_publishable=False)
    limit, offset = _query_u16("limit"), _query_u16("offset")
    found = customers.list_all(_store(), namespace.id, DEFAULT_LIST_LIMIT if limit is None else limit, offset or 0)
    return jsonify([customer_json(c, address=None) for c in found])  # the list shows no addresses


@bp.get("/customers/<customer_id>")
def retrieve_customer(customer_id: str):
    namespace, _ = _authenticate(allow_publishable=False)
    return jsonify(customer_json(customers.get(_store(), namespace.id, customer_id)))


@bp.post("/customers/<customer_id>")
def update_customer(customer_id: str):
    namespace, _ = _authenticate(allow_publishable=False)
    fields = _body({k: v for k, v in FIELDS.items() if k != "customer_id"}, "CustomerUpdateRequest",
                   deny_unknown=False)
    values, extra = _values(fields)
    changed = customers.update(_store(), namespace.id, customer_id, values, extra)
    # The real router answers with the address of the request, not the stored one.
    return jsonify(customer_json(changed, address=fields.get("address")))


@bp.delete("/customers/<customer_id>")
def delete_customer(customer_id: str):
    namespace, _ = _authenticate(allow_publishable=False)
    customers.delete(_store(), namespace.id, customer_id)
    return jsonify({"customer_id": customer_id, "customer_deleted": True, "address_deleted": True,
                    "payment_methods_deleted": True})


@bp.get("/customers/<customer_id>/payment_methods")
def customer_payment_methods(customer_id: str):
    namespace, _ = _authenticate(allow_publishable=False)
    customers.get(_store(), namespace.id, customer_id)  # 404 HE_02 for an unknown customer
    return jsonify({"customer_payment_methods": [], "is_guest_customer": None})
