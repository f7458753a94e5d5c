"""The provider's moving parts for one app: settings, store, scheduler, default namespace.

Flask-free, so the CLI, the test fixtures and the app factory share it.
"""

from __future__ import annotations

from .config import Settings
from .domain import namespaces
from .domain.jobs import HANDLERS
from .scheduler import Scheduler
from .store import Store


class Provider:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = Store(settings.db_path())
        with self.store.write() as db:
            default = namespaces.ensure_default(db, settings.seed, settings.clock or "system")
            self._apply_start_options(db, default)
        self.scheduler = Scheduler(self.store, HANDLERS, settings.scheduler_interval)

    def _apply_start_options(self, db, default: namespaces.Namespace) -> None:
        """--seed and --clock given at start win over what the store remembers."""
        update = {}
        if self.settings.seed is not None and self.settings.seed != default.seed:
            update["seed"] = self.settings.seed
        if self.settings.clock is not None and self.settings.clock != default.clock_mode:
            update["clock"] = self.settings.clock
        if update:
            namespaces.update_config(db, default, update)

    def default_namespace(self) -> namespaces.Namespace:
        with self.store.read() as db:
            return namespaces.get(db, namespaces.DEFAULT_ID)

    def start(self) -> None:
        self.scheduler.start()

    def close(self) -> None:
        self.scheduler.stop()
        self.store.close()
