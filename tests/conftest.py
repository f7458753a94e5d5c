"""Shared fixtures: a fresh provider per test, and namespaces seen through their keys."""

from __future__ import annotations

import pytest

from mock_psp.app import create_app
from mock_psp.runtime.server import ServerThread
from tests.support import govuk_spec
from tests.support import spec
from tests.support.clients import CHECKED
from tests.support.clients import Api
from tests.support.clients import FlaskTransport
from tests.support.clients import Govuk
from tests.support.clients import Hyperswitch
from tests.support.clients import LiveTransport
from tests.support.receiver import Receiver


@pytest.fixture
def app():
    """A provider with an in-memory store and no background worker (tests drive the clock)."""
    app = create_app({"db": ":memory:", "background": False})
    yield app
    app.extensions["mock_psp"].close()


@pytest.fixture
def provider(app):
    return app.extensions["mock_psp"]


@pytest.fixture
def transport(app):
    return FlaskTransport(app.test_client())


@pytest.fixture
def control(transport) -> Api:
    return Api(transport)


def new_namespace(control: Api, **body) -> dict:
    reply = control.post("/_mock/namespaces", body)
    assert reply.status == 201, reply.text
    return reply.json


@pytest.fixture
def hs(transport, control) -> Hyperswitch:
    """A fresh namespace on the system clock."""
    return Hyperswitch(transport, new_namespace(control, seed=7))


@pytest.fixture
def vhs(transport, control) -> Hyperswitch:
    """A fresh namespace on a virtual clock, for anything that depends on time."""
    return Hyperswitch(transport, new_namespace(control, seed=7, clock="virtual"))


@pytest.fixture
def gov(transport, control) -> Govuk:
    """A fresh namespace seen by a GOV.UK Pay service (system clock)."""
    return Govuk(transport, new_namespace(control, seed=11))


@pytest.fixture
def vgov(transport, control) -> Govuk:
    """A fresh namespace seen by a GOV.UK Pay service, on a virtual clock."""
    return Govuk(transport, new_namespace(control, seed=11, clock="virtual"))


@pytest.fixture(scope="module")
def live_provider(tmp_path_factory):
    """A real server on a free port in a thread, with a WAL file database."""
    db = tmp_path_factory.mktemp("live") / "provider.db"
    app = create_app({"db": str(db), "background": True})
    server = ServerThread(app, "127.0.0.1", 0).start()
    yield server
    server.stop()
    app.extensions["mock_psp"].close()


@pytest.fixture
def live_hs(live_provider) -> Hyperswitch:
    transport = LiveTransport(live_provider.url)
    return Hyperswitch(transport, new_namespace(Api(transport)))


@pytest.fixture
def receiver():
    """A local webhook receiver that records every request."""
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def pytest_terminal_summary(terminalreporter):
    if spec.spec_available():
        terminalreporter.write_line(
            f"Hyperswitch conformance: {CHECKED['responses']} responses validated against {spec.HYPERSWITCH_SPEC.name}"
        )
    else:
        terminalreporter.write_line(f"Hyperswitch conformance not checked: {spec.SKIP_REASON}")
    if govuk_spec.spec_available():
        terminalreporter.write_line(
            f"GOV.UK Pay conformance: {CHECKED['govuk']} responses validated against {govuk_spec.GOVUK_SPEC.name}"
        )
    else:
        terminalreporter.write_line(f"GOV.UK Pay conformance not checked: {govuk_spec.SKIP_REASON}")


def _shop(live_provider, tmp_path, dialect: str, **options):
    from mock_psp.test_merchant.run import start
    from tests.support.merchant import Shop

    running = start(live_provider.url, dialect, db=str(tmp_path / f"{dialect}-shop.db"), **options)
    try:
        yield Shop(running)
    finally:
        running.stop()


@pytest.fixture
def hs_shop(live_provider, tmp_path):
    """A test merchant on Hyperswitch, in its own fresh namespace on the live provider."""
    yield from _shop(live_provider, tmp_path, "hyperswitch")


@pytest.fixture
def gov_shop(live_provider, tmp_path):
    """A test merchant on GOV.UK Pay, in its own fresh namespace on the live provider."""
    yield from _shop(live_provider, tmp_path, "govuk")
