"""Webhook fault injection: drop, duplicate, reorder, extra delay.

Faults come from a script (the next N deliveries, in order) or from
probabilities drawn from a random sequence of the namespace's seed that is kept
apart from the one behind payment ids and outcomes.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from ..domain.errors import INVALID_FIELD
from ..domain.errors import DomainError
from ..domain.randomness import Draws

NONE = "none"
DROP = "drop"            # recorded as a failed attempt, retried as usual
DROP_LOST = "drop_lost"  # recorded, then treated as delivered: the receiver never hears of it
DUPLICATE = "duplicate"
REORDER = "reorder"
DELAY = "delay"
SCRIPTED_FAULTS = (NONE, DROP, DROP_LOST, DUPLICATE, REORDER, DELAY)
DROP_MODES = ("failed", "lost")

DEFAULTS: dict[str, Any] = {
    "drop": 0.0,
    "drop_mode": "failed",
    "duplicate": 0.0,
    "reorder": 0.0,
    "delay": 0.0,
    "delay_seconds": 0,
    # How long a reordered delivery waits for the next one to the same endpoint.
    "reorder_hold_seconds": 30,
}


def _fail(field: str, message: str) -> DomainError:
    return DomainError(INVALID_FIELD, f"{field}: {message}", {"field": field})


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate(current: dict, update: Any, prefix: str = "webhooks") -> dict:
    """Merge a partial fault update into ``current`` (defaults filled in)."""
    if not isinstance(update, dict):
        raise _fail(prefix, "must be an object")
    merged = {**DEFAULTS, **copy.deepcopy(current)}
    for key, value in update.items():
        field = f"{prefix}.{key}"
        if key in ("drop", "duplicate", "reorder", "delay"):
            if not _number(value) or not 0 <= value <= 1:
                raise _fail(field, "must be a probability from 0 to 1")
        elif key == "drop_mode":
            if value not in DROP_MODES:
                raise _fail(field, f"must be one of {', '.join(DROP_MODES)}")
        elif key == "delay_seconds":
            if not (_number(value) and value >= 0) and not (
                isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value)
                and 0 <= value[0] <= value[1]
            ):
                raise _fail(field, "must be seconds or [min, max]")
        elif key == "reorder_hold_seconds":
            if not _number(value) or value < 0:
                raise _fail(field, "must be non-negative seconds")
        elif key == "next":
            continue  # scripted faults are kept apart (see validate_script)
        else:
            raise _fail(field, f"unknown fault; known: {', '.join(DEFAULTS)}, next")
        merged[key] = value
    if "delay_seconds" in update and "delay" not in update and merged["delay"] == 0:
        merged["delay"] = 1.0  # giving a delay means "delay every delivery" unless a rate says otherwise
    return merged


def validate_script(values: Any, field: str = "webhooks.next") -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _fail(field, f"must be a list of {', '.join(SCRIPTED_FAULTS)}")
    for value in values:
        if value not in SCRIPTED_FAULTS:
            raise _fail(field, f"unknown fault {value!r}; use {', '.join(SCRIPTED_FAULTS)}")
    return list(values)


# A scripted "delay" with no delay_seconds configured waits this long.
SCRIPTED_DELAY_SECONDS = 30.0


@dataclass(frozen=True)
class Decision:
    fault: str = NONE
    delay_seconds: float = 0.0


def fault_draws(seed: int, counter: int) -> Draws:
    """The fault sequence: the namespace seed, turned so it never meets the outcome sequence."""
    turned = int.from_bytes(hashlib.blake2b(int(seed).to_bytes(16, "big", signed=True) + b"faults",
                                            digest_size=8).digest(), "big", signed=True)
    return Draws(turned, counter)


def any_probability(config: dict) -> bool:
    return any({**DEFAULTS, **config}[name] > 0 for name in ("drop", "duplicate", "reorder", "delay"))


def decide(config: dict, scripted: str | None, draws: Draws) -> Decision:
    """Pick the fault for one automatic attempt: the script first, then the probabilities."""
    config = {**DEFAULTS, **config}
    fault = scripted
    if fault is None:
        fault = NONE
        for name in ("drop", "duplicate", "reorder", "delay"):
            rate = config[name]
            if rate > 0 and draws.random() < rate:
                fault = name
                break
        if fault == DROP and config["drop_mode"] == "lost":
            fault = DROP_LOST
    if fault != DELAY:
        return Decision(fault)
    delay = config["delay_seconds"]
    if isinstance(delay, list):
        delay = delay[0] if delay[0] == delay[1] else draws.uniform(delay[0], delay[1])
    return Decision(DELAY, float(delay) or SCRIPTED_DELAY_SECONDS)


def namespace_faults(db: Database, namespace_id: str) -> dict:
    """A namespace's webhook fault settings and scripted queue, as the control API shows them."""
    row = db.execute("SELECT faults, fault_script FROM namespaces WHERE id = ?", [namespace_id]).fetchone()
    stored = json.loads(row["faults"]).get("webhooks", {})
    return {**DEFAULTS, **stored, "next": json.loads(row["fault_script"])}


def set_namespace_faults(db: Database, namespace_id: str, update: dict) -> dict:
    """Merge a ``{"webhooks": {...}}`` update (``next`` replaces the scripted queue)."""
    current = namespace_faults(db, namespace_id)
    merged = validate({k: v for k, v in current.items() if k != "next"}, update)
    db.execute("UPDATE namespaces SET faults = ? WHERE id = ?", [json.dumps({"webhooks": merged}), namespace_id])
    if "next" in update:
        db.execute("UPDATE namespaces SET fault_script = ? WHERE id = ?",
                   [json.dumps(validate_script(update["next"])), namespace_id])
    return namespace_faults(db, namespace_id)
