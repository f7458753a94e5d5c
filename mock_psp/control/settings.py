"""Changing a namespace's settings, for every front end that does it (the control API, the dashboard).

Flask-free: callers pass the provider and the dialect settings registry
(``app.extensions["dialect_config"]``).
"""

from __future__ import annotations

from typing import Any

from ..domain import namespaces
from ..domain.errors import INVALID_CONFIG
from ..domain.errors import DomainError
from ..domain.namespaces import Namespace
from .. import api_faults
from ..webhooks import faults as webhook_faults


def config_view(namespace: Namespace, dialect_configs: dict) -> dict:
    """The namespace's settings, with each dialect's own settings under its key."""
    return {**namespaces.public_config(namespace),
            **{key: module.current(namespace) for key, module in dialect_configs.items()}}


def apply_config(provider, dialect_configs: dict, namespace: Namespace, update: Any,
                 faults: dict | None = None) -> Namespace:
    """Validate and apply a partial settings update (and, given ``faults``, a faults update as for set_faults)
    in one transaction, all or nothing; DomainError names the field."""
    if not isinstance(update, dict):
        raise DomainError(INVALID_CONFIG, "config: must be a JSON object of settings", {"field": "config"})
    update = dict(update)
    dialect_updates = {key: update.pop(key) for key in list(update) if key in dialect_configs}
    with provider.store.write() as db:
        for key, value in dialect_updates.items():
            merged = dialect_configs[key].validate(namespace.dialect_settings.get(key, {}), value)
            namespaces.set_dialect_settings(db, namespace.id, key, merged)
        namespace = namespaces.update_config(db, namespace, update) if update else namespaces.get(db, namespace.id)
        if faults is not None:
            _set_faults_in(db, namespace.id, faults)
    for key in dialect_updates:
        _sync_dialect_endpoint(provider, dialect_configs[key], key, namespace)
    return namespace


def _sync_dialect_endpoint(provider, module, key: str, namespace: Namespace) -> None:
    """A dialect whose settings name a callback URL (GovPay+'s update_url) owns one webhook endpoint."""
    url = module.current(namespace).get("update_url")
    values = {"url": url, "scheme": key, "dialect": module.DIALECT} if url else None
    provider.webhooks.set_source_endpoint(namespace, key, values)


def set_faults(provider, namespace: Namespace, update: dict) -> dict:
    """Apply ``{"webhooks"?: {...}, "api"?: {...}}`` in one transaction, all or nothing."""
    with provider.store.write() as db:
        _set_faults_in(db, namespace.id, update)
        return _faults_in(db, namespace.id)


def faults_view(provider, namespace: Namespace) -> dict:
    with provider.store.read() as db:
        return _faults_in(db, namespace.id)


def _set_faults_in(db, namespace_id: str, update: dict) -> None:
    if "webhooks" in update:
        webhook_faults.set_namespace_faults(db, namespace_id, update["webhooks"])
    if "api" in update:
        api_faults.update(db, namespace_id, update["api"])


def _faults_in(db, namespace_id: str) -> dict:
    return {"webhooks": webhook_faults.namespace_faults(db, namespace_id), "api": api_faults.view(db, namespace_id)}


def api_fault_log(provider, namespace: Namespace, limit: int = 100) -> list[dict]:
    with provider.store.read() as db:
        return api_faults.log_entries(db, namespace.id, limit)
