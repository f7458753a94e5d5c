"""How a client talks to the Hyperswitch dialect: what the pytest plugin, the scenario runner and
the CLI need to know (plain HTTP; ``keys`` is the namespace's ``hyperswitch`` object)."""

from __future__ import annotations

from .face import PREFIX


def headers(keys: dict, auth: str = "secret") -> dict[str, str]:
    return {"api-key": keys["api_key" if auth == "secret" else "publishable_key"]}


def banner(keys: dict) -> list[str]:
    return [f"    api-key (secret)        {keys['api_key']}",
            f"    publishable key         {keys['publishable_key']}",
            f"    merchant_id             {keys['merchant_id']}",
            f"    profile_id              {keys['profile_id']}",
            f"    payment_response_hash_key {keys['payment_response_hash_key']}"]


def payment(http, psp_url: str, keys: dict, payment_id: str) -> tuple[str | None, dict]:
    body = http.get(f"{psp_url}{PREFIX}/payments/{payment_id}", headers=headers(keys), timeout=30).json()
    return body.get("status"), body


def made_up_event(keys: dict, args: dict) -> dict:
    """A payment webhook in Hyperswitch's shape (OutgoingWebhook), for a scenario's send_webhook."""
    return {"merchant_id": keys["merchant_id"], "event_id": args["event_id"], "event_type": args["event_type"],
            "content": {"type": "payment_details",
                        "object": {"payment_id": args["payment"], "status": args.get("status", "succeeded")}},
            "timestamp": args["now"], "processor_merchant_id": keys["merchant_id"]}
