"""Single-use access tokens: how a customer's browser gets into a payment's pages,
or how a merchant's card entry reaches its payment (GOV.UK Pay's MOTO
``one_time_token``).

A token is minted for each link handed out (GOV.UK Pay mints a fresh ``next_url``,
or ``auth_url_post`` token, on every read of an unfinished payment) and is good
for one use. Tokens are derived from the namespace seed, so a seeded run repeats
its links.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from ..runtime.store import Store
from . import namespaces
from .errors import TOKEN_INVALID
from .errors import DomainError


def issue(store: Store, namespace_id: str, payment_id: str) -> str:
    with store.write() as db:
        namespace = namespaces.get(store, namespace_id)
        count = db.execute("SELECT count(*) FROM access_tokens WHERE namespace_id = ? AND payment_id = ?",
                           [namespace_id, payment_id]).fetchone()[0]
        digest = hashlib.blake2b(f"{namespace.seed}:{namespace_id}:{payment_id}:{count}".encode(),
                                 digest_size=16).hexdigest()
        token = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
        db.execute("INSERT INTO access_tokens (token, namespace_id, payment_id, created_at) VALUES (?, ?, ?, ?)",
                   [token, namespace_id, payment_id, namespace.now_ms()])
    return token


def redeem(store: Store, token: str) -> tuple[str, str]:
    """Use a token once; return (namespace_id, payment_id)."""
    with store.write() as db:
        row = db.execute("SELECT * FROM access_tokens WHERE token = ?", [token]).fetchone()
        if row is None or row["used_at"] is not None:
            raise DomainError(TOKEN_INVALID, "this link is unknown or has been used", {"token": token})
        namespace = namespaces.get(store, row["namespace_id"])
        db.execute("UPDATE access_tokens SET used_at = ? WHERE token = ?", [namespace.now_ms(), token])
        return row["namespace_id"], row["payment_id"]


@dataclass(frozen=True)
class AccessToken:
    token: str
    namespace_id: str
    payment_id: str
    used: bool


def find(store: Store, token: str) -> AccessToken | None:
    """A token as issued, used or not, without using it; None if unknown."""
    with store.read() as db:
        row = db.execute("SELECT * FROM access_tokens WHERE token = ?", [token]).fetchone()
    if row is None:
        return None
    return AccessToken(row["token"], row["namespace_id"], row["payment_id"], row["used_at"] is not None)


def owner(store: Store, token: str) -> tuple[str, str] | None:
    """(namespace_id, payment_id) a token was issued for, used or not; None if unknown."""
    with store.read() as db:
        row = db.execute("SELECT namespace_id, payment_id FROM access_tokens WHERE token = ?", [token]).fetchone()
    return (row["namespace_id"], row["payment_id"]) if row else None


REDIRECT = "redirect"
EMBEDDED = "embedded"


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    namespace_id: str
    payment_id: str
    mode: str
    parent_origin: str | None

    @property
    def embedded(self) -> bool:
        return self.mode == EMBEDDED


def open_checkout(store: Store, namespace_id: str, payment_id: str, mode: str = REDIRECT,
                  parent_origin: str | None = None) -> CheckoutSession:
    """Start a browser's visit to the checkout for a payment; the id is a secret for that browser."""
    session = CheckoutSession("cs_" + secrets.token_urlsafe(18), namespace_id, payment_id, mode, parent_origin)
    with store.write() as db:
        namespace = namespaces.get(store, namespace_id)
        db.execute(
            "INSERT INTO checkout_sessions (id, namespace_id, payment_id, mode, parent_origin, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [session.id, namespace_id, payment_id, mode, parent_origin, namespace.now_ms()],
        )
    return session


def checkout_session(store: Store, session_id: str) -> CheckoutSession | None:
    with store.read() as db:
        row = db.execute("SELECT * FROM checkout_sessions WHERE id = ?", [session_id]).fetchone()
    if row is None:
        return None
    return CheckoutSession(row["id"], row["namespace_id"], row["payment_id"], row["mode"], row["parent_origin"])
