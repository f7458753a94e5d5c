"""The provider's calls to the merchant (presentment and update): authentication,
encryption, and reading the answer.

Never called inside a database transaction: the merchant may call the provider
back (the status inquiry) before it answers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import requests

from . import crypto

USER_AGENT = "GovPay+ (mock-psp)"
EXCERPT_CHARS = 500
ITEM_LISTS = ("presentmentData", "paymentData")


@dataclass
class CallResult:
    status: int | None = None
    body: Any = None  # the JSON answer, its items decrypted
    error: str | None = None
    latency_ms: float | None = None
    request_headers: dict = field(default_factory=dict)
    response_headers: dict = field(default_factory=dict)
    response_excerpt: str | None = None


class TokenCache:
    """OAuth2 client-credentials tokens, per (token URL, client): fetched on need, kept until
    they expire, fetched again when the merchant refuses one (401)."""

    def __init__(self):
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def bearer(self, auth: dict, session: requests.Session, timeout: float, fresh: bool = False) -> str:
        key = (auth["token_url"], auth["client_id"])
        with self._lock:
            cached = self._tokens.get(key)
        if cached and not fresh and cached[1] > time.monotonic():
            return cached[0]
        form = {"grant_type": "client_credentials"}
        if auth.get("scope"):
            form["scope"] = auth["scope"]
        try:
            reply = session.post(auth["token_url"], data=form, auth=(auth["client_id"], auth["client_secret"]),
                                 timeout=timeout, allow_redirects=False)
            body = reply.json() if reply.status_code == 200 else {}
        except (requests.RequestException, ValueError, RecursionError) as error:
            raise TokenError(f"token request to {auth['token_url']} failed: {error.__class__.__name__}") from error
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise TokenError(f"token request to {auth['token_url']} answered HTTP {reply.status_code} "
                             "without an access_token")
        lifetime = body.get("expires_in") if isinstance(body.get("expires_in"), (int, float)) else 300
        with self._lock:
            # A little early, so a token is never sent in its last seconds.
            self._tokens[key] = (token, time.monotonic() + max(0.0, lifetime - 10))
        return token


class TokenError(Exception):
    """The merchant's token endpoint gave no token."""


class Caller:
    def __init__(self, tokens: TokenCache):
        self.tokens = tokens
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False
        return session

    def call(self, settings: dict, url: str, request: dict) -> CallResult:
        """POST one GovPay+ request; with OAuth2, a 401 fetches a new token and tries once more."""
        auth = settings["auth"]
        result = self._once(settings, url, request, fresh_token=False)
        if result.status == 401 and auth["type"] == "oauth2":
            result = self._once(settings, url, request, fresh_token=True)
        return result

    def _once(self, settings: dict, url: str, request: dict, fresh_token: bool) -> CallResult:
        timeout = settings["timeout_seconds"]
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        auth = settings["auth"]
        try:
            if auth["type"] == "bearer":
                headers["Authorization"] = f"Bearer {auth['token']}"
            elif auth["type"] == "oauth2":
                token = self.tokens.bearer(auth, self._session(), timeout, fresh=fresh_token)
                headers["Authorization"] = f"Bearer {token}"
        except TokenError as error:
            return CallResult(error=str(error), request_headers=_redacted(headers))
        key = None
        payload = dict(request)
        if settings.get("encryption_public_key"):
            key = crypto.new_transaction_key()
            headers[crypto.HEADER] = crypto.wrap_key(settings["encryption_public_key"], key)
            payload["data"] = crypto.encrypt_items(key, request["data"])
        started = time.perf_counter()
        try:
            reply = self._session().post(url, json=payload, headers=headers, timeout=timeout, allow_redirects=False)
        except requests.RequestException as error:
            self._local.session = None
            return CallResult(error=_describe(error, timeout), latency_ms=_ms(started),
                              request_headers=_redacted(headers))
        result = CallResult(status=reply.status_code, latency_ms=_ms(started), request_headers=_redacted(headers),
                            response_headers=dict(reply.headers), response_excerpt=reply.text[:EXCERPT_CHARS])
        try:
            result.body = reply.json()
        except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
            result.body = None
        if key is not None and reply.status_code == 200 and isinstance(result.body, dict):
            try:
                for name in ITEM_LISTS:
                    if isinstance(result.body.get(name), list):
                        result.body[name] = crypto.decrypt_items(key, result.body[name])
            except crypto.CryptoError as error:
                result.error = f"the answer could not be decrypted with this call's key: {error}"
        return result


def _redacted(headers: dict) -> dict:
    """Headers as logged: a bearer token shows only its first characters."""
    shown = dict(headers)
    token = shown.get("Authorization", "")
    if token.startswith("Bearer ") and len(token) > 15:
        shown["Authorization"] = token[:15] + "...(redacted)"
    return shown


def _describe(error: requests.RequestException, timeout: float) -> str:
    if isinstance(error, requests.Timeout):
        return f"timeout after {timeout:g}s"
    if isinstance(error, requests.ConnectionError):
        return "connection refused" if "refused" in str(error).lower() else "connection failed"
    return f"{error.__class__.__name__}"


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
