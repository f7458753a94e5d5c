"""What a dialect says a committed change sends (its ``describe`` returns these)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventDraft:
    """An event a change sends: its type, its class, and what the dialect's body needs."""

    event_type: str
    event_class: str
    body: dict
    # Sent only to endpoints that name this event type (not to "all events").
    explicit_only: bool = False
