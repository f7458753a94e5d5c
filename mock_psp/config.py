"""Settings for one provider instance: defaults < TOML file < environment < CLI flags."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "MOCK_PSP_"
DEFAULT_PORT = 8420
DEFAULT_MERCHANT_PORT = 8421


def default_data_dir() -> Path:
    """Where the SQLite file lives unless --db says otherwise.

    ``$MOCK_PSP_DATA_DIR``, else ``$XDG_DATA_HOME/mock-psp``, else
    ``~/.local/share/mock-psp``.
    """
    explicit = os.environ.get(ENV_PREFIX + "DATA_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "mock-psp"


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    # A file path, or ":memory:". None means <data dir>/mock-psp.db.
    db: str | None = None
    # Seed for the default namespace's ids and outcome draws; None keeps the stored one.
    seed: int | None = None
    # Clock of the default namespace and of every namespace made without one of its own: "system" or
    # "virtual"; None keeps the default namespace's stored one (and new namespaces get "system").
    clock: str | None = None
    # Base URL used in links the provider hands out (redirects, payment links).
    # None means "the URL the request came in on".
    public_url: str | None = None
    # Host names answered besides 127.0.0.1, localhost, [::1] and the public URL's host
    # (docs/security.md); "*" answers any. A guard against DNS rebinding.
    allowed_hosts: list[str] = field(default_factory=list)
    # When set, the control API, the dashboard and the namespace listings need it
    # (``X-Mock-Token``); a dialect key still works on its own namespace.
    control_token: str | None = None
    threads: int = 16
    scheduler_interval: float = 0.05
    # Start the scheduler worker thread (system-clock jobs) with the app.
    background: bool = True

    def db_path(self) -> str:
        if self.db:
            return self.db
        directory = default_data_dir()
        directory.mkdir(parents=True, exist_ok=True)
        return str(directory / "mock-psp.db")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> Settings:
        known = {f.name for f in fields(cls)}
        values = dict(values or {})
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        hosts = values.get("allowed_hosts")
        if isinstance(hosts, str):
            values["allowed_hosts"] = _names(hosts)
        elif hosts is not None:
            values["allowed_hosts"] = [str(name) for name in hosts]
        return cls(**values)

    @classmethod
    def load(cls, config_file: str | None = None, env: Mapping[str, str] | None = None,
             **overrides: Any) -> Settings:
        """Merge the layers; ``overrides`` are CLI flags (None means "not given")."""
        values: dict[str, Any] = {}
        if config_file:
            with open(config_file, "rb") as fh:
                values.update(tomllib.load(fh).get("provider", {}))
        values.update(_from_env(os.environ if env is None else env))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_mapping(values)


def _names(raw: str) -> list[str]:
    """A comma-separated list (MOCK_PSP_ALLOWED_HOSTS=a.test,b.test)."""
    return [name.strip() for name in raw.split(",") if name.strip()]


_CASTS = {"port": int, "seed": int, "threads": int, "scheduler_interval": float, "allowed_hosts": _names}


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values = {}
    for f in fields(Settings):
        raw = env.get(ENV_PREFIX + f.name.upper())
        if raw is not None and f.name != "background":
            values[f.name] = _CASTS.get(f.name, str)(raw)
    return values
