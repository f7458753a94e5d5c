"""What each scenario step does. Every step takes the Run and its (resolved) arguments
and returns the value ``save_as`` keeps. Expectations raise StepFailed."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC
from datetime import datetime
from typing import Any

from ..dialects import registry
from .context import Run
from .context import StepFailed
from .context import expect_status as _expect_status
from .context import json_of as _json
from .context import seconds
from .context import step
from .context import subset_problem

# -- the merchant ----------------------------------------------------------------------------------


@step("create_order")
def create_order(run: Run, args: dict) -> dict:
    body = {"amount": args["amount"], "currency": args.get("currency", run.described.client.default_currency)}
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
    client = run.described.client
    made_up = {**args, "event_id": args.get("event_id") or client.made_up_event_id(), "now": _now_iso()}
    if client.send_made_up_event is not None:  # a "webhook" that is a call of the dialect's own
        settings = run.control("GET", "/_mock/config")[run.described.key]
        reply = client.send_made_up_event(run.http, settings, made_up)
        _expect_status(reply, args.get("expect_status"), f"the merchant's {run.described.title} endpoint")
        return {"status": reply.status_code, "body": _json(reply)}
    body = json.dumps(client.made_up_event(run.keys, made_up)).encode()
    headers = {"Content-Type": "application/json"}
    signature = args.get("signature", "valid")
    if signature != "missing":
        headers.update(_sign(run, body, "valid" if signature == "valid" else "wrong"))
    reply = run.http.post(f"{run.shop_url}/webhooks/{run.dialect}", data=body, headers=headers, timeout=30)
    _expect_status(reply, args.get("expect_status"), "the merchant's webhook endpoint")
    return {"status": reply.status_code, "body": _json(reply)}


def _sign(run: Run, body: bytes, which: str) -> dict:
    """The signature headers of the merchant's endpoint's scheme, with its secret or a wrong one."""
    endpoint = run.control("GET", "/_mock/webhook-endpoints")["data"][0]
    scheme = registry.schemes()[endpoint["scheme"]]
    if which == "valid":
        secret = endpoint["secret"]
    else:  # a wrong secret of the right shape
        secret = scheme.new_secret() if scheme.new_secret is not None else "not-the-secret"
    return scheme.sign(secret, body, f"msg_{uuid.uuid4().hex[:12]}", int(time.time()))


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- the provider ----------------------------------------------------------------------------------


@step("provider_request")
def provider_request(run: Run, args: dict) -> dict:
    headers = dict(args.get("headers") or {})
    auth = args.get("auth", "secret")
    if auth != "none":
        owner = next((d for d in registry.DIALECTS if args["path"].startswith(d.prefix + "/")), registry.DEFAULT)
        for name, value in owner.client.headers(run.vars["namespace"][owner.key], auth).items():
            headers.setdefault(name, value)
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
