"""The ``mock-psp`` command: thin wrappers over library functions."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from . import __version__
from .client.control import TOKEN_ENV
from .client.control import Control
from .client.control import PspHttpError
from .client.control import RemoteError
from .config import DEFAULT_MERCHANT_PORT
from .config import DEFAULT_PORT
from .config import Settings
from .dialects import registry
from .scenarios.cli import scenarios as scenarios_command
from .test_merchant.cli import merchant as merchant_command
from .test_merchant.psp.clients import DIALECTS as MERCHANT_DIALECTS
from .web.near_miss import did_you_mean

CLOCK = click.Choice(["system", "virtual"])
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"  # where the commands that talk to a provider look for it
ALLOWED_HOST_OPTION = click.option(
    "--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
    help="Also answer requests for this Host name (repeatable; env MOCK_PSP_ALLOWED_HOSTS, comma-separated). "
         "127.0.0.1, localhost, [::1] and the --public-url host always are; others get 421. See docs/security.md.")
SERVE_TOKEN_OPTION = click.option(
    "--control-token", default=None, metavar="TOKEN",
    help="Lock the control API, the dashboard and the namespace listings behind this token, sent as "
         "X-Mock-Token (env MOCK_PSP_CONTROL_TOKEN). A dialect key still works on its own namespace.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mock-psp")
def cli() -> None:
    """mock-psp: a local fake of Hyperswitch and GovPay, with a test merchant.

    \b
    Example:
        mock-psp up               # provider on :8420 and a test shop on :8421
        mock-psp serve            # the provider alone on http://127.0.0.1:8420
        mock-psp serve --port 0   # any free port; the URL is printed
    """


def _keys_shown(namespace, dialect, url: str) -> dict:
    return {**namespace.keys_of(dialect.key), "base_url": url + dialect.prefix}


def provider_banner(settings: Settings, url: str, provider) -> str:
    """What `serve` prints: where each API lives and the default namespace's keys."""
    ns = provider.default_namespace()
    lines = [f"mock-psp {__version__} provider listening on {url}", ""]
    for dialect in provider.dialects.values():
        lines.append(f"  {dialect.title:<13} {url}{dialect.prefix}")
        lines += dialect.client.banner(_keys_shown(ns, dialect, url))
    lines += [
        f"  Control API   {url}/_mock   (namespace {ns.id}, clock {ns.clock_mode}, seed {ns.seed})",
        f"  Dashboard     {url}/_mock/ui/   <- payments, webhooks, settings and clock in the browser",
        *state_lines(provider, [ns], url),
        *access_lines(settings),
        "",
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


def state_lines(provider, shown, url: str) -> list[str]:
    """Where the database is, whether this run starts on a previous run's state, and the steering
    such a run left in the ``shown`` namespaces (a frozen clock, delays, faults...), with how to clear it."""
    from .control import settings as control_settings

    kept_namespaces, kept_payments = provider.kept_state
    state = "fresh database" if provider.started_fresh else \
        f"kept state: {_count(kept_namespaces, 'namespace')}, {_count(kept_payments, 'payment')}"
    lines = [f"  Database      {provider.store.path}   ({state})"]
    if provider.started_fresh:
        return lines
    for namespace in shown:
        steered = control_settings.steering(provider, namespace, provider.settings.clock)
        if steered:
            reset = "mock-psp reset" + ("" if namespace.is_default else f" -n {namespace.id}") + \
                ("" if url.rstrip("/") == DEFAULT_URL else f" --url {url}")
            lines.append(f"  Steered       {namespace.id} kept a previous run's steering: {', '.join(steered)}; "
                         f"clear it with: {reset}")
    return lines


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def access_lines(settings: Settings) -> list[str]:
    """What the banner says about who may call (docs/security.md)."""
    lines = []
    if settings.control_token:
        lines.append("  Locked        the control API and the dashboard need the control token (X-Mock-Token)")
    if settings.host in ("0.0.0.0", "::", ""):
        lines.append("  Hosts         answered: 127.0.0.1, localhost, [::1]"
                     + "".join(f", {name}" for name in settings.allowed_hosts)
                     + "; add others with --allowed-host NAME")
    return lines


@cli.command()
@click.option("--host", default=None, help="Interface to bind. [default: 127.0.0.1]")
@click.option("--port", type=int, default=None, help=f"Port; 0 picks a free one. [default: {DEFAULT_PORT}]")
@click.option("--db", default=None, help="SQLite file, or :memory:. [default: <data dir>/mock-psp.db]")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="TOML file with a [provider] table of these settings.")
@click.option("--seed", type=int, default=None, help="Seed for the default namespace's ids and outcomes.")
@click.option("--clock", type=CLOCK, default=None,
              help="Clock of the default namespace and of every namespace created without one of its own "
                   "(POST /_mock/namespaces {\"clock\": ...} overrides it). [default: system]")
@click.option("--public-url", default=None, help="Base URL to put in links (behind a proxy).")
@ALLOWED_HOST_OPTION
@SERVE_TOKEN_OPTION
def serve(host, port, db, config_file, seed, clock, public_url, allowed_hosts, control_token) -> None:
    """Run the provider (Hyperswitch under /hyperswitch, GOV.UK Pay under /govuk, control API under /_mock).

    Settings come from defaults, then --config, then MOCK_PSP_* environment
    variables (MOCK_PSP_PORT, MOCK_PSP_DB, ...), then these flags. The data
    directory is $MOCK_PSP_DATA_DIR, else $XDG_DATA_HOME/mock-psp, else
    ~/.local/share/mock-psp. Namespaces and their steering are kept there
    across restarts: the banner says whether this start is fresh, and names
    any steering kept in the default namespace (mock-psp reset clears it).

    \b
    Example:
        mock-psp serve --port 8420 --seed 42 --clock virtual
        curl -s -X POST http://127.0.0.1:8420/_mock/namespaces
        mock-psp serve --host 0.0.0.0 --allowed-host mock-psp --control-token s3cret
    """
    from .app import create_app
    from .runtime.server import ServerThread
    from .runtime.server import run_until_signalled

    settings = Settings.load(config_file, host=host, port=port, db=db, seed=seed, clock=clock,
                             public_url=public_url, allowed_hosts=list(allowed_hosts) or None,
                             control_token=control_token)
    app = create_app(settings)
    provider = app.extensions["mock_psp"]
    server = ServerThread(app, settings.host, settings.port, settings.threads)
    provider.serving_at(server.url)
    click.echo(provider_banner(settings, server.url, provider))
    sys.stdout.flush()
    run_until_signalled([server], on_stop=provider.close)
    click.echo("mock-psp stopped.")


@cli.command()
@click.option("--host", default=None, help="Interface to bind. [default: 127.0.0.1]")
@click.option("--port", type=int, default=None, help=f"Provider port; 0 picks a free one. [default: {DEFAULT_PORT}]")
@click.option("--merchant-port", type=int, default=DEFAULT_MERCHANT_PORT, show_default=True,
              help="Test merchant port; 0 picks a free one.")
@click.option("--dialect", type=click.Choice(MERCHANT_DIALECTS), default=registry.DEFAULT.name,
              show_default=True, help="Which provider API the test merchant integrates with.")
@click.option("--db", default=None, help="Provider SQLite file, or :memory:. [default: <data dir>/mock-psp.db]")
@click.option("--merchant-db", default=None,
              help="Test merchant SQLite file, or :memory:. [default: <data dir>/merchant-<dialect>.db]")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="TOML file with a [provider] table.")
@click.option("--seed", type=int, default=None, help="Seed for the default namespace.")
@click.option("--clock", type=CLOCK, default=None,
              help="Clock of the default namespace and of every namespace created without one of its own "
                   "(POST /_mock/namespaces {\"clock\": ...} overrides it). [default: system]")
@ALLOWED_HOST_OPTION
@SERVE_TOKEN_OPTION
def up(host, port, merchant_port, dialect, db, merchant_db, config_file, seed, clock, allowed_hosts,
       control_token) -> None:
    """Run the provider and a test merchant, wired together, until Ctrl-C.

    The merchant gets a namespace of its own on the provider, with its webhook
    endpoint and its origin registered. Open the shop URL to pay in the browser.

    \b
    Example:
        mock-psp up                     # provider on :8420, shop on :8421
        mock-psp up --dialect govuk --port 0 --merchant-port 0
    """
    from .config import default_data_dir
    from .harness import start_harness
    from .runtime.server import run_until_signalled

    settings = Settings.load(config_file, host=host, port=port, db=db, seed=seed, clock=clock,
                             allowed_hosts=list(allowed_hosts) or None, control_token=control_token)
    if merchant_db is None:
        merchant_db = ":memory:" if settings.db == ":memory:" else str(default_data_dir() / f"merchant-{dialect}.db")
    try:
        harness = start_harness(settings, dialect=dialect, merchant_port=merchant_port, merchant_db=merchant_db)
    except Exception as error:  # the merchant could not be wired: say why, leave nothing running
        raise click.ClickException(str(error)) from error
    click.echo(up_banner(harness))
    sys.stdout.flush()
    run_until_signalled([], on_stop=harness.stop)
    click.echo("mock-psp stopped.")


def up_banner(harness) -> str:
    shop = harness.merchant.merchant.wiring
    dialect = registry.named(shop.dialect)
    authenticated = f"GovPay+ authenticates with {shop.scheme}" if shop.endpoint_id is None else \
        f"webhooks signed with {shop.scheme}"
    reached = harness.merchant.merchant.psp.provider_calls(shop.url)
    shop_namespace = harness.provider.home_namespace()
    label = f' "{shop_namespace.label}"' if shop_namespace.label else ""
    default = harness.provider.default_namespace()
    shown_state = [default] + ([shop_namespace] if shop_namespace.id != default.id else [])
    lines = [f"mock-psp {__version__}: provider and test merchant ({shop.dialect}) are up", "",
             f"  Shop          {harness.shop_url}/        <- open this to pay in the browser",
             f"  Shop API      {harness.shop_url}/_merchant/   {reached}",
             f"  Provider      {harness.psp_url}   (control API {harness.psp_url}/_mock)",
             *state_lines(harness.provider, shown_state, harness.psp_url),
             f"  Dashboard     {harness.psp_url}/_mock/ui/payments?ns={shop.namespace}   <- what the provider did",
             f"  API calls     mock-psp requests -f --url {harness.psp_url} -n {shop.namespace}",
             f"  Shop's namespace {shop.namespace}{label} ({shop.dialect}, {authenticated}):",
             f"    base URL                {shop.credentials.get('base_url', harness.psp_url + dialect.prefix)}",
             *dialect.client.banner({"base_url": harness.psp_url + dialect.prefix, **shop.credentials})]
    lines.append(f"  Default namespace {default.id} (for your own integration):")
    for other in harness.provider.dialects.values():
        lines.append(f"    {other.title}")
        lines += ["  " + line for line in other.client.banner(_keys_shown(default, other, harness.psp_url))]
    lines += [*access_lines(harness.provider.settings), "", "Press Ctrl-C to stop."]
    return "\n".join(lines)


URL_OPTION = click.option("--url", default=DEFAULT_URL, show_default=True,
                          help="The running provider.")
NAMESPACE_OPTION = click.option("--namespace", "-n", default=None,
                                help="Namespace id (mock-psp up prints the shop's). [default: ns_default]")
TOKEN_OPTION = click.option("--control-token", envvar=TOKEN_ENV, default=None, metavar="TOKEN",
                            help="The provider's control token, if it was started with one "
                                 f"(env {TOKEN_ENV}).")


@contextmanager
def remote() -> Iterator[None]:
    """A control call's failure as a one-line error: the provider's message, or where nothing answers."""
    try:
        yield
    except PspHttpError as error:
        raise click.ClickException(error.brief()) from error
    except RemoteError as error:
        raise click.ClickException(str(error)) from error


@cli.command(name="requests")
@URL_OPTION
@NAMESPACE_OPTION
@TOKEN_OPTION
@click.option("--follow", "-f", is_flag=True, help="Keep printing calls as they arrive, until Ctrl-C.")
@click.option("--stop-after", type=click.IntRange(min=1), default=None,
              help="With --follow: stop after this many calls (for scripts waiting on a call).")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True,
              help="Without --follow: how many of the latest calls.")
@click.option("--method", default=None, help="Only this HTTP method.")
@click.option("--path", default=None, help="Only calls whose path contains this.")
@click.option("--status", type=int, default=None, help="Only calls answered with this status.")
@click.option("--unmatched", is_flag=True,
              help="The calls whose key matched no namespace instead. (A call that matched no route stays in its "
                   "key's namespace: its line ends with the routes it may have meant.)")
@click.option("--bodies", is_flag=True, help="Print the request and response bodies too.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per call (the whole journal entry).")
def requests_command(url, namespace, control_token, follow, stop_after, limit, method, path, status, unmatched,
                     bodies, as_json) -> None:
    """Show the API calls a running provider received: the request journal.

    Oldest first, one line each: time on the namespace clock, method, path,
    status (--- when no answer was sent), time taken, and any injected fault.

    \b
    Example:
        mock-psp requests                       # the last 20 calls to ns_default
        mock-psp requests -f -n ns_1a2b3c       # follow the shop's calls as they come
        mock-psp requests --status 401 --unmatched --bodies
    """
    control = Control(url, namespace, timeout=10, token=control_token)
    filters = {"method": method, "path": path, "status": status}

    def show(entry: dict) -> None:
        click.echo(json.dumps(entry) if as_json else request_line(entry, bodies))

    with remote():
        try:
            if not follow:
                for entry in reversed(control.requests(limit=limit, unmatched=unmatched, **filters)):
                    show(entry)
                return
            for count, entry in enumerate(control.follow_requests(unmatched=unmatched, **filters), start=1):
                show(entry)
                sys.stdout.flush()
                if stop_after is not None and count >= stop_after:
                    return
        except KeyboardInterrupt:
            return


def request_line(entry: dict, bodies: bool = False) -> str:
    """One journal entry as a log line (the time part of the namespace clock, call, status, time, and for
    a call that matched no route the routes it may have meant)."""
    status = str(entry["status"]) if entry["status"] else "---"
    call = entry["path"] + (f"?{entry['query']}" if entry["query"] else "")
    fault = f"  [fault: {entry['fault']}]" if entry["fault"] else ""
    arrow = "-> " if entry.get("direction") == "out" else ""
    missed = "route" in entry.get("unmatched", ())  # .get: a provider older than near misses has neither field
    hint = f"  {did_you_mean(entry.get('near_miss', [])) or 'no such route'}" if missed else ""
    line = (f"{entry['at'][11:23]}  {arrow}{entry['method']:<6} {call}  {status}  {entry['duration_ms']:.1f} ms"
            f"{fault}{hint}")
    if bodies:
        for label, body in (("  > ", entry["request_body"]), ("  < ", entry["response_body"])):
            if body:
                line += "\n" + label + _one_line(body)
    return line


def _one_line(body: str) -> str:
    try:
        return json.dumps(json.loads(body), separators=(",", ":"))
    except ValueError:
        return body.replace("\n", " ")


def parse_setting(text: str) -> tuple[str, Any]:
    """``name=value`` from the command line; the value as JSON when it is JSON (0.2, [1, 2]), else text."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r}: give name=value, e.g. error=0.2 or latency_seconds=[0.1,0.5]",
                                 param_hint="--set")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


@cli.command()
@URL_OPTION
@NAMESPACE_OPTION
@TOKEN_OPTION
@click.option("--next", "next_faults", multiple=True,
              type=click.Choice(["error", "reset", "timeout", "lost_response", "truncated", "none"]),
              help="Fault for the next matching call; repeat for the calls after it.")
@click.option("--route", "routes", multiple=True, help='Only calls like "POST /hyperswitch/payments" (repeatable).')
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="Any API fault setting: error=0.2, error_status=503, latency_seconds=[0.1,0.5], ...")
@click.option("--clear", is_flag=True, help="Turn every API fault off (and empty the script) first.")
@click.option("--log", "show_log", is_flag=True, help="Print the calls faulted so far instead.")
def faults(url, namespace, control_token, next_faults, routes, settings, clear, show_log) -> None:
    """Set the API faults of a running provider, or show them.

    With no option, prints the namespace's webhook and API fault settings.
    See docs/control-api.md#api-faults for every setting.

    \b
    Example:
        mock-psp faults --next lost_response --route "POST /hyperswitch/payments"
        mock-psp faults --set error=0.2 --set error_status=503
        mock-psp faults --clear
        mock-psp faults --log
    """
    control = Control(url, namespace, timeout=10, token=control_token)
    update = dict(parse_setting(text) for text in settings)
    with remote():
        if show_log:
            for entry in reversed(control.api_fault_log()):
                status = f" {entry['status']}" if entry["status"] else ""
                latency = f" +{entry['latency_ms']:.0f} ms" if entry["latency_ms"] else ""
                fault = entry["fault"] if entry["fault"] != "none" or not latency else "latency"
                click.echo(f"{entry['at']}  {entry['method']} {entry['path']}  {fault}{status}{latency}  "
                           f"({entry['source']})")
            return
        if clear:
            control.clear_api_faults()
            if not (settings or next_faults or routes):
                click.echo("API faults are off.")
                return
        if next_faults:
            update["next"] = list(next_faults)
        if routes:
            update["routes"] = list(routes)
        shown = {"api": control.set_api_faults(update)} if update else control.faults()
        click.echo(json.dumps(shown, indent=2))


@cli.command()
@URL_OPTION
@NAMESPACE_OPTION
@TOKEN_OPTION
@click.argument("action", type=click.Choice(["show", "advance", "set", "freeze", "resume"]), default="show")
@click.argument("value", required=False)
def clock(url, namespace, control_token, action, value) -> None:
    """Show or move a namespace's clock on a running provider.

    advance DURATION walks a virtual clock forward, running every job that
    falls due on the way, each at its due time (a webhook's retries, a
    session's expiry, an asynchronous payment); DURATION is seconds or text
    such as 90s, 15m, 1.5h, 2d or 1h30m. set TIME moves it to an ISO-8601
    instant. freeze makes the clock virtual (time stops); resume makes it the
    system clock again.

    \b
    Example:
        mock-psp clock                          # now, the mode, and the jobs waiting
        mock-psp clock freeze -n ns_1a2b3c
        mock-psp clock advance 1h30m -n ns_1a2b3c
        mock-psp clock set 2030-01-01T00:00:00Z
    """
    control = Control(url, namespace, timeout=120, token=control_token)
    if action in ("advance", "set") and value is None:
        raise click.UsageError(f"mock-psp clock {action} needs a {'DURATION' if action == 'advance' else 'TIME'}")
    with remote():
        if action == "freeze":
            control.set_config({"clock": "virtual"})
        elif action == "resume":
            control.set_config({"clock": "system"})
        elif action in ("advance", "set"):
            moved = control.advance(value) if action == "advance" else control.set_clock(value)
            for job in moved["ran"]:
                click.echo(f"{job['due_at']}  ran {job['kind']}  {job['state']}")
        shown = control.clock()
        click.echo(f"{shown['now']}  ({shown['mode']} clock, {len(shown['pending_jobs'])} job(s) waiting)")
        if action == "show":
            for job in shown["pending_jobs"]:
                click.echo(f"  {job['due_at']}  {job['kind']}")


@cli.command()
@URL_OPTION
@click.option("--namespace", "-n", default=None,
              help="The namespace to reset (mock-psp up prints the shop's). [default: ns_default]")
@click.option("--all", "every", is_flag=True, help="Reset every namespace instead.")
@TOKEN_OPTION
@click.option("--keep-settings", is_flag=True,
              help="Empty the data only: keep settings, faults and the clock (as POST /_mock/reset does by default).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask first (for scripts).")
def reset(url, namespace, every, control_token, keep_settings, yes) -> None:
    """Empty a namespace of a running provider, or every one, and undo its steering.

    Payments, refunds, webhooks, jobs, scripted outcomes and the request
    journal go; settings (success rates, delays, ...), webhook and API faults
    and the clock go back to the defaults (the clock to the one the namespace
    was made with). Keys, webhook endpoints and allowed origins stay, so a
    running shop keeps working.

    \b
    Example:
        mock-psp reset                      # the default namespace, after asking
        mock-psp reset -n ns_1a2b3c --yes   # the shop's, without asking
        mock-psp reset --all --yes
    """
    if every and namespace:
        raise click.UsageError("give either --namespace or --all, not both")
    what = "every namespace" if every else f"namespace {namespace or 'ns_default'}"
    if not yes:
        click.confirm(f"Reset {what} at {url}: delete its payments, webhooks and jobs"
                      f"{'' if keep_settings else ', and put its settings, faults and clock back'}?", abort=True)
    control = Control(url, namespace, timeout=30, token=control_token)
    with remote():
        if every:
            done = control.reset_all(keep_config=keep_settings)
            click.echo(f"Reset {_count(done['reset'], 'namespace')} ({_count(done['payments_removed'], 'payment')} "
                       f"removed); keys stay.")
            return
        shown = control.reset(keep_config=keep_settings)
    steering = "settings kept" if keep_settings else \
        f"settings, faults and outcomes back to the defaults, {shown['clock']['mode']} clock"
    click.echo(f"Reset {shown['id']}: payments, webhooks and jobs gone; {steering}; keys stay.")


@cli.group()
def namespace() -> None:
    """Copy a namespace's whole state out of a running provider, or into one.

    \b
    Example:
        mock-psp namespace export ns_1a2b3c -o bug-4711.json
        mock-psp namespace import bug-4711.json     # a new namespace holding that state
    """


@namespace.command(name="export")
@URL_OPTION
@TOKEN_OPTION
@click.argument("namespace_id", default="ns_default")
@click.option("--output", "-o", type=click.File("w"), default="-", show_default=True,
              help="Where the snapshot goes (- for standard output).")
def export_namespace(url, control_token, namespace_id, output) -> None:
    """Write a namespace's snapshot: settings, payments, refunds, history, webhooks, jobs.

    \b
    Example:
        mock-psp namespace export ns_1a2b3c -o bug-4711.json
    """
    with remote():
        document = Control(url, timeout=10, token=control_token).export_namespace(namespace_id)
    output.write(json.dumps(document, indent=1, sort_keys=True) + "\n")


@namespace.command(name="import")
@URL_OPTION
@TOKEN_OPTION
@click.argument("snapshot", type=click.File("r"))
def import_namespace(url, control_token, snapshot) -> None:
    """Make a new namespace (new keys) holding a snapshot's state.

    Its clock is virtual and stands at the moment of the export; webhook
    endpoints arrive disabled. Prints the new namespace as JSON.

    \b
    Example:
        mock-psp namespace import bug-4711.json
    """
    try:
        document = json.load(snapshot)
    except ValueError as error:
        raise click.ClickException(f"{snapshot.name} is not JSON: {error}") from error
    with remote():
        click.echo(json.dumps(Control(url, timeout=10, token=control_token).import_namespace(document), indent=2))


cli.add_command(merchant_command, name="merchant")
cli.add_command(scenarios_command, name="scenarios")


def main() -> None:
    cli()
