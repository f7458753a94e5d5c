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


def measure_size(size: int, plan: Plan, tmp: Path) -> dict:
    """Seed a store of ``size`` payments, serve it, and measure the flow (and, when empty, single requests)."""
    db_path = tmp / f"store-{size}.db"
    print(f"seeding {size:,} payments ...", flush=True)
    seed_seconds = harness.seed_store(db_path, size)
    with harness.mock_psp_server(db_path, tmp / f"server-{size}.log") as server, \
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
    print("\nTargets")
    for goal in goals.values():
        verdict = "MET" if goal["met"] else "MISSED"
        print(f"  {verdict:6}  {goal['description']}: {goal['ratio']}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller stores and fewer flows, for a smoke run")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    code, started = harness.code_version(), time.perf_counter()
    with harness.work_dir() as tmp:
        results = [measure_size(size, plan, tmp) for size in plan.sizes]
    goals = targets(results)
    report(results, goals)
    path = harness.write_results("flow", {
        "benchmark": "flow", "quick": args.quick, "plan": asdict(plan), "machine": harness.machine(),
        "code": code, "code_changed_during_run": harness.code_changed(code),
        "total_seconds": round(time.perf_counter() - started, 1), "results": results, "targets": goals,
    })
    print(f"\nResults written to {path}")


if __name__ == "__main__":
    main()
