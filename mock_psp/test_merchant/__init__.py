"""The reference test merchant: a small shop backend that integrates with the provider
the way a careful merchant should (see docs/merchant.md). It imports nothing of the
provider: like any real merchant it knows the provider only by its HTTP APIs (its own
client per dialect in psp/, and the control API client for its wiring). The app factory
is ``mock_psp.test_merchant.app.create_app``."""
