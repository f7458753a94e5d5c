"""Resetting and deleting namespaces, as every front end does it (the control API, the dashboard):
the store's rows through the domain, and what the provider keeps in memory for them (the request
journal, the dashboard's home).

Flask-free, like control/settings.py.
"""

from __future__ import annotations

from ..domain import namespaces
from ..domain.namespaces import Namespace
from ..domain.namespaces import ResetAll


def reset(provider, namespace_id: str, keep_config: bool = True) -> Namespace:
    """Empty one namespace (keys stay); without ``keep_config`` its steering goes too (domain reset)."""
    namespace = namespaces.reset(provider.store, namespace_id, keep_config=keep_config)
    provider.journal.clear(namespace.id)
    return namespace


def reset_all(provider, keep_config: bool = True) -> ResetAll:
    """Empty every namespace, in one transaction."""
    done = namespaces.reset_all(provider.store, keep_config=keep_config)
    for namespace_id in done.ids:
        provider.journal.clear(namespace_id)
    return done


def delete(provider, namespace_id: str) -> None:
    """Remove a namespace and everything it holds; its keys stop working. The default one is refused."""
    namespaces.delete(provider.store, namespace_id)
    provider.journal.clear(namespace_id)
    if provider.dashboard_home == namespace_id:
        provider.dashboard_home = None
