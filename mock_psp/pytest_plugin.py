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

The hooks and fixtures live here; what the fixtures hand a test lives in mock_psp/testing
(and every control call goes through the control API client, mock_psp/client).

A server-side error (anything the provider or the merchant logs at ERROR, such as
the traceback behind a 500 or a failing job) fails the test during which it was
logged, in the phase in which it was logged. Records logged between tests, or
during tests that use none of these fixtures, are reported at the end of the run
and never reach another test.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from .client.control import TOKEN_ENV
from .client.control import PspHttpError
from .dialects import registry
from .testing.errors import ServerErrorLog
from .testing.errors import ServerErrors
from .testing.errors import describe_records
from .testing.merchant import MerchantClient
from .testing.namespace import Clock
from .testing.namespace import Deliveries
from .testing.namespace import DialectSession
from .testing.namespace import Namespace
from .testing.server import PspServer

# Imported from here by users' tests (docs/pytest.md).
__all__ = ["Clock", "Deliveries", "DialectSession", "MerchantClient", "Namespace", "PspHttpError", "PspServer",
           "ServerErrors"]

DIALECTS = tuple(registry.BY_NAME)
FIXTURES = frozenset({"psp_server", "psp_namespace", "psp_clock", "psp_deliveries", "psp_merchant", "psp_dialect",
                      "psp_run_scenario", "psp_server_errors"})
MAX_STRAY = 50  # server errors outside any test, kept for the end-of-run summary
MARKER_OPTIONS = ("dialect", "seed", "clock", "config", "snapshot")

_STATE = pytest.StashKey["_SessionState"]()


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

    @property
    def control_token(self) -> str | None:
        return (self.config.getoption("psp_control_token") or self.config.getini("psp_control_token")
                or os.environ.get(TOKEN_ENV) or None)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock-psp", "mock-psp payment provider fixtures")
    group.addoption("--psp-url", dest="psp_url", default=None, metavar="URL",
                    help="use the mock-psp provider running at URL instead of starting one in-process "
                         "(its own errors then cannot fail tests)")
    parser.addini("psp_url", "mock-psp provider to use instead of starting one in-process", default="")
    group.addoption("--psp-control-token", dest="psp_control_token", default=None, metavar="TOKEN",
                    help=f"with --psp-url: that provider's control token, if it has one (or ${TOKEN_ENV})")
    parser.addini("psp_control_token", "the --psp-url provider's control token", default="")
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
            psp_server.control.for_namespace(created["id"]).set_config(changes)
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
    server = PspServer(state.psp_url, state.errors, state.control_token)
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
    dialect = _marker(request).get("dialect", registry.DEFAULT.name)
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
        from .scenarios.loader import ScenarioError
        from .scenarios.loader import load
        from .scenarios.report import failure_text
        from .scenarios.runner import Runner

        file = _find_scenario(path, here)
        try:
            scenario = load(file)
        except ScenarioError as error:
            pytest.fail(f"invalid scenario file:\n{error}", pytrace=False)
        server = psp_namespace.server
        scheme = (scenario.setup.get("merchant") or {}).get("scheme")
        if scheme and scheme != scenario.dialect:
            # A merchant signing another way: the runner starts one of its own, in its own namespace.
            runner = Runner(psp_url=server.url, _browser=server.browser, control_token=server.token)
        else:
            running = psp_namespace.wire(scenario.dialect)
            runner = Runner(psp_url=server.url, merchant_urls=[running.url], _browser=server.browser,
                            control_token=server.token)
        outcome = runner.start().run(scenario)  # no close(): the browser is the session's
        if outcome.skipped:
            pytest.skip(outcome.skipped)
        if not outcome.passed:
            pytest.fail(f"scenario {scenario.name} failed:\n{failure_text(outcome)}", pytrace=False)
        return outcome

    return run


def _find_scenario(path: str | Path, here: Path) -> Path:
    """The file as given, else beside the test file, else in the shipped catalog (by name)."""
    from .scenarios.loader import catalog_dir

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
