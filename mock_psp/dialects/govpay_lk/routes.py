"""GovPay+ (Sri Lanka), mounted under /govpay-lk.

- ``GET /pay?ref=&return=``: the citizen arrives; the provider asks the merchant
  what the reference costs (presentment) and opens the hosted checkout;
- ``GET /v1/transactions/{transactionID}`` and ``GET /v1/transactions?refNo=``:
  the status inquiry a merchant uses to verify an update before acting on it.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import urlsplit

from flask import jsonify
from flask import request

from ...checkout import routes as checkout
from ...domain import namespaces
from ...domain import payments
from ...domain.namespaces import Namespace
from ...domain.payments import NewPayment
from ...domain.payments import PaymentFilter
from ...domain.urls import host_of
from ...domain.urls import is_web_url
from ...web import journal
from . import errors
from . import serialize
from . import settings as gp
from .auth import authenticate as _authenticate
from .auth import provider as _provider
from .auth import store as _store
from .caller import CallResult
from .face import bp
from .keys import NAME

REF_NO = re.compile(r"^[A-Za-z0-9]{1,20}$")
OPEN = (payments.CREATED, payments.CUSTOMER_ACTION, payments.PROCESSING)
MOST_TRANSACTIONS = 1000  # shown by the inquiry for one reference

log = logging.getLogger(__name__)


# -- the citizen arrives -----------------------------------------------------------------


@bp.get("/pay")
def pay():
    ref, return_url = request.args.get("ref", "").strip(), request.args.get("return", "").strip()
    if not REF_NO.match(ref):
        return checkout.problem(400, "We could not find that reference",
                                "A payment reference is 1 to 20 letters and digits.", "invalid_reference")
    if not is_web_url(return_url):
        return checkout.problem(400, "Something is wrong with this link",
                                "The service did not say where to send you back (return).", "invalid_return")
    namespace = _namespace_for(return_url, request.args.get("subinstId"))
    if namespace is None:
        return checkout.problem(404, "This service does not take GovPay payments",
                                "No GovPay+ service is set up for it (validate_url).", "not_configured")
    if host_of(return_url) not in merchant_hosts(namespace):
        # Only back to the service that registered: else a link could send a citizen who just paid anywhere.
        return checkout.problem(400, "Something is wrong with this link",
                                "The address to send you back to (return) is not the service's.", "invalid_return")
    resumed = _open_transaction(namespace, ref)
    if resumed is not None:
        return checkout.resume(namespace.id, resumed.id) or checkout.start(namespace, resumed)
    return _present_and_start(namespace, ref, return_url)


def _namespace_for(return_url: str, subinst_id: str | None) -> Namespace | None:
    """By subinstId if given; else the namespace that registered the return URL's origin; else the default."""
    parts = urlsplit(return_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    candidates = [n for n in namespaces.list_all(_store()) if gp.current(n)["validate_url"]]
    if subinst_id:  # the latest set up, when several claim it
        return next((n for n in reversed(candidates) if gp.current(n)["subinst_id"] == subinst_id), None)
    by_origin = [n for n in candidates if origin in n.config.get("allowed_origins", [])]
    if by_origin:
        return by_origin[-1]  # the latest set up, when several share an origin
    return next((n for n in candidates if n.is_default), None)


def merchant_hosts(namespace: Namespace) -> set[str]:
    """The hosts the service registered: its validate_url's and update_url's, and its allowed_origins."""
    config = gp.current(namespace)
    urls = [config["validate_url"], config["update_url"], *namespace.config.get("allowed_origins", [])]
    return {host for host in (host_of(url) for url in urls if url) if host}


def _open_transaction(namespace: Namespace, ref: str):
    """One open session per reference: a second visit resumes it rather than starting another."""
    return payments.open_by_reference(_store(), namespace.id, NAME, ref, OPEN)


def _present_and_start(namespace: Namespace, ref: str, return_url: str):
    config = gp.current(namespace)
    transaction_id = payments.draw_id(_store(), namespace.id, 16, "0123456789")  # from the namespace's seed
    request_body = serialize.request_envelope(config, transaction_id, [("refNo", ref)])
    # No transaction is open here: the merchant may call the inquiry back while answering.
    result = _provider().services[NAME].call(config, config["validate_url"], request_body)
    _journal_outbound(namespace, config["validate_url"], request_body, result)
    refusal = _presentment_refusal(result, return_url)
    if refusal is not None:
        log.info("govpay-lk presentment of %s refused: %s %s", ref, result.status, result.error)
        return refusal
    try:
        amount, currency = _amount_of(result.body)
    except ValueError as why:
        return checkout.problem(502, "The service is not available", f"Its answer could not be read: {why}",
                                "bad_presentment", return_url)
    payment = payments.create_payment(_store(), namespace.id, NewPayment(
        dialect=NAME, payment_id=transaction_id, amount=amount, currency=currency, reference=ref,
        return_url=return_url, description=config["service_name"] or None,
        session_expiry_seconds=config["session_ttl_seconds"],
        attributes={"subinst_id": config["subinst_id"], "service_id": config["service_id"],
                    "service_name": config["service_name"], "presentment": result.body.get("presentmentData")}))
    _provider().after_change()
    return checkout.start(namespace, payment)


def _journal_outbound(namespace: Namespace, url: str, request_body: dict, result: CallResult) -> None:
    """The presentment call, in the namespace's request journal (the body as before encryption)."""
    answer = result.response_excerpt or ""
    if result.error:
        answer = f"{answer}\n({result.error})" if answer else f"(no answer: {result.error})"
    _provider().journal.record(
        namespace.id, at=namespace.now_ms(), method="POST", path=url, query="", status=result.status or 0,
        duration_ms=result.latency_ms or 0.0, request_headers=journal.shown_headers(result.request_headers),
        request_body=journal.excerpt(json.dumps(request_body).encode()),
        response_headers=journal.shown_headers(result.response_headers), response_body=answer, fault=None,
        direction="out")


def _presentment_refusal(result: CallResult, return_url: str):
    code = (result.body or {}).get("error") if isinstance(result.body, dict) else None
    if result.error and result.status != 200:
        return checkout.problem(502, "The service is not available",
                                f"GovPay could not reach the service ({result.error}). Try again later.",
                                "unavailable", return_url)
    if result.status == 404 or code == "invalid_reference":
        return checkout.problem(404, "We could not find that reference",
                                "The service does not recognise this payment reference.", "invalid_reference",
                                return_url)
    if result.status == 409 or code == "not_payable":
        return checkout.problem(409, "This reference cannot be paid now",
                                "It may already be paid, or it has expired. Check with the service.", "not_payable",
                                return_url)
    if result.status != 200 or result.error:
        detail = result.error or f"HTTP {result.status}"
        return checkout.problem(502, "The service is not available",
                                f"GovPay could not get the amount to pay ({detail}). Try again later.",
                                "unavailable", return_url)
    return None


def _amount_of(body) -> tuple[int, str]:
    """The amount (minor units) and currency from a PresentmentResponse."""
    items = body.get("presentmentData") if isinstance(body, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ValueError("no presentmentData")

    def flag(item, name):
        return str(item.get(name, "")).strip().lower() == "true"

    amount_item = next((i for i in items if flag(i, "isPaymentAmount")), None) or next(
        (i for i in items if i.get("returnedParam") == "amount"), None)
    if amount_item is None:
        raise ValueError("no amount (isPaymentAmount) in presentmentData")
    currency_item = next((i for i in items if i.get("returnedParam") == "currency"), None)
    currency = str((currency_item or {}).get("initialValue") or "LKR").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError(f"currency {currency!r} is not an ISO 4217 code")
    return serialize.minor_units(amount_item.get("initialValue", ""), currency), currency


# -- the status inquiry ---------------------------------------------------------------------


@bp.get("/v1/transactions/<transaction_id>")
def get_transaction(transaction_id: str):
    namespace = _authenticate()
    payment = payments.get_payment(_store(), namespace.id, transaction_id)
    if payment.dialect != NAME:
        raise errors.GovpayError(404, "not_found", "no such transaction")
    return jsonify(serialize.transaction_json(payment))


@bp.get("/v1/transactions")
def find_transactions():
    namespace = _authenticate()
    ref = request.args.get("refNo", "")
    if not REF_NO.match(ref):
        raise errors.GovpayError(400, "bad_request", "give refNo: 1 to 20 letters and digits")
    found, _ = payments.list_payments(_store(), namespace.id, PaymentFilter(dialect=NAME, reference=ref,
                                                                           limit=MOST_TRANSACTIONS))
    return jsonify({"refNo": ref, "transactions": [serialize.transaction_json(p) for p in found]})
