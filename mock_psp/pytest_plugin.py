"""mock-psp as a pytest plugin: one provider for the session, a fresh namespace for every test.

Registered through the ``pytest11`` entry point, so ``pip install mock-psp`` is all
it takes. Fixtures (all documented in docs/pytest.md):

- ``psp_server`` (session): the provider, started in this process on a free port
  of 127.0.0.1 (or the one given with ``--psp-url``), and the test merchants, one
  per dialect, started the first time a test needs one;
- ``psp_namespace``: a fresh namespace (merchant account) for the test, on a
  virtual clock: ids, keys, base URLs, ``config``, ``faults``, ``api_faults``, ``outcomes``;
- ``psp_clock``: that namespace's clock (``advance("2h")``, ``now()``);
- ``psp_deliveries``: that namespace's webhook delivery log;
- ``psp_merchant``: the test merchant of ``psp_dialect``, wired into that
  namespace with empty books;
- ``psp_run_scenario``: run a scenario file with these servers, failing the test
  with the runner's report when the scenario fails;
- ``psp_server_errors``: the server-side errors logged so far in this test.

A server-side error (anything the provider or the merchant logs at ERROR, such as
the traceback behind a 500 or a failing job) fails the test during which it was
logged, in the phase in which it was logged. Records logged between tests, or
during tests that use none of these fixtures, are reported at the end of the run
and never reach another test.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

DIALECTS = ("hyperswitch", "govuk", "govpay-lk")
DEFAULT_CURRENCY = {"hyperswitch": "USD", "govuk": "GBP"}
SERVER_LOGGERS = ("mock_psp",)  # the test merchant logs under mock_psp.test_merchant
FIXTURES = frozenset({"psp_server", "psp_namespace", "psp_clock", "psp_deliveries", "psp_merchant", "psp_dialect",
                      "psp_run_scenario", "psp_server_errors"})
HOST = "127.0.0.1"
TIMEOUT = 60
MAX_STRAY = 50  # server errors outside any test, kept for the end-of-run summary
MARKER_OPTIONS = ("dialect", "seed", "clock", "config", "snapshot")

_STATE = pytest.StashKey["_SessionState"]()


# -- HTTP --------------------------------------------------------------------------------------------


class PspHttpError(Exception):
    """A call to the provider or the merchant answered with an error status.

    ``status`` is the HTTP status, ``body`` the parsed JSON body (or the text), ``code``
    the error code from the body's envelope when there is one.
    """

    def __init__(self, method: str, url: str, status: int, body: Any):
        self.method, self.url, self.status, self.body = method, url, status, body
        self.code = _error_code(body)
        text = body if isinstance(body, str) else json.dumps(body)
        super().__init__(f"{method} {url} answered {status}: {text[:1000]}")


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return error.get("code")
        if isinstance(body.get("code"), str):
            return body["code"]
    return None


def _call(session: requests.Session, method: str, url: str, body: Any = None, headers: dict | None = None,
          params: dict | None = None) -> Any:
    reply = session.request(method, url, json=body, headers=headers, params=params, timeout=TIMEOUT)
    try:
        parsed = reply.json() if reply.content else None
    except ValueError:
        parsed = reply.text
    if reply.status_code >= 300:
        raise PspHttpError(method, url, reply.status_code, parsed)
    return parsed


class DialectSession(requests.Session):
    """A requests session for one dialect of one namespace: paths are relative to the
    dialect's base URL and the namespace's secret key is sent with every request."""

    def __init__(self, base_url: str, headers: dict[str, str]):
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.headers.update(headers)

    def request(self, method, url, *args, **kwargs):
        if not url.startswith(("http://", "https://")):
            url = self.base_url + "/" + url.lstrip("/")
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(method, url, *args, **kwargs)


# -- server-side errors -------------------------------------------------------------------------------


class ServerErrorLog(logging.Handler):
    """Collects what the provider and the merchant log at ERROR or above, for the test running."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self._records: list[logging.LogRecord] = []
        self._installed = False

    def emit(self, record: logging.LogRecord) -> None:
        self._records.append(record)  # Handler.handle holds self.lock around emit

    def take(self) -> list[logging.LogRecord]:
        self.acquire()
        try:
            records, self._records = self._records, []
        finally:
            self.release()
        return records

    def peek(self) -> list[logging.LogRecord]:
        self.acquire()
        try:
            return list(self._records)
        finally:
            self.release()

    def install(self) -> None:
        if not self._installed:
            for name in SERVER_LOGGERS:
                logging.getLogger(name).addHandler(self)
            self._installed = True

    def uninstall(self) -> None:
        if self._installed:
            for name in SERVER_LOGGERS:
                logging.getLogger(name).removeHandler(self)
            self._installed = False


_FORMAT = logging.Formatter("%(name)s [%(threadName)s] %(levelname)s: %(message)s")


def describe_records(records: list[logging.LogRecord]) -> str:
    """The records as text, each with its traceback."""
    return "\n\n".join(_FORMAT.format(record) for record in records)


class ServerErrors:
    """The server-side errors logged so far during this test (``psp_server_errors``).

    A test that provokes an error on purpose takes it with :meth:`take`, so that it
    does not fail the test::

        records = psp_server_errors.take()
        assert "unhandled error" in records[0].getMessage()
    """

    def __init__(self, log: ServerErrorLog | None):
        self._log = log

    @property
    def records(self) -> list[logging.LogRecord]:
        """The records logged so far in this test and not yet taken."""
        return self._log.peek() if self._log is not None else []

    def take(self) -> list[logging.LogRecord]:
        """Return the records logged so far and forget them: they will not fail the test."""
        return self._log.take() if self._log is not None else []

    def __len__(self) -> int:
        return len(self.records)

    def __bool__(self) -> bool:
        return bool(self.records)

    def text(self) -> str:
        return describe_records(self.records)


# -- the session's servers ----------------------------------------------------------------------------


class PspServer:
    """The provider for the session (``psp_server``) and its test merchants, one per dialect.

    ``url`` is the provider's base URL. ``provider`` is the in-process provider
    (``None`` with ``--psp-url``). ``merchant(dialect)`` starts that dialect's test
    merchant the first time it is asked for.
    """

    def __init__(self, url: str | None = None, errors: ServerErrorLog | None = None):
        self._harness = None
        self._merchants: dict[str, Any] = {}
        self._browser = None
        self._session = requests.Session()
        self.errors = errors
        if errors is not None:
            errors.install()
        if url is None:
            from mock_psp.harness import start_harness

            try:
                self._harness = start_harness({"db": ":memory:", "host": HOST, "port": 0, "background": True},
                                              dialect=None)
            except BaseException:
                self.stop()
                raise
            url = self._harness.psp_url
        self.url = url.rstrip("/")
        self.external = self._harness is None
        if self.external:
            try:
                _call(self._session, "GET", f"{self.url}/_mock/health")
            except (requests.RequestException, PspHttpError) as error:
                self.stop()
                raise RuntimeError(f"no mock-psp provider answers at {self.url} (--psp-url / psp_url): {error}") \
                    from error

    @property
    def provider(self):
        return self._harness.provider if self._harness is not None else None

    @property
    def app(self):
        return self._harness.app if self._harness is not None else None

    def merchant(self, dialect: str):
        """The session's test merchant for ``dialect`` (a ``test_merchant.run.RunningMerchant``)."""
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}; use one of {', '.join(DIALECTS)}")
        if dialect not in self._merchants:
            from mock_psp.test_merchant.run import start

            self._merchants[dialect] = start(self.url, dialect, host=HOST, port=0)
        return self._merchants[dialect]

    def create_namespace(self, **body) -> dict:
        """A new namespace on the provider (``POST /_mock/namespaces``)."""
        return _call(self._session, "POST", f"{self.url}/_mock/namespaces", body)

    def import_namespace(self, snapshot: dict) -> dict:
        """A new namespace holding a snapshot's state (``POST /_mock/namespaces/import``)."""
        return _call(self._session, "POST", f"{self.url}/_mock/namespaces/import", snapshot)

    @property
    def browser(self):
        """One Chromium for the session's browser scenarios, launched on first use."""
        if self._browser is None:
            from mock_psp.scenarios.browser import LazyBrowser

            self._browser = LazyBrowser()
        return self._browser

    def stop(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        self._session.close()
        # Each server may take up to half a second (cheroot's select interval) to notice it
        # should stop: stop them side by side.
        servers = [*self._merchants.values(), *([self._harness] if self._harness is not None else [])]
        stopping = [threading.Thread(target=server.stop) for server in servers]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        self._merchants.clear()
        self._harness = None
        if self.errors is not None:
            self.errors.uninstall()


# -- one test's namespace -----------------------------------------------------------------------------


class Namespace:
    """A fresh namespace for one test (``psp_namespace``): its keys, URLs and settings.

    ``id``; ``hyperswitch`` and ``govuk`` (the keys, as ``POST /_mock/namespaces``
    returns them, with ``base_url``); ``data`` (the whole namespace document).
    """

    def __init__(self, server: PspServer, data: dict):
        self.server = server
        self.psp_url = server.url
        self.data = data
        self.id: str = data["id"]
        self.http = requests.Session()
        self.http.headers["X-Mock-Namespace"] = self.id
        self._wired: dict[str, Any] = {}
        self._sessions: list[requests.Session] = []

    def __repr__(self) -> str:
        return f"<psp namespace {self.id} at {self.psp_url}>"

    @property
    def hyperswitch(self) -> dict:
        return self.data["hyperswitch"]

    @property
    def govuk(self) -> dict:
        return self.data["govuk"]

    def base_url(self, dialect: str) -> str:
        """The dialect's API base URL: ``.../hyperswitch`` or ``.../govuk``."""
        return self.data[dialect].get("base_url") or f"{self.psp_url}/{dialect}"

    def headers(self, dialect: str) -> dict[str, str]:
        """The dialect's authentication header with this namespace's secret key."""
        if dialect == "hyperswitch":
            return {"api-key": self.hyperswitch["api_key"]}
        if dialect == "govuk":
            return {"Authorization": f"Bearer {self.govuk['api_key']}"}
        raise ValueError(f"unknown dialect {dialect!r}; use one of {', '.join(DIALECTS)}")

    def api(self, dialect: str) -> DialectSession:
        """A requests session on the dialect's API, authenticated as this namespace:
        ``psp_namespace.api("hyperswitch").post("/payments", json={...})``."""
        session = DialectSession(self.base_url(dialect), self.headers(dialect))
        self._sessions.append(session)
        return session

    # -- the control API, on this namespace ---------------------------------------------------------

    def control(self, method: str, path: str, body: Any = None, **params) -> Any:
        """Call ``/_mock{path}`` for this namespace; raises PspHttpError on an error status."""
        return _call(self.http, method, f"{self.psp_url}/_mock{path}", body, params=params or None)

    def refresh(self) -> dict:
        """Read the namespace again (its settings and clock); returns ``data``."""
        self.data = self.control("GET", f"/namespaces/{self.id}")
        return self.data

    def config(self, **changes) -> dict:
        """Change the named settings (``config(success_rates={"card": 0.5})``); with none, read them.
        Returns the settings."""
        if changes:
            return self.control("PUT", "/config", changes)
        return self.control("GET", "/config")

    def faults(self, **webhooks) -> dict:
        """Set webhook faults (``faults(drop=0.2, next=["duplicate"])``); with none, read them."""
        if webhooks:
            return self.control("PUT", "/faults", {"webhooks": webhooks})
        return self.control("GET", "/faults")

    def api_faults(self, **settings) -> dict:
        """Set API faults (``api_faults(next=["lost_response"], routes=["POST /hyperswitch/payments"])``);
        with none, read them. Returns the API fault settings."""
        if settings:
            return self.control("PUT", "/faults", {"api": settings})["api"]
        return self.control("GET", "/faults")["api"]

    def api_fault_log(self) -> list[dict]:
        """The API calls faulted so far, newest first: ``[{"at", "method", "path", "fault", ...}]``."""
        return self.control("GET", "/faults/api/log")["data"]

    def outcomes(self, names: list[str] | None = None, replace: bool = False) -> list[str]:
        """Queue scripted outcomes for the next payments (``outcomes(["declined", "3ds"])``);
        with none, read the queue. Returns the queue."""
        if names is None:
            return self.control("GET", "/outcomes")["next"]
        return self.control("POST", "/outcomes", {"next": list(names), "replace": replace})["next"]

    def export(self) -> dict:
        """The namespace's snapshot (``GET /_mock/namespaces/{id}/export``)."""
        return self.control("GET", f"/namespaces/{self.id}/export")

    def save_snapshot(self, path) -> Path:
        """Write the namespace's snapshot to ``path``, for ``@pytest.mark.mock_psp(snapshot=...)``."""
        path = Path(path)
        path.write_text(json.dumps(self.export(), indent=1, sort_keys=True) + "\n")
        return path

    def reset(self, keep_config: bool = True) -> None:
        """Empty the namespace (payments, refunds, jobs, outcomes); keys stay."""
        self.control("POST", "/reset", {"keep_config": keep_config})

    def events(self, payment_id: str) -> list[dict]:
        """A payment's audit log: ``[{"object", "object_id", "from", "to", "reason", "at"}, ...]``."""
        return self.control("GET", f"/payments/{payment_id}/events")["data"]

    def webhook_endpoint(self, url: str, **fields) -> dict:
        """Register a webhook endpoint (``scheme``, ``events``, ``retry_schedule``, ...)."""
        return self.control("POST", "/webhook-endpoints", {"url": url, **fields})

    def flush(self) -> list[dict]:
        """Run every job due now (webhook deliveries first of all), synchronously."""
        return self.control("POST", "/webhooks/flush")["ran"]

    # -- merchants -------------------------------------------------------------------------------

    def wire(self, dialect: str):
        """Connect the session's ``dialect`` merchant to this namespace, with empty books."""
        running = self._wired.get(dialect)
        if running is None:
            from mock_psp.test_merchant.provision import provision

            running = self.server.merchant(dialect)
            provision(running.merchant, running.url, namespace=self.id)
            self._wired[dialect] = running
            _call(self.http, "POST", f"{running.url}/_merchant/reset", {})
        return running

    def close(self) -> None:
        """End of the test: deliver what is due now, unhook the merchants, stop the clock.

        Deliveries due now are made here so that what they cause (and any error they
        log) belongs to this test; the merchants' endpoints are deleted so that no
        late retry reaches a merchant another test is using; a system clock is
        frozen so that none of this namespace's jobs run during later tests.
        """
        problems: list[BaseException] = []
        steps = [lambda: self.flush()]
        for running in self._wired.values():
            endpoint_id = running.merchant.wiring.endpoint_id
            steps.append(lambda endpoint_id=endpoint_id: self.control("DELETE", f"/webhook-endpoints/{endpoint_id}"))
        steps.append(self._freeze)
        for step in steps:
            try:
                step()
            except Exception as error:  # do every step; report the first failure afterwards
                problems.append(error)
        for session in [self.http, *self._sessions]:
            session.close()
        if problems:
            raise problems[0]

    def _freeze(self) -> None:
        if self.control("GET", "/clock")["mode"] != "virtual":
            self.control("PUT", "/config", {"clock": "virtual"})


class Clock:
    """The test namespace's clock (``psp_clock``), virtual unless the test asked otherwise."""

    def __init__(self, namespace: Namespace):
        self.namespace = namespace

    def now(self) -> datetime:
        """The namespace's current time (timezone-aware, UTC)."""
        return _parse_time(self.namespace.control("GET", "/clock")["now"])

    @property
    def mode(self) -> str:
        return self.namespace.control("GET", "/clock")["mode"]

    def advance(self, duration: float | str | timedelta) -> list[dict]:
        """Move the clock forward and run every job due on the way, each at its due time.

        :param duration: seconds (``90``), a duration (``"15m"``, ``"2h"``, ``"1d"``) or a timedelta.
        :return: the jobs that ran, in order (``{"id", "kind", "due_at", "state", ...}``).
        """
        if isinstance(duration, timedelta):
            body = {"seconds": duration.total_seconds()}
        elif isinstance(duration, str):
            body = {"duration": duration}
        else:
            body = {"seconds": duration}
        return self.namespace.control("POST", "/clock/advance", body)["ran"]

    def set(self, when: datetime | str) -> list[dict]:
        """Move the clock to an instant (running due jobs on the way); returns the jobs that ran."""
        text = when if isinstance(when, str) else when.isoformat()
        return self.namespace.control("POST", "/clock/set", {"now": text})["ran"]

    def pending(self) -> list[dict]:
        """The namespace's jobs still waiting: ``[{"id", "kind", "due_at", "payload"}]``."""
        return self.namespace.control("GET", "/clock")["pending_jobs"]


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Deliveries:
    """The test namespace's webhook delivery log (``psp_deliveries``), oldest first.

    Reading it first delivers everything due now (``flush=False`` to look without
    doing that), so a test sees the webhooks its last call caused.
    """

    def __init__(self, namespace: Namespace):
        self.namespace = namespace

    def list(self, status: str | None = None, event_type: str | None = None, payment_id: str | None = None,
             object_id: str | None = None, endpoint_id: str | None = None, flush: bool = True) -> list[dict]:
        """Deliveries matching every filter given: ``{"id", "event_type", "object_id", "status",
        "attempts": [...], ...}``; ``status`` is pending, failed, delivered or given_up."""
        if flush:
            self.namespace.flush()
        filters = {k: v for k, v in (("status", status), ("event_type", event_type), ("payment_id", payment_id),
                                     ("object_id", object_id), ("endpoint_id", endpoint_id)) if v is not None}
        found: list[dict] = []
        while True:
            page = self.namespace.control("GET", "/webhooks", limit=1000, offset=len(found), **filters)
            found += page["data"]
            if not page["data"] or len(found) >= page["total"]:
                return found

    filter = list

    def event_types(self, **filters) -> list[str]:
        """The event type of each delivery matching the filters, oldest first."""
        return [d["event_type"] for d in self.list(**filters)]

    def get(self, delivery_id: str) -> dict:
        """One delivery with its payload and its request and response headers."""
        return self.namespace.control("GET", f"/webhooks/{delivery_id}")

    def retry(self, delivery_id: str) -> dict:
        """Send a delivery again now (a manual retry); returns the updated delivery."""
        return self.namespace.control("POST", f"/webhooks/{delivery_id}/retry")

    def flush(self) -> list[dict]:
        """Deliver everything due now, synchronously; returns the jobs that ran."""
        return self.namespace.flush()

    def __iter__(self):
        return iter(self.list())

    def __len__(self) -> int:
        return len(self.list())


class MerchantClient:
    """The test merchant's JSON API (``psp_merchant``), wired into the test's namespace.

    Reads (``order``, ``orders``, ``webhook_log``) first deliver the webhooks due now,
    so they show what the merchant knows once the provider has told it. Error
    answers raise PspHttpError (``.status``, ``.code``, ``.body``).
    """

    def __init__(self, running, namespace: Namespace):
        self.running = running
        self.namespace = namespace
        self.url: str = running.url
        self.dialect: str = running.merchant.wiring.dialect
        self.currency = DEFAULT_CURRENCY[self.dialect]
        self.http = requests.Session()

    def __repr__(self) -> str:
        return f"<psp merchant {self.dialect} at {self.url} in {self.namespace.id}>"

    def _call(self, method: str, path: str, body: Any = None, headers: dict | None = None, **params) -> Any:
        return _call(self.http, method, f"{self.url}/_merchant{path}", body, headers, params or None)

    def settle(self) -> None:
        """Deliver every webhook due now, and wait for the ones in flight."""
        self.namespace.flush()

    def config(self) -> dict:
        return self._call("GET", "/config")

    def create_order(self, amount: int, currency: str | None = None, card: str | dict | None = None,
                     description: str | None = None, idempotency_key: str | None = None) -> dict:
        """Create an order and its payment; with ``card`` it pays at once by API. Returns the order."""
        body: dict[str, Any] = {"amount": amount, "currency": currency or self.currency}
        if card is not None:
            body["card"] = card
        if description is not None:
            body["description"] = description
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._call("POST", "/orders", body, headers)

    def order(self, order_id: str) -> dict:
        self.settle()
        return self._call("GET", f"/orders/{order_id}")

    def orders(self, state: str | None = None) -> list[dict]:
        self.settle()
        return self._call("GET", "/orders", **({"state": state} if state else {}))["data"]

    def refund(self, order_id: str, amount: int | None = None) -> dict:
        """Refund an order (all that is left unless ``amount``); returns the order."""
        return self._call("POST", f"/orders/{order_id}/refunds", {} if amount is None else {"amount": amount})

    def sync(self, order_id: str) -> dict:
        """Ask the provider about the order's payment now; returns the order."""
        return self._call("POST", f"/orders/{order_id}/sync", {})

    def webhook_log(self, result: str | None = None) -> list[dict]:
        """Every webhook the merchant received: ``result`` ok, duplicate, stale, signature_invalid, ..."""
        self.settle()
        return self._call("GET", "/webhook-log", **({"result": result} if result else {}))["data"]

    def reconcile(self, older_than_seconds: float | None = None) -> dict:
        """Run the reconciliation sweep; returns its report."""
        return self._call("POST", "/reconcile", {} if older_than_seconds is None
                          else {"older_than_seconds": older_than_seconds})

    def reset(self) -> None:
        """Forget every order, refund and webhook log row (the wiring stays)."""
        self._call("POST", "/reset", {})

    def close(self) -> None:
        self.http.close()


# -- pytest: options, markers, hooks -------------------------------------------------------------------


class _SessionState:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.fail_on_errors = config.getini("psp_fail_on_server_errors")
        self.errors = ServerErrorLog()
        self.stray: list[str] = []  # as text: a record's traceback would keep its frames alive
        self.stray_count = 0

    def add_stray(self, records: list[logging.LogRecord]) -> None:
        self.stray_count += len(records)
        self.stray += [describe_records([record]) for record in records[:max(0, MAX_STRAY - len(self.stray))]]

    @property
    def psp_url(self) -> str | None:
        return self.config.getoption("psp_url") or self.config.getini("psp_url") or None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock-psp", "mock-psp payment provider fixtures")
    group.addoption("--psp-url", dest="psp_url", default=None, metavar="URL",
                    help="use the mock-psp provider running at URL instead of starting one in-process "
                         "(its own errors then cannot fail tests)")
    parser.addini("psp_url", "mock-psp provider to use instead of starting one in-process", default="")
    parser.addini("psp_fail_on_server_errors", "fail a test when the provider or the test merchant logs an error "
                  "during it (default true; false only shows them beside the test's report)", type="bool",
                  default=True)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_STATE] = _SessionState(config)
    config.addinivalue_line("markers", "mock_psp(dialect=None, seed=None, clock='virtual', config=None): "
                                       "options for the test's psp_namespace and psp_merchant")


def _uses_plugin(item: pytest.Item) -> bool:
    return not FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def _phase(item: pytest.Item, when: str):
    """Wrap one phase of a test: server errors logged during it fail it (or sit beside its own failure)."""
    state = item.config.stash.get(_STATE, None)
    if state is None:
        return (yield)
    if when == "setup":
        state.add_stray(state.errors.take())  # logged between tests: belongs to no test
    try:
        result = yield
    except BaseException:
        _report(item, when, state, own_failure=True)
        raise
    _report(item, when, state, own_failure=False)
    return result


def _report(item: pytest.Item, when: str, state: _SessionState, own_failure: bool) -> None:
    records = state.errors.take()
    if not records:
        return
    if not _uses_plugin(item):
        state.add_stray(records)
        return
    text = describe_records(records)
    if state.fail_on_errors and not own_failure:
        where = {"setup": "while setting up this test", "call": "during this test",
                 "teardown": "while tearing down this test"}[when]
        pytest.fail(f"mock-psp logged {len(records)} server-side error(s) {where}:\n\n{text}", pytrace=False)
    # The phase failed on its own (or failing is switched off): show them beside its report.
    item.add_report_section(when, "mock-psp server errors", text)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item):
    return (yield from _phase(item, "setup"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item):
    return (yield from _phase(item, "call"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    return (yield from _phase(item, "teardown"))


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    state.add_stray(state.errors.take())
    if state.stray_count:
        terminalreporter.section("mock-psp server errors outside the tests that use it", sep="-")
        terminalreporter.write_line("\n\n".join(state.stray))
        if state.stray_count > MAX_STRAY:
            terminalreporter.write_line(f"... and {state.stray_count - MAX_STRAY} more")


# -- fixtures ----------------------------------------------------------------------------------------


def _marker(request: pytest.FixtureRequest) -> dict:
    marker = request.node.get_closest_marker("mock_psp")
    options = dict(marker.kwargs) if marker is not None else {}
    unknown = sorted(set(options) - set(MARKER_OPTIONS))
    if unknown or (marker is not None and marker.args):
        pytest.fail(f"mock_psp marker: takes only the keyword arguments {', '.join(MARKER_OPTIONS)}; "
                    f"got {', '.join(unknown) or 'positional arguments'}", pytrace=False)
    return options


def _create_namespace(psp_server: PspServer, request: pytest.FixtureRequest, options: dict) -> dict:
    if options.get("snapshot"):
        created = psp_server.import_namespace(_snapshot(request, options["snapshot"]))
        changes = {k: options[k] for k in ("seed", "clock") if options.get(k) is not None}
        changes.update(options.get("config") or {})
        if changes:
            _call(psp_server._session, "PUT", f"{psp_server.url}/_mock/config", changes,
                  headers={"X-Mock-Namespace": created["id"]})
        return created
    body: dict[str, Any] = {"clock": options.get("clock", "virtual")}
    if options.get("seed") is not None:
        body["seed"] = options["seed"]
    if options.get("config"):
        body["config"] = options["config"]
    return psp_server.create_namespace(**body)


def _snapshot(request: pytest.FixtureRequest, where: str) -> dict:
    """A snapshot file named by the marker, relative to the test file."""
    path = Path(request.path).parent / where
    try:
        return json.loads(path.read_text())
    except OSError as error:
        pytest.fail(f"mock_psp marker: cannot read the snapshot {path}: {error.strerror}", pytrace=False)
    except ValueError as error:
        pytest.fail(f"mock_psp marker: the snapshot {path} is not JSON: {error}", pytrace=False)


@pytest.fixture(scope="session")
def psp_server(pytestconfig: pytest.Config):
    """The provider for the whole session (in this process on a free 127.0.0.1 port, or
    ``--psp-url``), and the test merchants, each started the first time it is needed."""
    state = pytestconfig.stash[_STATE]
    server = PspServer(state.psp_url, state.errors)
    yield server
    server.stop()


@pytest.fixture
def psp_namespace(psp_server: PspServer, request: pytest.FixtureRequest):
    """A fresh namespace for this test, on a virtual clock (``@pytest.mark.mock_psp(seed=..., clock=...,
    config=...)`` to change that; ``snapshot="file.json"`` starts it from a snapshot instead)."""
    namespace = Namespace(psp_server, _create_namespace(psp_server, request, _marker(request)))
    yield namespace
    namespace.close()


@pytest.fixture
def psp_clock(psp_namespace: Namespace) -> Clock:
    """The test namespace's clock: ``advance("2h")``, ``advance(90)``, ``now()``."""
    return Clock(psp_namespace)


@pytest.fixture
def psp_deliveries(psp_namespace: Namespace) -> Deliveries:
    """The test namespace's webhook delivery log: ``list(event_type=..., status=...)``."""
    return Deliveries(psp_namespace)


@pytest.fixture
def psp_dialect(request: pytest.FixtureRequest) -> str:
    """The dialect ``psp_merchant`` speaks: ``hyperswitch`` unless the ``mock_psp`` marker says
    ``dialect="govuk"`` (or the test parametrizes ``psp_dialect``)."""
    dialect = _marker(request).get("dialect", "hyperswitch")
    if dialect not in DIALECTS:
        pytest.fail(f"mock_psp marker: unknown dialect {dialect!r}; use one of {', '.join(DIALECTS)}", pytrace=False)
    return dialect


@pytest.fixture
def psp_merchant(psp_namespace: Namespace, psp_dialect: str):
    """The session's test merchant for ``psp_dialect``, wired into this test's namespace, books empty."""
    client = MerchantClient(psp_namespace.wire(psp_dialect), psp_namespace)
    yield client
    client.close()


@pytest.fixture
def psp_run_scenario(psp_namespace: Namespace, request: pytest.FixtureRequest):
    """``psp_run_scenario(path)``: run a scenario file (or a catalog scenario by name) with the
    session's servers, in this test's namespace; fail the test with the runner's report if it fails.
    Returns the runner's Outcome."""
    here = Path(str(request.path)).parent

    def run(path: str | Path):
        from mock_psp.scenarios.loader import ScenarioError
        from mock_psp.scenarios.loader import load
        from mock_psp.scenarios.report import failure_text
        from mock_psp.scenarios.runner import Runner

        file = _find_scenario(path, here)
        try:
            scenario = load(file)
        except ScenarioError as error:
            pytest.fail(f"invalid scenario file:\n{error}", pytrace=False)
        server = psp_namespace.server
        scheme = (scenario.setup.get("merchant") or {}).get("scheme")
        if scheme and scheme != scenario.dialect:
            # A merchant signing another way: the runner starts one of its own, in its own namespace.
            runner = Runner(psp_url=server.url, _browser=server.browser)
        else:
            running = psp_namespace.wire(scenario.dialect)
            runner = Runner(psp_url=server.url, merchant_urls=[running.url], _browser=server.browser)
        outcome = runner.start().run(scenario)  # no close(): the browser is the session's
        if outcome.skipped:
            pytest.skip(outcome.skipped)
        if not outcome.passed:
            pytest.fail(f"scenario {scenario.name} failed:\n{failure_text(outcome)}", pytrace=False)
        return outcome

    return run


def _find_scenario(path: str | Path, here: Path) -> Path:
    """The file as given, else beside the test file, else in the shipped catalog (by name)."""
    from mock_psp.scenarios.loader import catalog_dir

    path = Path(path)
    candidates = [path] if path.is_absolute() else [path, here / path]
    if not path.is_absolute() and len(path.parts) == 1:
        catalog = catalog_dir()
        candidates += [catalog / path, catalog / f"{path}.yaml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    pytest.fail(f"no scenario file {str(path)!r}; looked at: {', '.join(str(c) for c in candidates)}", pytrace=False)


@pytest.fixture
def psp_server_errors(psp_server: PspServer, pytestconfig: pytest.Config) -> ServerErrors:
    """The server-side errors logged so far in this test; ``take()`` them to expect them."""
    return ServerErrors(pytestconfig.stash[_STATE].errors)
