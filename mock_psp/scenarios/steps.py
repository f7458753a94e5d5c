"""What each scenario step does. Every step takes the Run and its (resolved) arguments
and returns the value ``save_as`` keeps. Expectations raise StepFailed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import time
import uuid
from datetime import datetime
from datetime import timezone
from typing import Any
from typing import Callable

from .runner import DEFAULT_CURRENCY
from .runner import HAPPY_CARD
from .runner import Run
from .runner import StepFailed
from .runner import seconds

def step(name: str):
    """Mark a function as the scenario step ``name`` (collected by ``step_table``)."""
    def mark(function):
        function.scenario_step = name
        return function
    return mark


def step_table() -> dict[str, Callable[[Run, Any], Any]]:
    """Every step, collected from the modules that define them. Built on demand rather than
    by import side effects, so a re-imported module can never leave the table half full."""
    from . import browser_steps
    from . import expectations
    from . import http_customer

    modules = (sys.modules[__name__], expectations, browser_steps, http_customer)
    return {f.scenario_step: f for module in modules for f in vars(module).values()
            if callable(f) and hasattr(f, "scenario_step")}


def _expect_status(reply, expected: int | None, what: str) -> None:
    ok = reply.status_code == expected if expected is not None else reply.status_code < 300
    if not ok:
        raise StepFailed(f"{what} answered HTTP {reply.status_code}", expected=expected or "2xx",
                         found=reply.text[:600])


def _json(reply) -> Any:
    try:
        return reply.json()
    except ValueError:
        return reply.text


# -- the merchant ----------------------------------------------------------------------------------


@step("create_order")
def create_order(run: Run, args: dict) -> dict:
    body = {"amount": args["amount"], "currency": args.get("currency", DEFAULT_CURRENCY[run.dialect])}
    for key in ("card", "description"):
        if key in args:
            body[key] = args[key]
    headers = {"Idempotency-Key": args["idempotency_key"]} if "idempotency_key" in args else None
    reply = run.merchant("POST", "/_merchant/orders", body, headers)
    _expect_status(reply, args.get("expect_status"), "create order")
    return _json(reply)


@step("create_orders")
def create_orders(run: Run, args: dict) -> dict:
    orders = []
    amount = args["amount"]
    for index in range(args["count"]):
        value = amount if isinstance(amount, int) else amount[0] + index % max(1, amount[1] - amount[0] + 1)
        orders.append(create_order(run, {"amount": value, **{k: args[k] for k in ("card", "currency") if k in args}}))
    return {"orders": orders, "ids": [o["id"] for o in orders]}


@step("refund")
def refund(run: Run, args: dict) -> dict:
    body = {"amount": args["amount"]} if "amount" in args else {}
    reply = run.merchant("POST", f"/_merchant/orders/{args['order']}/refunds", body)
    _expect_status(reply, args.get("expect_status", 201), "refund")
    return {"status": reply.status_code, "body": _json(reply)}


@step("reconcile")
def reconcile(run: Run, args: dict) -> dict:
    body = {"older_than_seconds": seconds(args["older_than"])} if "older_than" in args else {}
    reply = run.merchant("POST", "/_merchant/reconcile", body)
    _expect_status(reply, 200, "reconcile")
    report = reply.json()
    if "expect" in args:
        problem = subset_problem(args["expect"], report)
        if problem:
            raise StepFailed(f"the reconciliation report differs: {problem}", expected=args["expect"],
                             found={k: report.get(k) for k in ("checked", "changed", "errors", "actions")})
    return report


@step("sync_order")
def sync_order(run: Run, args: dict) -> dict:
    reply = run.merchant("POST", f"/_merchant/orders/{args['order']}/sync")
    _expect_status(reply, 200, "sync order")
    return reply.json()


@step("send_webhook")
def send_webhook(run: Run, args: dict) -> dict:
    """A webhook made up by the scenario, signed with the real secret, a wrong one, or not at all."""
    if run.dialect == "govpay-lk":
        return _send_govpay_update(run, args)
    body = json.dumps(_made_up_event(run, args)).encode()
    headers = {"Content-Type": "application/json"}
    signature = args.get("signature", "valid")
    if signature != "missing":
        headers.update(_sign(run, body, "valid" if signature == "valid" else "wrong"))
    reply = run.http.post(f"{run.shop_url}/webhooks/{run.dialect}", data=body, headers=headers, timeout=30)
    _expect_status(reply, args.get("expect_status"), "the merchant's webhook endpoint")
    return {"status": reply.status_code, "body": _json(reply)}


def _send_govpay_update(run: Run, args: dict) -> dict:
    """A made-up GovPay+ update call to the merchant's update_url: the real token (or a wrong one,
    or none) and, when the merchant asked for it, GovPay+'s encryption."""
    from mock_psp.dialects.govpay_lk import crypto

    config = run.control("GET", "/_mock/config")["govpay_lk"]
    transaction_id = args.get("event_id") or "".join(str(uuid.uuid4().int)[:16])
    data = [{"seq": str(i), "paramName": name, "value": value} for i, (name, value) in enumerate([
        ("refNo", args["payment"]), ("amount", args.get("amount", "1.00")), ("currency", "LKR"),
        ("status", args.get("status", "SUCCESS")), ("paymentMethod", "CARD"),
        ("gatewayTransactionId", "GPGSCENARIO"), ("timestamp", _now_iso())], 1)]
    headers = {"Content-Type": "application/json"}
    signature = args.get("signature", "valid")
    if signature == "valid":
        headers["Authorization"] = f"Bearer {_govpay_token(run, config)}"
    elif signature == "wrong":
        headers["Authorization"] = "Bearer not-the-token"
    if config.get("encryption_public_key"):
        key = crypto.new_transaction_key()
        headers[crypto.HEADER] = crypto.wrap_key(config["encryption_public_key"], key)
        data = crypto.encrypt_items(key, data)
    body = {"transactionID": transaction_id, "subinstId": config["subinst_id"], "serviceid": config["service_id"],
            "serviceName": config["service_name"], "data": data}
    reply = run.http.post(config["update_url"], json=body, headers=headers, timeout=30)
    _expect_status(reply, args.get("expect_status"), "the merchant's GovPay+ update endpoint")
    return {"status": reply.status_code, "body": _json(reply)}


def _govpay_token(run: Run, config: dict) -> str:
    auth = config["auth"]
    if auth["type"] == "bearer":
        return auth["token"]
    if auth["type"] == "oauth2":
        reply = run.http.post(auth["token_url"], data={"grant_type": "client_credentials"},
                              auth=(auth["client_id"], auth["client_secret"]), timeout=30)
        return reply.json().get("access_token", "")
    return ""


def _made_up_event(run: Run, args: dict) -> dict:
    event_id = args.get("event_id") or f"evt_scenario_{uuid.uuid4().hex[:16]}"
    payment, event_type = args["payment"], args["event_type"]
    if run.dialect == "govuk":
        return {"webhook_message_id": event_id, "created_date": _now_iso(), "resource_id": payment, "api_version": 1,
                "resource_type": "payment", "event_type": event_type,
                "resource": {"payment_id": payment, "state": {"status": args.get("status", "success"),
                                                              "finished": True}}}
    namespace = run.vars["namespace"]["hyperswitch"]
    return {"merchant_id": namespace["merchant_id"], "event_id": event_id, "event_type": event_type,
            "content": {"type": "payment_details",
                        "object": {"payment_id": payment, "status": args.get("status", "succeeded")}},
            "timestamp": _now_iso(), "processor_merchant_id": namespace["merchant_id"]}


def _sign(run: Run, body: bytes, which: str) -> dict:
    endpoint = run.control("GET", "/_mock/webhook-endpoints")["data"][0]
    secret = endpoint["secret"] if which == "valid" else "not-the-secret"
    if endpoint["scheme"] == "standard":
        key = base64.b64decode(secret.removeprefix("whsec_")) if which == "valid" else b"not-the-key"
        message_id, stamp = f"msg_{uuid.uuid4().hex[:12]}", str(int(time.time()))
        mac = base64.b64encode(hmac.new(key, f"{message_id}.{stamp}.".encode() + body, hashlib.sha256).digest())
        return {"webhook-id": message_id, "webhook-timestamp": stamp, "webhook-signature": f"v1,{mac.decode()}"}
    if endpoint["scheme"] == "govuk":
        return {"Pay-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}
    return {"X-Webhook-Signature-512": hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()}


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- the provider ----------------------------------------------------------------------------------


@step("provider_request")
def provider_request(run: Run, args: dict) -> dict:
    headers = dict(args.get("headers") or {})
    auth = args.get("auth", "secret")
    namespace = run.vars["namespace"]
    if auth != "none":
        if args["path"].startswith("/govpay-lk"):
            headers.setdefault("Authorization", f"Bearer {namespace['govpay_lk']['api_key']}")
        elif args["path"].startswith("/govuk"):
            headers.setdefault("Authorization", f"Bearer {namespace['govuk']['api_key']}")
        else:
            key = namespace["hyperswitch"]["api_key" if auth == "secret" else "publishable_key"]
            headers.setdefault("api-key", key)
    kwargs: dict[str, Any] = {"headers": headers, "timeout": 60}
    if isinstance(args.get("body"), str):
        kwargs["data"] = args["body"].encode()
        headers.setdefault("Content-Type", "application/json")
    elif "body" in args:
        kwargs["json"] = args["body"]
    reply = run.http.request(args["method"], run.psp_url + args["path"], **kwargs)
    _expect_status(reply, args.get("expect_status"), f"{args['method']} {args['path']}")
    saved = {"status": reply.status_code, "body": _json(reply)}
    if "expect_body" in args:
        problem = subset_problem(args["expect_body"], saved["body"])
        if problem:
            raise StepFailed(f"{args['method']} {args['path']}: {problem}", expected=args["expect_body"],
                             found=saved["body"])
    return saved


@step("script_outcomes")
def script_outcomes(run: Run, args: list) -> dict:
    return run.control("POST", "/_mock/outcomes", {"next": args})


@step("set_faults")
def set_faults(run: Run, args: dict) -> dict:
    return run.control("PUT", "/_mock/faults", {"webhooks": args})


@step("set_api_faults")
def set_api_faults(run: Run, args: dict) -> dict:
    return run.control("PUT", "/_mock/faults", {"api": args})


@step("set_config")
def set_config(run: Run, args: dict) -> dict:
    return run.control("PUT", "/_mock/config", args)


@step("advance_clock")
def advance_clock(run: Run, args: Any) -> dict:
    return run.control("POST", "/_mock/clock/advance", {"seconds": seconds(args)})


@step("flush_webhooks")
def flush_webhooks(run: Run, args: Any) -> dict:
    return run.control("POST", "/_mock/webhooks/flush")


# -- comparisons -------------------------------------------------------------------------------------


def subset_problem(expected: Any, found: Any, path: str = "") -> str | None:
    """None if ``found`` contains ``expected``: dicts by subset, lists of the same length item by
    item (so each item may be a subset too), everything else equal."""
    if isinstance(expected, dict):
        if not isinstance(found, dict):
            return f"{path or 'body'} is not an object"
        for key, value in expected.items():
            if key not in found:
                return f"{path + '.' if path else ''}{key} is missing"
            problem = subset_problem(value, found[key], f"{path + '.' if path else ''}{key}")
            if problem:
                return problem
        return None
    if isinstance(expected, list) and isinstance(found, list) and len(expected) == len(found):
        for index, (want, have) in enumerate(zip(expected, found)):
            problem = subset_problem(want, have, f"{path}[{index}]")
            if problem:
                return problem
        return None
    if expected != found:
        return f"{path or 'value'} is {found!r}, not {expected!r}"
    return None

