"""GOV.UK Pay's agreements for recurring card payments: create, get, search, cancel.

Its views hang on the dialect's blueprint (face.py); dialect.py imports this module. Codes and texts
from pay-publicapi (AgreementsApiResource, RequestError, AgreementSearchValidator);
docs/govuk.md lists them.
"""

from __future__ import annotations

import math

from flask import jsonify
from flask import request

from ...domain import agreements
from ...domain.errors import DomainError
from ...runtime.clock import iso_ms
from . import errors
from . import paging
from . import parse as wire
from . import serialize
from .auth import authenticate as _authenticate
from .auth import base as _base
from .auth import store as _store
from .face import bp

ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
SEARCH_PARAMS = ("reference", "status", "page", "display_size")


def agreement_json(agreement: agreements.Agreement) -> dict:
    body = {"agreement_id": agreement.id, "reference": agreement.reference, "description": agreement.description,
            "status": agreement.status, "created_date": iso_ms(agreement.created_at),
            "user_identifier": agreement.user_identifier}
    if agreement.instrument:
        body["payment_instrument"] = {"type": "card", "created_date": iso_ms(agreement.instrument_created_at),
                                      "card_details": serialize.saved_card_details(agreement.instrument)}
    if agreement.status == agreements.CANCELLED and agreement.cancelled_at:
        body["cancelled_date"] = iso_ms(agreement.cancelled_at)
    return {k: v for k, v in body.items() if v is not None}


@bp.post("/v1/agreements")
def create_agreement():
    namespace = _authenticate()
    fields = wire.create_agreement(request.get_data(cache=True))
    made = agreements.create(_store(), namespace.id, fields["reference"], fields["description"],
                             fields["user_identifier"], id_alphabet=ID_ALPHABET)
    return jsonify(agreement_json(made)), 201  # no Location header: the real resource sets none


@bp.get("/v1/agreements/<agreement_id>")
def get_agreement(agreement_id: str):
    namespace = _authenticate()
    try:
        return jsonify(agreement_json(agreements.get(_store(), namespace.id, agreement_id)))
    except DomainError:
        raise errors.GovukError(404, "P2200", "Not found") from None


@bp.post("/v1/agreements/<agreement_id>/cancel")
def cancel_agreement(agreement_id: str):
    namespace = _authenticate()
    try:
        agreements.cancel(_store(), namespace.id, agreement_id)
    except DomainError as error:
        if error.code == "not_found":
            raise errors.GovukError(404, "P2500", "Not found") from None
        raise errors.GovukError(400, "P2501", "Cancellation of agreement failed") from None
    return "", 204


@bp.get("/v1/agreements")
def search_agreements():
    namespace = _authenticate()
    args = request.args
    invalid = []
    status = args.get("status") or None
    if status is not None and status not in agreements.STATUSES:
        invalid.append("status")
    if len(args.get("reference", "")) > wire.AGREEMENT_TEXT_MAX:
        invalid.append("reference")
    page, size = paging.page_and_size(args, invalid)
    if invalid:
        raise errors.GovukError(422, "P2401", f"Invalid parameters: {', '.join(invalid)}. "
                                              "See Public API documentation for the correct data formats")
    found, total = agreements.search(_store(), namespace.id, args.get("reference") or None, status, size,
                                     (page - 1) * size)
    last_page = max(1, math.ceil(total / size))
    if page > last_page:
        raise errors.GovukError(404, "P2402", "Page not found")
    return jsonify({"total": total, "count": len(found), "page": page,
                    "results": [agreement_json(a) for a in found],
                    "_links": paging.page_links(_base(), "/v1/agreements", args, page, last_page)})
