"""How the provider and the test merchant hold up against idle, slow and malformed connections.

``mock-psp up`` (provider and test merchant, 127.0.0.1, free ports, temporary stores) is
started as a subprocess. For each server and each load:

- **idle**: N keep-alive connections held open doing nothing (half of them connect and send
  nothing, half send one complete request, read the answer and hold the connection);
- **slowloris**: M connections sending a request header one byte every 2 s, never finishing;

six probes (a fresh connection each, ``GET`` of a cheap page, 5 s timeout) are made while the load
is held, and the table shows how many were answered and how long they took. Then each kind of
malformed request is sent on a connection of its own, and the table shows what came back
(status and Content-Type), how long it took to be answered or closed (capped at 5 s), and how long
a probe made meanwhile took.

    .venv/bin/python benchmarks/edge.py           # about a minute
    .venv/bin/python benchmarks/edge.py --quick   # fewer loads
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import harness

PROBES = 6
PROBE_TIMEOUT = 5.0
SLOW_BYTE_EVERY = 2.0
MALFORMED_WAIT = 5.0
# (silent idle connections, idle after one request, slowloris connections)
LOADS = ((15, 0, 0), (16, 0, 0), (200, 0, 0), (0, 200, 0), (0, 0, 50), (100, 100, 50))
QUICK_LOADS = ((16, 0, 0), (0, 0, 50), (100, 100, 50))
# (server, page probed, path the malformed requests go to)
TARGETS = (("provider", "/_mock/health", "/hyperswitch/payments"),
           ("merchant", "/_merchant/config", "/_merchant/orders"))

# Each malformed request: the bytes sent (then the connection is held open, nothing more sent).
MALFORMED = {
    "Content-Length > body": b"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 100\r\n\r\n{\"a\":",
    "negative Content-Length": b"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    "truncated chunked body": b"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"10\r\n{\"amount\":",
    "garbage request line": b"\x16\x03\x01 garbage\r\n\r\n",
    "unsupported Transfer-Encoding": b"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    "header too large": b"GET {path} HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n",
}


def connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=PROBE_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def idle_connections(host: str, port: int, path: str, silent: int, after_request: int) -> list[socket.socket]:
    """Open connections doing nothing: ``silent`` never send a byte, ``after_request`` send one
    complete keep-alive request, read its answer and hold the connection."""
    quiet = [connect(host, port) for _ in range(silent)]
    used = [connect(host, port) for _ in range(after_request)]
    for sock in used:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    deadline = time.monotonic() + 2
    for sock in used:  # read the answers (none, from a server that is already stuck)
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            sock.recv(65536)
        except OSError:
            pass
    return quiet + used


class Slowloris:
    """``count`` connections, each sending a never-ending request header one byte at a time."""

    def __init__(self, host: str, port: int, path: str, count: int):
        self.stop = threading.Event()
        self.sockets = []
        for _ in range(count):
            sock = connect(host, port)
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode())
            self.sockets.append(sock)
        self.thread = threading.Thread(target=self._drip, daemon=True)
        self.thread.start()

    def _drip(self) -> None:
        while not self.stop.wait(SLOW_BYTE_EVERY):
            for sock in self.sockets:
                try:
                    sock.send(b"a")
                except OSError:
                    pass  # the server closed it: that is what it should do

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        close_all(self.sockets)


def close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def probe(host: str, port: int, path: str) -> tuple[str, float]:
    """One GET on a fresh connection: ("200", seconds) or (the exception's name, seconds)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(host, port, timeout=PROBE_TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return str(response.status), time.perf_counter() - started
    except Exception as error:  # a timeout or a reset is a result here, not a failure of the script
        return type(error).__name__, time.perf_counter() - started
    finally:
        connection.close()


def under_load(host: str, port: int, path: str, silent: int, used: int, slow: int) -> list[tuple[str, float]]:
    held = idle_connections(host, port, path, silent, used)
    slowloris = Slowloris(host, port, path, slow)
    try:
        time.sleep(0.5)  # let the server take them all in
        return [probe(host, port, path) for _ in range(PROBES)]
    finally:
        slowloris.close()
        close_all(held)


def malformed(host: str, port: int, path: str, post_path: str, raw: bytes) -> tuple[str, str, float, str, float]:
    """Send ``raw`` and hold; return (status, content type, seconds to answer or close, probe result)."""
    sock = connect(host, port)
    sock.settimeout(MALFORMED_WAIT)
    started = time.perf_counter()
    try:
        sock.sendall(raw.replace(b"{path}", post_path.encode()))
    except OSError:
        pass
    probe_result: list = []
    prober = threading.Thread(target=lambda: (time.sleep(0.2), probe_result.append(probe(host, port, path))))
    prober.start()
    received = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
            if b"\r\n\r\n" in received and _complete(received):
                break
    except TimeoutError:
        pass
    except OSError:
        received = received or b"(reset)"
    elapsed = time.perf_counter() - started
    sock.close()
    prober.join()
    status, content_type = _status_and_type(received)
    return status, content_type, elapsed, *probe_result[0]


def _complete(received: bytes) -> bool:
    head, _, body = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def _status_and_type(received: bytes) -> tuple[str, str]:
    if received == b"(reset)":
        return "reset", "-"
    if not received:
        return "closed", "-"
    head = received.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    content_type = next((line.split(":", 1)[1].strip() for line in head if line.lower().startswith("content-type:")),
                        "-")
    return head[0].split(" ", 2)[1] if " " in head[0] else head[0], content_type


def start_up(work: Path, source: Path | None):
    """``mock-psp up`` on free ports; return (process, provider URL, shop URL)."""
    environment = dict(os.environ)
    launcher = [str(harness.MOCK_PSP)]
    if source is not None:
        environment["PYTHONPATH"] = str(source)
        launcher = [sys.executable, "-m", "mock_psp"]
    command = [*launcher, "up", "--host", "127.0.0.1", "--port", "0", "--merchant-port", "0",
               "--db", str(work / "psp.db"), "--merchant-db", str(work / "shop.db")]
    log = open(work / "up.log", "w")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, cwd=harness.BENCH_DIR,
                               env=environment)
    urls = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(urls) < 2:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"mock-psp up died:\n{(work / 'up.log').read_text()[-2000:]}")
        words = line.split()
        if words[:1] in (["Shop"], ["Provider"]) and words[1].startswith("http://") and words[0] not in urls:
            urls[words[0]] = words[1].rstrip("/")
    return process, urls["Provider"], urls["Shop"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer loads")
    parser.add_argument("--source", type=Path, default=None,
                        help="run mock-psp from this source tree (e.g. an export of an older commit)")
    args = parser.parse_args()
    loads = QUICK_LOADS if args.quick else LOADS
    before = harness.code_version()
    results = {"source": str(args.source or "this checkout"), "loads": [], "malformed": []}
    with harness.work_dir() as work:
        process, psp_url, shop_url = start_up(work, args.source)
        try:
            for name, path, post_path in TARGETS:
                url = psp_url if name == "provider" else shop_url
                host, port = url.removeprefix("http://").split(":")
                for silent, used, slow in loads:
                    outcomes = under_load(host, int(port), path, silent, used, slow)
                    results["loads"].append({"server": name, "silent": silent, "after_request": used,
                                             "slowloris": slow,
                                             "probes": [{"result": r, "seconds": round(s, 4)} for r, s in outcomes]})
                    time.sleep(0.5)
                for kind, raw in MALFORMED.items():
                    status, content_type, seconds, probed, probe_seconds = malformed(host, int(port), path,
                                                                                     post_path, raw)
                    results["malformed"].append({"server": name, "kind": kind, "status": status,
                                                 "content_type": content_type, "seconds": round(seconds, 3),
                                                 "probe": probed, "probe_seconds": round(probe_seconds, 4)})
        finally:
            harness._stop(process)
    rows = []
    for load in results["loads"]:
        answered = [p["seconds"] for p in load["probes"] if p["result"] == "200"]
        failures = sorted({p["result"] for p in load["probes"] if p["result"] != "200"})
        rows.append([load["server"], load["silent"], load["after_request"], load["slowloris"],
                     f"{len(answered)}/{PROBES}",
                     f"{max(answered) * 1000:.1f}" if answered else "-", ", ".join(failures) or "-"])
    harness.print_table(["server", "idle silent", "idle after request", "slowloris", "probes 200", "slowest 200 ms",
                         "failures"], rows)
    print()
    rows = [[m["server"], m["kind"], m["status"], m["content_type"],
             f">{MALFORMED_WAIT:.0f}" if m["seconds"] >= MALFORMED_WAIT else f"{m['seconds']:.2f}",
             m["probe"], f"{m['probe_seconds'] * 1000:.1f}"] for m in results["malformed"]]
    harness.print_table(["server", "malformed request", "answer", "content type", "answered/closed in s",
                         "probe meanwhile", "probe ms"], rows)
    results["code_changed_during_run"] = harness.code_changed(before)
    print(f"\nresults: {harness.write_results('edge', results)}")


if __name__ == "__main__":
    main()
