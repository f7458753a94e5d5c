"""The provider's moving parts for one app: settings, store, scheduler, webhooks, the dialects.

Flask-free, so the CLI, the test fixtures and the app factory share it. Everything that
varies per provider comes from the dialect registry (dialects/registry.py).
"""

from __future__ import annotations

import logging
import threading

from .config import Settings
from .dialects import registry
from .dialects.base import Dialect
from .domain import namespaces
from .domain.jobs import HANDLERS
from .runtime.scheduler import Scheduler
from .runtime.store import Store
from .web.journal import RequestJournal
from .web.ratelimit import RateLimiter
from .webhooks.engine import JOB_KIND
from .webhooks.engine import WebhookEngine
from .webhooks.schemes import STANDARD

log = logging.getLogger(__name__)


class Provider:
    def __init__(self, settings: Settings, dialects: tuple[Dialect, ...] = registry.DIALECTS):
        self.settings = settings
        self.dialects = {dialect.name: dialect for dialect in dialects}
        self.key_specs = {dialect.key: dialect.keys for dialect in dialects}
        self.store = Store(settings.db_path())
        self._serving_url: str | None = None
        self.rate_limiter = RateLimiter()
        self.journal = RequestJournal()
        # Set when the server stops: injected waits (API faults' latency and timeouts) end at once.
        self.stopping = threading.Event()
        # What the banner says: a database of an earlier run (its namespaces and payments), or a fresh one.
        self.kept_state = namespaces.counts(self.store)
        namespaces.ensure_keys(self.store, self.key_specs)  # a dialect added since gets its keys in every namespace
        default = namespaces.ensure_default(self.store, self.key_specs, settings.seed, settings.clock or "system")
        # The namespace the dashboard opens when none is chosen (``mock-psp up`` makes it the shop's);
        # None, or one that is gone: the default namespace.
        self.dashboard_home: str | None = None
        self._apply_start_options(default)
        # Helpers a dialect keeps per provider (GovPay+'s calls to the merchant, with their token cache).
        self.services = {d.name: d.services() for d in dialects if d.services is not None}
        senders = {}
        for dialect in dialects:
            if dialect.senders is not None:
                senders.update(dialect.senders(self.services.get(dialect.name)))
        schemes = {**{scheme.name: scheme for dialect in dialects for scheme in dialect.schemes},
                   STANDARD.name: STANDARD}
        self.webhooks = WebhookEngine(self.store, {d.name: d.events for d in dialects}, schemes,
                                      dialects[0].schemes[0].name, self.base_url, senders)
        self.scheduler = Scheduler(
            self.store, {**HANDLERS, JOB_KIND: self.webhooks.deliver_job},
            settings.scheduler_interval, after_job=self.webhooks.dispatch_outbox,
            quiet_kinds=frozenset({JOB_KIND}),
        )

    def _apply_start_options(self, default: namespaces.Namespace) -> None:
        """--seed and --clock given at start win over what the store remembers."""
        update = {}
        if self.settings.seed is not None and self.settings.seed != default.seed:
            update["seed"] = self.settings.seed
        if self.settings.clock is not None and self.settings.clock != default.clock_mode:
            update["clock"] = self.settings.clock
        if update:
            namespaces.update_config(self.store, default.id, update)
        if self.settings.clock is not None:
            namespaces.set_starting_clock(self.store, default.id, self.settings.clock)

    @property
    def started_fresh(self) -> bool:
        return self.kept_state[0] == 0

    def new_namespace_clock(self, asked: str | None = None) -> str:
        """The clock of a namespace made without one of its own: --clock (the ``clock`` setting), else system."""
        return asked or self.settings.clock or "system"

    def home_namespace(self) -> namespaces.Namespace:
        """The dashboard's home: the one marked (``mock-psp up``: the shop's) while it exists, else the default."""
        marked = namespaces.find(self.store, self.dashboard_home) if self.dashboard_home else None
        return marked or self.default_namespace()

    def dialect(self, name: str) -> Dialect:
        return self.dialects[name]

    def base_url(self, request_url: str | None = None) -> str:
        """The provider's own URL for the links it hands out: --public-url, else the URL the
        request came in on (``request_url``; its Host is allow-listed by then), else the
        address the server listens on.

        Nothing a request sends is kept: links made outside a request (webhook bodies,
        rendered on the delivery worker) come from configuration alone, as a real
        provider's come from its configured base URL.
        """
        return (self.settings.public_url or request_url or self._serving_url or self._configured_url()).rstrip("/")

    def _configured_url(self) -> str:
        host = self.settings.host
        host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.settings.port}"

    def serving_at(self, url: str) -> None:
        """Told by whoever bound the server (``serve``, the harness): where it listens."""
        self._serving_url = url.rstrip("/")

    def after_change(self) -> None:
        """After a request: let its committed changes become webhook deliveries.

        With the background worker running, that happens on the worker (woken
        now), off the request's path; without it (tests driving the clock by
        hand), right here. Either way a failure here never fails the request:
        the change is committed and its outbox row waits for the next pass.
        """
        if self.scheduler.running:
            self.scheduler.wake()
            return
        try:
            self.webhooks.dispatch_outbox()
        except Exception:
            log.exception("dispatching the outbox failed; it will be retried on the next pass")

    def default_namespace(self) -> namespaces.Namespace:
        return namespaces.get(self.store, namespaces.DEFAULT_ID)

    def start(self) -> None:
        self.scheduler.start()

    def close(self) -> None:
        self.scheduler.stop()
        self.store.close()
