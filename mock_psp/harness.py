"""The whole harness in one process: the provider and a test merchant wired to it.

Used by ``mock-psp up``, the scenario runner and the pytest plugin. Both servers
run on background threads (port 0 picks free ports); ``stop()`` stops both.
"""

from __future__ import annotations

from dataclasses import dataclass

from .app import create_app
from .config import Settings
from .dialects import registry
from .domain import namespaces
from .runtime.server import ServerThread
from .test_merchant.run import RunningMerchant
from .test_merchant.run import start as start_merchant


@dataclass
class Harness:
    app: object
    server: ServerThread
    merchant: RunningMerchant | None

    @property
    def psp_url(self) -> str:
        return self.server.url

    @property
    def shop_url(self) -> str | None:
        return self.merchant.url if self.merchant else None

    @property
    def provider(self):
        return self.app.extensions["mock_psp"]

    def stop(self) -> None:
        if self.merchant is not None:
            self.merchant.stop()
        self.server.stop()
        self.provider.close()


def provider_setting(settings: Settings | dict, name: str):
    return getattr(settings, name) if isinstance(settings, Settings) else settings.get(name)


def start_harness(settings: Settings | dict | None = None, *, dialect: str | None = registry.DEFAULT.name,
                  merchant_port: int = 0, merchant_db: str = ":memory:", merchant_namespace: str | None = None,
                  scheme: str | None = None) -> Harness:
    """Start a provider (``settings``: a Settings, or create_app's config dict) and, unless
    ``dialect`` is None, a test merchant for that dialect in a namespace of its own."""
    settings = settings if settings is not None else {"db": ":memory:", "port": 0}
    app = create_app(settings)
    host = settings.host if isinstance(settings, Settings) else settings.get("host", "127.0.0.1")
    port = settings.port if isinstance(settings, Settings) else settings.get("port", 0)
    threads = settings.threads if isinstance(settings, Settings) else 16
    server = ServerThread(app, host, port, threads).start()
    app.extensions["mock_psp"].serving_at(server.url)
    merchant = None
    if dialect is not None:
        try:
            merchant = start_merchant(server.url, dialect, host=host, port=merchant_port, db=merchant_db,
                                      namespace=merchant_namespace, scheme=scheme,
                                      control_token=provider_setting(settings, "control_token"),
                                      allowed_hosts=provider_setting(settings, "allowed_hosts") or ())
        except Exception:
            server.stop()
            app.extensions["mock_psp"].close()
            raise
        mark_shop_namespace(app.extensions["mock_psp"], merchant.merchant.wiring)
    return Harness(app, server, merchant)


def shop_label(dialect: str) -> str:
    return f"test shop, {dialect}"


def mark_shop_namespace(provider, wiring) -> None:
    """Label the shop's namespace (also one a previous run made) and make it the dashboard's home,
    so the dashboard's plain link (/_mock/ui/) opens the shop's payments."""
    namespaces.set_label(provider.store, wiring.namespace, shop_label(wiring.dialect))
    provider.dashboard_home = wiring.namespace
