"""The control API's client: what the CLI, the pytest plugin, the scenario runner and the test
merchant use to drive a provider over HTTP. Plain HTTP: it imports nothing of the provider."""
