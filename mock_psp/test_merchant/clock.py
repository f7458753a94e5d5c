"""The merchant's sense of now: the provider's clock when that one is virtual.

A test that freezes the provider's clock and moves it 15 minutes expects the
shop to see orders as 15 minutes old, so timestamps and reconciliation ages
follow the provider's namespace clock when it is virtual, and the system clock
otherwise (or when the provider cannot say).
"""

from __future__ import annotations

import time
from datetime import datetime

import requests


class MerchantClock:
    def __init__(self, psp_url: str, namespace: str | None, control_token: str | None = None):
        self.psp_url = psp_url.rstrip("/")
        self.namespace = namespace
        self._session = requests.Session()
        if control_token:
            self._session.headers["X-Mock-Token"] = control_token

    def now(self) -> float:
        if not self.namespace:
            return time.time()
        try:
            reply = self._session.get(f"{self.psp_url}/_mock/namespaces/{self.namespace}", timeout=5)
            clock = reply.json().get("clock") or {}
        except (requests.RequestException, ValueError, AttributeError):
            return time.time()
        if clock.get("mode") != "virtual":
            return time.time()
        return datetime.fromisoformat(clock["now"].replace("Z", "+00:00")).timestamp()
