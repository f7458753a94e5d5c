"""Hyperswitch's account-side APIs that govern webhooks: the business profile and the events API.

The profile's ``webhook_details.webhook_url`` is the namespace's Hyperswitch
webhook endpoint (signed with the profile's ``payment_response_hash_key``), as
in the real service. The events API lists what was sent, every attempt, and
retries by hand.
"""

from __future__ import annotations

import json

from flask import jsonify
from flask import request

from ...domain import namespaces
from ...domain.namespaces import Namespace
from ...runtime.clock import iso_ms
from ...runtime.clock import parse_iso
from . import errors
from . import serde
from .auth import SECRET
from .auth import authenticate as _authenticate
from .auth import body as _body
from .auth import by_merchant
from .auth import provider as _provider
from .face import bp
from .keys import KEY
from .keys import NAME
from .keys import keys_of
from .webhooks import EVENT_BY_STATUS
from .webhooks import EVENT_TYPES
from .webhooks import REFUND_EVENTS
from .webhooks import SCHEME

# The admin key of Hyperswitch's development configuration; any namespace's
# secret key also works, for its own merchant.
ADMIN_API_KEY = "test_admin"

PROFILE_FIELDS = {
    "profile_name": serde.string,
    "return_url": serde.web_url,
    "enable_payment_response_hash": serde.boolean,
    "payment_response_hash_key": serde.string,
    "redirect_to_merchant_with_http_post": serde.boolean,
    "webhook_details": serde.obj,
    "metadata": serde.anything,
    "session_expiry": serde.unsigned,
    "is_manual_retry_enabled": serde.boolean,
    "force_3ds_challenge": serde.boolean,
    "is_auto_retries_enabled": serde.boolean,
    "max_auto_retries_enabled": serde.integer,
    "outgoing_webhook_custom_http_headers": serde.obj,
}
# Accepted and kept, but with no effect in the mock.
for _name in (
    "routing_algorithm", "intent_fulfillment_time", "frm_routing_algorithm", "payout_routing_algorithm",
    "applepay_verified_domains", "payment_link_config", "authentication_connector_details",
    "use_billing_as_payment_method_billing", "collect_shipping_details_from_wallet_connector",
    "collect_billing_details_from_wallet_connector", "always_collect_shipping_details_from_wallet_connector",
    "always_collect_billing_details_from_wallet_connector", "is_connector_agnostic_mit_enabled",
    "payout_link_config", "tax_connector_id", "is_tax_connector_enabled", "is_network_tokenization_enabled",
    "always_request_extended_authorization", "is_click_to_pay_enabled", "authentication_product_ids",
    "card_testing_guard_config", "is_clear_pan_retries_enabled", "is_debit_routing_enabled",
    "merchant_business_country", "is_iframe_redirection_enabled", "is_pre_network_tokenization_enabled",
    "merchant_category_code", "merchant_country_code", "dispute_polling_interval", "always_enable_overcapture",
    "is_external_vault_enabled", "external_vault_connector_details", "billing_processor_id",
    "surcharge_connector_details", "is_l2_l3_enabled", "network_tokenization_credentials", "payment_method_blocking",
):
    PROFILE_FIELDS.setdefault(_name, serde.anything)

WEBHOOK_DETAIL_FIELDS = {
    "webhook_version": serde.string, "webhook_username": serde.string, "webhook_password": serde.string,
    "webhook_url": serde.string, "payment_created_enabled": serde.boolean,
    "payment_succeeded_enabled": serde.boolean, "payment_failed_enabled": serde.boolean,
    "payment_statuses_enabled": serde.array_of(serde.string), "refund_statuses_enabled": serde.array_of(serde.string),
    "payout_statuses_enabled": serde.array_of(serde.string),
}

PROFILE_DEFAULTS = {
    "profile_name": "default",
    "return_url": None,
    "enable_payment_response_hash": True,
    "redirect_to_merchant_with_http_post": False,
    "webhook_details": None,
    "metadata": None,
}

BOOLEAN_DEFAULTS = (
    "is_tax_connector_enabled", "is_network_tokenization_enabled", "is_auto_retries_enabled",
    "is_click_to_pay_enabled", "is_clear_pan_retries_enabled", "force_3ds_challenge",
    "is_pre_network_tokenization_enabled",
)


# The webhook endpoint the profile's webhook_details.webhook_url names (events are resent to it first).
PROFILE_ENDPOINT = "profile"


def profile_of(namespace: Namespace) -> dict:
    return {**PROFILE_DEFAULTS, **namespace.settings_of(KEY)}


def _own_profile(account_id: str, profile_id: str) -> Namespace:
    namespace, kind = _authenticate(allow_publishable=False)
    if kind != SECRET or account_id != keys_of(namespace).merchant_id or \
            profile_id != keys_of(namespace).profile_id:
        raise errors.HyperswitchError(
            404, "HE_02", f"Business profile with the given id '{profile_id}' does not exist in our records")
    return namespace


def profile_response(namespace: Namespace) -> dict:
    profile = profile_of(namespace)
    body = {
        "merchant_id": keys_of(namespace).merchant_id,
        "profile_id": keys_of(namespace).profile_id,
        **{key: profile.get(key) for key in PROFILE_DEFAULTS},
        "payment_response_hash_key": keys_of(namespace).payment_response_hash_key,
        "session_expiry": namespace.config["session_expiry_seconds"],
        "is_manual_retry_enabled": namespace.config["manual_retry"],
    }
    for key in BOOLEAN_DEFAULTS:
        body[key] = bool(profile.get(key, False))
    if body["webhook_details"] is not None:
        # Empty lists, like unset ones, mean "every status sends its event".
        body["webhook_details"] = {"payment_statuses_enabled": [], "refund_statuses_enabled": [],
                                   **body["webhook_details"]}
    for key, value in profile.items():
        body.setdefault(key, value)
    return body


def _webhook_events(details: dict) -> list[str] | None:
    """The event types a profile's status lists enable (None: all, as when the lists are unset)."""
    payment_statuses = details.get("payment_statuses_enabled")
    refund_statuses = details.get("refund_statuses_enabled")
    if not payment_statuses and not refund_statuses:
        return None
    chosen = {EVENT_BY_STATUS[s] for s in payment_statuses or EVENT_BY_STATUS if s in EVENT_BY_STATUS}
    chosen |= {REFUND_EVENTS[s] for s in refund_statuses or REFUND_EVENTS if s in REFUND_EVENTS}
    return sorted(chosen) or None


@bp.get("/account/<account_id>/business_profile/<profile_id>")
def retrieve_profile(account_id: str, profile_id: str):
    return jsonify(profile_response(_own_profile(account_id, profile_id)))


@bp.post("/account/<account_id>/business_profile/<profile_id>")
def update_profile(account_id: str, profile_id: str):
    fields = _body(PROFILE_FIELDS, "ProfileUpdate")
    namespace = _own_profile(account_id, profile_id)
    details = fields.get("webhook_details")
    if details is not None:
        details = serde.check_fields(details, WEBHOOK_DETAIL_FIELDS, deny_unknown=False)
    profile = {**profile_of(namespace), **{key: value for key, value in fields.items()
                                           if key not in ("payment_response_hash_key", "session_expiry",
                                                          "is_manual_retry_enabled")}}
    settings = {}
    if "session_expiry" in fields:
        settings["session_expiry_seconds"] = max(60, fields["session_expiry"])
    if "is_manual_retry_enabled" in fields:
        settings["manual_retry"] = fields["is_manual_retry_enabled"]
    keys = {"payment_response_hash_key": fields["payment_response_hash_key"]} \
        if "payment_response_hash_key" in fields else None
    namespace = namespaces.update_account(_provider().store, namespace.id, KEY, settings=profile, keys=keys,
                                          config=settings)
    if details is not None:
        url = details.get("webhook_url") or None
        if url is not None and "://" not in url:
            url = "https://" + url  # the real API takes "www.shop.com/webhooks" too
        values = {"url": url, "scheme": SCHEME.name, "events": _webhook_events(details)} if url else None
        _provider().webhooks.endpoints.set_owned(namespace.id, PROFILE_ENDPOINT, values)
    return jsonify(profile_response(namespace))


# -- the events API --------------------------------------------------------------------

EVENT_LIST_FIELDS = {
    "created_after": serde.string, "created_before": serde.string, "limit": serde.unsigned,
    "offset": serde.unsigned, "object_id": serde.string, "event_id": serde.string, "profile_id": serde.string,
    "event_classes": serde.array_of(serde.enum("EventClass", ("payments", "refunds", "disputes", "mandates",
                                                            "payouts", "subscriptions"))),
    "event_types": serde.array_of(serde.string), "is_delivered": serde.boolean,
}


def _events_namespace(merchant_id: str) -> Namespace:
    """Admin-key endpoints: the admin key with any merchant, or a merchant's own secret key."""
    key = request.headers.get("api-key")
    if not key:
        raise errors.unauthorized()
    namespace = by_merchant(merchant_id)
    if namespace is None or (key != ADMIN_API_KEY and key != keys_of(namespace).api_key):
        raise errors.unauthorized()
    return namespace


def _time(fields: dict, name: str) -> int | None:
    if name not in fields:
        return None
    try:
        return parse_iso(fields[name])
    except ValueError:
        raise errors.json_error(f"Json deserialize error: invalid datetime for `{name}`") from None


def _list_item(namespace: Namespace, event: dict, attempt_id: str | None = None) -> dict:
    delivered = event.get("delivered")
    return {
        "event_id": attempt_id or event["id"],
        "merchant_id": keys_of(namespace).merchant_id,
        "profile_id": keys_of(namespace).profile_id,
        "object_id": event["object_id"],
        "event_type": event["event_type"],
        "event_class": event["event_class"],
        "is_delivery_successful": None if delivered is None else bool(delivered),
        "initial_attempt_id": event["id"],
        "processor_merchant_id": keys_of(namespace).merchant_id,
        "created": iso_ms(event["created_at"]),
    }


def _attempt_response(namespace: Namespace, event: dict, attempt: dict) -> dict:
    request_headers = json.loads(attempt["request_headers"]) if attempt["request_headers"] else {}
    response_headers = json.loads(attempt["response_headers"]) if attempt["response_headers"] else None
    item = _list_item(namespace, {**event, "delivered": attempt["delivery_status"] == "delivered"},
                      attempt["attempt_id"])
    item["is_delivery_successful"] = attempt["status_code"] is not None and 200 <= attempt["status_code"] < 300
    return {
        **item,
        "request": {"body": event["body"], "headers": [[k.lower(), v] for k, v in request_headers.items()]},
        "response": {
            "body": attempt["response_excerpt"],
            "headers": [[k.lower(), v] for k, v in response_headers.items()] if response_headers else None,
            "status_code": attempt["status_code"],
            "error_message": attempt["error"],
        },
        "delivery_attempt": attempt["kind"],
    }


@bp.post("/events/<merchant_id>")
def list_events(merchant_id: str):
    fields = _body(EVENT_LIST_FIELDS, "EventListConstraints")
    namespace = _events_namespace(merchant_id)
    unknown = [t for t in fields.get("event_types", []) if t not in EVENT_TYPES]
    if unknown:
        raise errors.json_error(f"Json deserialize error: unknown variant `{unknown[0]}`")
    found, total = _provider().webhooks.log.list_events(
        namespace.id, NAME, created_after=_time(fields, "created_after"),
        created_before=_time(fields, "created_before"), object_id=fields.get("object_id"),
        event_id=fields.get("event_id"), event_types=fields.get("event_types"),
        event_classes=fields.get("event_classes"), is_delivered=fields.get("is_delivered"),
        limit=min(fields.get("limit") or 100, 100), offset=fields.get("offset") or 0,
    )
    return jsonify({"events": [_list_item(namespace, e) for e in found], "total_count": total})


def _event(namespace: Namespace, event_id: str) -> dict:
    event = _provider().webhooks.log.get_event(namespace.id, event_id)
    if event is None:
        raise errors.HyperswitchError(404, "HE_02", "Event does not exist in our records")
    return event


@bp.get("/events/<merchant_id>/<event_id>/attempts")
def event_attempts(merchant_id: str, event_id: str):
    namespace = _events_namespace(merchant_id)
    event = _event(namespace, event_id)
    attempts = _provider().webhooks.log.event_attempts(namespace.id, event_id)
    return jsonify([_attempt_response(namespace, event, a) for a in attempts])


@bp.post("/events/<merchant_id>/<event_id>/retry")
def retry_event(merchant_id: str, event_id: str):
    namespace = _events_namespace(merchant_id)
    event = _event(namespace, event_id)
    attempt = _provider().webhooks.retry_event(namespace.id, event_id)
    if attempt is None:
        raise errors.HyperswitchError(400, "IR_16", "No webhook endpoint is configured for this event")
    return jsonify(_attempt_response(namespace, event, attempt))
