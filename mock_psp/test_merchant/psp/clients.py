"""The merchant's client for each provider's public API, by dialect (one module each, one shape)."""

from __future__ import annotations

from .base import Event
from .base import PaymentTruth
from .base import ProviderError
from .base import RefundTruth
from .govpay_lk import GovpayLkClient
from .govuk import GovukClient
from .hyperswitch import HyperswitchClient

CLIENTS = {"hyperswitch": HyperswitchClient, "govuk": GovukClient, "govpay-lk": GovpayLkClient}
DIALECTS = tuple(CLIENTS)

__all__ = ["CLIENTS", "DIALECTS", "Event", "GovpayLkClient", "GovukClient", "HyperswitchClient", "PaymentTruth",
           "ProviderError", "RefundTruth"]
