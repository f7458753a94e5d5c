"""Namespaces: isolated merchant accounts, each with its keys, settings and clock."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from .. import clock as clocks
from . import namespace_config
from .errors import INVALID_CONFIG
from .errors import NAMESPACE_NOT_FOUND
from .errors import DomainError
from .randomness import ALPHANUMERIC
from .randomness import HEX
from .randomness import Draws

DEFAULT_ID = "ns_default"

# Tables holding a namespace's data; reset empties them, keys and settings stay.
DATA_TABLES = (
    "payments", "refunds", "audit_events", "outbox", "jobs",
    "webhook_events", "webhook_deliveries", "webhook_attempts",
    "idempotency_keys", "access_tokens", "checkout_sessions", "api_fault_log", "agreements", "customers", "mandates",
)


@dataclass(frozen=True)
class HyperswitchKeys:
    merchant_id: str
    profile_id: str
    api_key: str
    publishable_key: str
    payment_response_hash_key: str


@dataclass(frozen=True)
class GovukKeys:
    api_key: str
    webhook_signing_secret: str


@dataclass(frozen=True)
class Namespace:
    id: str
    is_default: bool
    created_at: int
    hyperswitch: HyperswitchKeys
    govuk: GovukKeys
    config: dict[str, Any]
    seed: int
    rng_counter: int
    clock_mode: str
    virtual_now: int | None
    dialect_settings: dict
    scripted_outcomes: tuple[str, ...] = ()
    # Whether changes write outbox rows (set while a webhook endpoint listens).
    publishes_events: bool = False
    # Whether API calls may be faulted (mock_psp/api_faults.py): lets every other call skip a write.
    api_faults_active: bool = False

    @property
    def clock(self):
        return clocks.clock_for(self.clock_mode, self.virtual_now)

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def draws(self) -> Draws:
        return Draws(self.seed, self.rng_counter)


def _stable_token(label: str, length: int, alphabet: str) -> str:
    digest = hashlib.sha512(f"mock-psp default namespace: {label}".encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def _random_token(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _new_keys(token) -> tuple[HyperswitchKeys, GovukKeys]:
    hyperswitch = HyperswitchKeys(
        merchant_id="merchant_" + token("merchant", 12, "0123456789"),
        profile_id="pro_" + token("profile", 20, ALPHANUMERIC),
        api_key="snd_" + token("api key", 64, ALPHANUMERIC),
        publishable_key="pk_snd_" + token("publishable key", 32, HEX),
        payment_response_hash_key=token("hash key", 64, ALPHANUMERIC),
    )
    govuk = GovukKeys(
        api_key="api_test_" + token("govuk api key", 58, "0123456789abcdefghijklmnopqrstuvwxyz"),
        webhook_signing_secret="webhook_test_" + token("govuk webhook secret", 40, "0123456789abcdefghijklmnopqrstuvwxyz"),
    )
    return hyperswitch, govuk


def default_keys() -> tuple[HyperswitchKeys, GovukKeys]:
    """The default namespace's keys: the same on every machine, documented in the README."""
    return _new_keys(lambda label, n, alphabet: _stable_token(label, n, alphabet))


def _from_row(row) -> Namespace:
    return Namespace(
        id=row["id"],
        is_default=bool(row["is_default"]),
        created_at=row["created_at"],
        hyperswitch=HyperswitchKeys(
            merchant_id=row["hs_merchant_id"],
            profile_id=row["hs_profile_id"],
            api_key=row["hs_api_key"],
            publishable_key=row["hs_publishable_key"],
            payment_response_hash_key=row["hs_hash_key"],
        ),
        govuk=GovukKeys(api_key=row["govuk_api_key"], webhook_signing_secret=row["govuk_webhook_secret"]),
        config=json.loads(row["config"]),
        seed=row["seed"],
        rng_counter=row["rng_counter"],
        clock_mode=row["clock_mode"],
        virtual_now=row["virtual_now"],
        dialect_settings=json.loads(row["dialect_settings"]),
        scripted_outcomes=tuple(json.loads(row["scripted_outcomes"])),
        publishes_events=bool(row["publishes_events"]),
        api_faults_active=row["api_faults"] != "{}" or row["api_fault_script"] != "[]",
    )


def _check_seed(seed: Any) -> int:
    # SQLite keeps integers in 64 bits; anything wider would fail the write, not the request.
    if not isinstance(seed, int) or isinstance(seed, bool) or not -(2**63) <= seed < 2**63:
        raise DomainError(INVALID_CONFIG, "seed: must be a 64-bit integer", {"field": "seed"})
    return seed


def _insert(db: Database, ns_id: str, is_default: bool, keys, seed: int, clock_mode: str, now: int) -> Namespace:
    hyperswitch, govuk = keys
    _check_seed(seed)
    if clock_mode not in clocks.MODES:
        raise DomainError(INVALID_CONFIG, f"clock: must be one of {', '.join(clocks.MODES)}", {"field": "clock"})
    db.execute(
        """INSERT INTO namespaces (id, is_default, created_at, hs_merchant_id, hs_profile_id,
               hs_api_key, hs_publishable_key, hs_hash_key, govuk_api_key, govuk_webhook_secret,
               config, seed, clock_mode, virtual_now)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            ns_id, int(is_default), now,
            hyperswitch.merchant_id, hyperswitch.profile_id, hyperswitch.api_key,
            hyperswitch.publishable_key, hyperswitch.payment_response_hash_key,
            govuk.api_key, govuk.webhook_signing_secret,
            json.dumps(namespace_config.default_config()), seed, clock_mode,
            now if clock_mode == clocks.VIRTUAL else None,
        ],
    )
    return get(db, ns_id)


def ensure_default(db: Database, seed: int | None = None, clock_mode: str = clocks.SYSTEM) -> Namespace:
    """Create the default namespace on first start; later starts reuse it."""
    existing = find(db, "id", DEFAULT_ID)
    if existing is not None:
        return existing
    return _insert(
        db, DEFAULT_ID, True, default_keys(),
        seed if seed is not None else 0, clock_mode, clocks.system_now_ms(),
    )


def create(db: Database, seed: int | None = None, clock_mode: str = clocks.SYSTEM) -> Namespace:
    """Create a fresh namespace with random keys (the seed governs its data, not its keys)."""
    ns_id = "ns_" + secrets.token_hex(8)
    keys = _new_keys(lambda label, n, alphabet: _random_token(n, alphabet))
    if seed is None:
        seed = secrets.randbits(63)
    return _insert(db, ns_id, False, keys, seed, clock_mode, clocks.system_now_ms())


_LOOKUP_COLUMNS = frozenset({"id", "hs_api_key", "hs_publishable_key", "hs_merchant_id", "govuk_api_key"})


def find(db: Database, column: str, value: str) -> Namespace | None:
    if column not in _LOOKUP_COLUMNS:
        raise ValueError(f"cannot look namespaces up by {column}")
    row = db.execute(f"SELECT * FROM namespaces WHERE {column} = ?", [value]).fetchone()
    return _from_row(row) if row else None


def get(db: Database, ns_id: str) -> Namespace:
    namespace = find(db, "id", ns_id)
    if namespace is None:
        raise DomainError(NAMESPACE_NOT_FOUND, f"No namespace {ns_id!r}", {"object_id": ns_id})
    return namespace


def list_all(db: Database) -> list[Namespace]:
    return [_from_row(r) for r in db.execute("SELECT * FROM namespaces ORDER BY created_at, id").fetchall()]


def page(db: Database, limit: int, offset: int) -> tuple[list[Namespace], int]:
    """The default namespace first, then the newest first (a shared provider gathers thousands)."""
    total = db.execute("SELECT count(*) FROM namespaces").fetchone()[0]
    rows = db.execute("SELECT * FROM namespaces ORDER BY is_default DESC, created_at DESC, rowid DESC LIMIT ? OFFSET ?",
                      [limit, offset]).fetchall()
    return [_from_row(r) for r in rows], total


def save_draws(db: Database, namespace: Namespace, draws: Draws) -> None:
    if draws.used:
        db.execute("UPDATE namespaces SET rng_counter = ? WHERE id = ?", [draws.counter, namespace.id])


def public_config(namespace: Namespace) -> dict[str, Any]:
    return {**namespace.config, "seed": namespace.seed, "clock": namespace.clock_mode}


def update_config(db: Database, namespace: Namespace, update: Any) -> Namespace:
    """Apply a partial settings update; ``seed`` restarts the namespace's random sequence."""
    merged = namespace_config.validate_update(namespace.config, update)
    db.execute("UPDATE namespaces SET config = ? WHERE id = ?", [json.dumps(merged), namespace.id])
    if "seed" in update:
        seed = _check_seed(update["seed"])
        db.execute("UPDATE namespaces SET seed = ?, rng_counter = 0 WHERE id = ?", [seed, namespace.id])
    if "clock" in update:
        set_clock_mode(db, namespace, update["clock"])
    return get(db, namespace.id)


def set_clock_mode(db: Database, namespace: Namespace, mode: Any) -> None:
    """Switching to virtual freezes time at the current instant; back to system resumes real time."""
    if mode not in clocks.MODES:
        raise DomainError(INVALID_CONFIG, f"clock: must be one of {', '.join(clocks.MODES)}", {"field": "clock"})
    if mode == namespace.clock_mode:
        return
    virtual_now = namespace.now_ms() if mode == clocks.VIRTUAL else None
    db.execute(
        "UPDATE namespaces SET clock_mode = ?, virtual_now = ? WHERE id = ?",
        [mode, virtual_now, namespace.id],
    )


def set_virtual_now(db: Database, namespace_id: str, now_ms: int) -> None:
    db.execute("UPDATE namespaces SET virtual_now = ? WHERE id = ?", [now_ms, namespace_id])


def push_outcomes(db: Database, namespace: Namespace, outcomes: list[str], replace: bool = False) -> list[str]:
    row = db.execute("SELECT scripted_outcomes FROM namespaces WHERE id = ?", [namespace.id]).fetchone()
    queue = [] if replace else json.loads(row["scripted_outcomes"])
    queue.extend(outcomes)
    db.execute("UPDATE namespaces SET scripted_outcomes = ? WHERE id = ?", [json.dumps(queue), namespace.id])
    return queue


def scripted_outcomes(db: Database, namespace_id: str) -> list[str]:
    row = db.execute("SELECT scripted_outcomes FROM namespaces WHERE id = ?", [namespace_id]).fetchone()
    return json.loads(row["scripted_outcomes"])


def save_outcome_queue(db: Database, namespace_id: str, queue: list[str]) -> None:
    db.execute("UPDATE namespaces SET scripted_outcomes = ? WHERE id = ?", [json.dumps(queue), namespace_id])


def set_dialect_settings(db: Database, namespace_id: str, dialect: str, settings: dict) -> None:
    """Store what a dialect keeps per namespace; the domain does not interpret it."""
    row = db.execute("SELECT dialect_settings FROM namespaces WHERE id = ?", [namespace_id]).fetchone()
    stored = json.loads(row["dialect_settings"])
    stored[dialect] = settings
    db.execute("UPDATE namespaces SET dialect_settings = ? WHERE id = ?", [json.dumps(stored), namespace_id])


def set_publishing(db: Database, namespace_id: str, publishes: bool) -> None:
    """Turn outbox writing on or off for a namespace (its webhook endpoints decide)."""
    db.execute("UPDATE namespaces SET publishes_events = ? WHERE id = ?", [int(publishes), namespace_id])


def set_hyperswitch_hash_key(db: Database, namespace_id: str, key: str) -> None:
    db.execute("UPDATE namespaces SET hs_hash_key = ? WHERE id = ?", [key, namespace_id])


def reset(db: Database, namespace: Namespace, keep_config: bool = True) -> Namespace:
    """Delete the namespace's data; its keys stay, its random sequence restarts."""
    for table in DATA_TABLES:
        db.execute(f"DELETE FROM {table} WHERE namespace_id = ?", [namespace.id])
    db.execute(
        "UPDATE namespaces SET rng_counter = 0, scripted_outcomes = '[]', fault_script = '[]', "
        "api_fault_script = '[]', api_fault_rng_counter = 0 WHERE id = ?",
        [namespace.id],
    )
    if not keep_config:
        db.execute(
            "UPDATE namespaces SET config = ?, api_faults = '{}' WHERE id = ?",
            [json.dumps(namespace_config.default_config()), namespace.id],
        )
    return get(db, namespace.id)
