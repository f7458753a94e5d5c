"""Browser fixtures: real Chromium, a live provider, a merchant site and a foreign site on other origins.

Chromium: ``$MOCK_PSP_CHROMIUM`` if set, else Debian's ``/usr/bin/chromium``, else the
browser Playwright installed itself (``python -m playwright install chromium``);
``scripts/test`` arranges one of those. Screenshots of every open page are written
to ``test-output/`` (``$MOCK_PSP_TEST_OUTPUT``) when a browser test fails.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask import request
from playwright.sync_api import sync_playwright

from mock_psp.app import create_app
from mock_psp.runtime.server import ServerThread
from mock_psp.scenarios.browser import CHROMIUM_FLAGS
from mock_psp.scenarios.browser import chromium_executable

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("MOCK_PSP_TEST_OUTPUT", ROOT / "test-output"))


@pytest.fixture(scope="package")  # closed after tests/browser: the scenario catalog starts its own Playwright
def browser():
    with sync_playwright() as playwright:
        executable = chromium_executable()
        options = {"args": CHROMIUM_FLAGS}
        if executable:
            options["executable_path"] = executable
        elif not shutil.which("chromium") and not _playwright_has_chromium(playwright):
            pytest.fail("No Chromium found: run scripts/test (it installs one) or set MOCK_PSP_CHROMIUM")
        chromium = playwright.chromium.launch(**options)
        yield chromium
        chromium.close()


def _playwright_has_chromium(playwright) -> bool:
    return Path(playwright.chromium.executable_path).exists()


@pytest.fixture(scope="session")
def provider_server(tmp_path_factory):
    app = create_app({"db": str(tmp_path_factory.mktemp("browser") / "provider.db"), "background": True})
    server = ServerThread(app, "127.0.0.1", 0).start()
    yield server
    server.stop()
    app.extensions["mock_psp"].close()


SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test shop</title>
<style>body{font-family:sans-serif;margin:2rem} .tall{height:3000px}</style>
<script src="%(provider)s/sdk/v1/mock-psp.js"></script></head>
<body>
<h1>Test shop</h1>
<button id="pay">Pay</button> <button id="pay-twice">Open twice</button>
<button id="forge">Forge a success message</button>
<pre id="log"></pre>
<div class="tall">Long page, to see the scroll lock.</div>
<script>
  window.events = [];
  var options = %(options)s;
  function record(kind) { return function (result) { window.events.push({kind: kind, result: result || null});
    document.getElementById("log").textContent += kind + " " + JSON.stringify(result || {}) + "\\n"; }; }
  function make() { return MockPSP.checkout(Object.assign({}, options, {
    onSuccess: record("success"), onFailure: record("failure"), onClose: record("close"), onAction: record("action")})); }
  window.checkout = null;
  document.getElementById("pay").onclick = function () { window.checkout = make(); window.checkout.open(); };
  document.getElementById("pay-twice").onclick = function () {
    window.checkout = make(); window.checkout.open(); window.checkout.open(); make().open(); };
  document.getElementById("forge").onclick = function () {
    window.postMessage({source: "mock-psp", type: "payment.succeeded", payment: {id: "pay_forged", status: "succeeded"}}, "*");
  };
  window.addForeignFrame = function (src) {
    var f = document.createElement("iframe"); f.id = "foreign"; f.src = src; document.body.appendChild(f); };
</script>
</body></html>"""

MODULE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Module shop</title></head>
<body><button id="pay">Pay</button>
<script type="module">
  import { MockPSP, PaymentGateway } from "%(provider)s/sdk/v1/mock-psp.mjs";
  window.moduleReady = typeof MockPSP.checkout === "function" && typeof PaymentGateway === "function";
  window.origin_seen = MockPSP.providerOrigin;
  document.getElementById("pay").onclick = function () {
    new PaymentGateway(%(options)s).open();
  };
</script></body></html>"""

RETURN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Back at the shop</title></head>
<body><h1 id="returned">Back at the shop</h1><p id="query">%(query)s</p></body></html>"""

FORGER_PAGE = """<!doctype html><html><body><script>
  parent.postMessage({source: "mock-psp", type: "payment.succeeded", payment: {id: "pay_forged", status: "succeeded"}}, "*");
  parent.postMessage({source: "mock-psp", type: "checkout.closed"}, "*");
</script>forger</body></html>"""

FRAMER_PAGE = """<!doctype html><html><body><h1>Framer</h1>
<iframe id="framed" src="%(src)s" style="width:400px;height:400px"></iframe></body></html>"""


def site_app(provider_url: str) -> Flask:
    """A small site on its own origin: the shop pages, a return page, and hostile helpers."""
    import json

    app = Flask("test_site")

    @app.get("/shop")
    def shop():
        return SHOP_PAGE % {"provider": provider_url, "options": json.dumps(dict(request.args))}

    @app.get("/module-shop")
    def module_shop():
        return MODULE_PAGE % {"provider": provider_url, "options": json.dumps(dict(request.args))}

    @app.get("/return")
    def returned():
        from markupsafe import escape

        return RETURN_PAGE % {"query": escape(request.query_string.decode())}

    @app.get("/forger")
    def forger():
        return FORGER_PAGE

    @app.get("/framer")
    def framer():
        from markupsafe import escape

        return FRAMER_PAGE % {"src": escape(request.args["src"])}

    return app


@pytest.fixture(scope="session")
def merchant_site(provider_server):
    server = ServerThread(site_app(provider_server.url), "127.0.0.1", 0).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def foreign_site(provider_server):
    server = ServerThread(site_app(provider_server.url), "127.0.0.1", 0).start()
    yield server
    server.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.browser_failed = report.failed


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    if getattr(request.node, "browser_failed", False):
        OUTPUT.mkdir(parents=True, exist_ok=True)
        for index, open_page in enumerate(context.pages):
            open_page.screenshot(path=str(OUTPUT / f"{request.node.name}-{index}.png"), full_page=True)
    context.close()
