"""Run a WSGI app under waitress: in a background thread, or in the foreground until a signal.

waitress is a production server (a thread pool, HTTP/1.1 keep-alive, no
development-server warning). Port 0 asks the OS for a free port; ``.port``
tells which one it gave.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from waitress.server import create_server


class ServerThread:
    """A WSGI server on a daemon thread, stoppable from any thread."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, threads: int = 16):
        self.app = app
        self._server = create_server(
            app, host=host, port=port, threads=threads, ident="mock-psp",
            # Tests and scenarios open many short connections; don't let a
            # slow client hold a worker for long.
            channel_timeout=30, connection_limit=1000, clear_untrusted_proxy_headers=True,
        )
        self.host = host
        self.port = self._server.effective_port
        self._thread = threading.Thread(target=self._run, name=f"waitress:{self.port}", daemon=True)
        self._stopped = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        try:
            self._server.run()
        except (OSError, ValueError):
            # Closing the sockets under the loop ends it this way.
            if not self._stopped:
                raise

    def start(self) -> "ServerThread":
        self._thread.start()
        return self

    def stop(self, timeout: float = 5) -> None:
        if self._stopped:
            return
        self._stopped = True
        logging.getLogger("waitress").setLevel(logging.CRITICAL)
        server = self._server
        # Close the listener and every open connection, then the worker pool.
        while server._map:
            for channel in list(server._map.values()):
                channel.handle_close()
        server.task_dispatcher.shutdown()
        self._thread.join(timeout)

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def run_until_signalled(servers: list[ServerThread], on_stop: Callable[[], None] | None = None) -> None:
    """Start the servers and block until SIGINT or SIGTERM, then stop them cleanly."""
    stop = threading.Event()

    def handle(signum, frame):
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for server in servers:
            if not server._thread.is_alive():
                server.start()
        while not stop.wait(0.5):
            pass
    finally:
        for server in servers:
            server.stop()
        if on_stop is not None:
            on_stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
