"""What the merchant needs from any provider, in the merchant's own words.

Each dialect client turns the provider's answers into these: a payment is
``pending``, ``paid``, ``failed`` or ``cancelled``; a refund is ``pending``,
``succeeded`` or ``failed``. The order logic never sees a provider's vocabulary.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests

PENDING, PAID, FAILED, CANCELLED = "pending", "paid", "failed", "cancelled"
REFUND_PENDING, REFUND_SUCCEEDED, REFUND_FAILED = "pending", "succeeded", "failed"
TIMEOUT_SECONDS = 10
ATTEMPTS = 3


@dataclass(frozen=True)
class PaymentTruth:
    """A payment as the provider's API describes it right now."""

    payment_id: str
    state: str
    provider_status: str
    amount: int
    paid_amount: int
    failure: str | None = None


@dataclass(frozen=True)
class RefundTruth:
    refund_id: str
    payment_id: str
    amount: int
    state: str
    provider_status: str
    error: str | None = None


@dataclass(frozen=True)
class Event:
    """What a webhook says happened. Only its ids are trusted, and only after the signature checks out."""

    event_id: str
    event_type: str
    object_type: str  # "payment", "refund" or something this merchant does not handle
    object_id: str
    payment_id: str | None
    claims: str | None  # the state the event says the object is in (used to spot stale events)


class ProviderError(Exception):
    """The provider refused a call, or could not be reached.

    ``status`` is the HTTP status (None when nothing came back); ``code`` the
    provider's error code; ``uncertain`` is True when the request may have taken
    effect without us hearing the answer.
    """

    def __init__(self, message: str, status: int | None = None, code: str | None = None, uncertain: bool = False):
        super().__init__(message)
        self.status = status
        self.code = code
        self.uncertain = uncertain


class HttpClient:
    """requests with a session per thread, timeouts, and retries for calls that are safe to repeat."""

    def __init__(self, base_url: str, headers: dict[str, str]):
        self.base_url = base_url.rstrip("/")
        self.headers = headers
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update(self.headers)
        return session

    def call(self, method: str, path: str, *, json: Any = None, headers: dict | None = None,
             repeatable: bool = False) -> requests.Response:
        """Send one request. Repeatable calls (reads, and writes the provider de-duplicates)
        are retried on connection errors and 5xx; others are sent once."""
        attempts = ATTEMPTS if repeatable else 1
        for attempt in range(1, attempts + 1):
            try:
                response = self._session().request(method, self.base_url + path, json=json, headers=headers,
                                                   timeout=TIMEOUT_SECONDS)
            except requests.RequestException as error:
                if attempt == attempts:
                    raise ProviderError(f"{method} {path}: {error.__class__.__name__}: {error}",
                                        uncertain=method != "GET") from error
            else:
                if response.status_code < 500 or attempt == attempts:
                    return response
            time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")


def body_of(response: requests.Response) -> dict:
    try:
        body = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        return {}
    return body if isinstance(body, dict) else {}
