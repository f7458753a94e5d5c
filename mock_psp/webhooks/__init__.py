"""Outgoing webhooks: outbox -> events -> signed deliveries, retried on the namespace clock."""
