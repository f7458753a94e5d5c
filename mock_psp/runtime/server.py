"""Run a WSGI app under waitress: in a background thread, or in the foreground until a signal.

waitress reads every request whole on one asyncio-style loop before a worker thread sees
it, so idle keep-alive connections and slow senders cost a socket, not a thread (cheroot,
used before, pinned a worker thread per connection: 16 idle connections froze 16 threads).
On top of waitress this module adds what a fake provider facing arbitrary clients needs:

- a request that has started arriving must be whole within ``PARTIAL_REQUEST_SECONDS``
  (slowloris, a body shorter than its Content-Length, a chunked body that stops): it is then
  answered with a 400 and closed; a connection with nothing in progress may idle for
  ``IDLE_SECONDS`` (browsers and keep-alive clients hold connections open);
- the server's own errors (a malformed request line or header, a bad Content-Length, a header
  too large, an unsupported Transfer-Encoding) are JSON in the app's own error envelope for
  the request's path (the app's HTTPException handler renders them), never waitress's plain
  text;
- the app may end a connection without (the rest of) an answer by raising DropConnection
  (API faults ``reset``, ``timeout``, ``lost_response``, ``truncated``);
- ``stop()`` returns within about a second even while a request hangs in the app.

Port 0 asks the OS for a free port; ``.port`` tells which one it gave.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.buffers import OverflowableBuffer
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask
from waitress.task import WSGITask
from waitress.utilities import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import default_exceptions

from .connection import DropConnection

log = logging.getLogger(__name__)

PARTIAL_REQUEST_SECONDS = 1.5  # from a request's first byte to its last
IDLE_SECONDS = 60  # a keep-alive connection with no request in progress
TICK_SECONDS = 0.1  # how often the loop checks deadlines and whether to stop
STOP_GRACE_SECONDS = 0.5  # how long stop() waits for requests still in the app
CONNECTION_LIMIT = 2000  # open connections; beyond it new ones wait in the listen backlog


class _Task(WSGITask):
    """waitress's WSGI task, plus DropConnection: end the connection as a network would."""

    def service(self):
        try:
            super().service()
        except DropConnection as drop:
            self.close_on_finish = True  # what was written goes out, then a FIN
            if drop.reset:
                self.channel.abort()


class _ErrorTask(ErrorTask):
    """A request waitress refused (or that did not arrive in time), answered in the app's JSON."""

    def execute(self):
        status, headers, body = self.channel.server.error_response(self.request)
        self.status = status
        self.response_headers.extend(headers)
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    task_class = _Task
    error_task_class = _ErrorTask
    _partial = None  # the parser of the request being received, if one has started
    _partial_since = 0.0

    def received(self, data):
        result = super().received(data)
        if self.request is not self._partial:
            self._partial, self._partial_since = self.request, time.monotonic()
        return result

    def service(self):
        super().service()
        # A request that arrived behind this one could not be read while this one ran:
        # its time starts now.
        self._partial_since = time.monotonic()

    def enforce_deadline(self, now: float) -> None:
        """Main loop: a request still incomplete after its time is answered with a 400 and closed."""
        with self.requests_lock:
            request = self.request
            if (request is None or self.requests or self.will_close or self.close_when_flushed
                    or now - self._partial_since < PARTIAL_REQUEST_SECONDS):
                return
            request.error = BadRequest(f"The request did not arrive whole within {PARTIAL_REQUEST_SECONDS:g} s")
            request.completed = True
            self.requests.append(request)
            self.request = self._partial = None
        self.server.add_task(self)

    def abort(self) -> None:
        """Worker thread: discard anything unsent and make the close a TCP reset."""
        with self.outbuf_lock:
            for outbuf in self.outbufs:
                outbuf.close()
            self.outbufs = [OverflowableBuffer(self.adj.outbuf_overflow)]
            self.total_outbufs_len = 0
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass  # the client went first


class _Server(TcpWSGIServer):
    channel_class = _Channel

    def __init__(self, app, adj: Adjustments, socket_map: dict):
        self.app = app
        super().__init__(app, map=socket_map, adj=adj)

    def pull_trigger(self):
        try:
            super().pull_trigger()
        except OSError:
            pass  # the server has stopped and closed its trigger; a late worker finishing is fine

    def maintenance(self, now):
        super().maintenance(now)  # closes connections idle for channel_timeout
        monotonic = time.monotonic()
        for channel in list(self.active_channels.values()):
            channel.enforce_deadline(monotonic)

    def error_response(self, request) -> tuple[str, list[tuple[str, str]], bytes]:
        error = request.error
        path = getattr(request, "path", "") or ""
        path = path if request.headers_finished and path.startswith("/") else "/"
        try:
            rendered = _rendered_by_app(self.app, path, error.code, error.body)
        except Exception:  # the app could not render it: the generic envelope below still answers
            log.exception("rendering a %s for %s failed", error.code, path)
            rendered = None
        if rendered is not None:
            return rendered
        body = json.dumps({"error": {"code": error.reason.lower().replace(" ", "_"), "message": error.body}})
        return (f"{error.code} {error.reason}", [("Content-Type", "application/json")], body.encode())


def _rendered_by_app(app, path: str, status: int, message: str):
    """The Flask app's own answer to an HTTP error ``status`` at ``path``, if it is JSON.

    Each face of the provider (a dialect, the control API) and the test merchant's API have
    their own envelope; their HTTPException handlers know it."""
    if not hasattr(app, "handle_http_exception"):
        return None
    error = default_exceptions.get(status, HTTPException)(message)
    error.code = status
    with app.test_request_context(path):
        response = app.make_response(app.handle_http_exception(error))
    if response.mimetype != "application/json":
        return None  # an HTML page (the dashboard, the shop): the generic JSON envelope instead
    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in ("content-length", "connection")]
    return response.status, headers, response.get_data()


class ServerThread:
    """A WSGI server on a daemon thread, stoppable from any thread."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, threads: int = 16):
        self.app = app
        adj = Adjustments(host=host, port=port, threads=threads, ident="mock-psp",
                          channel_timeout=IDLE_SECONDS, cleanup_interval=TICK_SECONDS,
                          asyncore_loop_timeout=TICK_SECONDS, connection_limit=CONNECTION_LIMIT,
                          # a deep accept queue: CI may open dozens of connections at once
                          backlog=1024,
                          # poll(), not select(): a process with many sockets has descriptors above 1024
                          asyncore_use_poll=True,
                          # X-Forwarded-* reach the app as sent, as they did before (--public-url is
                          # how links behind a proxy are made)
                          clear_untrusted_proxy_headers=False)
        self._map: dict = {}
        self._server = _Server(app, adj, self._map)  # binds now, so port 0 has become a real port
        self.host = host
        self.port = self._server.effective_port
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"waitress:{self.port}", daemon=True)
        self._stopped = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def _serve(self) -> None:
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=TICK_SECONDS, use_poll=True, map=self._map, count=1)
        finally:
            self._close()

    def _close(self) -> None:
        for dispatcher in list(self._map.values()):
            try:
                # a channel's handle_close also wakes a worker waiting to write to it
                (dispatcher.handle_close if isinstance(dispatcher, HTTPChannel) else dispatcher.close)()
            except OSError:
                pass
        # Requests still in the app (a hanging one) are not waited for beyond the grace:
        # their threads are daemons, and their connections are closed already.
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=STOP_GRACE_SECONDS)

    def stop(self, timeout: float = 5) -> None:
        if self._stopped:
            return
        self._stopped = True
        # The app may hold requests on purpose (an injected timeout): let them go before waiting for them.
        for hook in getattr(self.app, "extensions", {}).get("on_server_stop", []):
            hook()
        self._stopping.set()
        if self._thread.is_alive():
            self._server.pull_trigger()  # wake the loop now rather than at its next tick
            self._thread.join(timeout)
        elif self._thread.ident is None:
            self._close()  # bound but never served: release the port

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
        stopping = [threading.Thread(target=server.stop) for server in servers]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        if on_stop is not None:
            on_stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
