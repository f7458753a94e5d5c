"""Run a merchant: build the app, bind a port, connect it to the provider.

``start(...)`` returns a running merchant on a background thread (for tests and
for ``mock-psp up``); ``mock-psp merchant`` runs one in the foreground.
"""

from __future__ import annotations

from dataclasses import dataclass

# The provider's server (waitress, with its deadlines and JSON low-level errors): the shop
# faces the same clients, so it runs on the same serving layer.
from ..runtime.server import ServerThread
from .app import create_app
from .provision import provision
from .service import Merchant


@dataclass
class RunningMerchant:
    app: object
    server: ServerThread

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def merchant(self) -> Merchant:
        return self.app.extensions["test_merchant"]

    def stop(self) -> None:
        self.server.stop()
        self.merchant.store.close()


def start(psp_url: str, dialect: str, *, host: str = "127.0.0.1", port: int = 0, db: str = ":memory:",
          namespace: str | None = None, scheme: str | None = None, reconcile_after: float | None = None,
          public_url: str | None = None, govpay_auth: str | None = None,
          govpay_encryption: bool | None = None, control_token: str | None = None,
          allowed_hosts: list[str] | tuple[str, ...] = ()) -> RunningMerchant:
    """Start a merchant on a background thread and connect it to the provider at ``psp_url``.

    ``govpay_auth`` (bearer | oauth2) and ``govpay_encryption`` apply to ``govpay-lk`` only;
    ``control_token`` is the provider's (if it has one), ``allowed_hosts`` the names the shop
    answers for besides the loopback ones and its own URL's."""
    config = {"dialect": dialect, "psp_url": psp_url, "db": db, "scheme": scheme, "control_token": control_token,
              "allowed_hosts": list(allowed_hosts)}
    if reconcile_after is not None:
        config["reconcile_after"] = reconcile_after
    app = create_app(config)
    server = ServerThread(app, host, port)
    try:
        provision(app.extensions["test_merchant"], public_url or server.url, namespace, scheme,
                  govpay_auth=govpay_auth, govpay_encryption=govpay_encryption)
    except Exception:
        server.stop()  # bound but not serving: release the port
        app.extensions["test_merchant"].store.close()
        raise
    server.start()
    return RunningMerchant(app, server)
