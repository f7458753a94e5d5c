"""One test's namespace (``psp_namespace``), its clock (``psp_clock``) and its webhook delivery log
(``psp_deliveries``)."""

from __future__ import annotations

import json
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

from ..client.control import TIMEOUT
from ..client.control import Control
from ..client.control import call
from ..client.control import parse_time
from ..dialects import registry


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


class Namespace:
    """A fresh namespace for one test (``psp_namespace``): its keys, URLs and settings.

    ``id``; each dialect's keys under its key (``hyperswitch``, ``govuk``, ``govpay_lk``: as
    ``POST /_mock/namespaces`` returns them, with ``base_url``); ``data`` (the whole document).
    """

    def __init__(self, server, data: dict):
        self.server = server
        self.psp_url = server.url
        self.data = data
        self.id: str = data["id"]
        self.http = requests.Session()
        self.client = Control(self.psp_url, self.id, session=self.http, token=server.token)
        self._wired: dict[str, Any] = {}
        self._sessions: list[requests.Session] = []

    def __repr__(self) -> str:
        return f"<psp namespace {self.id} at {self.psp_url}>"

    def __getattr__(self, name: str) -> dict:
        """Each dialect's keys by its key: ``psp_namespace.hyperswitch``, ``.govuk``, ``.govpay_lk``."""
        if name in registry.KEYS:
            return self.data[name]
        raise AttributeError(name)

    def keys(self, dialect: str) -> dict:
        """The dialect's keys in this namespace, with its ``base_url``."""
        return self.data[registry.named(dialect).key]

    def base_url(self, dialect: str) -> str:
        """The dialect's API base URL: ``.../hyperswitch``, ``.../govuk``, ``.../govpay-lk``."""
        return self.keys(dialect).get("base_url") or f"{self.psp_url}{registry.named(dialect).prefix}"

    def headers(self, dialect: str) -> dict[str, str]:
        """The dialect's authentication header with this namespace's secret key."""
        try:
            described = registry.named(dialect)
        except LookupError as error:
            raise ValueError(str(error)) from None
        return described.client.headers(self.keys(dialect), "secret")

    def api(self, dialect: str) -> DialectSession:
        """A requests session on the dialect's API, authenticated as this namespace:
        ``psp_namespace.api("hyperswitch").post("/payments", json={...})``."""
        session = DialectSession(self.base_url(dialect), self.headers(dialect))
        self._sessions.append(session)
        return session

    # -- the control API, on this namespace ---------------------------------------------------------

    def control(self, method: str, path: str, body: Any = None, **params) -> Any:
        """Call ``/_mock{path}`` for this namespace; raises PspHttpError on an error status."""
        return self.client.call(method, path, body, params or None)

    def refresh(self) -> dict:
        """Read the namespace again (its settings and clock); returns ``data``."""
        self.data = self.client.namespace_document(self.id)
        return self.data

    def config(self, **changes) -> dict:
        """Change the named settings (``config(success_rates={"card": 0.5})``); with none, read them.
        Returns the settings."""
        return self.client.set_config(changes) if changes else self.client.config()

    def faults(self, **webhooks) -> dict:
        """Set webhook faults (``faults(drop=0.2, next=["duplicate"])``); with none, read them."""
        return self.client.set_faults(webhooks=webhooks) if webhooks else self.client.faults()

    def api_faults(self, **settings) -> dict:
        """Set API faults (``api_faults(next=["lost_response"], routes=["POST /hyperswitch/payments"])``);
        with none, read them. Returns the API fault settings."""
        return self.client.set_faults(api=settings)["api"] if settings else self.client.faults()["api"]

    def api_fault_log(self) -> list[dict]:
        """The API calls faulted so far, newest first: ``[{"at", "method", "path", "fault", ...}]``."""
        return self.client.call("GET", "/faults/api/log")["data"]

    def outcomes(self, names: list[str] | None = None, replace: bool = False) -> list[str]:
        """Queue scripted outcomes for the next payments (``outcomes(["declined", "3ds"])``);
        with none, read the queue. Returns the queue."""
        return self.client.outcomes() if names is None else self.client.push_outcomes(names, replace)

    def export(self) -> dict:
        """The namespace's snapshot (``GET /_mock/namespaces/{id}/export``)."""
        return self.client.export_namespace(self.id)

    def save_snapshot(self, path) -> Path:
        """Write the namespace's snapshot to ``path``, for ``@pytest.mark.mock_psp(snapshot=...)``."""
        path = Path(path)
        path.write_text(json.dumps(self.export(), indent=1, sort_keys=True) + "\n")
        return path

    def reset(self, keep_config: bool = True) -> None:
        """Empty the namespace (payments, refunds, jobs, outcomes); keys stay. ``keep_config=False``
        also puts its settings, faults and clock back to the defaults."""
        self.client.reset(keep_config)

    def events(self, payment_id: str) -> list[dict]:
        """A payment's audit log: ``[{"object", "object_id", "from", "to", "reason", "at"}, ...]``."""
        return self.client.events(payment_id)

    def webhook_endpoint(self, url: str, **fields) -> dict:
        """Register a webhook endpoint (``scheme``, ``events``, ``retry_schedule``, ...)."""
        return self.client.create_webhook_endpoint(url, **fields)

    def flush(self) -> list[dict]:
        """Run every job due now (webhook deliveries first of all), synchronously."""
        return self.client.flush()

    # -- merchants -------------------------------------------------------------------------------

    def wire(self, dialect: str):
        """Connect the session's ``dialect`` merchant to this namespace, with empty books."""
        running = self._wired.get(dialect)
        if running is None:
            from ..test_merchant.provision import provision

            running = self.server.merchant(dialect)
            provision(running.merchant, running.url, namespace=self.id)
            self._wired[dialect] = running
            call(self.http, "POST", f"{running.url}/_merchant/reset", {})
        return running

    def close(self) -> None:
        """End of the test: deliver what is due now, unhook the merchants, stop the clock.

        Deliveries due now are made here so that what they cause (and any error they
        log) belongs to this test; the merchants' endpoints are deleted so that no
        late retry reaches a merchant another test is using; a system clock is
        frozen so that none of this namespace's jobs run during later tests.
        """
        problems: list[BaseException] = []
        steps = [self.flush]
        for running in self._wired.values():
            endpoint_id = running.merchant.wiring.endpoint_id
            if endpoint_id is not None:
                steps.append(lambda endpoint_id=endpoint_id: self.client.delete_webhook_endpoint(endpoint_id))
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
        if self.client.clock()["mode"] != "virtual":
            self.client.set_config({"clock": "virtual"})


class Clock:
    """The test namespace's clock (``psp_clock``), virtual unless the test asked otherwise."""

    def __init__(self, namespace: Namespace):
        self.namespace = namespace

    def now(self) -> datetime:
        """The namespace's current time (timezone-aware, UTC)."""
        return self.namespace.client.now()

    @property
    def mode(self) -> str:
        return self.namespace.client.clock()["mode"]

    def advance(self, duration: float | str | timedelta) -> list[dict]:
        """Move the clock forward and run every job due on the way, each at its due time.

        :param duration: seconds (``90``), a duration (``"15m"``, ``"1h30m"``, ``"2d"``; the grammar
            of docs/control-api.md) or a timedelta.
        :return: the jobs that ran, in order (``{"id", "kind", "due_at", "state", ...}``).
        """
        return self.namespace.client.advance(duration)["ran"]

    def set(self, when: datetime | str) -> list[dict]:
        """Move the clock to an instant (running due jobs on the way); returns the jobs that ran."""
        return self.namespace.client.set_clock(when)["ran"]

    def pending(self) -> list[dict]:
        """The namespace's jobs still waiting: ``[{"id", "kind", "due_at", "payload"}]``."""
        return self.namespace.client.clock()["pending_jobs"]


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
        return self.namespace.client.deliveries(status=status, event_type=event_type, payment_id=payment_id,
                                                object_id=object_id, endpoint_id=endpoint_id)

    filter = list

    def event_types(self, **filters) -> list[str]:
        """The event type of each delivery matching the filters, oldest first."""
        return [d["event_type"] for d in self.list(**filters)]

    def get(self, delivery_id: str) -> dict:
        """One delivery with its payload and its request and response headers."""
        return self.namespace.client.delivery(delivery_id)

    def retry(self, delivery_id: str) -> dict:
        """Send a delivery again now (a manual retry); returns the updated delivery."""
        return self.namespace.client.retry_delivery(delivery_id)

    def flush(self) -> list[dict]:
        """Deliver everything due now, synchronously; returns the jobs that ran."""
        return self.namespace.flush()

    def __iter__(self):
        return iter(self.list())

    def __len__(self) -> int:
        return len(self.list())


__all__ = ["Clock", "Deliveries", "DialectSession", "Namespace", "parse_time"]
