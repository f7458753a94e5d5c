"""``mock-psp merchant``: run the test merchant, or reconcile one."""

from __future__ import annotations

import signal
import sys
import threading

import click
import requests

from .govpay_lk import AUTH_TYPES as GOVPAY_AUTH_TYPES
from .provision import ProvisionError
from .psp.clients import DIALECTS
from .psp.govpay_lk import DIALECT as GOVPAY_LK
from .run import start
from .signatures import SCHEMES

EXAMPLE = """
Example:

\b
  mock-psp serve --port 8420 &
  mock-psp merchant --port 8421 --psp-url http://127.0.0.1:8420 --dialect govuk
  mock-psp merchant --port 8422 --dialect govpay-lk --govpay-auth oauth2
"""


@click.group(invoke_without_command=True, help="Run the test merchant (a reference shop backend).\n" + EXAMPLE,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=int, default=8421, show_default=True, help="Port; 0 picks a free one.")
@click.option("--psp-url", default="http://127.0.0.1:8420", show_default=True, help="The provider's base URL.")
@click.option("--dialect", type=click.Choice(DIALECTS), default="hyperswitch", show_default=True,
              help="Which provider API the shop integrates with.")
@click.option("--namespace", default=None, help="Use this provider namespace instead of creating one.")
@click.option("--scheme", type=click.Choice(SCHEMES), default=None,
              help="Webhook signature scheme to register (not for govpay-lk). [default: the dialect's own]")
@click.option("--govpay-auth", type=click.Choice(GOVPAY_AUTH_TYPES), default=None,
              help="govpay-lk: how GovPay+ authenticates its calls to the shop: a static bearer token, or OAuth2 "
                   "client credentials at the shop's /oauth/token. [default: bearer, or what --db saved]")
@click.option("--govpay-encryption/--no-govpay-encryption", default=None,
              help="govpay-lk: register the shop's RSA public key, so GovPay+ encrypts its calls (RSA-OAEP "
                   "transaction key, AES-256-CBC fields). [default: on, or what --db saved]")
@click.option("--db", default=":memory:", show_default=True,
              help="The shop's SQLite file (keep it to survive restarts), or :memory:.")
@click.option("--reconcile-after", type=float, default=900, show_default=True,
              help="Seconds an order may stay pending before the reconciliation sweep checks it.")
@click.option("--public-url", default=None, help="The shop's URL as the provider should call it.")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="Also answer requests for this Host name (repeatable); 127.0.0.1, localhost, [::1] and the "
                   "--public-url host always are. See docs/security.md.")
@click.option("--control-token", envvar="MOCK_PSP_CONTROL_TOKEN", default=None,
              help="The provider's control token, if it was started with one (env MOCK_PSP_CONTROL_TOKEN).")
@click.pass_context
def merchant(ctx, host, port, psp_url, dialect, namespace, scheme, govpay_auth, govpay_encryption, db,
             reconcile_after, public_url, allowed_hosts, control_token) -> None:
    if ctx.invoked_subcommand is not None:
        return
    if dialect != GOVPAY_LK and (govpay_auth is not None or govpay_encryption is not None):
        raise click.UsageError("--govpay-auth and --govpay-encryption are for --dialect govpay-lk only")
    if dialect == GOVPAY_LK and scheme is not None:
        raise click.UsageError("--scheme does not apply to govpay-lk: GovPay+ authenticates with a bearer token "
                               "(--govpay-auth)")
    try:
        running = start(psp_url, dialect, host=host, port=port, db=db, namespace=namespace, scheme=scheme,
                        reconcile_after=reconcile_after, public_url=public_url, govpay_auth=govpay_auth,
                        govpay_encryption=govpay_encryption, control_token=control_token,
                        allowed_hosts=allowed_hosts)
    except ProvisionError as error:
        raise click.ClickException(str(error)) from error
    wiring = running.merchant.wiring
    if dialect == GOVPAY_LK:
        gp = running.merchant.govpay.describe(wiring.url)
        calls = (f"  GovPay+:     {gp['validate_url']} (presentment), {gp['update_url']} (update)\n"
                 f"               auth {gp['auth']}{' via ' + gp['token_url'] if gp['token_url'] else ''}, "
                 f"encryption {'on' if gp['encryption'] else 'off'}, subinstId {gp['subinst_id']}\n")
    else:
        calls = f"  webhooks:    {running.url}/webhooks/{dialect} ({wiring.scheme} signatures)\n"
    click.echo(f"mock-psp test merchant ({dialect}) on {running.url}\n"
               f"  shop:        {running.url}/\n"
               f"{calls}"
               f"  JSON API:    {running.url}/_merchant/\n"
               f"  provider:    {wiring.psp_url} (namespace {wiring.namespace})\n"
               "Ctrl-C stops it.")
    sys.stdout.flush()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    running.stop()
    click.echo("mock-psp test merchant stopped.")


@merchant.command(help="Run the reconciliation sweep of a running merchant and print what it did.\n\n"
                       "Example:\n\n  mock-psp merchant reconcile --url http://127.0.0.1:8421 --older-than 0")
@click.option("--url", default="http://127.0.0.1:8421", show_default=True, help="The running merchant.")
@click.option("--older-than", type=float, default=None,
              help="Check orders pending longer than this many seconds. [default: the merchant's setting]")
def reconcile(url, older_than) -> None:
    body = {} if older_than is None else {"older_than_seconds": older_than}
    try:
        reply = requests.post(f"{url.rstrip('/')}/_merchant/reconcile", json=body, timeout=300)
    except requests.RequestException as error:
        raise click.ClickException(f"cannot reach the merchant at {url}: {error}") from error
    if reply.status_code != 200:
        raise click.ClickException(f"HTTP {reply.status_code}: {reply.text[:500]}")
    report = reply.json()
    for action in report["actions"]:
        click.echo(f"{action['kind']:6} {action['order_id']}: {action['detail']}")
    click.echo(f"checked {report['checked']}, changed {report['changed']}, errors {report['errors']}, "
               f"inbox events processed {report['inbox_processed']}")
    if report["errors"]:
        raise SystemExit(1)
