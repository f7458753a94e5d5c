"""The one error type the domain raises.

The domain knows nothing about HTTP: it names what went wrong with a neutral
``code`` and the facts a dialect needs to phrase it (the object, the action, the
status). Each dialect's ``errors.py`` turns that into its provider's envelope.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

# Neutral codes. Dialects map every one of these; tests check that they do.
NOT_FOUND = "not_found"                  # object, object_id
DUPLICATE = "duplicate"                  # object, object_id
INVALID_STATE = "invalid_state"          # object, action, status, allowed
AMOUNT_TOO_LARGE = "amount_too_large"    # action (capture|refund), limit
AMOUNT_INVALID = "amount_invalid"        # action, field
TOO_MANY_REFUNDS = "too_many_refunds"    # limit
CLIENT_SECRET_MISMATCH = "client_secret_mismatch"
CLIENT_SECRET_EXPIRED = "client_secret_expired"
MISSING_FIELD = "missing_field"          # field
INVALID_FIELD = "invalid_field"          # field, message
NAMESPACE_NOT_FOUND = "namespace_not_found"
INVALID_CONFIG = "invalid_config"        # field, message
IDEMPOTENCY_CONFLICT = "idempotency_conflict"  # key: reused with a different request
AMOUNT_MISMATCH = "amount_mismatch"      # field, expected, actual (e.g. refund_amount_available)
TOKEN_INVALID = "token_invalid"          # an access token unknown or already used

ALL_CODES = frozenset(
    {
        NOT_FOUND,
        DUPLICATE,
        INVALID_STATE,
        AMOUNT_TOO_LARGE,
        AMOUNT_INVALID,
        TOO_MANY_REFUNDS,
        CLIENT_SECRET_MISMATCH,
        CLIENT_SECRET_EXPIRED,
        MISSING_FIELD,
        INVALID_FIELD,
        NAMESPACE_NOT_FOUND,
        INVALID_CONFIG,
        IDEMPOTENCY_CONFLICT,
        AMOUNT_MISMATCH,
        TOKEN_INVALID,
    }
)


@dataclass
class DomainError(Exception):
    """A business rule refused an operation."""

    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)
        if self.code not in ALL_CODES:
            raise ValueError(f"unknown domain error code {self.code!r}")

    def __getitem__(self, key: str) -> Any:
        return self.details[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.details.get(key, default)
