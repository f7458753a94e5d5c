"""Hyperswitch's mandates: read one, revoke one, list a customer's.

Its views hang on the dialect's blueprint (face.py); dialect.py imports this module. Mandates are
made by payments (setup_future_usage off_session with mandate_data) and used by
off-session payments (recurring_details); see domain/mandates.py and docs/hyperswitch.md.
"""

from __future__ import annotations

from flask import jsonify

from ...domain import mandates
from . import errors
from .auth import authenticate as _authenticate
from .auth import store as _store
from .face import bp


def mandate_json(mandate: mandates.Mandate) -> dict:
    card = mandate.card
    acceptance = mandate.customer_acceptance
    return {
        "mandate_id": mandate.id, "status": mandate.status, "payment_method_id": mandate.payment_method_id,
        "payment_method": "card", "payment_method_type": mandate.payment_method_type,
        "card": {
            "last4_digits": card.get("last4"), "card_exp_month": card.get("exp_month"),
            "card_exp_year": card.get("exp_year"), "card_holder_name": card.get("holder_name"), "card_token": None,
            "scheme": None, "issuer_country": card.get("issuing_country"), "card_fingerprint": None,
            "card_isin": card.get("bin"), "card_issuer": card.get("issuer"), "card_network": card.get("network"),
            "card_type": card.get("type"), "nick_name": None,
        },
        "customer_acceptance": _acceptance(acceptance) if acceptance else None,
    }


def _acceptance(given: dict) -> dict:
    """As the router rebuilds it: online whenever an ip address is kept."""
    online = given.get("online") if isinstance(given.get("online"), dict) else None
    body = {"acceptance_type": "online" if online and online.get("ip_address") else given.get("acceptance_type",
                                                                                                 "offline"),
            "accepted_at": given.get("accepted_at")}
    if online:
        body["online"] = {"ip_address": online.get("ip_address"), "user_agent": online.get("user_agent")}
    return body


@bp.get("/mandates/<mandate_id>")
def retrieve_mandate(mandate_id: str):
    namespace, _ = _authenticate(allow_publishable=False)
    return jsonify(mandate_json(mandates.get(_store(), namespace.id, mandate_id)))


@bp.post("/mandates/revoke/<mandate_id>")
def revoke_mandate(mandate_id: str):
    namespace, _ = _authenticate(allow_publishable=False)
    revoked = mandates.revoke(_store(), namespace.id, mandate_id)
    return jsonify({"mandate_id": revoked.id, "status": revoked.status, "error_code": None, "error_message": None})


@bp.get("/customers/<customer_id>/mandates")
def customer_mandates(customer_id: str):
    namespace, _ = _authenticate(allow_publishable=False)
    found = mandates.for_customer(_store(), namespace.id, customer_id)
    if not found:  # the router answers so for no mandates, and for no such customer alike
        raise errors.HyperswitchError(404, "HE_02", "Mandate does not exist in our records")
    return jsonify([mandate_json(m) for m in found])
