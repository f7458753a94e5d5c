"""How a run reports: a line per scenario, failures in full, a summary table, JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

from ..domain.durations import describe as describe_duration
from .context import Outcome
from .loader import Scenario


def start_line(scenario: Scenario) -> str:
    """Printed as a scenario starts, so a long one is not silence."""
    return f"START {scenario.name}  [{scenario.dialect}]"


def progress_line(outcome: Outcome) -> str:
    s = outcome.scenario
    if outcome.skipped:
        return f"SKIP  {s.name}  [{s.dialect}]  {outcome.skipped}"
    mark = "PASS" if outcome.passed else "FAIL"
    return (f"{mark}  {s.name}  [{s.dialect}]  {outcome.wall_seconds:.2f} s wall, "
            f"{describe_duration(outcome.simulated_seconds)} on the clock")


def failure_text(outcome: Outcome) -> str:
    step = outcome.failed_step
    where = (f"step {step.index + 1} ({step.label}) at {outcome.scenario.path}:{step.line}" if step
             else f"set-up of {outcome.scenario.path}")
    lines = [f"  {outcome.scenario.name} failed in {where}", f"  {outcome.message}"]
    if outcome.expected is not None:
        lines.append(f"  expected: {_show(outcome.expected)}")
    if outcome.found is not None:
        lines.append(f"  found:    {_show(outcome.found)}")
    if outcome.context:
        lines.append(outcome.context)
    return "\n".join(lines)


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) < 1500 else text[:1500] + "..."


def summary(outcomes: list[Outcome], wall: float) -> str:
    width = max([len(o.scenario.name) for o in outcomes] + [8])
    rows = [f"{'scenario':<{width}}  {'dialect':<11}  result  {'wall':>7}  {'clock':>8}"]
    for o in outcomes:
        result = "skip" if o.skipped else "pass" if o.passed else "FAIL"
        rows.append(f"{o.scenario.name:<{width}}  {o.scenario.dialect:<11}  {result:<6}  {o.wall_seconds:>6.2f}s  "
                    f"{describe_duration(o.simulated_seconds):>8}")
    passed = sum(o.passed and not o.skipped for o in outcomes)
    failed = sum(not o.passed for o in outcomes)
    skipped = sum(bool(o.skipped) for o in outcomes)
    simulated = sum(o.simulated_seconds for o in outcomes)
    rows.append("")
    rows.append(f"{passed} passed, {failed} failed{f', {skipped} skipped' if skipped else ''} "
                f"in {wall:.1f} s wall; {describe_duration(simulated)} simulated on the clock")
    rows += skip_reasons(outcomes)
    return "\n".join(rows)


def skip_reasons(outcomes: list[Outcome]) -> list[str]:
    """One line per reason: how many it skipped, and why (the reason says how to enable them)."""
    counts = Counter(o.skipped for o in outcomes if o.skipped)
    return [f"{count} skipped: {reason}" for reason, count in counts.items()]


def write_junit(outcomes: list[Outcome], path: str | Path, wall: float) -> None:
    suite = ET.Element("testsuite", name="mock-psp scenarios", tests=str(len(outcomes)),
                       failures=str(sum(not o.passed for o in outcomes)),
                       skipped=str(sum(bool(o.skipped) for o in outcomes)), time=f"{wall:.3f}")
    for o in outcomes:
        case = ET.SubElement(suite, "testcase", classname=f"scenarios.{o.scenario.dialect}", name=o.scenario.name,
                             file=o.scenario.path, time=f"{o.wall_seconds:.3f}")
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="simulated_seconds", value=f"{o.simulated_seconds:.0f}")
        ET.SubElement(properties, "property", name="tags", value=",".join(o.scenario.tags))
        if o.skipped:
            ET.SubElement(case, "skipped", message=o.skipped)
        elif not o.passed:
            failure = ET.SubElement(case, "failure", message=o.message[:500])
            failure.text = failure_text(o)
    tree = ET.ElementTree(suite)
    ET.indent(tree)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
