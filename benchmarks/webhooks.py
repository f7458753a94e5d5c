"""Webhook benchmarks: walking a retry schedule, delivery throughput, dispatch latency.

Run: ``.venv/bin/python benchmarks/webhooks.py [--quick]``

1. **Schedule walk.** 100 payments on a virtual-clock namespace whose receiver
   always fails; after the first attempts, one ``POST /_mock/clock/advance`` of
   25 hours walks the whole Hyperswitch schedule (16 retries each, 1,600
   requests). Measured for a receiver answering 500, and for one that refuses
   connections. Target: under 2 s.
2. **Throughput.** N deliveries held back by ``delays.webhook`` on a virtual
   clock, then released by one advance and sent back to back to a receiver
   answering 200: deliveries per second.
3. **Dispatch latency.** On the system clock: from a payment's final state
   change (its ``modified_at``) to the webhook's arrival at the receiver, against
   the median of a plain ``GET /hyperswitch/payments/{id}`` in the same run.
   Target: within 5x.

Everything listens on 127.0.0.1; the server is a ``mock-psp serve`` subprocess.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ADVANCE_SECONDS = 25 * 3600




def refused_url() -> str:
    """A 127.0.0.1 port with nothing listening (bound and closed again)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/nobody"


def new_namespace(url: str, clock: str, webhook_url: str, **config) -> tuple[dict, dict, dict]:
    ns = requests.post(f"{url}/_mock/namespaces", json={"clock": clock, "seed": 1}, timeout=10).json()
    control = {"X-Mock-Namespace": ns["id"]}
    api = {"api-key": ns["hyperswitch"]["api_key"]}
    if config:
        requests.put(f"{url}/_mock/config", json=config, headers=control, timeout=10).raise_for_status()
    requests.post(f"{url}/_mock/webhook-endpoints", json={"url": webhook_url}, headers=control,
                  timeout=10).raise_for_status()
    return ns, control, api


def pay(session: requests.Session, url: str, api: dict) -> dict:
    reply = session.post(f"{url}/hyperswitch/payments", json=harness.PAYMENT_REQUEST, headers=api, timeout=10)
    reply.raise_for_status()
    return reply.json()


def wait_until(predicate, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.02)


def total(url: str, control: dict, status: str) -> int:
    return requests.get(f"{url}/_mock/webhooks?status={status}&limit=1", headers=control, timeout=10).json()["total"]


def schedule_walk(url: str, webhook_url: str, deliveries: int) -> dict:
    session = requests.Session()
    _, control, api = new_namespace(url, "virtual", webhook_url)
    for _ in range(deliveries):
        pay(session, url, api)
    wait_until(lambda: total(url, control, "failed") == deliveries)
    started = time.perf_counter()
    reply = session.post(f"{url}/_mock/clock/advance", json={"seconds": ADVANCE_SECONDS}, headers=control,
                         timeout=600)
    wall = time.perf_counter() - started
    reply.raise_for_status()
    given_up = total(url, control, "given_up")
    attempts = sum(1 for job in reply.json()["ran"] if job["kind"] == "webhook.deliver")
    return {"deliveries": deliveries, "retries_run": attempts, "given_up": given_up, "wall_s": round(wall, 3),
            "retries_per_s": round(attempts / wall, 1)}


def throughput(url: str, count: int) -> dict:
    receiver = harness.Receiver(200)
    try:
        session = requests.Session()
        _, control, api = new_namespace(url, "virtual", receiver.url, delays={"webhook": 10})
        for _ in range(count):
            pay(session, url, api)
        started = time.perf_counter()
        session.post(f"{url}/_mock/clock/advance", json={"seconds": 10}, headers=control, timeout=600)
        wall = time.perf_counter() - started
        delivered = total(url, control, "delivered")
        return {"deliveries": delivered, "arrived": len(receiver.arrivals), "wall_s": round(wall, 3),
                "deliveries_per_s": round(delivered / wall, 1)}
    finally:
        receiver.close()


def dispatch_latency(url: str, samples: int) -> dict:
    import json

    receiver = harness.Receiver(200)
    try:
        session = requests.Session()
        _, control, api = new_namespace(url, "system", receiver.url)
        latencies, gets = [], []
        for _ in range(samples):
            payment = pay(session, url, api)
            wait_until(lambda n=len(latencies) + 1: len(receiver.arrivals) >= n, timeout=10)  # noqa: B008 (the count now)
            arrived_at, body = receiver.arrivals[-1]
            modified_at = json.loads(body)["content"]["object"]["modified_at"]
            changed = datetime.fromisoformat(modified_at.replace("Z", "+00:00"))
            latencies.append(arrived_at - changed.timestamp())
            started = time.perf_counter()
            session.get(f"{url}/hyperswitch/payments/{payment['payment_id']}", headers=api, timeout=10)
            gets.append(time.perf_counter() - started)
        dispatch, get = statistics.median(latencies), statistics.median(gets)
        return {"samples": samples, "dispatch_median_ms": harness.ms(dispatch),
                "dispatch_p99_ms": harness.ms(harness.percentile(latencies, 99)),
                "get_median_ms": harness.ms(get), "ratio": round(dispatch / get, 2)}
    finally:
        receiver.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke test")
    args = parser.parse_args()
    deliveries, count, samples = (20, 200, 50) if args.quick else (100, 2000, 300)
    version = harness.code_version()
    results: dict = {"benchmark": "webhooks", "quick": args.quick, "machine": harness.machine(), "code": version}
    with tempfile.TemporaryDirectory() as tmp:
        with harness.mock_psp_server(Path(tmp) / "wh.db", Path(tmp) / "server.log") as server:
            failing = harness.Receiver(500)
            try:
                results["walk_500"] = schedule_walk(server.url, failing.url, deliveries)
            finally:
                failing.close()
            results["walk_refused"] = schedule_walk(server.url, refused_url(), deliveries)
            results["throughput"] = throughput(server.url, count)
            results["latency"] = dispatch_latency(server.url, samples)
    results["code_changed_during_run"] = harness.code_changed(version)
    results["targets"] = {
        "walk_under_2s": {"wall_s": results["walk_500"]["wall_s"], "target": 2.0,
                          "met": results["walk_500"]["wall_s"] < 2.0},
        "dispatch_within_5x_get": {"ratio": results["latency"]["ratio"], "target": 5.0,
                                   "met": results["latency"]["ratio"] <= 5.0},
    }
    harness.print_table(
        ["measure", "figure"],
        [
            ["24h schedule, 100 deliveries, receiver 500", f"{results['walk_500']['wall_s']} s "
             f"({results['walk_500']['retries_run']} retries, {results['walk_500']['given_up']} given up)"],
            ["24h schedule, 100 deliveries, connection refused", f"{results['walk_refused']['wall_s']} s"],
            ["delivery throughput (one namespace, sequential)", f"{results['throughput']['deliveries_per_s']} /s"],
            ["dispatch latency median / p99", f"{results['latency']['dispatch_median_ms']} / "
             f"{results['latency']['dispatch_p99_ms']} ms"],
            ["plain GET median", f"{results['latency']['get_median_ms']} ms"],
            ["dispatch / GET", f"{results['latency']['ratio']}x (target <= 5x)"],
        ],
    )
    print("results:", harness.write_results("webhooks", results))


if __name__ == "__main__":
    main()
