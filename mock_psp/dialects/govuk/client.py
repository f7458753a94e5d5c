"""How a client talks to the GOV.UK Pay dialect: what the pytest plugin, the scenario runner and
the CLI need to know (plain HTTP; ``keys`` is the namespace's ``govuk`` object)."""

from __future__ import annotations

from .face import PREFIX


def headers(keys: dict, auth: str = "secret") -> dict[str, str]:
    return {"Authorization": f"Bearer {keys['api_key']}"}


def banner(keys: dict) -> list[str]:
    return [f"    Authorization: Bearer   {keys['api_key']}",
            f"    webhook signing secret  {keys['webhook_signing_secret']}"]


def payment(http, psp_url: str, keys: dict, payment_id: str) -> tuple[str | None, dict]:
    body = http.get(f"{psp_url}{PREFIX}/v1/payments/{payment_id}", headers=headers(keys), timeout=30).json()
    return (body.get("state") or {}).get("status"), body


def made_up_event(keys: dict, args: dict) -> dict:
    """A payment webhook in GOV.UK Pay's shape (WebhookMessageBody), for a scenario's send_webhook."""
    payment = args["payment"]
    return {"webhook_message_id": args["event_id"], "created_date": args["now"], "resource_id": payment,
            "api_version": 1, "resource_type": "payment", "event_type": args["event_type"],
            "resource": {"payment_id": payment, "state": {"status": args.get("status", "success"), "finished": True}}}
