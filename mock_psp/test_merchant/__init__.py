"""The reference test merchant: a small shop backend that integrates with the provider
the way a careful merchant should (see docs/merchant.md). It imports nothing of
mock_psp: like any real merchant it knows the provider only by its HTTP API."""

from .app import create_app

__all__ = ["create_app"]
