"""The expect_* steps. Each one checks now and, with ``within``, lets the clock run until
it holds or the time is up (see Run.wait_until). On failure it says what it expected
and what it found."""

from __future__ import annotations

from typing import Any

from ..web import api_faults
from .context import Run
from .context import StepFailed
from .context import step
from .context import subset_problem


def _order(run: Run, order_id: str) -> dict:
    reply = run.merchant("GET", f"/_merchant/orders/{order_id}")
    if reply.status_code != 200:
        raise StepFailed(f"the merchant has no order {order_id}", found=reply.text[:300])
    return reply.json()


@step("expect_order")
def expect_order(run: Run, args: dict) -> dict:
    wanted = {k: args[k] for k in ("state", "paid_amount", "refunded_amount") if k in args}

    def check():
        order = _order(run, args["order"])
        found = {k: order[k] for k in wanted}
        if "refunds" in args:
            found["refunds"] = len(order["refunds"])
        if "transitions" in args:
            found["transitions"] = [t["to"] for t in order["transitions"]]
        expected = {**wanted, **{k: args[k] for k in ("refunds", "transitions") if k in args}}
        return found == expected, {"found": found, "order": order}

    expected = {k: args[k] for k in ("state", "paid_amount", "refunded_amount", "refunds", "transitions") if k in args}
    try:
        return run.wait_until(check, args.get("within"), f"order {args['order']} is not as expected")["order"]
    except StepFailed as failure:
        raise StepFailed(failure.message, expected=expected, found=(failure.found or {}).get("found")) from None


@step("expect_orders")
def expect_orders(run: Run, args: dict) -> dict:
    among = set(args["among"]) if "among" in args else None

    def check():
        orders = run.merchant("GET", "/_merchant/orders").json()["data"]
        if among is not None:
            orders = [o for o in orders if o["id"] in among]
        count = sum(o["state"] == args["state"] for o in orders)
        if "count" in args:
            ok = count == args["count"]
        elif "between" in args:
            ok = args["between"][0] <= count <= args["between"][1]
        else:
            ok = count > 0
        return ok, {"in_state": count, "of": len(orders)}

    expected = {k: args[k] for k in ("state", "count", "between") if k in args}
    try:
        return run.wait_until(check, args.get("within"), f"orders in state {args['state']}: not as expected")
    except StepFailed as failure:
        raise StepFailed(failure.message, expected=expected, found=failure.found) from None


def provider_payment(run: Run, payment_id: str) -> tuple[str | None, dict]:
    """The payment as the provider's API shows it (GovPay+: ``payment_id`` is the reference, and the
    answer is its latest transaction from the status inquiry)."""
    return run.described.client.payment(run.http, run.psp_url, run.keys, payment_id)


@step("expect_payment")
def expect_payment(run: Run, args: dict) -> dict:
    def check():
        status, body = provider_payment(run, args["payment"])
        problem = None
        if "status" in args and status != args["status"]:
            problem = f"status is {status}"
        if problem is None and "fields" in args:
            problem = subset_problem(args["fields"], body)
        return problem is None, {"status": status, "problem": problem, "payment": body}

    expected = {k: args[k] for k in ("status", "fields") if k in args}
    try:
        return run.wait_until(check, args.get("within"), f"payment {args['payment']} is not as expected")["payment"]
    except StepFailed as failure:
        found = failure.found or {}
        raise StepFailed(f"{failure.message}: {found.get('problem')}", expected=expected,
                         found={"status": found.get("status")}) from None


@step("expect_webhook")
def expect_webhook(run: Run, args: dict) -> list:
    query = f"/_mock/webhooks?limit=1000&event_type={args['type']}"
    if "payment" in args:
        query += f"&payment_id={args['payment']}"

    def check():
        deliveries = run.control("GET", query)["data"]
        found = {"deliveries": len(deliveries), "delivered": sum(d["status"] == "delivered" for d in deliveries),
                 "statuses": sorted({d["status"] for d in deliveries}),
                 "attempts": deliveries[-1]["attempt_count"] if deliveries else 0}
        ok = bool(deliveries) if not any(k in args for k in ("deliveries", "delivered", "status", "attempts")) else True
        if "deliveries" in args:
            ok = ok and found["deliveries"] == args["deliveries"]
        if "delivered" in args:
            ok = ok and found["delivered"] == args["delivered"]
        if "status" in args:
            ok = ok and bool(deliveries) and found["statuses"] == [args["status"]]
        if "attempts" in args:
            ok = ok and found["attempts"] == args["attempts"]
        return ok, {"summary": found, "deliveries": deliveries}

    expected = {k: args[k] for k in ("type", "payment", "deliveries", "delivered", "status", "attempts") if k in args}
    try:
        return run.wait_until(check, args.get("within"), f"{args['type']} deliveries are not as expected")["deliveries"]
    except StepFailed as failure:
        raise StepFailed(failure.message, expected=expected, found=(failure.found or {}).get("summary")) from None


@step("expect_merchant_log")
def expect_merchant_log(run: Run, args: dict) -> list:
    def check():
        entries = run.merchant("GET", f"/_merchant/webhook-log?result={args['result']}").json()["data"]
        if "event_type" in args:
            entries = [e for e in entries if e["event_type"] == args["event_type"]]
        count = len(entries)
        if "count" in args:
            ok = count == args["count"]
        else:
            ok = count >= args.get("at_least", 1)
        return ok, {"count": count, "entries": entries}

    expected = {k: args[k] for k in ("result", "event_type", "count", "at_least") if k in args}
    try:
        return run.wait_until(check, args.get("within"), f"merchant log entries with result {args['result']}: "
                                                         "not as expected")["entries"]
    except StepFailed as failure:
        raise StepFailed(failure.message, expected=expected, found={"count": (failure.found or {}).get("count")}) \
            from None


@step("expect_requests")
def expect_requests(run: Run, args: dict) -> list:
    """The provider's request journal: how many calls matched ``call`` (and ``status``, ``direction``)."""
    direction = args.get("direction", "in")

    def check():
        journal = run.control("GET", "/_mock/requests?limit=500")["data"]
        entries = [e for e in journal if e.get("direction", "in") == direction
                   and api_faults.matches([args["call"]], e["method"], e["path"])
                   and ("status" not in args or e["status"] == args["status"])]
        count = len(entries)
        ok = count == args["count"] if "count" in args else count >= args.get("at_least", 1)
        return ok, {"count": count, "entries": entries}

    expected = {k: args[k] for k in ("call", "status", "direction", "count", "at_least") if k in args}
    try:
        return run.wait_until(check, args.get("within"), f"calls like {args['call']}: not as expected")["entries"]
    except StepFailed as failure:
        found = failure.found or {}
        calls = [f"{e['method']} {e['path']} {e['status']}" for e in found.get("entries", [])]
        raise StepFailed(failure.message, expected=expected, found={"count": found.get("count"), "calls": calls}) \
            from None


@step("expect_response")
def expect_response(run: Run, args: dict) -> Any:
    saved = args["of"]
    if not isinstance(saved, dict) or "status" not in saved:
        raise StepFailed("expect_response needs a saved HTTP answer (from provider_request, refund or "
                         "send_webhook)", found=saved)
    if "status" in args and saved["status"] != args["status"]:
        raise StepFailed("the answer's status differs", expected=args["status"], found=saved["status"])
    if "body" in args:
        problem = subset_problem(args["body"], saved["body"])
        if problem:
            raise StepFailed(f"the answer's body differs: {problem}", expected=args["body"], found=saved["body"])
    return saved
