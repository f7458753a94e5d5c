"""One duration grammar: the control API, the dashboard, the CLI, scenario files and the pytest
plugin's clock take the same durations, refuse the same ones, and move the clock as far."""

from __future__ import annotations

import re

import pytest
import requests
from click.testing import CliRunner

from mock_psp.cli import cli
from mock_psp.client.control import Control
from mock_psp.client.control import PspHttpError
from mock_psp.client.control import parse_time
from mock_psp.scenarios.runner import StepFailed
from mock_psp.scenarios.runner import seconds
from mock_psp.testing.namespace import Clock

pytestmark = pytest.mark.e2e

ACCEPTED = {"90": 90, "90s": 90, "15m": 900, "1.5h": 5400, "2d": 172800, "1h30m": 5400, "1h 30m": 5400,
            "1H30M": 5400, "500ms": 0.5, "0": 0}
REFUSED = ("soon", "5y", "1h30", "", "2h-", "-5m", "5 minutes")


def _control_api(url: str, namespace: str, text: str) -> bool:
    reply = requests.post(f"{url}/_mock/clock/advance", json={"duration": text}, timeout=30,
                          headers={"X-Mock-Namespace": namespace})
    assert reply.status_code in (200, 400), reply.text
    return reply.status_code == 200


def _dashboard(url: str, namespace: str, text: str) -> bool:
    with requests.Session() as browser:
        page = browser.get(f"{url}/_mock/ui/clock?ns={namespace}", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        reply = browser.post(f"{url}/_mock/ui/clock/advance?ns={namespace}", timeout=30,
                             data={"csrf_token": token, "duration": text})
    assert reply.status_code in (200, 400), reply.text[:300]
    return reply.status_code == 200


def _cli(url: str, namespace: str, text: str) -> bool:
    result = CliRunner().invoke(cli, ["clock", "advance", "--url", url, "-n", namespace, "--", text])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code == 0


class _Namespace:
    def __init__(self, url: str, namespace: str):
        self.client = Control(url, namespace)


def _plugin_clock(url: str, namespace: str, text: str) -> bool:
    try:
        Clock(_Namespace(url, namespace)).advance(text)
    except PspHttpError as error:
        assert error.status == 400
        return False
    return True


SURFACES = {"control API": _control_api, "dashboard": _dashboard, "CLI": _cli, "plugin": _plugin_clock}


def _moved(live_provider, surface, text: str) -> float | None:
    """How far the surface moved a fresh virtual clock on ``text`` (None: it refused it)."""
    namespace = Control(live_provider.url).create_namespace(clock="virtual")["id"]
    control = Control(live_provider.url, namespace)
    before = control.now()
    if not surface(live_provider.url, namespace, text):
        assert control.now() == before
        return None
    return (control.now() - before).total_seconds()


@pytest.mark.parametrize("surface", SURFACES.values(), ids=SURFACES.keys())
@pytest.mark.parametrize("text", ACCEPTED)
def test_every_surface_takes_the_same_durations_and_moves_the_clock_as_far(live_provider, surface, text):
    assert _moved(live_provider, surface, text) == ACCEPTED[text]
    assert seconds(text) == ACCEPTED[text]  # a scenario file's advance_clock and within


@pytest.mark.parametrize("surface", SURFACES.values(), ids=SURFACES.keys())
@pytest.mark.parametrize("text", REFUSED)
def test_every_surface_refuses_the_same_durations(live_provider, surface, text):
    assert _moved(live_provider, surface, text) is None
    with pytest.raises(StepFailed, match="is not a duration"):
        seconds(text)


def test_the_clock_command_shows_and_sets_the_clock(live_provider):
    namespace = Control(live_provider.url).create_namespace(clock="virtual")["id"]
    runner = CliRunner()
    moved = runner.invoke(cli, ["clock", "set", "2030-01-01T00:00:00Z", "--url", live_provider.url, "-n", namespace])
    assert moved.exit_code == 0 and "2030-01-01T00:00:00.000Z  (virtual clock" in moved.output
    shown = runner.invoke(cli, ["clock", "--url", live_provider.url, "-n", namespace])
    assert shown.exit_code == 0 and shown.output.startswith("2030-01-01T00:00:00.000Z")
    assert parse_time(Control(live_provider.url, namespace).clock()["now"]).year == 2030
    resumed = runner.invoke(cli, ["clock", "resume", "--url", live_provider.url, "-n", namespace])
    assert resumed.exit_code == 0 and "(system clock" in resumed.output
    refused = runner.invoke(cli, ["clock", "advance", "1h", "--url", live_provider.url, "-n", namespace])
    assert refused.exit_code == 1 and "system clock" in refused.output
