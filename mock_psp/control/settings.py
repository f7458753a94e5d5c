"""A namespace's settings, faults included, as every front end changes them (the control API, the
dashboard): one service, each change in one transaction.

Flask-free: callers pass the provider, whose dialects may keep settings of their own under
their key (``PUT /_mock/config {"govpay_lk": {...}}``).
"""

from __future__ import annotations

import json
from typing import Any

from ..domain import namespace_config
from ..domain import namespaces
from ..domain.errors import INVALID_CONFIG
from ..domain.errors import DomainError
from ..domain.namespaces import Namespace
from ..runtime.clock import iso_ms
from ..web import api_faults
from ..webhooks import faults as webhook_faults


def _configurable(provider) -> dict:
    """The dialects that keep settings of their own, by the key they go under."""
    return {d.key: d for d in provider.dialects.values() if d.settings is not None}


def config_view(provider, namespace: Namespace) -> dict:
    """The namespace's settings, with each dialect's own settings under its key."""
    return {**namespaces.public_config(namespace),
            **{key: d.settings.current(namespace) for key, d in _configurable(provider).items()}}


def apply_config(provider, namespace: Namespace, update: Any, faults: dict | None = None) -> Namespace:
    """Validate and apply a partial settings update (and, given ``faults``, a faults update as for set_faults)
    in one transaction, all or nothing; DomainError names the field."""
    if not isinstance(update, dict):
        raise DomainError(INVALID_CONFIG, "config: must be a JSON object of settings", {"field": "config"})
    update = dict(update)
    configurable = _configurable(provider)
    dialect_updates = {key: update.pop(key) for key in list(update) if key in configurable}
    with provider.store.write() as db:
        for key, value in dialect_updates.items():
            merged = configurable[key].settings.validate(namespace.settings_of(key), value)
            namespaces.set_dialect_settings(provider.store, namespace.id, key, merged)
        namespace = namespaces.update_config(provider.store, namespace.id, update) if update \
            else namespaces.get(provider.store, namespace.id)
        if faults is not None:
            _set_faults_in(db, namespace.id, faults)
    for key in dialect_updates:
        # A dialect whose settings name a callback URL (GovPay+'s update_url) owns one webhook endpoint.
        provider.webhooks.endpoints.set_owned(namespace.id, key, configurable[key].settings.owned_endpoint(namespace))
    return namespace


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


# -- what a previous run left: the banner's "Steered" line ---------------------------------------------


def steering(provider, namespace: Namespace, clock_asked: str | None = None) -> list[str]:
    """The namespace's steering, each part as a short phrase ("delays.refund 30s"); [] when it behaves
    as a new one would. A virtual clock asked for at start (``clock_asked``) is not steering."""
    parts = []
    if namespace.clock_mode == "virtual" and clock_asked != "virtual":
        parts.append(f"virtual clock stopped at {iso_ms(namespace.now_ms())}")
    parts += _changed_settings(namespace.config)
    if namespace.scripted_outcomes:
        count = len(namespace.scripted_outcomes)
        parts.append(f"{count} scripted outcome{'' if count == 1 else 's'}")
    faults = faults_view(provider, namespace)
    if faults["webhooks"] != {**webhook_faults.DEFAULTS, "next": []}:
        parts.append("webhook faults")
    if faults["api"] != {**api_faults.DEFAULTS, "next": []}:
        parts.append("API faults")
    return parts


def _changed_settings(config: dict) -> list[str]:
    defaults = namespace_config.DEFAULT_CONFIG
    changed = []
    for key, default in defaults.items():
        value = config.get(key, default)
        if key in namespaces.WIRING_SETTINGS or value == default:
            continue
        if isinstance(default, dict):
            unit = "s" if key == "delays" else ""
            changed += [f"{key}.{name} {_shown(value[name])}{unit}" for name in default
                        if value.get(name) != default[name]]
        else:
            changed.append(f"{key} {_shown(value)}")
    return changed


def _shown(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (list, dict)) or value is None else str(value)
