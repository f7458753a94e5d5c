"""pytester for the plugin's tests, and only for them.

``pytest_plugins = ["pytester"]`` is what one would write here, but pytest refuses
``pytest_plugins`` in a conftest that is not loaded at start-up ("Defining
'pytest_plugins' in a non-top-level conftest is no longer supported"), and
``pytest tests`` reaches this folder only while collecting. Importing the plugin
when this conftest is configured does the same thing and works either way.
"""

from __future__ import annotations


def pytest_configure(config):
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")
