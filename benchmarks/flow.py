"""How fast mock-psp runs a payment flow, and whether that depends on how much is stored.

For each store size (0, 10,000 and 100,000 payments, each with one refund) a
store is seeded through the library, ``mock-psp serve`` is started on it on
127.0.0.1 and a free port, and one keep-alive client (``requests.Session``, one
thread) runs the flow create (confirm, card) -> retrieve -> refund: first a
warm-up, then the measured flows. On the empty store it also compares the
median latency of a create-payment with that of ``GET /_mock/health``.

Run it with the project's virtualenv:

    .venv/bin/python benchmarks/flow.py           # the full run
    .venv/bin/python benchmarks/flow.py --quick   # a smoke run: smaller and fewer
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from dataclasses import asdict
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import harness
import requests

FLOW_TARGET = 1.25  # per-flow median at the largest store, at most this times the empty store's
CREATE_TARGET = 3.0  # create-payment median, at most this times the trivial endpoint's


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    warmup_flows: int
    measured_flows: int
    single_requests: int


FULL = Plan(sizes=(0, 10_000, 100_000), warmup_flows=100, measured_flows=1000, single_requests=1000)
QUICK = Plan(sizes=(0, 1_000), warmup_flows=20, measured_flows=200, single_requests=200)
CLIENT_PROCESSES = (1, 8)
LOAD_SECONDS = 15  # each concurrent load (--quick: 4)
DRAIN_WAIT_SECONDS = 120  # how long to wait for the delivery backlog to empty after a load


def timed(call) -> float:
    """Seconds taken by ``call()``, which must return a 200 response."""
    started = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def create_vs_health(session: requests.Session, url: str, count: int) -> dict:
    """Median latency of a create-payment and of the trivial health endpoint, measured alternately."""
    create = partial(session.post, f"{url}/hyperswitch/payments", json=harness.PAYMENT_REQUEST)
    health = partial(session.get, f"{url}/_mock/health")
    for _ in range(count // 10):  # warm-up
        timed(create)
        timed(health)
    samples = [(timed(create), timed(health)) for _ in range(count)]
    create_median = statistics.median(c for c, _ in samples)
    health_median = statistics.median(h for _, h in samples)
    return {
        "requests_each": count,
        "create_median_ms": harness.ms(create_median),
        "health_median_ms": harness.ms(health_median),
        "ratio": round(create_median / health_median, 2),
    }


def measure_size(size: int, plan: Plan, tmp: Path, source: Path | None = None) -> dict:
    """Seed a store of ``size`` payments, serve it, and measure the flow (and, when empty, single requests)."""
    db_path = tmp / f"store-{size}.db"
    print(f"seeding {size:,} payments ...", flush=True)
    seed_seconds = harness.seed_store(db_path, size)
    with harness.mock_psp_server(db_path, tmp / f"server-{size}.log", source) as server, \
            harness.mock_psp_session() as session:
        flow = partial(harness.mock_psp_flow, session, server.url)
        print(f"  {plan.warmup_flows} warm-up flows, then {plan.measured_flows} measured", flush=True)
        harness.run_flows(flow, plan.warmup_flows)
        wall, timings = harness.run_flows(flow, plan.measured_flows)
        result = {"stored_payments": size, "seed_seconds": round(seed_seconds, 1),
                  **harness.summarize_flows(wall, timings, harness.STEPS)}
        if size == 0:
            result["single_requests"] = create_vs_health(session, server.url, plan.single_requests)
    return result


# -- concurrent clients, and webhook deliveries under their load ------------------------------




def _client(url: str, start_at: float, end_at: float) -> int:
    """One client process: flows back to back from ``start_at`` until ``end_at`` (wall clock)."""
    with harness.mock_psp_session() as session:
        harness.mock_psp_flow(session, url)  # connect and warm up before the start
        time.sleep(max(0.0, start_at - time.time()))
        count = 0
        while time.time() < end_at:
            harness.mock_psp_flow(session, url)
            count += 1
    return count


def _deliveries(url: str, status: str | None = None) -> int:
    query = f"?status={status}&limit=1" if status else "?limit=1"
    return requests.get(f"{url}/_mock/webhooks{query}", timeout=30).json()["total"]


def measure_concurrency(processes: int, seconds: float, tmp: Path, source: Path | None) -> dict:
    """``processes`` clients running flows for ``seconds`` against a fresh server whose default
    namespace has a webhook endpoint; flows/s, deliveries/s meanwhile, and the backlog left."""
    receiver = harness.Receiver(200)
    try:
        with harness.mock_psp_server(tmp / f"load-{processes}.db", tmp / f"load-{processes}.log", source) as server:
            requests.post(f"{server.url}/_mock/webhook-endpoints", json={"url": receiver.url},
                          timeout=10).raise_for_status()
            print(f"  {processes} client process(es) for {seconds:g} s", flush=True)
            start_at = time.time() + 2  # every process connected and warmed up by then
            end_at = start_at + seconds
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                counts = pool.starmap(_client, [(server.url, start_at, end_at)] * processes)
            created, pending = _deliveries(server.url), _deliveries(server.url, "pending")
            during = sum(start_at <= t < end_at for t, _ in receiver.arrivals)
            drain_started = time.time()
            while _deliveries(server.url, "pending") and time.time() - drain_started < DRAIN_WAIT_SECONDS:
                time.sleep(0.2)
            left = _deliveries(server.url, "pending")
            drained_in = time.time() - drain_started
    finally:
        receiver.close()
    flows = sum(counts)
    return {"processes": processes, "seconds": seconds, "flows": flows, "flows_per_s": round(flows / seconds, 1),
            "deliveries_created": created, "delivered_during_load": during,
            "deliveries_per_s": round(during / seconds, 1),
            "events_per_s": round((created - pending) / seconds, 1) if created else 0.0,
            "pending_at_end": pending, "drain_seconds": round(drained_in, 1) if not left else None,
            "pending_after_drain_wait": left}


def report_concurrency(loads: list[dict]) -> None:
    print("\nConcurrent clients (one flow after another in each process), a webhook receiver answering 200")
    harness.print_table(
        ["processes", "flows/s", "deliveries made", "delivered/s during load", "pending at end", "drained in s"],
        [[r["processes"], r["flows_per_s"], r["deliveries_created"], r["deliveries_per_s"], r["pending_at_end"],
          r["drain_seconds"] if r["drain_seconds"] is not None else f">{DRAIN_WAIT_SECONDS}"] for r in loads],
    )


def targets(results: list[dict]) -> dict:
    """The two targets, each with its figure and whether it was met."""
    empty, largest = results[0], results[-1]
    flow_ratio = largest["median_ms"] / empty["median_ms"]
    create_ratio = empty["single_requests"]["ratio"]
    return {
        "flow_median_growth": {
            "description": f"per-flow median at {largest['stored_payments']:,} stored within {FLOW_TARGET}x of empty",
            "ratio": round(flow_ratio, 2), "target": FLOW_TARGET, "met": flow_ratio <= FLOW_TARGET,
        },
        "create_vs_trivial": {
            "description": f"create-payment median within {CREATE_TARGET}x of GET /_mock/health",
            "ratio": create_ratio, "target": CREATE_TARGET, "met": create_ratio <= CREATE_TARGET,
        },
    }


def report(results: list[dict], goals: dict) -> None:
    """Print the tables and the verdict on each target."""
    empty_median = results[0]["median_ms"]
    print("\n3-call flow: create(confirm, card) -> retrieve -> refund; one keep-alive client")
    harness.print_table(
        ["stored", "seed s", "flows/s", "median ms", "p99 ms", "create ms", "retrieve ms", "refund ms", "vs empty"],
        [[f"{r['stored_payments']:,}", r["seed_seconds"], r["flows_per_s"], r["median_ms"], r["p99_ms"],
          *r["step_median_ms"].values(), f"{r['median_ms'] / empty_median:.2f}x"] for r in results],
    )
    single = results[0]["single_requests"]
    print(f"\nSingle requests on the empty store ({single['requests_each']} each, alternated)")
    harness.print_table(["request", "median ms"], [
        ["POST /hyperswitch/payments", single["create_median_ms"]],
        ["GET /_mock/health", single["health_median_ms"]],
        ["ratio", f"{single['ratio']}x"],
    ])
    if goals:
        print("\nTargets")
    for goal in goals.values():
        verdict = "MET" if goal["met"] else "MISSED"
        print(f"  {verdict:6}  {goal['description']}: {goal['ratio']}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller stores and fewer flows, for a smoke run")
    parser.add_argument("--sizes", type=lambda v: tuple(int(n) for n in v.split(",")), default=None,
                        help="store sizes to measure, e.g. 0 or 0,10000 (default: the plan's)")
    parser.add_argument("--no-sizes", action="store_true", help="only the concurrent-client loads")
    parser.add_argument("--source", type=Path, default=None,
                        help="serve the mock_psp package found in this directory (an export of another commit)")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    if args.sizes:
        plan = Plan(args.sizes, plan.warmup_flows, plan.measured_flows, plan.single_requests)
    code, started = harness.code_version(), time.perf_counter()
    results, goals = [], {}
    with harness.work_dir() as tmp:
        if not args.no_sizes:
            results = [measure_size(size, plan, tmp, args.source) for size in plan.sizes]
        print("concurrent clients ...", flush=True)
        loads = [measure_concurrency(n, 4 if args.quick else LOAD_SECONDS, tmp, args.source)
                 for n in CLIENT_PROCESSES]
    if results:
        goals = targets(results) if len(results) > 1 else {}
        report(results, goals)
    report_concurrency(loads)
    path = harness.write_results("flow", {
        "benchmark": "flow", "quick": args.quick, "plan": asdict(plan), "machine": harness.machine(),
        "source": str(args.source or "this checkout"),
        "code": code, "code_changed_during_run": harness.code_changed(code),
        "total_seconds": round(time.perf_counter() - started, 1), "results": results, "targets": goals,
        "concurrent": loads,
    })
    print(f"\nResults written to {path}")


if __name__ == "__main__":
    main()
