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

That is one round; there are three, each with fresh servers, localstripe then
mock-psp, and the ratios are taken between the medians over rounds.

The Stripe flow: POST /v1/payment_methods -> POST /v1/payment_intents
(confirm=true) -> POST /v1/refunds. The Hyperswitch flow: create (confirm,
card) -> retrieve -> refund.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import AbstractContextManager
from contextlib import contextmanager
from dataclasses import asdict
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import harness
import requests

LOCALSTRIPE_PYTHON = harness.BENCH_DIR / ".venv-localstripe" / "bin" / "python"
LOCALSTRIPE_LAUNCHER = harness.BENCH_DIR / "localstripe_loopback.py"
# localstripe saves its whole store here after every change; the path is fixed in its code.
LOCALSTRIPE_PICKLE = Path("/tmp/localstripe.pickle")
STRIPE_KEY = "sk_test_12345"
STRIPE_STEPS = ("payment_method", "payment_intent", "refund")

POINTS = ("0", "stored")  # measured on an empty store, and after `stored_flows` flows
THROUGHPUT_TARGETS = {"0": 3.0, "stored": 20.0}  # mock-psp flows/s over localstripe's, at least


@dataclass(frozen=True)
class Plan:
    warmup_flows: int
    sample_flows: int
    stored_flows: int
    rounds: int


FULL = Plan(warmup_flows=10, sample_flows=50, stored_flows=500, rounds=3)
QUICK = Plan(warmup_flows=5, sample_flows=20, stored_flows=100, rounds=1)


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
    start: Callable[[Path], AbstractContextManager[harness.Server]]  # given a directory of its own
    session: Callable[[], requests.Session]
    flow: Callable[[requests.Session, str], tuple[float, ...]]
    wipe: Callable[[requests.Session, str], None]
    steps: tuple[str, ...]


SUBJECTS = (
    Subject("localstripe", lambda tmp: localstripe_server(tmp / "localstripe.log"),
            stripe_session, stripe_flow, wipe_localstripe, STRIPE_STEPS),
    Subject("mock-psp", lambda tmp: harness.mock_psp_server(tmp / "store.db", tmp / "mock-psp.log"),
            harness.mock_psp_session, harness.mock_psp_flow, wipe_mock_psp, harness.STEPS),
)


def measure(subject: Subject, plan: Plan, tmp: Path) -> dict:
    """Warm up, wipe, measure the first flows, fill up to ``stored_flows``, measure the next ones."""
    print(f"  {subject.name}: {plan.warmup_flows} warm-up flows, wipe, then measuring", flush=True)
    with subject.start(tmp) as server, subject.session() as session:
        flow = partial(subject.flow, session, server.url)
        harness.run_flows(flow, plan.warmup_flows)
        subject.wipe(session, server.url)
        at_zero = harness.summarize_flows(*harness.run_flows(flow, plan.sample_flows), subject.steps)
        harness.run_flows(flow, plan.stored_flows - plan.sample_flows)
        at_stored = harness.summarize_flows(*harness.run_flows(flow, plan.sample_flows), subject.steps)
    return {"0": {"stored_flows": 0, **at_zero}, "stored": {"stored_flows": plan.stored_flows, **at_stored}}


def run_rounds(plan: Plan, tmp: Path) -> list[dict]:
    """Each round starts every subject afresh, one after the other, so drift on the machine hits both."""
    rounds = []
    for n in range(1, plan.rounds + 1):
        print(f"round {n} of {plan.rounds}", flush=True)
        round_dir = tmp / f"round-{n}"
        round_dir.mkdir()
        rounds.append({subject.name: measure(subject, plan, round_dir) for subject in SUBJECTS})
    return rounds


def summarize_rounds(rounds: list[dict]) -> dict:
    """Per server and point: the median over rounds of flows/s and of the per-flow median, and the flows/s range."""
    summary: dict = {}
    for name in rounds[0]:
        for point in POINTS:
            runs = [r[name][point] for r in rounds]
            rates = [run["flows_per_s"] for run in runs]
            summary.setdefault(name, {})[point] = {
                "stored_flows": runs[0]["stored_flows"],
                "flows_per_s": round(statistics.median(rates), 1),
                "flows_per_s_range": [min(rates), max(rates)],
                "median_ms": round(statistics.median(run["median_ms"] for run in runs), 3),
            }
    return summary


def comparison(summary: dict) -> dict:
    """mock-psp's throughput over localstripe's at each point (medians over rounds), against the targets."""
    out = {}
    for point in POINTS:
        ratio = summary["mock-psp"][point]["flows_per_s"] / summary["localstripe"][point]["flows_per_s"]
        target = THROUGHPUT_TARGETS[point]
        out[point] = {"stored_flows": summary["mock-psp"][point]["stored_flows"], "ratio": round(ratio, 1),
                      "target": target, "met": ratio >= target}
    return out


def report(rounds: list[dict], summary: dict, ratios: dict) -> None:
    """Print every round, the medians over rounds, and the verdict on each target."""
    rows = []
    for n, round_results in enumerate(rounds, 1):
        for name, result in round_results.items():
            for point in POINTS:
                r = result[point]
                rows.append([n, name, r["stored_flows"], r["flows"], r["flows_per_s"], r["median_ms"], r["p99_ms"],
                             " / ".join(str(v) for v in r["step_median_ms"].values())])
    print("\nOne keep-alive client; each row is a run of consecutive flows")
    harness.print_table(["round", "server", "stored", "flows", "flows/s", "median ms", "p99 ms",
                         "per-call medians ms"], rows)
    print(f"\nMedians over {len(rounds)} round(s)")
    harness.print_table(["server", "stored", "flows/s", "flows/s range", "median ms"], [
        [name, s["stored_flows"], s["flows_per_s"], "{} - {}".format(*s["flows_per_s_range"]), s["median_ms"]]
        for name, points in summary.items() for s in points.values()
    ])
    print("\nThroughput ratio mock-psp / localstripe")
    for r in ratios.values():
        verdict = "MET" if r["met"] else "MISSED"
        print(f"  {verdict:6}  at {r['stored_flows']} stored: {r['ratio']}x (target >= {r['target']}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round of fewer flows, for a smoke run")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    code = harness.code_version()
    with harness.work_dir() as tmp:
        rounds = run_rounds(plan, tmp)
    summary = summarize_rounds(rounds)
    ratios = comparison(summary)
    report(rounds, summary, ratios)
    path = harness.write_results("localstripe-compare", {
        "benchmark": "localstripe_compare", "quick": args.quick, "plan": asdict(plan),
        "machine": harness.machine(), "code": code, "code_changed_during_run": harness.code_changed(code),
        "steps": {"localstripe": STRIPE_STEPS, "mock-psp": harness.STEPS},
        "rounds": rounds, "summary": summary, "ratios": ratios,
    })
    print(f"\nResults written to {path}")


if __name__ == "__main__":
    main()
