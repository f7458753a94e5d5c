"""``mock-psp scenarios``: run and list scenario files."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

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


@scenarios.command(help="""Run scenarios: the files or folders given, or the built-in catalog.

Starts its own provider and merchants on free ports unless URLs are given, gives
each scenario its own namespace, prints a line per scenario and a summary, and
exits 1 if any scenario fails (2 if a file is invalid: nothing runs then).

\b
Examples:
  mock-psp scenarios run
  mock-psp scenarios run scenarios/ --tags webhooks --junit results.xml
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
def run(paths, tags, junit_file, psp_url, merchant_url, artifacts, control_token) -> None:
    from ..client.control import RemoteError
    from ..test_merchant.provision import ProvisionError
    from .report import failure_text
    from .report import progress_line
    from .report import summary
    from .report import write_junit
    from .runner import Runner

    try:
        chosen = select(paths, tags)
    except ScenarioError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        sys.exit(2)
    if not chosen:
        click.echo("No scenarios match.", err=True)
        sys.exit(2)
    started = time.monotonic()
    outcomes = []
    try:
        with Runner(psp_url=psp_url, merchant_urls=list(merchant_url), artifacts=Path(artifacts),
                    control_token=control_token) as runner:
            click.echo(f"Running {len(chosen)} scenario(s) against {runner.psp_url}")
            for scenario in chosen:
                outcome = runner.run(scenario)
                outcomes.append(outcome)
                click.echo(progress_line(outcome))
                if not outcome.passed:
                    click.echo(failure_text(outcome))
                sys.stdout.flush()
    except (ProvisionError, RemoteError) as error:  # the provider refused the set-up (a control token?)
        click.echo(f"Could not run: {error}", err=True)
        sys.exit(2)
    wall = time.monotonic() - started
    click.echo("")
    click.echo(summary(outcomes, wall))
    if junit_file:
        write_junit(outcomes, junit_file, wall)
        click.echo(f"JUnit XML: {junit_file}")
    sys.exit(0 if all(o.passed for o in outcomes) else 1)


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
        for problem in error.problems:
            click.echo(str(problem), err=True)
        sys.exit(2)
    width = max([len(s.name) for s in chosen] + [4])
    for s in chosen:
        click.echo(f"{s.name:<{width}}  {s.dialect:<11}  {','.join(s.tags):<30}  {s.description}")
    click.echo(f"{len(chosen)} scenario(s)")


@scenarios.command(help="""Check scenario files against the format without running anything.

\b
Example:
  mock-psp scenarios check scenarios/
""")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def check(paths) -> None:
    try:
        chosen = load_all(list(paths) or [catalog_dir()])
    except ScenarioError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        sys.exit(2)
    click.echo(f"{len(chosen)} scenario(s) valid")
