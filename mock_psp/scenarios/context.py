"""One scenario while it runs: its namespace, its variables, its browser page (``Run``), what a
step raises when the scenario did not hold (``StepFailed``), and how the run ended (``Outcome``).

The step modules (steps.py, expectations.py, http_customer.py, browser_steps.py) see only
this; the runner (runner.py) puts a Run together and hands it the step table.
"""

from __future__ import annotations

import json
import re
import time
import traceback
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from ..client.control import Control
from ..client.control import ProviderUnreachable
from ..client.control import PspHttpError
from ..client.control import parse_time
from ..dialects import registry
from ..domain import durations
from ..domain.numbers import is_ascii_digits
from .browser import BrowserUnavailable
from .errors import CouldNotRun
from .errors import unreachable
from .loader import Scenario
from .loader import Step

WHOLE_REFERENCE = re.compile(r"^\$\{([^}]+)\}$")
ANY_REFERENCE = re.compile(r"\$\{([^}]+)\}")


def seconds(value: Any) -> float:
    """Seconds from a number or a duration such as "90s", "15m", "2h", "1h30m" (domain/durations.py)."""
    try:
        return durations.parse(value)
    except durations.DurationError as error:
        raise StepFailed(str(error)) from None


def step(name: str):
    """Mark a function as the scenario step ``name`` (the runner's step table collects them)."""
    def mark(function):
        function.scenario_step = name
        return function
    return mark


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


class Run:
    """One scenario: its namespace, its variables, its steps."""

    def __init__(self, runner, scenario: Scenario, merchant: MerchantHandle):
        self.runner = runner
        self.scenario = scenario
        self.dialect = scenario.dialect
        self.psp_url = runner.psp_url
        self.shop_url = merchant.url
        self.namespace_id = merchant.namespace_id
        self.http = requests.Session()
        self.client = Control(self.psp_url, self.namespace_id, session=self.http, timeout=120,
                              token=runner.control_token)
        self.described = registry.named(self.dialect)
        self.vars: dict[str, Any] = {"shop": self.shop_url, "psp": self.psp_url, "dialect": self.dialect}
        self._page = None
        self.virtual = True

    # -- plumbing used by the steps ------------------------------------------------------------------

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """A control call in the scenario's namespace (``path`` from ``/_mock``); StepFailed if refused."""
        try:
            return self.client.call(method, path.removeprefix("/_mock"), body)
        except PspHttpError as error:
            text = error.body if isinstance(error.body, str) else json.dumps(error.body)
            raise StepFailed(f"{method} {path} answered {error.status}", expected="2xx", found=text[:500]) from None

    @property
    def keys(self) -> dict:
        """The scenario's dialect's keys in its namespace (with ``base_url``), as the setup read them."""
        return self.vars["namespace"][self.described.key]

    def merchant(self, method: str, path: str, body: Any = None, headers: dict | None = None) -> requests.Response:
        return self.http.request(method, self.shop_url + path, json=body, headers=headers, timeout=120)

    def namespace(self) -> dict:
        return self.control("GET", f"/_mock/namespaces/{self.namespace_id}")

    def clock_now(self) -> float:
        return parse_time(self.namespace()["clock"]["now"]).timestamp()

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
            elif isinstance(value, list) and is_ascii_digits(part) and int(part) < len(value):  # not "¹"
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
            raise StepFailed(f"{what} (waited {durations.describe(limit)} on the clock)", found=found)
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

    def execute(self, started: float, steps: dict) -> Outcome:
        """Set up, then run the steps (``steps``: the step table, by name)."""
        clock_start = None
        step = None
        try:
            self.setup()
            clock_start = self.clock_now()
            for step in self.scenario.steps:
                if self.runner.on_step is not None:
                    self.runner.on_step(self.scenario, step)
                result = steps[step.kind](self, self.resolve(step.args))
                self.vars["last"] = result
                if step.save_as:
                    self.vars[step.save_as] = result
            return Outcome(self.scenario, True, time.monotonic() - started, self._simulated(clock_start))
        except StepFailed as failure:
            return self._failed(started, clock_start, step, failure.message, failure.expected, failure.found)
        except BrowserUnavailable as error:
            return self._failed(started, clock_start, step, str(error))
        except (requests.ConnectionError, ProviderUnreachable) as error:
            lost = self._lost(error)
            if lost is not None:  # the provider or the merchant is gone: no later scenario can run either
                raise lost from None
            return self._failed(started, clock_start, step, f"{error.__class__.__name__}: {error}")
        except Exception as error:  # a bug or an unreachable server: report it as this scenario's failure
            return self._failed(started, clock_start, step, f"{error.__class__.__name__}: {error}",
                                found=traceback.format_exc(limit=6))

    def _lost(self, error: Exception) -> CouldNotRun | None:
        """CouldNotRun if the server a connection error came from no longer answers at all; None
        if it does (a reset the scenario injected with set_api_faults is its own business)."""
        cause = error if isinstance(error, requests.ConnectionError) else error.__cause__
        url = getattr(getattr(cause, "request", None), "url", None) or self.psp_url
        base = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        what = "test merchant" if url.startswith(self.shop_url) else "provider"
        try:
            requests.get(f"{base}/", timeout=5)
        except requests.RequestException as probe:
            return unreachable(what, base, probe)
        return None

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


def expect_status(reply, expected: int | None, what: str) -> None:
    ok = reply.status_code == expected if expected is not None else reply.status_code < 300
    if not ok:
        raise StepFailed(f"{what} answered HTTP {reply.status_code}", expected=expected or "2xx",
                         found=reply.text[:600])


def json_of(reply) -> Any:
    try:
        return reply.json()
    except ValueError:
        return reply.text


def subset_problem(expected: Any, found: Any, path: str = "") -> str | None:
    """None if ``found`` contains ``expected``: dicts by subset, lists of the same length item by
    item (so each item may be a subset too), everything else equal."""
    if isinstance(expected, dict):
        if not isinstance(found, dict):
            return f"{path or 'body'} is not an object"
        for key, value in expected.items():
            if key not in found:
                return f"{path + '.' if path else ''}{key} is missing"
            problem = subset_problem(value, found[key], f"{path + '.' if path else ''}{key}")
            if problem:
                return problem
        return None
    if isinstance(expected, list) and isinstance(found, list) and len(expected) == len(found):
        for index, (want, have) in enumerate(zip(expected, found, strict=True)):
            problem = subset_problem(want, have, f"{path}[{index}]")
            if problem:
                return problem
        return None
    if expected != found:
        return f"{path or 'value'} is {found!r}, not {expected!r}"
    return None


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _short(value: Any, limit: int = 400) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + "..."
