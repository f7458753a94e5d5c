"""What a dialect is: one description of a provider, everything that varies per provider.

A dialect is a folder under ``mock_psp/dialects/`` whose ``dialect.py`` builds one
:class:`Dialect`; ``registry.py`` lists them. The app, the provider, the control API,
the CLI, the pytest plugin, the dashboard, the scenario runner and the webhook
engine iterate the registry and never name a dialect. docs/architecture.md walks
through adding one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

from ..domain.namespaces import KeySpec
from ..domain.namespaces import Namespace
from ..domain.outcomes import CardBook
from ..webhooks.schemes import Scheme


class Face(Protocol):
    """The module that serves the dialect's URLs (``routes.py``)."""

    bp: Any  # the Flask blueprint, mounted at the dialect's prefix

    def http_error(self, status: int) -> Any: ...        # a routing error (404, 405) in the dialect's envelope

    def unexpected_error(self) -> Any: ...               # what the provider answers when it breaks

    def injected_error(self) -> Any: ...                 # the API's own 500, for the API fault ``error``

    def is_api_call(self) -> bool: ...                   # this request is an API call (journalled, faultable)


class Events(Protocol):
    """The module that turns committed changes into the provider's webhook events (``webhooks.py``)."""

    EVENT_TYPES: tuple[str, ...]

    def describe(self, change: dict, namespace: Namespace, base_url: str) -> list: ...

    def new_event_id(self, created_at: int, seed: int, object_id: str, event_type: str) -> str: ...

    def render(self, event_id: str, draft: Any, created_at: int, namespace: Namespace) -> bytes: ...


class ConfigSettings(Protocol):
    """Settings the dialect keeps per namespace, set through ``PUT /_mock/config {"<key>": {...}}``."""

    def current(self, namespace: Namespace) -> dict: ...

    def validate(self, stored: dict, update: Any) -> dict: ...   # merged settings, or DomainError naming the field

    def owned_endpoint(self, namespace: Namespace) -> dict | None: ...  # the webhook endpoint they name, if any


@dataclass(frozen=True)
class Docs:
    """Where people read about the dialect (the dashboard's API page, the README)."""

    auth: str                     # how an API call authenticates, in words
    shown_key: str                # which of the namespace's keys the API page shows
    ours: str                     # our page about it: docs/<name>.md
    reference: str | None = None  # the provider's own API reference
    openapi: str | None = None    # the provider's published OpenAPI document


@dataclass(frozen=True)
class Client:
    """How a client of this dialect talks to it: the pytest plugin, the scenario runner and the CLI
    read the namespace's keys from ``GET /_mock/namespaces/{id}`` (``namespace[dialect.key]``)."""

    default_currency: str
    happy_card: str                                        # a test card that succeeds
    headers: Callable[[dict, str], dict[str, str]]         # (the dialect's keys, "secret"|"publishable") -> auth
    banner: Callable[[dict], list[str]]                    # the keys as `mock-psp serve` and `up` print them
    # (http session, provider URL, the dialect's keys, payment id) -> (status, the payment as the API shows it)
    payment: Callable[[Any, str, dict, str], tuple[str | None, dict]]
    # A webhook made up by a scenario (send_webhook): (the dialect's keys, step args) -> body
    made_up_event: Callable[[dict, dict], dict] | None = None
    # A dialect whose "webhook" is a call of its own (GovPay+'s update) makes it itself:
    # (http session, the dialect's settings in the namespace's config, step args) -> the answer
    send_made_up_event: Callable[[Any, dict, dict], Any] | None = None
    made_up_event_id: Callable[[], str] = field(default=lambda: f"evt_scenario_{uuid.uuid4().hex[:16]}")
    # Every status ``payment`` can report, in the provider's words: the scenario checker refuses
    # others (expect_payment.status). Empty: not checked.
    payment_statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class IdShape:
    """How the provider makes ids of its own (for refunds made outside its API, e.g. the dashboard)."""

    prefix: str = "ref_"
    length: int = 20
    alphabet: str | None = None


@dataclass(frozen=True)
class Dialect:
    name: str            # what payments carry, --dialect, scenario files: "govpay-lk"
    key: str             # its name in JSON documents and in storage: "govpay_lk"
    title: str           # what people call it: "GovPay+ (Sri Lanka)"
    prefix: str          # where its API is mounted: "/govpay-lk"
    routes: Face
    # The key a request's headers present, as (key name, value), or None: how an API call (and a
    # control call made with a dialect key) finds its namespace. Headers only: no request context.
    credentials: Callable[[Mapping[str, str]], tuple[str, str] | None]
    keys: tuple[KeySpec, ...]       # made for every namespace; the identifying ones find it again
    test_cards: CardBook
    checkout: Any                   # the hosted checkout's adapter (checkout/adapters.py: Adapter)
    events: Events
    schemes: tuple[Scheme, ...]     # the signing schemes its webhooks use
    docs: Docs
    client: Client
    refund_ids: IdShape = field(default_factory=IdShape)
    settings: ConfigSettings | None = None
    # More about the namespace than its keys, for GET /_mock/namespaces/{id}: (namespace, base URL) -> dict
    namespace_extra: Callable[[Namespace, str], dict] | None = None
    # Helpers one provider instance keeps (GovPay+'s calls to the merchant, with their token cache).
    services: Callable[[], Any] | None = None
    # Senders for schemes that are more than a signed POST: (services) -> {scheme name: sender}
    senders: Callable[[Any], dict] | None = None
