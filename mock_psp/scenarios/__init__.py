"""Scripted end-to-end scenarios: YAML files run against the provider and the test merchant."""
