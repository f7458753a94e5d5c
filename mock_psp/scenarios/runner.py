"""Run scenarios against a provider and a test merchant, and report what happened.

``Runner`` owns what a run shares: the provider (started here unless a URL is
given), the merchants (one per scenario, in its own namespace, unless merchant
URLs are given, in which case their namespaces are reset between scenarios) and
one Chromium, started only if a scenario needs it. ``Run`` (context.py) is one
scenario: its variables, its namespace, its browser page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from ..client.control import Control
from ..client.control import call
from . import browser_steps
from . import expectations
from . import http_customer
from . import steps
from .browser import LazyBrowser
from .context import MerchantHandle
from .context import Outcome
from .context import Run
from .context import StepFailed
from .context import seconds
from .errors import CouldNotRun
from .errors import unreachable
from .loader import Scenario
from .loader import Step

# Imported from here by the CLI, the pytest plugin and tests.
__all__ = ["Outcome", "Run", "Runner", "StepFailed", "seconds", "step_table"]


def step_table() -> dict[str, Callable[[Run, Any], Any]]:
    """Every step, collected from the modules that define them (each marked with context.step)."""
    modules = (steps, expectations, browser_steps, http_customer)
    return {f.scenario_step: f for module in modules for f in vars(module).values()
            if callable(f) and hasattr(f, "scenario_step")}


@dataclass
class Runner:
    psp_url: str | None = None
    merchant_urls: list[str] = field(default_factory=list)
    artifacts: Path | None = None
    control_token: str | None = None  # the provider's, when it was started with one
    on_step: Callable[[Scenario, Step], None] | None = None  # told before each step runs (-v's progress)
    _harness: Any = None
    _browser: LazyBrowser = field(default_factory=LazyBrowser)
    _external: dict[str, str] = field(default_factory=dict)
    _http: requests.Session = field(default_factory=requests.Session)

    # -- lifetime ------------------------------------------------------------------------------------

    def start(self) -> Runner:
        """Check that the given servers answer (CouldNotRun if not), then start what was not given."""
        for url in self.merchant_urls:
            self._external[self._merchant_config(url.rstrip("/"))["dialect"]] = url.rstrip("/")
        if self.psp_url is None:
            from ..harness import start_harness

            self._harness = start_harness({"db": ":memory:", "port": 0, "background": True}, dialect=None)
            self.psp_url = self._harness.psp_url
        else:
            self.psp_url = self.psp_url.rstrip("/")
            self._reach("provider", f"{self.psp_url}/_mock/health")  # open even with a control token
        return self

    def _reach(self, what: str, url: str) -> requests.Response:
        """GET ``url``; CouldNotRun naming the server and why when nothing answers there."""
        base = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        try:
            return self._http.get(url, timeout=10)
        except requests.RequestException as error:
            raise unreachable(what, base, error) from None

    def _merchant_config(self, url: str) -> dict:
        reply = self._reach("test merchant", f"{url}/_merchant/config")
        try:
            config = reply.json() if reply.status_code == 200 else None
        except ValueError:
            config = None
        if not isinstance(config, dict) or "dialect" not in config:
            raise CouldNotRun(f"{url} is not a mock-psp test merchant: GET /_merchant/config answered "
                              f"{reply.status_code}")
        return config

    def close(self) -> None:
        self._browser.close()
        self._http.close()
        if self._harness is not None:
            self._harness.stop()
            self._harness = None

    def __enter__(self) -> Runner:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def browser(self) -> LazyBrowser:
        return self._browser

    # -- merchants -----------------------------------------------------------------------------------

    def merchant_for(self, scenario: Scenario) -> MerchantHandle:
        options = scenario.setup.get("merchant") or {}
        if self._external:
            url = self._external.get(scenario.dialect)
            if url is None:
                raise LookupError(f"no merchant for {scenario.dialect} among --merchant-url")
            config = call(self._http, "GET", f"{url}/_merchant/config", timeout=10)
            _reset_external(Control(self.psp_url, config["namespace"], session=self._http,
                                    token=self.control_token), url)
            return MerchantHandle(url, config["namespace"])
        from ..test_merchant.run import start

        # The merchant's own options (the schema's setup.merchant: its scheme, GovPay+'s auth and encryption).
        running = start(self.psp_url, scenario.dialect, control_token=self.control_token, **options)
        return MerchantHandle(running.url, running.merchant.wiring.namespace, running.stop)

    # -- running ---------------------------------------------------------------------------------------

    def missing_part(self, scenario: Scenario) -> str | None:
        """Why this scenario cannot run here (an optional part is missing), or None. Asked before
        any step runs, so such a scenario is skipped with the reason, never failed."""
        if self._external and scenario.dialect not in self._external:
            return f"no {scenario.dialect} merchant given"
        if scenario.uses_browser:
            return self._browser.unavailable()
        return None

    def run(self, scenario: Scenario) -> Outcome:
        missing = self.missing_part(scenario)
        if missing:
            return Outcome(scenario, True, 0.0, 0.0, skipped=missing)
        started = time.monotonic()
        merchant = self.merchant_for(scenario)
        run = Run(self, scenario, merchant)
        try:
            return run.execute(started, step_table())
        finally:
            run.close()
            if merchant.stop is not None:
                merchant.stop()


def _reset_external(control: Control, shop_url: str) -> None:
    """A merchant someone else started: give the scenario a clean namespace and clean books."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(shop_url))
    control.reset(keep_config=False)
    control.set_config({"allowed_origins": [origin]})
    control.set_faults(webhooks={"drop": 0, "duplicate": 0, "reorder": 0, "delay": 0, "next": []})
    control.clear_outcomes()
    call(control.session, "POST", f"{shop_url}/_merchant/reset", {}, timeout=10)
