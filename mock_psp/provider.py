"""The provider's moving parts for one app: settings, store, scheduler, webhooks.

Flask-free, so the CLI, the test fixtures and the app factory share it.
"""

from __future__ import annotations

import logging
import threading

from .config import Settings
from .dialects.govpay_lk import webhooks as govpay_webhooks
from .dialects.govpay_lk.caller import Caller
from .dialects.govpay_lk.caller import TokenCache
from .dialects.govuk import webhooks as govuk_webhooks
from .dialects.hyperswitch import webhooks as hyperswitch_webhooks
from .domain import namespaces
from .domain.jobs import HANDLERS
from .journal import RequestJournal
from .ratelimit import RateLimiter
from .scheduler import Scheduler
from .store import Store
from .webhooks.engine import JOB_KIND
from .webhooks.engine import WebhookEngine

# Each dialect's webhook renderer, by the dialect name payments carry.
WEBHOOK_RENDERERS = {
    hyperswitch_webhooks.DIALECT: hyperswitch_webhooks,
    govuk_webhooks.DIALECT: govuk_webhooks,
    govpay_webhooks.DIALECT: govpay_webhooks,
}

FALLBACK_URL = "http://127.0.0.1:8420"

log = logging.getLogger(__name__)


class Provider:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = Store(settings.db_path())
        self._observed_url: str | None = None
        self.rate_limiter = RateLimiter()
        self.journal = RequestJournal()
        # Set when the server stops: injected waits (API faults' latency and timeouts) end at once.
        self.stopping = threading.Event()
        with self.store.write() as db:
            default = namespaces.ensure_default(db, settings.seed, settings.clock or "system")
            self._apply_start_options(db, default)
        # GovPay+ calls the merchant (presentment, update): tokens cached per provider.
        self.govpay = Caller(TokenCache())
        self.webhooks = WebhookEngine(self.store, WEBHOOK_RENDERERS, self.base_url,
                                      senders={govpay_webhooks.SCHEME: govpay_webhooks.UpdateSender(self.govpay)})
        self.scheduler = Scheduler(
            self.store, {**HANDLERS, JOB_KIND: self.webhooks.deliver_job},
            settings.scheduler_interval, after_job=self.webhooks.dispatch_outbox,
        )

    def _apply_start_options(self, db, default: namespaces.Namespace) -> None:
        """--seed and --clock given at start win over what the store remembers."""
        update = {}
        if self.settings.seed is not None and self.settings.seed != default.seed:
            update["seed"] = self.settings.seed
        if self.settings.clock is not None and self.settings.clock != default.clock_mode:
            update["clock"] = self.settings.clock
        if update:
            namespaces.update_config(db, default, update)

    def base_url(self) -> str:
        """The provider's own URL for links in webhook bodies: configured, else first seen."""
        return (self.settings.public_url or self._observed_url or FALLBACK_URL).rstrip("/")

    @property
    def needs_url(self) -> bool:
        return self._observed_url is None

    def observe_url(self, url: str) -> None:
        if self._observed_url is None:
            self._observed_url = url.rstrip("/")

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
        with self.store.read() as db:
            return namespaces.get(db, namespaces.DEFAULT_ID)

    def start(self) -> None:
        self.scheduler.start()

    def close(self) -> None:
        self.scheduler.stop()
        self.store.close()
