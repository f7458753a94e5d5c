"""Chromium for browser steps: launched once per run, on first need; a fresh context per scenario.

Which Chromium: ``$MOCK_PSP_CHROMIUM``, else Debian's ``/usr/bin/chromium``, else the
one Playwright downloads (``python -m playwright install chromium``).
"""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]


SEE_DOCS = "see docs/scenarios.md"
HOW_TO_GET_CHROMIUM = (f"install Debian's chromium, run `python -m playwright install chromium`, or set "
                       f"MOCK_PSP_CHROMIUM ({SEE_DOCS})")


class BrowserUnavailable(Exception):
    """Playwright or Chromium is missing; the message says how to get them."""


def find_playwright():
    """Playwright's sync entry point, or BrowserUnavailable: it is the optional ``browser`` extra."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserUnavailable("browser steps need Playwright: pip install 'mock-psp[browser]' and a Chromium "
                                 f"({SEE_DOCS})") from None
    return sync_playwright


def chromium_executable() -> str | None:
    explicit = os.environ.get("MOCK_PSP_CHROMIUM")
    if explicit:
        return explicit
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    return None  # Playwright's own download, if it has one


class LazyBrowser:
    """One Chromium for a whole run, started by the first scenario that needs it."""

    def __init__(self):
        self._playwright = None
        self._browser = None
        self._missing: str | None = None

    def unavailable(self) -> str | None:
        """Why browser steps cannot run here, or None. Decided once, by starting Chromium, so a
        run skips its browser scenarios up front instead of failing each one midway."""
        if self._browser is None and self._missing is None:
            try:
                self._launch()
            except BrowserUnavailable as error:
                self._missing = str(error)
        return self._missing

    def new_page(self, width: int = 1100, height: int = 800):
        if self._browser is None:
            self._launch()
        context = self._browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    def _launch(self) -> None:
        sync_playwright = find_playwright()
        options = {"args": CHROMIUM_FLAGS}
        executable = chromium_executable()
        if executable:
            if not Path(executable).exists():  # known without starting anything
                raise BrowserUnavailable(f"browser steps need a Chromium: MOCK_PSP_CHROMIUM={executable} does not "
                                         f"exist; {HOW_TO_GET_CHROMIUM}")
            options["executable_path"] = executable
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(**options)
        except Exception as error:
            self._playwright.stop()
            self._playwright = None
            raise BrowserUnavailable(f"browser steps need a Chromium: cannot start one ({error.__class__.__name__}); "
                                     f"{HOW_TO_GET_CHROMIUM}") from error

    @property
    def started(self) -> bool:
        return self._browser is not None

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None
