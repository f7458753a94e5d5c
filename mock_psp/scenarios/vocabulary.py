"""The words a scenario may use: event types, order states, outcome names.

A schema can say "a string"; only the registry knows that ``payment_succeded`` is no
Hyperswitch event. Each ``Words`` row says where a value sits (a step's argument, or the
set-up), what it is called, and where the words come from: the scenario's dialect (the
registry), the domain, or the test merchant. A new dialect's words are checked with no
edit here: its ``events.EVENT_TYPES`` is read like every other's.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..dialects import registry
from ..dialects.base import Dialect
from ..domain import outcomes
from ..test_merchant.orders import STATES as ORDER_STATES


def event_types(dialect: Dialect) -> tuple[str, ...]:
    return tuple(dialect.events.EVENT_TYPES)


def payment_statuses(dialect: Dialect) -> tuple[str, ...]:
    return tuple(dialect.client.payment_statuses)


def order_states(dialect: Dialect) -> tuple[str, ...]:
    return ORDER_STATES


def outcome_names(dialect: Dialect) -> tuple[str, ...]:
    """What POST /_mock/outcomes accepts: the scripted outcomes and their aliases."""
    return (*outcomes.SCRIPTED, *outcomes.ALIASES)


@dataclass(frozen=True)
class Words:
    step: str | None                 # the step kind, or None for the set-up
    key: str | None                  # the argument (None: the step's argument is the list itself)
    what: str                        # what a value is called in a problem
    known: Callable[[Dialect], tuple[str, ...]]
    per_dialect: bool = False        # the words differ by dialect: the problem names it

    def values(self, data: dict) -> Iterator[tuple[tuple, Any]]:
        """(path in the file, value) of every value this row checks."""
        if self.step is None:
            setup = data.get("setup")
            if isinstance(setup, dict) and self.key in setup:
                yield from _each(("setup", self.key), setup[self.key])
            return
        for index, step in enumerate(data.get("steps") or []):
            if not isinstance(step, dict) or self.step not in step:
                continue
            args = step[self.step]
            if self.key is None:
                yield from _each(("steps", index, self.step), args)
            elif isinstance(args, dict) and self.key in args:
                yield from _each(("steps", index, self.step, self.key), args[self.key])


WORDS: tuple[Words, ...] = (
    Words("expect_webhook", "type", "event type", event_types, per_dialect=True),
    Words("send_webhook", "event_type", "event type", event_types, per_dialect=True),
    Words("expect_payment", "status", "payment status", payment_statuses, per_dialect=True),
    Words("expect_order", "state", "order state", order_states),
    Words("expect_order", "transitions", "order state", order_states),
    Words("expect_orders", "state", "order state", order_states),
    Words("script_outcomes", None, "outcome", outcome_names),
    Words(None, "outcomes", "outcome", outcome_names),
)


def _each(path: tuple, value: Any) -> Iterator[tuple[tuple, Any]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _each(path + (index,), item)
    elif isinstance(value, str) and not value.startswith("${"):  # a reference is known only at run time
        yield path, value


def problems(data: Any) -> list[tuple[tuple, str]]:
    """(path, message) for every word the scenario's dialect (or the domain, or the merchant)
    does not know. A file whose dialect is unknown has that problem already (the schema's)."""
    if not isinstance(data, dict) or data.get("dialect") not in registry.BY_NAME:
        return []
    dialect = registry.BY_NAME[data["dialect"]]
    found = []
    for words in WORDS:
        known = words.known(dialect)
        if not known:  # a dialect that does not say its words for this: nothing to check against
            continue
        for path, value in words.values(data):
            if value not in known:
                what = f"{dialect.name} {words.what}" if words.per_dialect else words.what
                found.append((path, f"unknown {what} {value!r}; {suggest(value, known)}"))
    return found


def suggest(value: str, known: tuple[str, ...] | list[str]) -> str:
    """"did you mean X?" when one is close, else the words there are."""
    close = closest(value, known)
    return f"did you mean {close}?" if close else f"use one of {', '.join(known)}"


def closest(value: Any, known) -> str | None:
    """The known word nearest a misspelt one (difflib's ratio, 0.6 or more), if any."""
    if not isinstance(value, str):
        return None
    by_case = {str(k).lower(): str(k) for k in known}  # "success" is GovPay+'s SUCCESS
    close = difflib.get_close_matches(value.lower(), list(by_case), n=1)
    return by_case[close[0]] if close else None


def did_you_mean(value: Any, known) -> str:
    """"; did you mean X?" when one is close, else nothing: the tail of a problem's message."""
    close = closest(value, known)
    return f"; did you mean {close}?" if close else ""
