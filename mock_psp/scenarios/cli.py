"""``mock-psp scenarios``: run and list scenario files."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from .errors import CouldNotRun
from .errors import debugging
from .loader import ScenarioError
from .loader import catalog_dir
from .loader import load_all


def select(paths: tuple[str, ...], tags: tuple[str, ...]):
    scenarios = load_all(list(paths) or [catalog_dir()])
    wanted = {t for tag in tags for t in tag.split(",") if t}
    if wanted:
        scenarios = [s for s in scenarios if wanted & set(s.tags)]
    return scenarios


@click.group(help="""Run scripted end-to-end scenarios (YAML) against the provider and the test merchant.

\b
Example:
  mock-psp scenarios list                   # the built-in catalog
  mock-psp scenarios run --tags webhooks    # a part of it, on free ports
  mock-psp scenarios check my-scenarios/    # validate files without running them
""", context_settings={"help_option_names": ["-h", "--help"]})
def scenarios() -> None:
    pass


EXIT_CODES = """\b
Exit codes (for CI):
  0  every scenario passed (skips allowed: a scenario whose optional part, such as
     Playwright and Chromium for browser steps, is missing is skipped with the reason)
  1  a scenario failed
  2  could not run: bad arguments, an invalid scenario file (every problem is listed
     with file:line, and nothing runs), no scenario matches, or the provider or a
     merchant cannot be reached (also mid-run) or refuses the set-up (one line on
     stderr says why; MOCK_PSP_DEBUG=1 keeps the traceback of an unexpected error)
"""


@scenarios.command(help=f"""Run scenarios: the files or folders given, or the built-in catalog.

Starts its own provider and merchants on free ports unless URLs are given, gives
each scenario its own namespace, prints a line as each scenario starts (and each
step with -v) and as it ends, then a summary.

{EXIT_CODES}
\b
Examples:
  mock-psp scenarios run
  mock-psp scenarios run scenarios/ --tags webhooks --junit results.xml -v
  mock-psp scenarios run my.yaml --psp-url http://127.0.0.1:8420 --merchant-url http://127.0.0.1:8421
""")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--tags", multiple=True, help="Only scenarios with one of these tags (repeat, or comma-separate).")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), default=None, help="Write JUnit XML here.")
@click.option("--psp-url", default=None, help="Use this provider instead of starting one.")
@click.option("--merchant-url", multiple=True,
              help="Use this running test merchant (repeat: one per dialect) instead of starting them.")
@click.option("--artifacts", type=click.Path(file_okay=False), default="scenario-output", show_default=True,
              help="Where failing browser scenarios leave a screenshot.")
@click.option("--control-token", envvar="MOCK_PSP_CONTROL_TOKEN", default=None, metavar="TOKEN",
              help="With --psp-url: that provider's control token, if it has one (env MOCK_PSP_CONTROL_TOKEN).")
@click.option("-v", "--verbose", is_flag=True, help="Print each step as it starts, with its file and line.")
def run(paths, tags, junit_file, psp_url, merchant_url, artifacts, control_token, verbose) -> None:
    from .report import summary
    from .report import write_junit
    from .runner import Runner

    chosen = _chosen_or_refuse(paths, tags)
    started = time.monotonic()
    runner = Runner(psp_url=psp_url, merchant_urls=list(merchant_url), artifacts=Path(artifacts),
                    control_token=control_token, on_step=_print_step if verbose else None)
    outcomes = _run_all(runner, chosen)
    wall = time.monotonic() - started
    click.echo("")
    click.echo(summary(outcomes, wall))
    if junit_file:
        write_junit(outcomes, junit_file, wall)
        click.echo(f"JUnit XML: {junit_file}")
    sys.exit(0 if all(o.passed for o in outcomes) else 1)


def _chosen_or_refuse(paths, tags) -> list:
    """The scenarios to run; every problem of an invalid file (file:line), or CouldNotRun."""
    try:
        chosen = select(paths, tags)
    except ScenarioError as error:
        _refuse_files(error)
    if not chosen:
        wanted = ",".join(tags)
        raise CouldNotRun(f"no scenarios match (--tags {wanted})" if wanted else "no scenario files found")
    return chosen


def _refuse_files(error: ScenarioError, then: str = "; nothing ran"):
    """Every problem as file:line: message, then CouldNotRun counting them."""
    for problem in error.problems:
        click.echo(str(problem), err=True)
    files = len({p.file for p in error.problems})
    raise CouldNotRun(f"{len(error.problems)} problem(s) in {files} scenario file(s){then}")


def _run_all(runner, chosen) -> list:
    """Run each scenario, printing as it goes (flushed: CI logs show where a long run is).
    What stops the run itself (a server gone, a refused set-up) is CouldNotRun."""
    from ..client.control import RemoteError
    from ..test_merchant.provision import ProvisionError
    from .report import failure_text
    from .report import progress_line
    from .report import start_line

    outcomes = []
    try:
        with runner:
            click.echo(f"Running {len(chosen)} scenario(s) against {runner.psp_url}")
            for scenario in chosen:
                click.echo(start_line(scenario))
                sys.stdout.flush()
                outcome = runner.run(scenario)
                outcomes.append(outcome)
                click.echo(progress_line(outcome))
                if not outcome.passed:
                    click.echo(failure_text(outcome))
                sys.stdout.flush()
    except CouldNotRun:
        raise
    except (ProvisionError, RemoteError) as error:  # the provider refused the set-up (a control token?)
        raise CouldNotRun(f"could not run: {error}") from None
    except Exception as error:  # a steps' error is its scenario's failure: this is the run's own set-up
        if debugging():
            raise
        raise CouldNotRun(f"could not run: {error.__class__.__name__}: {error}") from None
    return outcomes


def _print_step(scenario, step) -> None:
    click.echo(f"  step {step.index + 1}/{len(scenario.steps)} {step.label} ({scenario.path}:{step.line})")
    sys.stdout.flush()


@scenarios.command(name="list", help="""List scenarios: name, dialect, tags and description.

\b
Example:
  mock-psp scenarios list --tags browser
""")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--tags", multiple=True, help="Only scenarios with one of these tags.")
def list_scenarios(paths, tags) -> None:
    try:
        chosen = select(paths, tags)
    except ScenarioError as error:
        _refuse_files(error, then="")
    width = max([len(s.name) for s in chosen] + [4])
    for s in chosen:
        click.echo(f"{s.name:<{width}}  {s.dialect:<11}  {','.join(s.tags):<30}  {s.description}")
    click.echo(f"{len(chosen)} scenario(s)")


@scenarios.command(help="""Check scenario files without running anything: the format, and the words
each dialect knows (event types, order states, outcome names), with "did you mean"
for near misses. `scenarios run` makes the same check and refuses to start on a problem.

Prints every problem as file:line: message. It exits 0 when every file is valid and
exits 2 when any is not: the code `scenarios run` gives a run that could not start
because of a bad file (1 stays "a scenario failed", which only a run can find).

\b
Example:
  mock-psp scenarios check scenarios/
""")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def check(paths) -> None:
    try:
        chosen = load_all(list(paths) or [catalog_dir()])
    except ScenarioError as error:
        _refuse_files(error, then="")
    click.echo(f"{len(chosen)} scenario(s) valid")
