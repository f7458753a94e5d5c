"""GovPay+ calls the merchant: presentment, update, and the OAuth2 token endpoint.

GovPay+ (docs/govpay-lk.md) asks the shop what a reference costs (``POST
/govpay-lk/validate``, the *presentment*) and tells it how the payment went
(``POST /govpay-lk/update``). Each call is handled the careful way, in order:

1. Over 256 KB: ``413`` before the body is read whole or parsed.
2. The caller must prove it is GovPay+: the static bearer token the shop gave the
   provider (compared in constant time), or an unexpired OAuth2 access token the
   shop issued itself at ``POST /oauth/token``. ``401 unauthorized`` otherwise.
3. With encryption on, the ``TransactionKey`` header is unwrapped with the
   shop's private key and every ``data[]`` field decrypted
   (``govpay_lk_crypto``); the answer's items are encrypted with the same key.
4. A body that is not a GovPay+ request (variant field names and numbers for
   strings are fine): ``400 bad_request``. A ``subinstId``/``serviceid`` that is
   not this shop's gets exactly what an unknown reference gets, ``404
   invalid_reference``, so a caller aimed at the wrong service learns nothing.
5. Presentment: ``409 not_payable`` unless the order is pending; else the
   amount, reference and currency to show.
6. Update: the event goes into the inbox (``webhook_log``) first, a replay being
   a ``duplicate``; only then does the shop answer the acknowledgement. It acts
   on the **status inquiry's** answer, never on the body: a SUCCESS for the
   order's reference, amount and currency pays the order; a FAILED (or EXPIRED)
   attempt leaves it pending, payable again, with the attempt in its history.

Every call, accepted or not, is a row of the webhook log (``event_type``
``govpay_presentment`` or ``govpay_update``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qsl
from urllib.parse import unquote

from . import govpay_lk_crypto as crypto
from . import orders as o
from .psp.base import PAID
from .psp.base import PENDING
from .psp.base import Event
from .psp.base import PaymentTruth
from .psp.govpay_lk import DIALECT
from .psp.govpay_lk import PRESENTMENT
from .psp.govpay_lk import TX_EXPIRED
from .psp.govpay_lk import TX_FAILED
from .psp.govpay_lk import TX_SUCCESS
from .psp.govpay_lk import UPDATE
from .psp.govpay_lk import GovpayRequest
from .psp.govpay_lk import MalformedRequest
from .psp.govpay_lk import check_transaction
from .psp.govpay_lk import decimal_text
from .psp.govpay_lk import minor_units
from .psp.govpay_lk import parse_request
from .psp.govpay_lk import update_event
from .webhooks import MAX_WEBHOOK_BYTES

log = logging.getLogger(__name__)

AUTH_TYPES = ("bearer", "oauth2")
DEFAULT_AUTH = "bearer"
TOKEN_LIFETIME_SECONDS = 300
MAX_CALL_BYTES = MAX_WEBHOOK_BYTES
MAX_TOKEN_REQUEST_BYTES = 16 * 1024
SERVICE_NAME = "mock-psp test shop"
SERVICE_ID = "SRV001"
_SETTINGS = ("auth", "token", "client_id", "client_secret", "private_key", "encryption", "subinst_id", "service_id",
             "service_name", "namespace")


@dataclass(frozen=True)
class GovpayConfig:
    """How GovPay+ reaches this shop, as provisioning chose it (kept in the shop's settings)."""

    auth: str  # "bearer" or "oauth2"
    token: str  # the static bearer token (bearer)
    client_id: str  # OAuth2 client credentials (oauth2)
    client_secret: str
    private_key: str  # PEM, RSA-2048; its public half is registered with the provider
    encryption: bool
    subinst_id: str
    service_id: str
    service_name: str


class Refused(Exception):
    """A call answered ``status`` ``{"error": error, "message": message}`` and logged as ``result``
    (with ``detail`` if the log should say more than the caller is told)."""

    def __init__(self, status: int, error: str, message: str, result: str, event: Event | None = None,
                 detail: str | None = None):
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.result = result
        self.event = event
        self.detail = detail
        self.entry: dict | None = None  # the call's log row so far, once there is one


@dataclass
class Call:
    """One authenticated, decrypted and parsed GovPay+ call."""

    entry: dict  # its log row so far
    request: GovpayRequest
    key: bytes | None  # the transaction key, when the call was encrypted
    config: GovpayConfig


class GovpayLk:
    def __init__(self, merchant):
        self.merchant = merchant
        self._private_keys: dict[str, object] = {}

    # -- set-up ----------------------------------------------------------------------------------

    def _saved(self) -> dict[str, str | None]:
        return {name: self.merchant.store.setting(f"govpay_lk_{name}") for name in _SETTINGS}

    def config(self) -> GovpayConfig | None:
        """The saved set-up, or None before provisioning (or for another dialect)."""
        if self.merchant.wiring.dialect != DIALECT:
            return None
        saved = self._saved()
        if not saved["auth"] or not saved["private_key"]:
            return None
        return GovpayConfig(auth=saved["auth"], token=saved["token"] or "", client_id=saved["client_id"] or "",
                            client_secret=saved["client_secret"] or "", private_key=saved["private_key"],
                            encryption=saved["encryption"] == "1", subinst_id=saved["subinst_id"] or "",
                            service_id=saved["service_id"] or "", service_name=saved["service_name"] or "")

    def setup(self, url: str, namespace: str, auth: str | None = None, encryption: bool | None = None) -> dict:
        """Choose (or keep) the shop's GovPay+ identity, secrets and key pair, and return the
        namespace's ``govpay_lk`` settings for ``PUT /_mock/config``.

        ``auth`` and ``encryption`` default to what was saved, else bearer and on. The key
        pair, the token and the client credentials are made once and kept, so a restart with
        the same database reuses them; the ``subinst_id`` is new for each namespace."""
        saved = self._saved()
        auth = auth or saved["auth"] or DEFAULT_AUTH
        if auth not in AUTH_TYPES:
            raise ValueError(f"GovPay+ auth must be one of {', '.join(AUTH_TYPES)}, not {auth!r}")
        if encryption is None:
            encryption = saved["encryption"] != "0"
        same_namespace = saved["namespace"] == namespace and saved["subinst_id"]
        values = {
            "auth": auth,
            "encryption": "1" if encryption else "0",
            "token": saved["token"] or secrets.token_urlsafe(32),
            "client_id": saved["client_id"] or f"govpay-{secrets.token_hex(6)}",
            "client_secret": saved["client_secret"] or secrets.token_urlsafe(32),
            "private_key": saved["private_key"] or crypto.new_key_pair()[0],
            "subinst_id": saved["subinst_id"] if same_namespace else "SUB" + secrets.token_hex(5).upper(),
            "service_id": saved["service_id"] or SERVICE_ID,
            "service_name": saved["service_name"] or SERVICE_NAME,
            "namespace": namespace,
        }
        self.merchant.store.save_settings({f"govpay_lk_{name}": value for name, value in values.items()})
        if auth == "bearer":
            provider_auth = {"type": "bearer", "token": values["token"]}
        else:
            provider_auth = {"type": "oauth2", "token_url": f"{url}/oauth/token", "client_id": values["client_id"],
                             "client_secret": values["client_secret"]}
        return {"validate_url": f"{url}/govpay-lk/validate", "update_url": f"{url}/govpay-lk/update",
                "subinst_id": values["subinst_id"], "service_id": values["service_id"],
                "service_name": values["service_name"], "auth": provider_auth,
                "encryption_public_key": crypto.public_pem_of(values["private_key"]) if encryption else None}

    def describe(self, url: str | None) -> dict | None:
        """What ``GET /_merchant/config`` shows of it (no secrets)."""
        config = self.config()
        if config is None:
            return None
        base = url or ""
        return {"validate_url": f"{base}/govpay-lk/validate", "update_url": f"{base}/govpay-lk/update",
                "token_url": f"{base}/oauth/token" if config.auth == "oauth2" else None, "auth": config.auth,
                "token_lifetime_seconds": TOKEN_LIFETIME_SECONDS, "encryption": config.encryption,
                "public_key": crypto.public_pem_of(self._private_key(config)) if config.encryption else None,
                "subinst_id": config.subinst_id, "service_id": config.service_id,
                "service_name": config.service_name}

    def _private_key(self, config: GovpayConfig):
        key = self._private_keys.get(config.private_key)
        if key is None:
            key = self._private_keys[config.private_key] = crypto.load_private_key(config.private_key)
        return key

    # -- OAuth2: the token endpoint --------------------------------------------------------------

    def issue_token(self, authorization: str | None, body: bytes, declared: int | None) -> tuple[int, dict, dict]:
        """``POST /oauth/token`` with ``grant_type=client_credentials``: (status, JSON answer,
        extra headers). The client authenticates with HTTP Basic, or with ``client_id`` and
        ``client_secret`` in the form (both at once must agree). Errors are RFC 6749's."""
        config = self.config()
        if config is None or config.auth != "oauth2":
            return 404, {"error": "not_found", "error_description": "this shop issues no OAuth2 tokens (only "
                                                                     "GovPay+ with --govpay-auth oauth2 does)"}, {}
        if (declared or 0) > MAX_TOKEN_REQUEST_BYTES or len(body) > MAX_TOKEN_REQUEST_BYTES:
            return 413, {"error": "invalid_request", "error_description": "the token request is too large"}, {}
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)))
        except (UnicodeDecodeError, ValueError):
            return 400, {"error": "invalid_request", "error_description": "the body must be a URL-encoded form"}, {}
        if form.get("grant_type") != "client_credentials":
            error = "unsupported_grant_type" if form.get("grant_type") else "invalid_request"
            return 400, {"error": error, "error_description": "grant_type must be client_credentials"}, {}
        client_id, client_secret, problem = _client_credentials(authorization, form)
        if problem:
            return 400, {"error": "invalid_request", "error_description": problem}, {}
        # Both compared, always: how long a refusal takes says nothing about which one was wrong.
        good = hmac.compare_digest(client_id.encode(), config.client_id.encode())
        good &= hmac.compare_digest(client_secret.encode(), config.client_secret.encode())
        if not good:
            log.warning("GovPay+ token request refused: unknown client or wrong secret (client_id %r)", client_id)
            return 401, {"error": "invalid_client", "error_description": "unknown client or wrong secret"}, \
                {"WWW-Authenticate": 'Basic realm="mock-psp test merchant"'}
        token = secrets.token_urlsafe(32)
        now = self.merchant.now()
        scope = form.get("scope") or None
        with self.merchant.store.write() as db:
            db.execute("DELETE FROM govpay_lk_tokens WHERE expires_at <= ?", [now])
            db.execute("INSERT INTO govpay_lk_tokens (token_sha256, client_id, scope, issued_at, expires_at) "
                       "VALUES (?, ?, ?, ?, ?)", [_sha256(token), client_id, scope, now, now + TOKEN_LIFETIME_SECONDS])
        log.info("GovPay+ token issued to %s for %s s", client_id, TOKEN_LIFETIME_SECONDS)
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS}
        if scope:
            answer["scope"] = scope
        return 200, answer, {"Cache-Control": "no-store", "Pragma": "no-cache"}

    def _authenticate(self, config: GovpayConfig, authorization: str | None) -> None:
        """Return if the caller holds this shop's bearer token, or an unexpired access token it
        issued; raise Refused (401 unauthorized) saying why otherwise."""
        if not authorization:
            raise _unauthorized("missing Authorization header")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("the Authorization header is not a bearer token")
        if config.auth == "bearer":
            if not hmac.compare_digest(token.encode(), config.token.encode()):
                raise _unauthorized("the bearer token is not this shop's")
            return
        # Looked up by its SHA-256: no secret is compared, so the lookup's timing tells nothing.
        with self.merchant.store.read() as db:
            row = db.execute("SELECT expires_at FROM govpay_lk_tokens WHERE token_sha256 = ?",
                             [_sha256(token)]).fetchone()
        if row is None:
            raise _unauthorized("the access token was not issued by this shop")
        if row[0] <= self.merchant.now():
            raise _unauthorized("the access token has expired; get a new one at /oauth/token")

    # -- the calls ---------------------------------------------------------------------------------

    def presentment(self, body: bytes, headers, remote_addr: str | None,
                    declared: int | None = None) -> tuple[int, dict]:
        """``POST /govpay-lk/validate``: what the reference costs, or why it cannot be paid.

        Logged results: ok, invalid_reference, not_payable, unauthorized, malformed, too_large,
        error (this shop does not take GovPay+)."""
        call = None
        try:
            call = self._open(PRESENTMENT, body, headers, remote_addr, declared, auth_result="unauthorized")
            try:
                ref_no = call.request.ref_no()
            except MalformedRequest as why:
                raise Refused(400, "bad_request", f"not a GovPay+ presentment: {why}", "malformed",
                              _call_event(PRESENTMENT, call.request)) from None
            event = _call_event(PRESENTMENT, call.request)
            order = self._order_for(ref_no, event)
            if order["state"] != PENDING:
                raise Refused(409, "not_payable", f"reference {ref_no} cannot be paid now: its order is "
                                                  f"{order['state'].replace('_', ' ')}", "not_payable", event)
        except Refused as refused:
            return self._refuse(refused, call)
        amount = decimal_text(order["amount"])
        objects = [
            _presentment_object(1, "Reference Number", ref_no, "text", 20, "refNo", reference=True),
            _presentment_object(2, "Amount To Be Paid", amount, "decimal", 13, "amount", amount=True),
            _presentment_object(3, "Currency", order["currency"], "text", 3, "currency"),
        ]
        self.merchant.webhooks.record(call.entry, "ok", f"presented {amount} {order['currency']} for order "
                                                        f"{order['id']}", event)
        return 200, {**_envelope(call.request), "message": "Success",
                     "presentmentData": _sealed(objects, call.key)}

    def update(self, body: bytes, headers, remote_addr: str | None, declared: int | None = None) -> tuple[int, dict]:
        """``POST /govpay-lk/update``: into the inbox, acted on after the status inquiry, then
        acknowledged (a duplicate is acknowledged too, and changes nothing).

        Logged results: those of ``act_on_update``, and duplicate, invalid_reference,
        signature_invalid (no valid token), malformed, too_large, error."""
        call = None
        try:
            call = self._open(UPDATE, body, headers, remote_addr, declared, auth_result="signature_invalid")
            try:
                event = update_event(call.request)
            except MalformedRequest as why:
                raise Refused(400, "bad_request", f"not a GovPay+ update: {why}", "malformed") from None
            self._order_for(event.payment_id, event)
        except Refused as refused:
            return self._refuse(refused, call)
        receiver = self.merchant.webhooks
        row_id, duplicate_of = receiver.accept(call.entry, event)
        if duplicate_of is None:
            receiver.process(row_id)  # an error leaves it in the inbox, for the next sweep
        return 200, {**_envelope(call.request), "message": "Success",
                     "paymentData": _sealed(_receipt(call.request), call.key)}

    def _open(self, kind: str, body: bytes, headers, remote_addr: str | None, declared: int | None,
              auth_result: str) -> Call:
        """Size, authentication, decryption, parsing and identity, for either call."""
        config = self.config()
        entry = self.merchant.webhooks.new_entry(DIALECT, config.auth if config else DIALECT, body, headers,
                                                 remote_addr)
        entry["event_type"] = kind
        try:
            if config is None:
                raise Refused(404, "not_found", "this shop does not take GovPay+ payments", "error")
            if (declared or 0) > MAX_CALL_BYTES or len(body) > MAX_CALL_BYTES:
                entry["size"] = max(len(body), declared or 0)
                raise Refused(413, "too_large", f"body over {MAX_CALL_BYTES} bytes", "too_large")
            entry["body"] = body.decode("utf-8", "replace")
            try:
                self._authenticate(config, headers.get("Authorization"))
            except Refused as refused:
                entry["signature_valid"] = 0
                refused.result = auth_result
                raise
            entry["signature_valid"] = 1
            request, key = self._read(config, body, headers)
            if request.subinst_id != config.subinst_id or request.service_id != config.service_id:
                raise Refused(404, "invalid_reference", "invalid reference number", "invalid_reference",
                              _call_event(kind, request),
                              detail=f"identity mismatch: subinstId {request.subinst_id!r}, serviceid "
                                     f"{request.service_id!r}; this shop is {config.subinst_id!r}, "
                                     f"{config.service_id!r}")
        except Refused as refused:
            refused.entry = entry
            raise
        return Call(entry=entry, request=request, key=key, config=config)

    def _read(self, config: GovpayConfig, body: bytes, headers) -> tuple[GovpayRequest, bytes | None]:
        """The request in clear, and the call's transaction key (None without encryption)."""
        try:
            payload = json.loads(body, parse_float=Decimal)
            key = None
            if config.encryption:
                key = crypto.unwrap_key(self._private_key(config), headers.get(crypto.HEADER))
            elif headers.get(crypto.HEADER):
                raise MalformedRequest(f"a {crypto.HEADER} header, but this shop registered no encryption key")
            opener = (lambda item: crypto.decrypt_item(key, item)) if key is not None else None
            return parse_request(payload, opener), key
        except (ValueError, RecursionError, crypto.DecryptionError) as why:  # MalformedRequest, bad JSON, too deep
            raise Refused(400, "bad_request", f"not a GovPay+ request: {why}", "malformed") from None

    def _order_for(self, ref_no: str, event: Event) -> dict:
        with self.merchant.store.read() as db:
            order = o.find_by_payment(db, ref_no)
        if order is None or order["dialect"] != DIALECT:
            raise Refused(404, "invalid_reference", "invalid reference number", "invalid_reference", event,
                          detail=f"no order has reference {ref_no}")
        return order

    def _refuse(self, refused: Refused, call: Call | None) -> tuple[int, dict]:
        entry = refused.entry or call.entry
        detail = refused.detail or refused.message
        row_id = self.merchant.webhooks.record(entry, refused.result, detail, refused.event)
        log.info("GovPay+ %s refused (log %s): %s %s", entry["event_type"], row_id, refused.status, detail)
        return refused.status, {"error": refused.error, "message": refused.message}

    # -- acting on an update (from the inbox) -----------------------------------------------------

    def act_on_update(self, row: dict) -> tuple[str, str | None]:
        """Verify an accepted update with the status inquiry, and apply what the inquiry says.

        Results: ``ok``; ``stale`` (the inquiry contradicts the update, or the order has moved
        on); ``mismatch`` (the transaction is for another reference, or a SUCCESS for another
        amount or currency: the order is left alone). A failed inquiry raises, which the
        receiver logs as ``error`` and leaves in the inbox."""
        transaction_id, claimed = row["object_id"], row["event_id"].rsplit(":", 1)[-1]
        with self.merchant.store.read() as db:
            order = o.find_by_payment(db, row["payment_id"])
        if order is None:
            return "ok", f"no order for reference {row['payment_id']}: not this shop's, ignored"
        transaction = self.merchant.psp.get_transaction(transaction_id)
        if transaction is None:
            return "stale", f"the update says {claimed}, but the provider has no transaction {transaction_id}"
        status = str(transaction.get("status") or "")
        agrees = claimed == status or (claimed == TX_FAILED and status == TX_EXPIRED)
        if transaction.get("refNo") != order["payment_id"]:
            return "mismatch", check_transaction(transaction, order["payment_id"], None, None)
        if status == TX_SUCCESS:
            why = check_transaction(transaction, order["payment_id"], order["amount"], order["currency"])
            if why:
                log.warning("GovPay+ update %s for order %s not accepted: %s", row["event_id"], order["id"], why)
                return "mismatch", f"provider says SUCCESS, but {why}; order stays {order['state']}"
            truth = PaymentTruth(payment_id=order["payment_id"], state=PAID, provider_status=status,
                                 amount=order["amount"], paid_amount=minor_units(transaction.get("amount")) or 0)
        elif status in (TX_FAILED, TX_EXPIRED):
            truth = PaymentTruth(payment_id=order["payment_id"], state=PENDING, provider_status=status,
                                 amount=order["amount"], paid_amount=0,
                                 failure=f"GovPay+ transaction {transaction_id} {status}; the reference can be "
                                         "paid again")
        else:
            return ("ok" if agrees else "stale"), \
                f"the update says {claimed}; provider says {status}: nothing to do; order stays {order['state']}"
        cause = f"GovPay+ update {row['event_id']}: the status inquiry says {status}"
        now = self.merchant.now()
        with self.merchant.store.write() as db:
            noted = o.get_order(db, order["id"])["failure"] == truth.failure
            applied = o.record_payment(db, order["id"], truth, cause, now)
            if truth.state == PENDING and not applied.ignored and not noted:
                o.note(db, order["id"], f"{cause}: the attempt failed; the reference stays payable", now)
            state = o.get_order(db, order["id"])["state"]
        if applied.ignored:
            return "stale", f"the update says {claimed}; provider says {status}; order is already {state}"
        result = "ok" if agrees or applied.changed else "stale"
        if truth.state == PENDING:
            return result, f"the update says {claimed}; provider says {status}: the attempt failed; order stays " \
                           f"{state}, its reference payable again"
        moved = "is now" if applied.changed else "stays"
        return result, f"the update says {claimed}; provider says {status}; order {moved} {state}"


def _unauthorized(why: str) -> Refused:
    return Refused(401, "unauthorized", why, "unauthorized")


def _call_event(kind: str, request: GovpayRequest) -> Event | None:
    """The event a call is about, as far as it can be told (for the log)."""
    if kind == PRESENTMENT:
        return Event(event_id=f"{request.transaction_id}:presentment", event_type=kind, object_type="payment",
                     object_id=request.transaction_id, payment_id=request.param("refNo"), claims=None)
    try:
        return update_event(request)
    except MalformedRequest:
        return None


def _client_credentials(authorization: str | None, form: dict) -> tuple[str, str, str | None]:
    """(client_id, client_secret, problem) from HTTP Basic and/or the form."""
    basic_id = basic_secret = None
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if authorization and scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return "", "", "the Basic credentials are not base64"
        user, colon, password = decoded.partition(":")
        if not colon:
            return "", "", "the Basic credentials have no ':'"
        # RFC 6749 2.3.1: client id and secret are form-urlencoded before the Basic encoding.
        basic_id, basic_secret = unquote(user.replace("+", " ")), unquote(password.replace("+", " "))
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    if basic_id is None:
        if not form_id or form_secret is None:
            return "", "", "client authentication is required (HTTP Basic, or client_id and client_secret)"
        return form_id, form_secret, None
    if (form_id is not None and form_id != basic_id) or (form_secret is not None and form_secret != basic_secret):
        return "", "", "the form's client credentials differ from the Basic ones"
    return basic_id, basic_secret, None


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _envelope(request: GovpayRequest) -> dict:
    return {"transactionID": request.transaction_id, "subinstId": request.subinst_id,
            "serviceid": request.service_id, "serviceName": request.service_name}


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _display(seq: int, placeholder: str, value: str, datatype: str, max_length: int, returned_param: str,
             returned: bool) -> dict:
    """The fields every GovPay+ display object has (a read-only label here), all strings."""
    return {"objType": "label", "seq": str(seq), "id": f"{seq:03d}{seq:04d}", "placeholder": placeholder,
            "initialValue": value, "datatype": datatype, "maxLength": str(max_length), "selectionType": "SINGLE",
            "mask": "", "notNull": "true", "enabled": "false", "returned": _flag(returned), "rows": "1",
            "cols": "1", "returnedParam": returned_param}


def _presentment_object(seq: int, placeholder: str, value: str, datatype: str, max_length: int,
                        returned_param: str, reference: bool = False, amount: bool = False) -> dict:
    return {**_display(seq, placeholder, value, datatype, max_length, returned_param, returned=True),
            "isPaymentReference": _flag(reference), "isPaymentAmount": _flag(amount), "returnedValue": ""}


def _receipt(request: GovpayRequest) -> list[dict]:
    """The update's acknowledgement: its data[] echoed as labels, then a receipt number and a status."""
    rows = [(item["paramName"], item["value"], "decimal" if item["paramName"].lower() == "amount" else "text")
            for item in request.items]
    rows += [("Receipt Number", f"REC-{request.transaction_id}", "text"), ("Status", "Payment recorded", "text")]
    return [{**_display(seq, name, value, datatype, 50, "", returned=False), "returnedValue": ""}
            for seq, (name, value, datatype) in enumerate(rows, 1)]


def _sealed(objects: list[dict], key: bytes | None) -> list[dict]:
    """The answer's items, every field encrypted when the call was."""
    return objects if key is None else [crypto.encrypt_object(key, obj) for obj in objects]
