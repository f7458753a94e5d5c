"""mock-psp against localstripe: the same 3-call payment flow, the same client, the same schedule.

localstripe (a fake Stripe, PyPI package ``localstripe``) lives in its own
virtualenv, never in the project's. Create it once:

    python3 -m venv benchmarks/.venv-localstripe
    benchmarks/.venv-localstripe/bin/pip install localstripe

Then, with the project's virtualenv:

    .venv/bin/python benchmarks/localstripe_compare.py           # the full run
    .venv/bin/python benchmarks/localstripe_compare.py --quick   # a smoke run

Each server is started fresh on 127.0.0.1 and a free port. One keep-alive
client (``requests.Session``, one thread) runs a few warm-up flows, the
server's data is wiped (localstripe: ``DELETE /_config/data``; mock-psp:
``POST /_mock/reset``), and then:

* "at 0": the first 50 flows are measured;
* flows continue, unmeasured, until 500 flows are stored;
* "at 500": the next 50 flows are measured.

The Stripe flow: POST /v1/payment_methods -> POST /v1/payment_intents
(confirm=true) -> POST /v1/refunds. The Hyperswitch flow: create (confirm,
card) -> retrieve -> refund.
"""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from typing import Iterator

import requests

import harness

LOCALSTRIPE_PYTHON = harness.BENCH_DIR / ".venv-localstripe" / "bin" / "python"
LOCALSTRIPE_LAUNCHER = harness.BENCH_DIR / "localstripe_loopback.py"
# localstripe saves its whole store here after every change; the path is fixed in its code.
LOCALSTRIPE_PICKLE = Path("/tmp/localstripe.pickle")
STRIPE_KEY = "sk_test_12345"
STRIPE_STEPS = ("payment_method", "payment_intent", "refund")

THROUGHPUT_TARGETS = {"0": 3.0, "stored": 20.0}  # mock-psp flows/s over localstripe's, at least


@dataclass(frozen=True)
class Plan:
    warmup_flows: int
    sample_flows: int
    stored_flows: int


FULL = Plan(warmup_flows=10, sample_flows=50, stored_flows=500)
QUICK = Plan(warmup_flows=5, sample_flows=20, stored_flows=100)


# -- localstripe ------------------------------------------------------------------------------


@contextmanager
def localstripe_server(log_path: Path) -> Iterator[harness.Server]:
    """localstripe on 127.0.0.1 (via the launcher); removes the pickle it leaves in /tmp if it made it."""
    if not LOCALSTRIPE_PYTHON.exists():
        raise SystemExit(f"{LOCALSTRIPE_PYTHON} is missing: see this script's docstring to create it")
    pickle_existed = LOCALSTRIPE_PICKLE.exists()
    try:
        with harness.server_process("localstripe", [str(LOCALSTRIPE_PYTHON), str(LOCALSTRIPE_LAUNCHER)],
                                    "localstripe listening on ", log_path) as server:
            yield server
    finally:
        if not pickle_existed:
            LOCALSTRIPE_PICKLE.unlink(missing_ok=True)


def stripe_session() -> requests.Session:
    session = requests.Session()
    session.auth = (STRIPE_KEY, "")
    return session


def stripe_flow(session: requests.Session, url: str) -> tuple[float, ...]:
    """Payment method -> payment intent (confirm) -> refund; seconds taken by each call."""
    t0 = time.perf_counter()
    method = harness.expect(session.post(f"{url}/v1/payment_methods", data={
        "type": "card", "card[number]": harness.CARD_NUMBER, "card[exp_month]": "12",
        "card[exp_year]": "2035", "card[cvc]": "123",
    }), "object", "payment_method")
    t1 = time.perf_counter()
    intent = harness.expect(session.post(f"{url}/v1/payment_intents", data={
        "amount": "1000", "currency": "usd", "payment_method": method["id"], "confirm": "true",
    }), "status", "succeeded")
    t2 = time.perf_counter()
    harness.expect(session.post(f"{url}/v1/refunds", data={
        "payment_intent": intent["id"], "amount": str(harness.REFUND_AMOUNT),
    }), "status", "succeeded")
    t3 = time.perf_counter()
    return (t1 - t0, t2 - t1, t3 - t2)


def wipe_localstripe(session: requests.Session, url: str) -> None:
    session.delete(f"{url}/_config/data").raise_for_status()


def wipe_mock_psp(session: requests.Session, url: str) -> None:
    session.post(f"{url}/_mock/reset").raise_for_status()


# -- the schedule ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """One server under test and how to drive it."""

    name: str
    start: Callable[[Path], object]  # tmp dir -> context manager giving a harness.Server
    session: Callable[[], requests.Session]
    flow: Callable[[requests.Session, str], tuple[float, ...]]
    wipe: Callable[[requests.Session, str], None]
    steps: tuple[str, ...]


SUBJECTS = (
    Subject("localstripe", lambda tmp: localstripe_server(tmp / "localstripe.log"),
            stripe_session, stripe_flow, wipe_localstripe, STRIPE_STEPS),
    Subject("mock-psp", lambda tmp: harness.mock_psp_server(tmp / "compare.db", tmp / "mock-psp.log"),
            harness.mock_psp_session, harness.mock_psp_flow, wipe_mock_psp, harness.STEPS),
)


def measure(subject: Subject, plan: Plan, tmp: Path) -> dict:
    """Warm up, wipe, measure the first flows, fill up to ``stored_flows``, measure the next ones."""
    print(f"{subject.name}: {plan.warmup_flows} warm-up flows, wipe, then measuring", flush=True)
    with subject.start(tmp) as server, subject.session() as session:
        flow = lambda: subject.flow(session, server.url)  # noqa: E731
        harness.run_flows(flow, plan.warmup_flows)
        subject.wipe(session, server.url)
        at_zero = harness.summarize_flows(*harness.run_flows(flow, plan.sample_flows), subject.steps)
        fill_wall, _ = harness.run_flows(flow, plan.stored_flows - plan.sample_flows)
        at_stored = harness.summarize_flows(*harness.run_flows(flow, plan.sample_flows), subject.steps)
    return {
        "0": {"stored_flows": 0, **at_zero},
        "stored": {"stored_flows": plan.stored_flows, **at_stored},
        "fill_seconds": round(fill_wall, 2),
    }


def comparison(results: dict) -> dict:
    """mock-psp's throughput over localstripe's at each point, against the targets."""
    out = {}
    for point, target in THROUGHPUT_TARGETS.items():
        ratio = results["mock-psp"][point]["flows_per_s"] / results["localstripe"][point]["flows_per_s"]
        out[point] = {"stored_flows": results["mock-psp"][point]["stored_flows"], "ratio": round(ratio, 1),
                      "target": target, "met": ratio >= target}
    return out


def report(results: dict, ratios: dict) -> None:
    rows = []
    for name, result in results.items():
        for point in ("0", "stored"):
            r = result[point]
            rows.append([name, r["stored_flows"], r["flows"], r["flows_per_s"], r["median_ms"], r["p99_ms"],
                         " / ".join(f"{v}" for v in r["step_median_ms"].values())])
    print("\nOne keep-alive client; each row is a run of consecutive flows")
    harness.print_table(["server", "stored", "flows", "flows/s", "median ms", "p99 ms", "per-call medians ms"], rows)
    print("\nThroughput ratio mock-psp / localstripe")
    for r in ratios.values():
        verdict = "MET" if r["met"] else "MISSED"
        print(f"  {verdict:6}  at {r['stored_flows']} stored: {r['ratio']}x (target >= {r['target']}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer flows, for a smoke run")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    with harness.work_dir() as tmp:
        results = {subject.name: measure(subject, plan, tmp) for subject in SUBJECTS}
    ratios = comparison(results)
    report(results, ratios)
    path = harness.write_results("localstripe-compare", {
        "benchmark": "localstripe_compare", "quick": args.quick, "plan": asdict(plan),
        "machine": harness.machine(), "steps": {"localstripe": STRIPE_STEPS, "mock-psp": harness.STEPS},
        "results": results, "ratios": ratios,
    })
    print(f"\nResults written to {path}")


if __name__ == "__main__":
    main()
