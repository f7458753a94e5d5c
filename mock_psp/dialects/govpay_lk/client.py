"""How a client talks to the GovPay+ dialect: what the pytest plugin, the scenario runner and the
CLI need to know (plain HTTP; ``keys`` is the namespace's ``govpay_lk`` object)."""

from __future__ import annotations

from . import crypto
from .face import PREFIX


def headers(keys: dict, auth: str = "secret") -> dict[str, str]:
    return {"Authorization": f"Bearer {keys['api_key']}"}


def banner(keys: dict) -> list[str]:
    return [f"    pay URL                 {keys['base_url']}/pay?ref=<refNo>&return=<url>",
            f"    inquiry key (Bearer)    {keys['api_key']}"]


def payment(http, psp_url: str, keys: dict, payment_id: str) -> tuple[str | None, dict]:
    """``payment_id`` is the reference: the answer is its latest transaction from the status inquiry."""
    reply = http.get(f"{psp_url}{PREFIX}/v1/transactions", params={"refNo": payment_id}, timeout=30,
                     headers=headers(keys))
    transactions = reply.json().get("transactions") or []
    latest = transactions[0] if transactions else {}
    return latest.get("status"), latest


def send_made_up_event(http, settings: dict, args: dict):
    """A made-up update call to the merchant's update_url (``settings``: the namespace's govpay_lk
    settings): the real token (or a wrong one, or none) and, when the merchant asked for it,
    GovPay+'s encryption. Returns the merchant's answer."""
    data = [{"seq": str(i), "paramName": name, "value": value} for i, (name, value) in enumerate([
        ("refNo", args["payment"]), ("amount", args.get("amount", "1.00")), ("currency", "LKR"),
        ("status", args.get("status", "SUCCESS")), ("paymentMethod", "CARD"),
        ("gatewayTransactionId", "GPGSCENARIO"), ("timestamp", args["now"])], 1)]
    request_headers = {"Content-Type": "application/json"}
    signature = args.get("signature", "valid")
    if signature == "valid":
        request_headers["Authorization"] = f"Bearer {_token(http, settings['auth'])}"
    elif signature == "wrong":
        request_headers["Authorization"] = "Bearer not-the-token"
    if settings.get("encryption_public_key"):
        key = crypto.new_transaction_key()
        request_headers[crypto.HEADER] = crypto.wrap_key(settings["encryption_public_key"], key)
        data = crypto.encrypt_items(key, data)
    body = {"transactionID": args["event_id"], "subinstId": settings["subinst_id"], "serviceid": settings["service_id"],
            "serviceName": settings["service_name"], "data": data}
    return http.post(settings["update_url"], json=body, headers=request_headers, timeout=30)


def _token(http, auth: dict) -> str:
    if auth["type"] == "bearer":
        return auth["token"]
    if auth["type"] == "oauth2":
        reply = http.post(auth["token_url"], data={"grant_type": "client_credentials"},
                          auth=(auth["client_id"], auth["client_secret"]), timeout=30)
        return reply.json().get("access_token", "")
    return ""
