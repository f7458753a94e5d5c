"""Why a scenario run could not happen, as CI needs it: one line on stderr, exit code 2.

Exit 1 is kept for "a scenario failed", so a pipeline can tell a red suite from one that
never ran (a provider or merchant that does not answer, a bad file, nothing chosen).
"""

from __future__ import annotations

import os

import click
import requests

COULD_NOT_RUN = 2


class CouldNotRun(click.ClickException):
    """The run could not start or carry on; the message says why, in one line."""

    exit_code = COULD_NOT_RUN

    def show(self, file=None) -> None:
        click.echo(f"mock-psp: {self.format_message()}", err=True)


def debugging() -> bool:
    """MOCK_PSP_DEBUG=1 (what `mock-psp --debug` sets): let unexpected errors keep their traceback."""
    return os.environ.get("MOCK_PSP_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def unreachable(what: str, url: str, error: requests.RequestException) -> CouldNotRun:
    """"cannot reach the provider at URL: connection refused", from what requests raised."""
    return CouldNotRun(f"cannot reach the {what} at {url}: {_why(error)}")


def _why(error: requests.RequestException) -> str:
    if isinstance(error, requests.Timeout):
        return "no answer in time"
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError) or "Connection refused" in str(cause):
            return "connection refused"
        if "Name or service not known" in str(cause) or "nodename nor servname" in str(cause):
            return "unknown host"
        cause = cause.__cause__ or cause.__context__
    return "the connection failed"
