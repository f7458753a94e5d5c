"""The Hyperswitch payments API (v1), mounted under /hyperswitch."""
