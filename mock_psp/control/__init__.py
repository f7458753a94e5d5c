"""The /_mock test-control API."""
