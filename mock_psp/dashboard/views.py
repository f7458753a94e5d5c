"""What the dashboard pages show, built from the store and the library (no Flask here)."""

from __future__ import annotations

import json
from typing import Any

from ..checkout.adapters import money as checkout_money
from ..domain import jobs
from ..domain import jsontext
from ..domain import numbers
from ..domain import payments as p
from ..domain import refunds
from ..domain.errors import DomainError
from ..domain.namespace_config import DELAY_KEYS
from ..domain.namespace_config import RATE_KEYS
from ..domain.namespaces import Listed
from ..domain.namespaces import Namespace
from ..runtime.clock import iso_ms
from ..web import api_faults

STATUS_CHOICES = (p.CREATED, p.CUSTOMER_ACTION, p.PROCESSING, p.AUTHORIZED, p.CAPTURED, p.PARTIALLY_CAPTURED,
                  p.FAILED, p.CANCELLED, p.EXPIRED)
FAULT_NUMBERS = ("drop", "duplicate", "reorder", "delay")
API_FAULT_KINDS = api_faults.KINDS
API_ERROR_STATUSES = api_faults.ERROR_STATUSES


def money(amount: int | None, currency: str | None) -> str:
    if amount is None or not currency:
        return ""
    return checkout_money(amount, currency)


# -- namespaces ---------------------------------------------------------------------------------


def namespace_row(listed: Listed) -> dict:
    namespace = listed.namespace
    return {"id": namespace.id, "default": namespace.is_default, "created_at": iso_ms(namespace.created_at),
            "clock": namespace.clock_mode, "now": iso_ms(namespace.now_ms()), "payments": listed.payments,
            "label": namespace.label}


# -- payments -----------------------------------------------------------------------------------


def payment_rows(store, dialects: dict, namespace: Namespace, status: str | None, query: str, limit: int,
                 offset: int) -> tuple[list[dict], int]:
    """Newest first; ``query`` matches part of the payment id or the reference."""
    found, total = p.list_payments(store, namespace.id, p.PaymentFilter(
        statuses=(status,) if status in STATUS_CHOICES else None, contains=query or None, limit=limit,
        offset=offset), with_total=True)
    return [{**payment_summary(payment, dialects),
             "refunded": refunded_text(payment, refunds.totals_for(store, namespace.id, payment.id))}
            for payment in found], total


def refunded_text(payment: p.Payment, totals: refunds.RefundTotals) -> str:
    """What has gone back, and what is on its way ("" when nothing was asked for)."""
    pending = totals.submitted - totals.succeeded
    parts = [money(totals.succeeded, payment.currency)] if totals.succeeded else []
    if pending:
        parts.append(f"{money(pending, payment.currency)} pending")
    return ", ".join(parts)


def public_status(payment: p.Payment, dialects: dict) -> str:
    dialect = dialects.get(payment.dialect)
    return dialect.checkout.public_status(payment) if dialect else payment.status


def payment_summary(payment: p.Payment, dialects: dict) -> dict:
    return {"id": payment.id, "dialect": payment.dialect, "status": payment.status,
            "public_status": public_status(payment, dialects), "amount": money(payment.amount, payment.currency),
            "reference": payment.reference or "", "description": payment.description or "",
            "waiting_for": payment.customer_action or "", "created_at": iso_ms(payment.created_at),
            "updated_at": iso_ms(payment.updated_at)}


def payment_detail(store, engine, dialects: dict, namespace: Namespace, payment_id: str) -> dict:
    payment = p.get_payment(store, namespace.id, payment_id)
    totals = refunds.totals_for(store, namespace.id, payment_id)
    refundable = max(0, payment.amount_captured - totals.submitted) if payment.status in p.ACTIONS["refund"] else 0
    def allowed(action: str) -> bool:
        return action in merchant_actions(payment, dialects)

    deliveries, _ = engine.log.list_deliveries(namespace.id, payment_id=payment_id, limit=100)
    card = (payment.payment_method_data or {}).get("card") or {}
    fields = [("Dialect", payment.dialect), ("Status", payment.status),
              ("Provider status", public_status(payment, dialects)),
              ("Amount", money(payment.amount, payment.currency)),
              ("Captured", money(payment.amount_captured, payment.currency)),
              ("Refunded", money(totals.succeeded, payment.currency)),
              ("Capture method", payment.capture_method), ("Reference", payment.reference),
              ("Customer", payment.customer_id),
              ("Agreement", payment.attributes.get("agreement_id")),
              ("Description", payment.description), ("Waiting for", payment.customer_action),
              ("Payment method", " ".join(x for x in (payment.payment_method, payment.payment_method_type) if x)),
              ("Card", f"{card.get('network') or ''} •••• {card.get('last4')}" if card.get("last4") else None),
              ("Failure", payment.failure_reason), ("Return URL", payment.return_url),
              ("Created", iso_ms(payment.created_at)), ("Updated", iso_ms(payment.updated_at)),
              ("Session expires", iso_ms(payment.session_expires_at))]
    return {
        "payment": payment, "fields": [(k, v) for k, v in fields if v not in (None, "")],
        "trail": [{"at": iso_ms(e["at"]), "from": e["from_status"], "to": e["to_status"], "reason": e["reason"],
                   "object_type": e["object_type"]} for e in p.audit_trail(store, namespace.id, payment_id)],
        "refunds": [{"id": r.id, "amount": money(r.amount, r.currency), "status": r.status,
                     "failure": r.failure_reason, "created_at": iso_ms(r.created_at)}
                    for r in refunds.list_for_payment(store, namespace.id, payment_id)],
        "deliveries": deliveries,
        "can_capture": allowed("capture") and payment.status == p.AUTHORIZED and payment.customer_action is None,
        "can_cancel": allowed("cancel") and payment.status in p.ACTIONS["cancel"],
        "can_refund": allowed("refund") and refundable > 0, "refundable": refundable,
        "no_api_actions": not merchant_actions(payment, dialects),
        "capturable": payment.amount - payment.amount_captured,
        "metadata": json.dumps(payment.metadata, indent=1) if payment.metadata else None,
    }


def merchant_actions(payment: p.Payment, dialects: dict) -> frozenset[str]:
    dialect = dialects.get(payment.dialect)
    return dialect.checkout.merchant_actions if dialect else frozenset()


def refund_id_shape(dialect) -> dict:
    """Refund ids as the dialect makes them (GOV.UK Pay: 26 lowercase characters, no prefix)."""
    shape = dialect.refund_ids
    return {"id_prefix": shape.prefix, "id_length": shape.length, "id_alphabet": shape.alphabet}


# -- settings -----------------------------------------------------------------------------------


class FormError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _text_of_delay(value: Any) -> str:
    return f"{value[0]}, {value[1]}" if isinstance(value, list) else str(value)


def settings_form(config: dict, faults: dict, api: dict) -> dict:
    """The current settings as the form's text fields."""
    form = {f"rate_{k}": str(config["success_rates"].get(k, 1.0)) for k in RATE_KEYS}
    form.update({f"delay_{k}": _text_of_delay(config["delays"].get(k, 0)) for k in DELAY_KEYS})
    schedule = config["webhook_retry_schedule"]
    form.update({
        "card_policy": config["card_policy"], "session_expiry_seconds": str(config["session_expiry_seconds"]),
        "manual_retry": "on" if config["manual_retry"] else "",
        "webhook_retry_schedule": schedule if isinstance(schedule, str) else ", ".join(f"{s:g}" for s in schedule),
        "allowed_origins": "\n".join(config.get("allowed_origins", [])), "seed": str(config["seed"]),
        "fault_drop_mode": faults.get("drop_mode", "failed"),
        "fault_delay_seconds": _text_of_delay(faults.get("delay_seconds", 0)),
        "fault_reorder_hold_seconds": str(faults.get("reorder_hold_seconds", 30)),
    })
    form.update({f"fault_{k}": str(faults.get(k, 0)) for k in FAULT_NUMBERS})
    form.update({f"api_{k}": str(api[k]) for k in API_FAULT_KINDS})
    form.update({"api_error_status": str(api["error_status"]), "api_timeout_seconds": f"{api['timeout_seconds']:g}",
                 "api_latency_seconds": _text_of_delay(api["latency_seconds"]),
                 "api_routes": "\n".join(api["routes"])})
    return form


def _number(field: str, text: str) -> float:
    try:  # a plain decimal: float() would take "inf", "nan", "1e400" and "１"
        return numbers.parse_number(text, field, -10**12, 10**12)
    except DomainError:
        raise FormError(field, f"{text!r} is not a number") from None


def _numbers(field: str, text: str) -> list[float]:
    return [_number(field, part) for part in text.replace(";", ",").split(",") if part.strip()]


def _delay(field: str, text: str):
    values = _numbers(field, text)
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return values
    raise FormError(field, "give seconds, or min, max")


def parse_settings(values: dict) -> tuple[dict, dict, dict]:
    """The form's text fields as a config update, a webhook faults update and an API faults
    update (types only: the library checks the ranges and names the field it refuses)."""
    config: dict[str, Any] = {
        "success_rates": {k: _number(f"rate_{k}", values.get(f"rate_{k}", "1")) for k in RATE_KEYS},
        "delays": {k: _delay(f"delay_{k}", values.get(f"delay_{k}", "0")) for k in DELAY_KEYS},
        "card_policy": values.get("card_policy", "lenient"),
        "manual_retry": values.get("manual_retry") == "on",
        "allowed_origins": [o.strip() for o in values.get("allowed_origins", "").splitlines() if o.strip()],
    }
    expiry = values.get("session_expiry_seconds", "")
    if expiry:
        config["session_expiry_seconds"] = _number("session_expiry_seconds", expiry)
    schedule = values.get("webhook_retry_schedule", "provider").strip() or "provider"
    config["webhook_retry_schedule"] = schedule if schedule == "provider" else _numbers("webhook_retry_schedule",
                                                                                          schedule)
    seed = values.get("seed", "")
    if seed:
        try:
            config["seed"] = numbers.parse_int(seed.strip(), "seed", signed=True)
        except DomainError:
            raise FormError("seed", f"{seed!r} is not a whole number") from None
    faults: dict[str, Any] = {k: _number(f"fault_{k}", values.get(f"fault_{k}", "0")) for k in FAULT_NUMBERS}
    faults["drop_mode"] = values.get("fault_drop_mode", "failed")
    faults["delay_seconds"] = _delay("fault_delay_seconds", values.get("fault_delay_seconds", "0"))
    faults["reorder_hold_seconds"] = _number("fault_reorder_hold_seconds", values.get("fault_reorder_hold_seconds",
                                                                                      "30"))
    return config, faults, _parse_api_faults(values)


def _parse_api_faults(values: dict) -> dict:
    api: dict[str, Any] = {k: _number(f"api_{k}", values.get(f"api_{k}", "0")) for k in API_FAULT_KINDS}
    api["error_status"] = int(_number("api_error_status", values.get("api_error_status", "500")))
    api["timeout_seconds"] = _number("api_timeout_seconds", values.get("api_timeout_seconds", "30"))
    api["latency_seconds"] = _delay("api_latency_seconds", values.get("api_latency_seconds", "0") or "0")
    api["routes"] = [line.strip() for line in values.get("api_routes", "").splitlines() if line.strip()]
    return api


def form_field_for(domain_field: str, message: str) -> str:
    """The form field a library error is about ("success_rates.card" -> "rate_card")."""
    parts = domain_field.split(".")
    if parts[0] == "success_rates" and len(parts) > 1:
        return f"rate_{parts[1]}"
    if parts[0] == "delays" and len(parts) > 1:
        return f"delay_{parts[1]}"
    if parts[0] == "webhooks" and len(parts) > 1:
        return f"fault_{parts[1]}"
    if message.startswith("webhooks."):
        return "fault_" + message.split(":")[0].split(".")[1]
    if parts[0] == "api":
        return f"api_{parts[1]}" if len(parts) > 1 else "api_error"  # the probabilities' sum: shown by the first
    return parts[0] or "form"


# -- clock and APIs -----------------------------------------------------------------------------


def job_rows(store, log, namespace_id: str, waiting: list[dict]) -> list[dict]:
    """Waiting jobs with what each would do if it ran now (``log``: the webhooks' delivery log)."""
    return [{**job_row(job), "effect": job_effect(store, log, namespace_id, job)} for job in waiting]


def job_effect(store, log, namespace_id: str, job: dict) -> str:
    payload = job.get("payload") or {}
    if job["kind"] == "webhook.deliver":
        return delivery_effect(log, namespace_id, payload.get("delivery_id", ""))
    return jobs.describe(store, namespace_id, job["kind"], payload) or ""


def delivery_effect(log, namespace_id: str, delivery_id: str) -> str:
    try:
        delivery = log.get_delivery(namespace_id, delivery_id)
    except DomainError:
        return "nothing: the delivery is gone"
    attempt = delivery["attempt_count"] + 1
    return f"sends {delivery['event_type']}" + (f" (attempt {attempt})" if attempt > 1 else "")


def job_row(job: dict) -> dict:
    payload = job.get("payload") or {}
    subject = payload.get("payment_id") or payload.get("delivery_id") or payload.get("refund_id") or ""
    due = job["due_at"]
    return {"kind": job["kind"], "due_at": due if isinstance(due, str) else iso_ms(due), "subject": subject,
            "state": job.get("state", "pending"), "error": job.get("error"), "payment_id": payload.get("payment_id")}


# The provider's own API beside the dialects': (title, prefix, auth, our documentation).
CONTROL_API = ("Control API (mock-psp)", "/_mock", "X-Mock-Namespace: <namespace id>", "docs/control-api.md")


def api_dialects(url_map, dialects, namespace: Namespace, base: str) -> list[dict]:
    """Each API the provider serves, with its routes and this namespace's key for it."""
    described = [(d.name, d.title, d.prefix, d.docs.auth,
                  namespace.keys_of(d.key).get(d.docs.shown_key), d.docs.reference, d.docs.openapi, d.docs.ours)
                 for d in dialects]
    title, prefix, auth, ours = CONTROL_API
    described.append(("control", title, prefix, auth, namespace.id, None, None, ours))
    out = []
    for name, title, prefix, auth, key, docs, openapi, ours in described:
        routes = sorted({(rule.rule, ", ".join(sorted(m for m in rule.methods if m not in ("HEAD", "OPTIONS"))))
                         for rule in url_map.iter_rules()
                         if rule.rule.startswith(prefix + "/") and not rule.rule.startswith("/_mock/ui")})
        out.append({"name": name, "title": title, "base": base + prefix, "auth": auth, "key": key,
                    "docs": docs, "openapi": openapi, "ours": ours, "routes": routes})
    return out


def api_log_rows(entries: list[dict]) -> list[dict]:
    return [{**entry, "at": iso_ms(entry["at"]),
             "what": f"{entry['fault']} {entry['status']}" if entry["status"] else entry["fault"]} for entry in entries]


def journal_row(entry) -> dict:
    return {**entry.as_json(), "at": iso_ms(entry.at), "call": entry.path + (f"?{entry.query}" if entry.query else ""),
            "request_body": readable_body(entry.request_body), "response_body": readable_body(entry.response_body),
            "status_class": "good" if 200 <= entry.status < 300 else "bad" if entry.status >= 400 or not entry.status
            else "neutral"}


def readable_body(text: str) -> str:
    """JSON laid out for reading; anything else (a cut or non-JSON body) as it came."""
    try:
        laid_out = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return text
    return jsontext.escape_lone_surrogates(laid_out)  # "\ud800" in a body: shown as sent, never a 500


def saved_card_text(card: dict | None) -> str:
    if not card:
        return ""
    expiry = f"{card.get('exp_month')}/{card.get('exp_year')}"
    return f"{card.get('network') or 'Card'} •••• {card.get('last4')} (expires {expiry})"


def agreement_row(agreement) -> dict:
    return {"id": agreement.id, "reference": agreement.reference, "description": agreement.description,
            "status": agreement.status, "card": saved_card_text(agreement.instrument),
            "created_at": iso_ms(agreement.created_at), "cancelled_at": iso_ms(agreement.cancelled_at),
            "can_cancel": agreement.status == "active"}


def mandate_row(mandate) -> dict:
    limit = money(mandate.amount, mandate.currency) if mandate.amount is not None and mandate.currency else "no limit"
    return {"id": mandate.id, "customer_id": mandate.customer_id, "type": mandate.mandate_type.replace("_", " "),
            "status": mandate.status, "card": saved_card_text(mandate.card), "payment_id": mandate.payment_id,
            "used": money(mandate.amount_used, mandate.currency or "USD"), "limit": limit,
            "created_at": iso_ms(mandate.created_at), "can_revoke": mandate.status != "revoked"}
