"""The provider for a test session (``psp_server``) and its test merchants, one per dialect."""

from __future__ import annotations

import threading
from typing import Any

from ..client.control import Control
from ..client.control import RemoteError
from ..dialects import registry
from .errors import ServerErrorLog

HOST = "127.0.0.1"


class PspServer:
    """The provider for the session (``psp_server``) and its test merchants, one per dialect.

    ``url`` is the provider's base URL. ``provider`` is the in-process provider
    (``None`` with ``--psp-url``). ``merchant(dialect)`` starts that dialect's test
    merchant the first time it is asked for.
    """

    def __init__(self, url: str | None = None, errors: ServerErrorLog | None = None, token: str | None = None):
        self._harness = None
        self.token = token if url is not None else None  # the in-process provider has none
        self._merchants: dict[str, Any] = {}
        self._browser = None
        self.errors = errors
        if errors is not None:
            errors.install()
        if url is None:
            from ..harness import start_harness

            try:
                self._harness = start_harness({"db": ":memory:", "host": HOST, "port": 0, "background": True},
                                              dialect=None)
            except BaseException:
                self.stop()
                raise
            url = self._harness.psp_url
        self.url = url.rstrip("/")
        self.control = Control(self.url, token=self.token)
        self.external = self._harness is None
        if self.external:
            try:
                self.control.health()
            except RemoteError as error:
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
        """The session's test merchant for ``dialect`` (a ``mock_psp.test_merchant.run.RunningMerchant``)."""
        if dialect not in registry.BY_NAME:
            raise ValueError(f"unknown dialect {dialect!r}; use one of {', '.join(registry.BY_NAME)}")
        if dialect not in self._merchants:
            from ..test_merchant.run import start

            self._merchants[dialect] = start(self.url, dialect, host=HOST, port=0, control_token=self.token)
        return self._merchants[dialect]

    def create_namespace(self, **body) -> dict:
        """A new namespace on the provider (``POST /_mock/namespaces``)."""
        return self.control.create_namespace(**body)

    def import_namespace(self, snapshot: dict) -> dict:
        """A new namespace holding a snapshot's state (``POST /_mock/namespaces/import``)."""
        return self.control.import_namespace(snapshot)

    @property
    def browser(self):
        """One Chromium for the session's browser scenarios, launched on first use."""
        if self._browser is None:
            from ..scenarios.browser import LazyBrowser

            self._browser = LazyBrowser()
        return self._browser

    def stop(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if getattr(self, "control", None) is not None:
            self.control.close()
        # Each server may take up to half a second (a request still in its app) to stop:
        # stop them side by side.
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
