"""Namespaces: isolated merchant accounts, each with its keys, settings and clock.

A namespace holds, per dialect, the keys its provider hands a merchant (an API key,
a webhook secret, ...): the dialect says which keys (:class:`KeySpec`), the
namespace makes them. The default namespace's keys are derived from their labels,
so they are the same on every machine (the README lists them); every other
namespace gets random ones. The identifying keys find the namespace of a request.

This module is the one that writes the ``namespaces`` table and the dialects' keys
and settings; the clock columns are the namespace clock's (runtime/clock.py).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import unicodedata
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from types import MappingProxyType
from typing import Any

from ..runtime import clock as clocks
from ..runtime.store import Store
from . import namespace_config
from .errors import INVALID_CONFIG
from .errors import INVALID_STATE
from .errors import NAMESPACE_NOT_FOUND
from .errors import DomainError
from .randomness import Draws

DEFAULT_ID = "ns_default"
LABEL_MAX = 80
# What a full reset keeps of the settings besides the keys: the origins a merchant page embeds the
# checkout from are its wiring (like its webhook endpoints), not steering.
WIRING_SETTINGS = ("allowed_origins",)

# Tables holding a namespace's data; reset empties them, keys and settings stay.
DATA_TABLES = (
    "payments", "refunds", "audit_events", "outbox", "jobs",
    "webhook_events", "webhook_deliveries", "webhook_attempts",
    "idempotency_keys", "access_tokens", "checkout_sessions", "api_fault_log", "agreements", "customers", "mandates",
)


@dataclass(frozen=True)
class KeySpec:
    """One key a namespace holds for a dialect: ``prefix`` + ``length`` characters of ``alphabet``."""

    name: str
    prefix: str
    length: int
    alphabet: str
    # What the default namespace's key is derived from (so it is the same on every machine).
    label: str
    # A request presenting it belongs to this namespace: unique, and looked up.
    identifies: bool = False


# What every dialect keeps: {dialect key: its key specs}.
KeySpecs = Mapping[str, Sequence[KeySpec]]
NO_KEYS: KeySpecs = MappingProxyType({})  # a namespace for the domain alone (its tests): no dialect's keys


@dataclass(frozen=True)
class Namespace:
    id: str
    is_default: bool
    created_at: int
    config: dict[str, Any]
    seed: int
    rng_counter: int
    clock_mode: str
    virtual_now: int | None
    # {dialect key: {key name: value}}, e.g. keys["hyperswitch"]["api_key"]
    keys: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # {dialect key: what the dialect keeps for this namespace}
    dialect_settings: dict = field(default_factory=dict)
    scripted_outcomes: tuple[str, ...] = ()
    # Whether changes write outbox rows (set while a webhook endpoint listens).
    publishes_events: bool = False
    # Whether API calls may be faulted (mock_psp/web/api_faults.py): lets every other call skip a write.
    api_faults_active: bool = False
    # What a person calls it ("test shop, hyperswitch"), or None.
    label: str | None = None
    # The clock it was made with: a full reset gives it back.
    starting_clock: str = clocks.SYSTEM

    @property
    def clock(self):
        return clocks.clock_for(self.clock_mode, self.virtual_now)

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def draws(self) -> Draws:
        return Draws(self.seed, self.rng_counter)

    def keys_of(self, dialect_key: str) -> Mapping[str, str]:
        return self.keys.get(dialect_key, {})

    def settings_of(self, dialect_key: str) -> dict:
        return self.dialect_settings.get(dialect_key, {})


# -- keys ---------------------------------------------------------------------------------------


def _stable_token(label: str, length: int, alphabet: str) -> str:
    digest = hashlib.sha512(f"mock-psp default namespace: {label}".encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def _random_token(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_key(spec: KeySpec, default: bool) -> str:
    token = _stable_token(spec.label, spec.length, spec.alphabet) if default else \
        _random_token(spec.length, spec.alphabet)
    return spec.prefix + token


def default_keys(specs: KeySpecs) -> dict[str, dict[str, str]]:
    """The default namespace's keys: the same on every machine, documented in the README."""
    return {dialect: {spec.name: new_key(spec, default=True) for spec in dialect_specs}
            for dialect, dialect_specs in specs.items()}


def _add_keys(db, namespace_id: str, is_default: bool, specs: KeySpecs) -> None:
    """Make the keys the namespace lacks (all of them when it is new; a new dialect's when it is not)."""
    have = {(r["dialect"], r["name"]) for r in db.execute(
        "SELECT dialect, name FROM dialect_keys WHERE namespace_id = ?", [namespace_id])}
    rows = [[namespace_id, dialect, spec.name, new_key(spec, is_default), int(spec.identifies)]
            for dialect, dialect_specs in specs.items() for spec in dialect_specs if (dialect, spec.name) not in have]
    if rows:
        db.conn.executemany("INSERT INTO dialect_keys (namespace_id, dialect, name, value, identifies) "
                            "VALUES (?, ?, ?, ?, ?)", rows)


def ensure_keys(store: Store, specs: KeySpecs) -> int:
    """Give every namespace the keys of every dialect (a dialect added since a namespace was made
    gets its keys here); return how many namespaces needed some."""
    wanted = sum(len(s) for s in specs.values())
    with store.write() as db:
        short = db.execute(
            "SELECT n.id, n.is_default FROM namespaces n LEFT JOIN dialect_keys k ON k.namespace_id = n.id "
            "GROUP BY n.id HAVING count(k.name) < ?", [wanted]).fetchall()
        for row in short:
            _add_keys(db, row["id"], bool(row["is_default"]), specs)
    return len(short)


def set_key(store: Store, namespace_id: str, dialect_key: str, name: str, value: str) -> None:
    """Change one key (Hyperswitch lets a merchant set its payment_response_hash_key)."""
    with store.write() as db:
        db.execute("UPDATE dialect_keys SET value = ? WHERE namespace_id = ? AND dialect = ? AND name = ?",
                   [value, namespace_id, dialect_key, name])


# -- reading ------------------------------------------------------------------------------------


def _from_row(row, keys: Mapping[str, Mapping[str, str]], settings: dict) -> Namespace:
    return Namespace(
        id=row["id"],
        is_default=bool(row["is_default"]),
        created_at=row["created_at"],
        config=json.loads(row["config"]),
        seed=row["seed"],
        rng_counter=row["rng_counter"],
        clock_mode=row["clock_mode"],
        virtual_now=row["virtual_now"],
        keys=keys,
        dialect_settings=settings,
        scripted_outcomes=tuple(json.loads(row["scripted_outcomes"])),
        publishes_events=bool(row["publishes_events"]),
        api_faults_active=row["api_faults"] != "{}" or row["api_fault_script"] != "[]",
        label=row["label"],
        starting_clock=row["starting_clock"] or clocks.SYSTEM,
    )


def _load(db, rows) -> list[Namespace]:
    rows = list(rows)
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    marks = ", ".join("?" * len(ids))
    keys: dict[str, dict[str, dict[str, str]]] = {i: {} for i in ids}
    for k in db.execute(f"SELECT namespace_id, dialect, name, value FROM dialect_keys WHERE namespace_id IN ({marks})",
                        ids):
        keys[k["namespace_id"]].setdefault(k["dialect"], {})[k["name"]] = k["value"]
    settings: dict[str, dict] = {i: {} for i in ids}
    for s in db.execute(f"SELECT namespace_id, dialect, settings FROM dialect_settings WHERE namespace_id IN ({marks})",
                        ids):
        settings[s["namespace_id"]][s["dialect"]] = json.loads(s["settings"])
    return [_from_row(r, keys[r["id"]], settings[r["id"]]) for r in rows]


def find(store: Store, namespace_id: str) -> Namespace | None:
    with store.read() as db:
        found = _load(db, db.execute("SELECT * FROM namespaces WHERE id = ?", [namespace_id]))
    return found[0] if found else None


def get(store: Store, namespace_id: str) -> Namespace:
    namespace = find(store, namespace_id)
    if namespace is None:
        raise DomainError(NAMESPACE_NOT_FOUND, f"No namespace {namespace_id!r}", {"object_id": namespace_id})
    return namespace


def find_by_key(store: Store, dialect_key: str, name: str, value: str) -> Namespace | None:
    """The namespace holding this identifying key, or None."""
    with store.read() as db:
        row = db.execute("SELECT namespace_id FROM dialect_keys WHERE dialect = ? AND name = ? AND value = ? "
                         "AND identifies = 1", [dialect_key, name, value]).fetchone()
    return find(store, row["namespace_id"]) if row else None


def counts(store: Store) -> tuple[int, int]:
    """How many namespaces, and how many payments in all of them."""
    with store.read() as db:
        return (db.execute("SELECT count(*) FROM namespaces").fetchone()[0],
                db.execute("SELECT count(*) FROM payments").fetchone()[0])


def payment_count(store: Store, namespace_id: str) -> int:
    with store.read() as db:
        return db.execute("SELECT count(*) FROM payments WHERE namespace_id = ?", [namespace_id]).fetchone()[0]


def list_all(store: Store) -> list[Namespace]:
    with store.read() as db:
        return _load(db, db.execute("SELECT * FROM namespaces ORDER BY created_at, id"))


@dataclass(frozen=True)
class Choice:
    id: str
    label: str | None
    is_default: bool


def choices(store: Store, limit: int = 50) -> list[Choice]:
    """Ids and labels for a switcher: the default namespace first, then the newest."""
    with store.read() as db:
        rows = db.execute("SELECT id, label, is_default FROM namespaces ORDER BY is_default DESC, created_at DESC, "
                          "rowid DESC LIMIT ?", [limit]).fetchall()
    return [Choice(r["id"], r["label"], bool(r["is_default"])) for r in rows]


@dataclass(frozen=True)
class Listed:
    namespace: Namespace
    payments: int


def page(store: Store, limit: int, offset: int) -> tuple[list[Listed], int]:
    """The default namespace first, then the newest first (a shared provider gathers thousands),
    each with its number of payments."""
    with store.read() as db:
        total = db.execute("SELECT count(*) FROM namespaces").fetchone()[0]
        rows = db.execute("SELECT * FROM namespaces ORDER BY is_default DESC, created_at DESC, rowid DESC "
                          "LIMIT ? OFFSET ?", [limit, offset]).fetchall()
        listed = [Listed(n, db.execute("SELECT count(*) FROM payments WHERE namespace_id = ?", [n.id]).fetchone()[0])
                  for n in _load(db, rows)]
    return listed, total


def public_config(namespace: Namespace) -> dict[str, Any]:
    return {**namespace.config, "seed": namespace.seed, "clock": namespace.clock_mode}


# -- making them --------------------------------------------------------------------------------


def _check_seed(seed: Any) -> int:
    # SQLite keeps integers in 64 bits; anything wider would fail the write, not the request.
    if not isinstance(seed, int) or isinstance(seed, bool) or not -(2**63) <= seed < 2**63:
        raise DomainError(INVALID_CONFIG, "seed: must be a 64-bit integer", {"field": "seed"})
    return seed


def _check_clock_mode(mode: Any) -> str:
    if mode not in clocks.MODES:
        raise DomainError(INVALID_CONFIG, f"clock: must be one of {', '.join(clocks.MODES)}", {"field": "clock"})
    return mode


def check_label(label: Any) -> str | None:
    """A label is one line of printable text, at most LABEL_MAX characters (NFC); blank is none."""
    if label is None:
        return None
    if not isinstance(label, str):
        raise DomainError(INVALID_CONFIG, "label: must be text, such as \"test shop, hyperswitch\"",
                          {"field": "label"})
    label = unicodedata.normalize("NFC", label).strip()
    if len(label) > LABEL_MAX:
        raise DomainError(INVALID_CONFIG, f"label: at most {LABEL_MAX} characters", {"field": "label"})
    # Control and format characters (a newline, a bell, a bidi override, a lone surrogate) would
    # garble a banner, a log line or the dashboard's table.
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") for char in label):
        raise DomainError(INVALID_CONFIG, "label: one line of printable text, without control characters",
                          {"field": "label"})
    return label or None


def _insert(store: Store, namespace_id: str, is_default: bool, specs: KeySpecs, seed: int, clock_mode: str,
            config: Any = None, label: Any = None) -> Namespace:
    _check_seed(seed)
    _check_clock_mode(clock_mode)
    label = check_label(label)
    now = clocks.system_now_ms()
    with store.write() as db:
        db.execute(
            """INSERT INTO namespaces (id, is_default, created_at, config, seed, clock_mode, virtual_now, label,
                                       starting_clock)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [namespace_id, int(is_default), now, json.dumps(namespace_config.default_config()), seed, clock_mode,
             now if clock_mode == clocks.VIRTUAL else None, label, clock_mode],
        )
        _add_keys(db, namespace_id, is_default, specs)
        if config:
            update_config(store, namespace_id, config)
    return get(store, namespace_id)


def ensure_default(store: Store, specs: KeySpecs = NO_KEYS, seed: int | None = None,
                   clock_mode: str = clocks.SYSTEM) -> Namespace:
    """Create the default namespace on first start; later starts reuse it."""
    existing = find(store, DEFAULT_ID)
    if existing is not None:
        return existing
    return _insert(store, DEFAULT_ID, True, specs, seed if seed is not None else 0, clock_mode)


def create(store: Store, specs: KeySpecs = NO_KEYS, seed: int | None = None, clock_mode: str = clocks.SYSTEM,
           config: Any = None, label: Any = None) -> Namespace:
    """A fresh namespace with random keys (the seed governs its data, not its keys), and ``config``
    applied in the same transaction."""
    return _insert(store, "ns_" + secrets.token_hex(8), False, specs,
                   secrets.randbits(63) if seed is None else seed, clock_mode, config, label)


def set_label(store: Store, namespace_id: str, label: Any) -> Namespace:
    label = check_label(label)
    with store.write() as db:
        get(store, namespace_id)
        db.execute("UPDATE namespaces SET label = ? WHERE id = ?", [label, namespace_id])
        return get(store, namespace_id)


def set_starting_clock(store: Store, namespace_id: str, mode: str) -> None:
    """The clock a full reset gives back (``serve --clock`` sets the default namespace's)."""
    with store.write() as db:
        db.execute("UPDATE namespaces SET starting_clock = ? WHERE id = ?", [_check_clock_mode(mode), namespace_id])


# -- settings -----------------------------------------------------------------------------------


def update_config(store: Store, namespace_id: str, update: Any) -> Namespace:
    """Apply a partial settings update; ``seed`` restarts the namespace's random sequence and
    ``clock`` freezes or resumes its time (runtime/clock.py)."""
    with store.write() as db:
        namespace = get(store, namespace_id)
        merged = namespace_config.validate_update(namespace.config, update)
        db.execute("UPDATE namespaces SET config = ? WHERE id = ?", [json.dumps(merged), namespace_id])
        if "seed" in update:
            seed = _check_seed(update["seed"])
            db.execute("UPDATE namespaces SET seed = ?, rng_counter = 0 WHERE id = ?", [seed, namespace_id])
        if "clock" in update:
            clocks.switch(store, namespace_id, _check_clock_mode(update["clock"]))
        return get(store, namespace_id)


def set_dialect_settings(store: Store, namespace_id: str, dialect_key: str, settings: dict) -> None:
    """Store what a dialect keeps per namespace; the domain does not interpret it."""
    with store.write() as db:
        db.execute("INSERT INTO dialect_settings (namespace_id, dialect, settings) VALUES (?, ?, ?) "
                   "ON CONFLICT (namespace_id, dialect) DO UPDATE SET settings = excluded.settings",
                   [namespace_id, dialect_key, json.dumps(settings)])


def update_account(store: Store, namespace_id: str, dialect_key: str, settings: dict | None = None,
                   keys: Mapping[str, str] | None = None, config: dict | None = None) -> Namespace:
    """Change a dialect's settings and keys for the namespace, and its settings, all or nothing
    (Hyperswitch's business profile holds all three)."""
    with store.write():
        if settings is not None:
            set_dialect_settings(store, namespace_id, dialect_key, settings)
        for name, value in (keys or {}).items():
            set_key(store, namespace_id, dialect_key, name, value)
        if config:
            update_config(store, namespace_id, config)
        return get(store, namespace_id)


def set_publishing(store: Store, namespace_id: str, publishes: bool) -> None:
    """Turn outbox writing on or off for a namespace (its webhook endpoints decide)."""
    with store.write() as db:
        db.execute("UPDATE namespaces SET publishes_events = ? WHERE id = ?", [int(publishes), namespace_id])


# -- the random sequence and scripted outcomes (a unit of work saves them) ----------------------------


def save_sequence(store: Store, namespace_id: str, rng_counter: int | None = None,
                  outcome_queue: list[str] | None = None) -> None:
    """What a unit of work used up: random draws, scripted outcomes."""
    with store.write() as db:
        if rng_counter is not None:
            db.execute("UPDATE namespaces SET rng_counter = ? WHERE id = ?", [rng_counter, namespace_id])
        if outcome_queue is not None:
            db.execute("UPDATE namespaces SET scripted_outcomes = ? WHERE id = ?",
                       [json.dumps(outcome_queue), namespace_id])


def push_outcomes(store: Store, namespace_id: str, outcomes: list[str], replace: bool = False) -> list[str]:
    with store.write() as db:
        row = db.execute("SELECT scripted_outcomes FROM namespaces WHERE id = ?", [namespace_id]).fetchone()
        if row is None:
            raise DomainError(NAMESPACE_NOT_FOUND, f"No namespace {namespace_id!r}", {"object_id": namespace_id})
        queue = [] if replace else json.loads(row["scripted_outcomes"])
        queue.extend(outcomes)
        db.execute("UPDATE namespaces SET scripted_outcomes = ? WHERE id = ?", [json.dumps(queue), namespace_id])
    return queue


def scripted_outcomes(store: Store, namespace_id: str) -> list[str]:
    return list(get(store, namespace_id).scripted_outcomes)


# -- reset and delete ------------------------------------------------------------------------------


def reset(store: Store, namespace_id: str, keep_config: bool = True) -> Namespace:
    """Delete the namespace's data; its keys, webhook endpoints and dialect settings stay, its random
    sequence restarts, its scripted outcomes and fault scripts go. Without ``keep_config`` its steering
    goes too: settings (all but the wiring, WIRING_SETTINGS), webhook and API faults, and the clock,
    which is the one it was made with again (a virtual one standing at the real time)."""
    with store.write() as db:
        namespace = get(store, namespace_id)
        for table in DATA_TABLES:
            db.execute(f"DELETE FROM {table} WHERE namespace_id = ?", [namespace_id])
        db.execute(
            "UPDATE namespaces SET rng_counter = 0, scripted_outcomes = '[]', fault_script = '[]', "
            "api_fault_script = '[]', api_fault_rng_counter = 0 WHERE id = ?",
            [namespace_id],
        )
        if not keep_config:
            _undo_steering(db, namespace)
        return get(store, namespace_id)


def _undo_steering(db, namespace: Namespace) -> None:
    config = namespace_config.default_config()
    config.update({key: namespace.config[key] for key in WIRING_SETTINGS if key in namespace.config})
    mode = namespace.starting_clock
    db.execute(
        "UPDATE namespaces SET config = ?, api_faults = '{}', faults = '{}', fault_rng_counter = 0, "
        "clock_mode = ?, virtual_now = ? WHERE id = ?",
        [json.dumps(config), mode, clocks.system_now_ms() if mode == clocks.VIRTUAL else None, namespace.id],
    )
    db.execute("UPDATE webhook_endpoints SET faults = '{}', fault_script = '[]' WHERE namespace_id = ?",
               [namespace.id])


@dataclass(frozen=True)
class ResetAll:
    ids: tuple[str, ...]
    payments_removed: int


def reset_all(store: Store, keep_config: bool = True) -> ResetAll:
    """Reset every namespace, in one transaction."""
    with store.write() as db:
        payments = db.execute("SELECT count(*) FROM payments").fetchone()[0]
        ids = [row["id"] for row in db.execute("SELECT id FROM namespaces ORDER BY created_at, id")]
        for namespace_id in ids:
            reset(store, namespace_id, keep_config)
    return ResetAll(tuple(ids), payments)


def _tables_of_namespaces(db) -> list[str]:
    """Every table with a namespace_id column: read from the schema, so a table added later is
    never left holding a deleted namespace's rows."""
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite_%' AND name != '_sqlite_migrations'")]
    return [table for table in tables
            if any(column[1] == "namespace_id" for column in db.execute(f"PRAGMA table_info({table})"))]


def delete(store: Store, namespace_id: str) -> None:
    """Remove the namespace and every row it owns (data, keys, settings, endpoints, jobs), all or
    nothing; its keys stop working. The default namespace stays: it can be reset."""
    if namespace_id == DEFAULT_ID:
        raise DomainError(INVALID_STATE, "The default namespace cannot be deleted; reset it instead "
                          "(POST /_mock/reset, or mock-psp reset)",
                          {"object": "namespace", "object_id": namespace_id, "action": "delete", "status": "default",
                           "allowed": ["reset"]})
    with store.write() as db:
        get(store, namespace_id)
        for table in _tables_of_namespaces(db):
            db.execute(f"DELETE FROM {table} WHERE namespace_id = ?", [namespace_id])
        db.execute("DELETE FROM namespaces WHERE id = ?", [namespace_id])
