"""The merchant's clients for each provider's public API: one module per dialect, one shape
(clients.py lists them)."""
