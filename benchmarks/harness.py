"""Shared pieces of the benchmarks: servers as subprocesses, the flows, statistics, results.

Every server here listens on 127.0.0.1 only, on a port the OS picks, and is
stopped with SIGTERM (then SIGKILL if it hangs) when its ``with`` block ends,
whatever happened inside it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import AbstractContextManager
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

import requests

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
MOCK_PSP = Path(sys.executable).with_name("mock-psp")

HYPERSWITCH_KEY = "snd_1E13L37R47jxbOBmiZksheaj1ShXtoCwQNo8NIlurSV7DBH6Bi8ibwF97mzglLKG"
CARD_NUMBER = "4242424242424242"
PAYMENT_REQUEST = {
    "amount": 1000,
    "currency": "USD",
    "confirm": True,
    "payment_method": "card",
    "payment_method_data": {"card": {
        "card_number": CARD_NUMBER, "card_exp_month": "12", "card_exp_year": "2035",
        "card_cvc": "123", "card_holder_name": "Bench",
    }},
}
REFUND_AMOUNT = 100

STEPS = ("create", "retrieve", "refund")


# -- servers --------------------------------------------------------------------------


@dataclass
class Server:
    """A server process started by this harness, and the base URL it announced."""

    name: str
    url: str
    process: subprocess.Popen


def _wait_for_banner(process: subprocess.Popen, log_path: Path, timeout: float) -> str:
    """The first line the process prints on stdout; fail with its log if it dies or is slow."""
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if ready else ""
    if not line:
        log = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"server gave no banner within {timeout}s (exit code {process.poll()}):\n{log}")
    return line.strip()


def _stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if the process is still there after ``timeout`` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@contextmanager
def server_process(name: str, command: list[str], banner_prefix: str, log_path: Path,
                   timeout: float = 60, env: dict | None = None) -> Iterator[Server]:
    """Start ``command``, read the URL off its banner's last word, and always stop it."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, cwd=BENCH_DIR, env=env)
    try:
        banner = _wait_for_banner(process, log_path, timeout)
        if not banner.startswith(banner_prefix):
            raise RuntimeError(f"unexpected banner from {name}: {banner!r}")
        url = banner.split()[-1]
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"{name} is not on 127.0.0.1: {url}")
        yield Server(name, url, process)
    finally:
        _stop(process)


def mock_psp_server(db_path: Path, log_path: Path, source: Path | None = None) -> AbstractContextManager[Server]:
    """``mock-psp serve`` on 127.0.0.1, a free port and the given SQLite file (seed 0).

    ``source``: run the mock_psp package found there instead (an export of another commit)."""
    launcher = [str(MOCK_PSP)] if source is None else [sys.executable, "-m", "mock_psp"]
    command = [*launcher, "serve", "--host", "127.0.0.1", "--port", "0", "--db", str(db_path), "--seed", "0"]
    env = None if source is None else {**os.environ, "PYTHONPATH": str(source)}
    return server_process("mock-psp", command, "mock-psp ", log_path, env=env)


# -- the store --------------------------------------------------------------------------


def seed_store(db_path: Path, payments_count: int, batch: int = 1000) -> float:
    """Create the store with ``payments_count`` card payments, each refunded once; return seconds taken.

    Uses the library directly, ``batch`` payments per transaction (inner writes
    become savepoints), with the same default namespace and seed as the server.
    After each batch the outbox is turned into webhook events, as a running
    server does after every request, so the server starts with nothing to catch up on.
    """
    from mock_psp.config import Settings
    from mock_psp.domain import payments
    from mock_psp.domain import refunds
    from mock_psp.provider import Provider

    started = time.perf_counter()
    provider = Provider(Settings(db=str(db_path), seed=0))
    try:
        store, namespace_id = provider.store, provider.default_namespace().id
        card = payments.PaymentMethodInput("card", card=payments.CardInput(CARD_NUMBER, "12", "2035", "Bench"))
        for first in range(0, payments_count, batch):
            with store.write():
                for _ in range(first, min(first + batch, payments_count)):
                    payment = payments.create_payment(store, namespace_id, payments.NewPayment(
                        dialect="hyperswitch", amount=1000, currency="USD", confirm=True, payment_method=card))
                    refunds.create_refund(store, namespace_id,
                                          refunds.NewRefund(payment_id=payment.id, amount=REFUND_AMOUNT))
            while provider.webhooks.dispatch_outbox():
                pass
    finally:
        provider.close()
    return time.perf_counter() - started


# -- the clients and their flows ----------------------------------------------------------


def mock_psp_session() -> requests.Session:
    """One keep-alive client with the default namespace's secret key."""
    session = requests.Session()
    session.headers["api-key"] = HYPERSWITCH_KEY
    return session


def expect(response: requests.Response, field: str, value: str) -> dict:
    """The response's JSON, after checking it is a 200 whose ``field`` is ``value``."""
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.method} {response.url}: HTTP {response.status_code} "
                           f"{response.text[:300]}")
    body = response.json()
    if body.get(field) != value:
        raise RuntimeError(f"{response.request.method} {response.url}: {field}={body.get(field)!r}, expected {value!r}")
    return body


def mock_psp_flow(session: requests.Session, url: str) -> tuple[float, ...]:
    """Create (confirm, card) -> retrieve -> refund on Hyperswitch; seconds taken by each call."""
    t0 = time.perf_counter()
    payment = expect(session.post(f"{url}/hyperswitch/payments", json=PAYMENT_REQUEST), "status", "succeeded")
    t1 = time.perf_counter()
    expect(session.get(f"{url}/hyperswitch/payments/{payment['payment_id']}"), "status", "succeeded")
    t2 = time.perf_counter()
    refund = {"payment_id": payment["payment_id"], "amount": REFUND_AMOUNT}
    expect(session.post(f"{url}/hyperswitch/refunds", json=refund), "status", "succeeded")
    t3 = time.perf_counter()
    return (t1 - t0, t2 - t1, t3 - t2)


Flow = Callable[[], tuple[float, ...]]


def run_flows(flow: Flow, count: int) -> tuple[float, list[tuple[float, ...]]]:
    """Run ``count`` flows back to back; return the wall time and each flow's per-call timings."""
    started = time.perf_counter()
    timings = [flow() for _ in range(count)]
    return time.perf_counter() - started, timings


# -- statistics ------------------------------------------------------------------------------


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def summarize_flows(wall: float, timings: list[tuple[float, ...]], step_names: tuple[str, ...]) -> dict:
    """Throughput, per-flow median and p99, and each call's median, in ms."""
    flows = [sum(t) for t in timings]
    return {
        "flows": len(flows),
        "flows_per_s": round(len(flows) / wall, 1),
        "median_ms": ms(statistics.median(flows)),
        "p99_ms": ms(percentile(flows, 99)),
        "step_median_ms": {name: ms(statistics.median(t[i] for t in timings)) for i, name in enumerate(step_names)},
    }


# -- output --------------------------------------------------------------------------------------


def machine() -> dict:
    """What the numbers were measured on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=BENCH_DIR.parent, capture_output=True, text=True).stdout


def _code_diff_digest(base: str) -> str | None:
    """A digest of how the working tree differs from ``base`` outside benchmarks/ (None: not at all)."""
    diff = _git("diff", base, "--", ".", ":(exclude)benchmarks")
    return hashlib.sha256(diff.encode()).hexdigest()[:16] if diff else None


def code_version() -> dict:
    """The commit benchmarked and a digest of uncommitted changes, to tell runs of different code apart."""
    commit = _git("rev-parse", "HEAD").strip()
    return {"commit": commit, "uncommitted_diff_sha256": _code_diff_digest(commit)}


def code_changed(before: dict) -> bool:
    """Whether the code outside benchmarks/ differs now from ``before``; says so loudly if it does."""
    changed = _code_diff_digest(before["commit"]) != before["uncommitted_diff_sha256"]
    if changed:
        print("\nWARNING: mock-psp's code changed during this run; these figures may mix versions.")
    return changed


def write_results(prefix: str, results: dict) -> Path:
    """Write ``results`` to benchmarks/results/<prefix>-<UTC timestamp>.json and return the path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{prefix}-{stamp}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def print_table(headers: list[str], rows: list[list]) -> None:
    """A plain, aligned text table."""
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


@contextmanager
def work_dir() -> Iterator[Path]:
    """A temporary directory for stores and server logs, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="mock-psp-bench-") as path:
        yield Path(path)

class Receiver:
    """A webhook receiver in the benchmark's process (127.0.0.1, port 0), threaded: it
    answers every POST with ``status`` and notes (arrival time, body)."""

    def __init__(self, status: int = 200):
        self.status = status
        self.arrivals: list[tuple[float, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.arrivals.append((time.time(), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
