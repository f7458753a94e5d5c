"""Run a WSGI app under cheroot: in a background thread, or in the foreground until a signal.

cheroot (CherryPy's server) is a production server: a thread pool, HTTP/1.1
keep-alive, no development-server warning. Port 0 asks the OS for a free port;
``.port`` tells which one it gave.
"""

from __future__ import annotations

import signal
import socket
import struct
import threading
from collections.abc import Callable

from cheroot import wsgi

from .connection import DropConnection


class _Gateway(wsgi.Gateway_10):
    """cheroot's WSGI 1.0 gateway, plus one thing the app may ask for: end the connection
    without (the rest of) an answer, as a network or a crashed provider would. The app
    asks by raising DropConnection (API faults ``reset``, ``timeout``, ``lost_response``,
    ``truncated``)."""

    def respond(self):
        try:
            super().respond()
        except DropConnection as drop:
            self._drop(drop.reset)

    def _drop(self, reset: bool) -> None:
        request, connection = self.req, self.req.conn
        request.close_connection = True
        request.ready = False          # cheroot writes nothing more (no headers, no chunk end)
        request.chunked_write = False
        if not reset:
            connection.wfile.flush()   # what was written goes out; cheroot then closes with a FIN
            return
        # A reset: discard anything unsent and abort with an RST, before cheroot's own
        # close would send a FIN (so the client sees "connection reset by peer").
        connection.linger = True       # tells cheroot the socket is ours to close
        try:
            connection.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.socket.close()
        except OSError:
            pass  # the client went first


class ServerThread:
    """A WSGI server on a daemon thread, stoppable from any thread."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, threads: int = 16):
        self.app = app
        self._server = wsgi.Server((host, port), app, numthreads=threads, server_name="mock-psp",
                                   timeout=30, shutdown_timeout=2,
                                   # a deep accept queue: CI may open dozens of connections at once
                                   request_queue_size=1024)
        self._server.gateway = _Gateway
        # cheroot checks for a stop every expiration_interval (0.5 s by default); a shorter
        # interval makes stop() quick, which tests that start many servers feel.
        self._server.expiration_interval = 0.05
        self._server.prepare()  # binds now, so port 0 has become a real port
        self.host = host
        self.port = self._server.bind_addr[1]
        self._thread = threading.Thread(target=self._server.serve, name=f"cheroot:{self.port}", daemon=True)
        self._stopped = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5) -> None:
        if self._stopped:
            return
        self._stopped = True
        # The app may hold requests on purpose (an injected timeout): let them go before waiting for them.
        for hook in getattr(self.app, "extensions", {}).get("on_server_stop", []):
            hook()
        self._server.stop()
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
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
