"""Run localstripe on 127.0.0.1 only, on a port the OS picks, and print where.

localstripe's own command (``localstripe --port N``) has no host option and
binds to ``[::]``, i.e. every interface, IPv4 and IPv6. This launcher serves
the same aiohttp app the same way (from scratch, access log on stderr), but on
a socket bound to 127.0.0.1:0.

It runs under the localstripe virtualenv, not the project's:

    benchmarks/.venv-localstripe/bin/python benchmarks/localstripe_loopback.py
"""

import logging
import socket

from aiohttp import web
from localstripe.server import app


def main() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(f"localstripe listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)

    access = logging.getLogger("aiohttp.access")
    access.setLevel(logging.DEBUG)
    access.addHandler(logging.StreamHandler())
    web.run_app(app, sock=sock, access_log=access, print=None)


if __name__ == "__main__":
    main()
