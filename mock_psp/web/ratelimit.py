"""Per-namespace request rate limits, counted in one-second windows of real time.

Rate limits are about the load a client puts on a server, so they use the wall
clock even for a namespace on a virtual clock. Kept per app, in memory.
"""

from __future__ import annotations

import threading
import time


class RateLimiter:
    def __init__(self):
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def allow(self, namespace_id: str, kind: str, per_second: int) -> bool:
        """Count one request of ``kind``; False once ``per_second`` is used up in this second."""
        second = int(time.monotonic())
        with self._lock:
            window, used = self._windows.get((namespace_id, kind), (second, 0))
            if window != second:
                window, used = second, 0
            if used >= per_second:
                return False
            self._windows[(namespace_id, kind)] = (window, used + 1)
            return True
