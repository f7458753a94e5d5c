"""Run scenarios against a provider and a test merchant, and report what happened.

``Runner`` owns what a run shares: the provider (started here unless a URL is
given), the merchants (one per scenario, in its own namespace, unless merchant
URLs are given, in which case their namespaces are reset between scenarios) and
one Chromium, started only if a scenario needs it. ``Run`` is one scenario: its
variables, its namespace, its browser page.
"""

from __future__ import annotations

import json
import re
import time
import traceback
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from .browser import BrowserUnavailable
from .browser import LazyBrowser
from .loader import Scenario
from .loader import Step

DEFAULT_CURRENCY = {"hyperswitch": "USD", "govuk": "GBP", "govpay-lk": "LKR"}
HAPPY_CARD = {"hyperswitch": "4242424242424242", "govuk": "4444333322221111", "govpay-lk": "4242424242424242"}
WHOLE_REFERENCE = re.compile(r"^\$\{([^}]+)\}$")
ANY_REFERENCE = re.compile(r"\$\{([^}]+)\}")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(value: Any) -> float:
    """Seconds from a number or a duration such as "90s", "15m", "2h", "1h30m"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).replace(" ", "")
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise StepFailed(f"{value!r} is not a duration (e.g. 30s, 15m, 2h, 1h30m)")
    return sum(float(n) * _UNIT[u] for n, u in parts)


def describe_duration(total: float) -> str:
    total = int(round(total))
    if total == 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            out.append(f"{total // size}{unit}")
            total %= size
    return "".join(out)


class StepFailed(Exception):
    """A step did not do what the scenario said: ``expected`` and ``found`` say how."""

    def __init__(self, message: str, expected: Any = None, found: Any = None):
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.found = found


@dataclass
class Outcome:
    scenario: Scenario
    passed: bool
    wall_seconds: float
    simulated_seconds: float
    failed_step: Step | None = None
    message: str = ""
    expected: Any = None
    found: Any = None
    context: str = ""
    skipped: str | None = None


@dataclass
class MerchantHandle:
    url: str
    namespace_id: str
    stop: Any = None  # callable, when this run started the merchant


@dataclass
class Runner:
    psp_url: str | None = None
    merchant_urls: list[str] = field(default_factory=list)
    artifacts: Path | None = None
    _harness: Any = None
    _browser: LazyBrowser = field(default_factory=LazyBrowser)
    _external: dict[str, str] = field(default_factory=dict)

    # -- lifetime ------------------------------------------------------------------------------------

    def start(self) -> "Runner":
        if self.psp_url is None:
            from mock_psp.harness import start_harness

            self._harness = start_harness({"db": ":memory:", "port": 0, "background": True}, dialect=None)
            self.psp_url = self._harness.psp_url
        for url in self.merchant_urls:
            config = requests.get(f"{url.rstrip('/')}/_merchant/config", timeout=10).json()
            self._external[config["dialect"]] = url.rstrip("/")
        return self

    def close(self) -> None:
        self._browser.close()
        if self._harness is not None:
            self._harness.stop()
            self._harness = None

    def __enter__(self) -> "Runner":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def browser(self) -> LazyBrowser:
        return self._browser

    # -- merchants -----------------------------------------------------------------------------------

    def merchant_for(self, scenario: Scenario) -> MerchantHandle:
        options = scenario.setup.get("merchant") or {}
        scheme = options.get("scheme")
        if self._external:
            url = self._external.get(scenario.dialect)
            if url is None:
                raise LookupError(f"no merchant for {scenario.dialect} among --merchant-url")
            config = requests.get(f"{url}/_merchant/config", timeout=10).json()
            _reset_external(self.psp_url, url, config["namespace"])
            return MerchantHandle(url, config["namespace"])
        from mock_psp.test_merchant.run import start

        running = start(self.psp_url, scenario.dialect, scheme=scheme, govpay_auth=options.get("govpay_auth"),
                        govpay_encryption=options.get("govpay_encryption"))
        return MerchantHandle(running.url, running.merchant.wiring.namespace, running.stop)

    # -- running ---------------------------------------------------------------------------------------

    def run(self, scenario: Scenario) -> Outcome:
        if self._external and scenario.dialect not in self._external:
            return Outcome(scenario, True, 0.0, 0.0, skipped=f"no {scenario.dialect} merchant given")
        started = time.monotonic()
        merchant = self.merchant_for(scenario)
        run = Run(self, scenario, merchant)
        try:
            return run.execute(started)
        finally:
            run.close()
            if merchant.stop is not None:
                merchant.stop()


def _reset_external(psp_url: str, shop_url: str, namespace_id: str) -> None:
    """A merchant someone else started: give the scenario a clean namespace and clean books."""
    control = {"X-Mock-Namespace": namespace_id}
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(shop_url))
    for method, path, body in (("POST", "/_mock/reset", {"keep_config": False}),
                               ("PUT", "/_mock/config", {"allowed_origins": [origin]}),
                               ("PUT", "/_mock/faults", {"webhooks": {"drop": 0, "duplicate": 0, "reorder": 0,
                                                                      "delay": 0, "next": []}}),
                               ("DELETE", "/_mock/outcomes", None)):
        requests.request(method, psp_url + path, json=body, headers=control, timeout=10).raise_for_status()
    requests.post(f"{shop_url}/_merchant/reset", json={}, timeout=10).raise_for_status()


class Run:
    """One scenario: its namespace, its variables, its steps."""

    def __init__(self, runner: Runner, scenario: Scenario, merchant: MerchantHandle):
        self.runner = runner
        self.scenario = scenario
        self.dialect = scenario.dialect
        self.psp_url = runner.psp_url
        self.shop_url = merchant.url
        self.namespace_id = merchant.namespace_id
        self.http = requests.Session()
        self.control_headers = {"X-Mock-Namespace": self.namespace_id}
        self.vars: dict[str, Any] = {"shop": self.shop_url, "psp": self.psp_url, "dialect": self.dialect}
        self._page = None
        self.virtual = True

    # -- plumbing used by the steps ------------------------------------------------------------------

    def control(self, method: str, path: str, body: Any = None) -> Any:
        reply = self.http.request(method, self.psp_url + path, json=body, headers=self.control_headers, timeout=120)
        if reply.status_code >= 300:
            raise StepFailed(f"{method} {path} answered {reply.status_code}", expected="2xx", found=reply.text[:500])
        return reply.json() if reply.content else None

    def merchant(self, method: str, path: str, body: Any = None, headers: dict | None = None) -> requests.Response:
        return self.http.request(method, self.shop_url + path, json=body, headers=headers, timeout=120)

    def namespace(self) -> dict:
        return self.control("GET", f"/_mock/namespaces/{self.namespace_id}")

    def clock_now(self) -> float:
        now = self.namespace()["clock"]["now"]
        return datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp()

    @property
    def page(self):
        if self._page is None:
            self._page = self.runner.browser.new_page()
        return self._page

    def resolve(self, value: Any) -> Any:
        """Replace ${name.path} references with saved values (a whole-string reference keeps its type)."""
        if isinstance(value, str):
            whole = WHOLE_REFERENCE.match(value)
            if whole:
                return self.lookup(whole[1])
            return ANY_REFERENCE.sub(lambda m: str(self.lookup(m[1])), value)
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def lookup(self, reference: str) -> Any:
        name, *path = reference.split(".")
        if name not in self.vars:
            raise StepFailed(f"${{{reference}}}: nothing was saved as {name!r}")
        value = self.vars[name]
        for part in path:
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                raise StepFailed(f"${{{reference}}}: {part!r} is not in the saved value", found=_short(value))
        return value

    def wait_until(self, check, within: Any, what: str) -> Any:
        """Check now; if not yet, let the namespace's clock run to each job due by ``within``
        (virtual clock) or poll in real time (system clock). Returns check()'s found value."""
        limit = seconds(within) if within is not None else 0.0
        self.control("POST", "/_mock/webhooks/flush")
        ok, found = check()
        if ok or limit <= 0:
            if not ok:
                raise StepFailed(what, found=found)
            return found
        if self.virtual:
            deadline = self.clock_now() + limit
            for _ in range(10_000):  # a job that keeps falling due at the same instant must not hang the run
                if ok:
                    break
                due = self._next_due(deadline)
                if due is None:
                    remaining = deadline - self.clock_now()
                    if remaining > 0:
                        self.control("POST", "/_mock/clock/advance", {"seconds": remaining})
                        self.control("POST", "/_mock/webhooks/flush")
                        ok, found = check()
                    break
                self.control("POST", "/_mock/clock/advance", {"seconds": max(0.0, due - self.clock_now())})
                self.control("POST", "/_mock/webhooks/flush")
                ok, found = check()
        else:
            deadline = time.monotonic() + limit
            while not ok and time.monotonic() < deadline:
                time.sleep(0.05)
                ok, found = check()
        if not ok:
            raise StepFailed(f"{what} (waited {describe_duration(limit)} on the clock)", found=found)
        return found

    def _next_due(self, deadline: float) -> float | None:
        jobs = self.control("GET", "/_mock/clock").get("pending_jobs", [])
        due = [_epoch(job["due_at"]) for job in jobs]
        due = [d for d in due if d <= deadline]
        return min(due) if due else None

    # -- the scenario --------------------------------------------------------------------------------

    def setup(self) -> None:
        setup = self.scenario.setup
        self.virtual = setup.get("clock", "virtual") == "virtual"
        config = {"clock": "virtual" if self.virtual else "system", **(setup.get("config") or {})}
        if "seed" in setup:
            config["seed"] = setup["seed"]
        self.control("PUT", "/_mock/config", config)
        if setup.get("faults"):
            self.control("PUT", "/_mock/faults", {"webhooks": setup["faults"]})
        if setup.get("api_faults"):
            self.control("PUT", "/_mock/faults", {"api": setup["api_faults"]})
        if setup.get("outcomes"):
            self.control("POST", "/_mock/outcomes", {"next": setup["outcomes"]})
        self.vars["namespace"] = self.namespace()

    def execute(self, started: float) -> Outcome:
        from .steps import step_table

        steps = step_table()

        clock_start = None
        step = None
        try:
            self.setup()
            clock_start = self.clock_now()
            for step in self.scenario.steps:
                result = steps[step.kind](self, self.resolve(step.args))
                self.vars["last"] = result
                if step.save_as:
                    self.vars[step.save_as] = result
            return Outcome(self.scenario, True, time.monotonic() - started, self._simulated(clock_start))
        except StepFailed as failure:
            return self._failed(started, clock_start, step, failure.message, failure.expected, failure.found)
        except BrowserUnavailable as error:
            return self._failed(started, clock_start, step, str(error))
        except Exception as error:  # a bug or an unreachable server: report it as this scenario's failure
            return self._failed(started, clock_start, step, f"{error.__class__.__name__}: {error}",
                                found=traceback.format_exc(limit=6))

    def _simulated(self, clock_start: float | None) -> float:
        if clock_start is None or not self.virtual:
            return 0.0
        try:
            return max(0.0, self.clock_now() - clock_start)
        except Exception:
            return 0.0

    def _failed(self, started, clock_start, step, message, expected=None, found=None) -> Outcome:
        context = self._context()
        if self._page is not None and self.runner.artifacts is not None:
            self.runner.artifacts.mkdir(parents=True, exist_ok=True)
            shot = self.runner.artifacts / f"{self.scenario.name}.png"
            try:
                self._page.screenshot(path=str(shot), full_page=True)
                context += f"\n  screenshot: {shot}"
            except Exception:
                pass
        return Outcome(self.scenario, False, time.monotonic() - started, self._simulated(clock_start), step, message,
                       expected, found, context)

    def _context(self) -> str:
        """What helps most when a scenario fails: the deliveries and the orders' transitions."""
        lines = []
        try:
            deliveries = self.control("GET", "/_mock/webhooks?limit=15")["data"]
            lines.append("  webhook deliveries (newest first):")
            for d in deliveries or []:
                faults = [a["fault"] for a in d["attempts"] if a.get("fault")]
                lines.append(f"    {d['event_type']:<26} {d['object_id']:<30} {d['status']:<9} "
                             f"attempts {d['attempt_count']}{' faults ' + ','.join(faults) if faults else ''}")
            orders = self.merchant("GET", "/_merchant/orders").json()["data"][-5:]
            lines.append("  merchant orders (latest 5):")
            for order in orders:
                path = " -> ".join(t["to"] for t in order["transitions"])
                lines.append(f"    {order['id']} {order['state']}: {path}")
            entries = self.merchant("GET", "/_merchant/webhook-log").json()["data"][-8:]
            lines.append("  merchant webhook log (latest 8):")
            for entry in entries:
                lines.append(f"    {entry['event_type'] or '-':<26} {entry['result']:<17} {entry['detail'] or ''}")
        except Exception as error:  # the context is a courtesy: never hide the failure behind it
            lines.append(f"  (context unavailable: {error})")
        return "\n".join(lines)

    def close(self) -> None:
        if self._page is not None:
            try:
                self._page.context.close()
            except Exception:
                pass
        self.http.close()


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _short(value: Any, limit: int = 400) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + "..."
