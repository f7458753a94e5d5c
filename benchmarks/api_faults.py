"""What API fault injection and the request journal cost a call.

One `mock-psp serve` on an empty store; the same create-payment call measured, alternately
per round, in three states of the default namespace:

- off: no API faults (the journal still records every call: it is always on);
- idle: API faults on, but their routes never match the call (the decision still takes a
  write transaction);
- drawing: an `error` rate of 0.000001 on the call itself (one seeded draw per call, and
  practically never a fault).

Target (ours, not an issue's): a namespace with faults switched on but idle or drawing costs
a call at most 1.5x what it costs with faults off. Usage: .venv/bin/python benchmarks/api_faults.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time

import harness
import requests

STATES = {
    "off": {"error": 0, "routes": [], "next": []},
    "idle": {"error": 1.0, "routes": ["GET /hyperswitch/never"], "next": []},
    "drawing": {"error": 0.000001, "routes": ["POST /hyperswitch/payments"], "next": []},
}
TARGET = 1.5


def set_state(session: requests.Session, url: str, name: str) -> None:
    reply = session.put(f"{url}/_mock/faults", json={"api": STATES[name]}, headers={"X-Mock-Namespace": "ns_default"})
    reply.raise_for_status()


def create_ms(session: requests.Session, url: str) -> float:
    started = time.perf_counter()
    reply = session.post(f"{url}/hyperswitch/payments", json=harness.PAYMENT_REQUEST)
    elapsed = time.perf_counter() - started
    harness.expect(reply, "status", "succeeded")
    return elapsed * 1000


def measure(url: str, rounds: int, per_round: int) -> dict:
    session = harness.mock_psp_session()
    samples: dict[str, list[float]] = {name: [] for name in STATES}
    for round_number in range(rounds + 1):  # round 0 warms up
        for name in STATES:
            set_state(session, url, name)
            taken = [create_ms(session, url) for _ in range(per_round)]
            if round_number:
                samples[name] += taken
    set_state(session, url, "off")
    medians = {name: round(statistics.median(values), 3) for name, values in samples.items()}
    return {"calls_each": len(samples["off"]), "median_ms": medians,
            "ratio": {name: round(medians[name] / medians["off"], 2) for name in ("idle", "drawing")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, for a smoke run")
    args = parser.parse_args()
    rounds, per_round = (3, 50) if args.quick else (10, 100)
    code = harness.code_version()
    with harness.work_dir() as tmp, harness.mock_psp_server(tmp / "store.db", tmp / "server.log") as server:
        result = measure(server.url, rounds, per_round)
    harness.print_table(["state", "create median ms", "vs off"],
                        [[name, result["median_ms"][name], result["ratio"].get(name, 1.0)] for name in STATES])
    worst = max(result["ratio"].values())
    verdict = "MET" if worst <= TARGET else "MISSED"
    print(f"\nTarget\n  {verdict:<7} faults on (idle or drawing) within {TARGET}x of off: {worst}x")
    path = harness.write_results("api_faults", {
        "benchmark": "api_faults", "quick": args.quick, "machine": harness.machine(), "code": code,
        "code_changed_during_run": harness.code_changed(code), "result": result,
        "target": {"within": TARGET, "worst": worst, "met": worst <= TARGET},
    })
    print(f"\nResults written to {path}")


if __name__ == "__main__":
    main()
