"""The ``mock-psp`` command: thin wrappers over library functions."""

from __future__ import annotations

import sys

import click

from test_merchant.cli import merchant as merchant_command

from . import __version__
from .config import DEFAULT_PORT
from .config import Settings

CLOCK = click.Choice(["system", "virtual"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mock-psp")
def cli() -> None:
    """mock-psp: a local fake of Hyperswitch and GovPay, with a test merchant.

    \b
    Example:
        mock-psp serve            # the provider on http://127.0.0.1:8420
        mock-psp serve --port 0   # any free port; the URL is printed
    """


def provider_banner(settings: Settings, url: str, provider) -> str:
    """What `serve` prints: where each API lives and the default namespace's keys."""
    ns = provider.default_namespace()
    hs = ns.hyperswitch
    lines = [
        f"mock-psp {__version__} provider listening on {url}",
        "",
        f"  Hyperswitch   {url}/hyperswitch",
        f"    api-key (secret)        {hs.api_key}",
        f"    publishable key         {hs.publishable_key}",
        f"    merchant_id             {hs.merchant_id}",
        f"    profile_id              {hs.profile_id}",
        f"    payment_response_hash_key {hs.payment_response_hash_key}",
        f"  GOV.UK Pay    {url}/govuk",
        f"    Authorization: Bearer   {ns.govuk.api_key}",
        f"    webhook signing secret  {ns.govuk.webhook_signing_secret}",
        f"  Control API   {url}/_mock   (namespace {ns.id}, clock {ns.clock_mode}, seed {ns.seed})",
        f"  Database      {provider.store.path}",
        "",
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


@cli.command()
@click.option("--host", default=None, help="Interface to bind. [default: 127.0.0.1]")
@click.option("--port", type=int, default=None, help=f"Port; 0 picks a free one. [default: {DEFAULT_PORT}]")
@click.option("--db", default=None, help="SQLite file, or :memory:. [default: <data dir>/mock-psp.db]")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="TOML file with a [provider] table of these settings.")
@click.option("--seed", type=int, default=None, help="Seed for the default namespace's ids and outcomes.")
@click.option("--clock", type=CLOCK, default=None, help="Default namespace clock. [default: system]")
@click.option("--public-url", default=None, help="Base URL to put in links (behind a proxy).")
def serve(host, port, db, config_file, seed, clock, public_url) -> None:
    """Run the provider (Hyperswitch under /hyperswitch, GOV.UK Pay under /govuk, control API under /_mock).

    Settings come from defaults, then --config, then MOCK_PSP_* environment
    variables (MOCK_PSP_PORT, MOCK_PSP_DB, ...), then these flags. The data
    directory is $MOCK_PSP_DATA_DIR, else $XDG_DATA_HOME/mock-psp, else
    ~/.local/share/mock-psp.

    \b
    Example:
        mock-psp serve --port 8420 --seed 42 --clock virtual
        curl -s -X POST http://127.0.0.1:8420/_mock/namespaces
    """
    from .app import create_app
    from .server import ServerThread
    from .server import run_until_signalled

    settings = Settings.load(config_file, host=host, port=port, db=db, seed=seed, clock=clock,
                             public_url=public_url)
    app = create_app(settings)
    provider = app.extensions["mock_psp"]
    server = ServerThread(app, settings.host, settings.port, settings.threads)
    click.echo(provider_banner(settings, server.url, provider))
    sys.stdout.flush()
    run_until_signalled([server], on_stop=provider.close)
    click.echo("mock-psp stopped.")


cli.add_command(merchant_command, name="merchant")


def main() -> None:
    cli()
