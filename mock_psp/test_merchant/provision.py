"""Connect a merchant to its provider: namespace, webhook endpoint, allowed origin.

Done once the merchant knows its own URL (after binding, so ``--port 0`` works).
What it learns is saved in the merchant's database, so a restart with the same
database reuses the same namespace and endpoint instead of making new ones.

GovPay+ (``govpay-lk``) has no webhook endpoint: the provider calls the shop's
presentment and update URLs, which go into the namespace's ``govpay_lk``
settings with the shop's identity, how the provider authenticates (a bearer
token, or OAuth2 client credentials at the shop's ``/oauth/token``) and, with
encryption on, the shop's RSA public key. The shop keeps the secrets and its
private key in its database (``GovpayLk.setup``).

The calls go through mock-psp's control API client (mock_psp/client), which is plain
HTTP: the merchant still knows the provider only by its public HTTP APIs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from ..client.control import Control
from ..client.control import ProviderUnreachable
from ..client.control import PspHttpError
from .govpay_lk import AUTH_TYPES as GOVPAY_AUTH_TYPES
from .psp.govpay_lk import DIALECT as GOVPAY_LK
from .service import Merchant
from .service import Wiring
from .signatures import SCHEMES

GOVPAY_LK_KEY = "govpay_lk"  # the namespace's settings and keys for GovPay+


class ProvisionError(Exception):
    """The provider could not be reached, or refused to set the merchant up."""


def provision(merchant: Merchant, url: str, namespace: str | None = None, scheme: str | None = None,
              govpay_auth: str | None = None, govpay_encryption: bool | None = None) -> Wiring:
    """Wire ``merchant`` (listening at ``url``) to its provider and return the wiring.

    ``govpay_auth`` (bearer | oauth2) and ``govpay_encryption`` are for GovPay+ only; by
    default what this database saved, else bearer with encryption on."""
    old = merchant.wiring
    if old.dialect == GOVPAY_LK:
        return _provision_govpay(merchant, url, namespace, scheme, govpay_auth, govpay_encryption)
    if govpay_auth is not None or govpay_encryption is not None:
        raise ProvisionError("--govpay-auth and --govpay-encryption are for the govpay-lk dialect only")
    scheme = scheme or old.scheme or old.dialect
    if scheme not in SCHEMES:
        raise ProvisionError(f"unknown signature scheme {scheme!r}; use one of {', '.join(SCHEMES)}")
    psp, token = old.psp_url.rstrip("/"), old.control_token
    ns = _namespace(psp, namespace or merchant.store.setting("namespace"), explicit=namespace is not None, token=token)
    control = _control(psp, ns["id"], token)
    endpoint = _endpoint(control, f"{url}/webhooks/{old.dialect}", scheme, old.dialect)
    _allow_origin(control, url)
    wiring = Wiring(dialect=old.dialect, psp_url=psp, namespace=ns["id"], credentials=ns[old.dialect], scheme=scheme,
                    secret=endpoint["secret"], url=url, endpoint_id=endpoint["id"], control_token=token)
    merchant.store.save_settings({"namespace": ns["id"], "endpoint_id": endpoint["id"], "scheme": scheme,
                                  "dialect": old.dialect, "psp_url": psp, "url": url,
                                  "credentials": json.dumps(wiring.credentials), "secret": wiring.secret})
    merchant.rewire(wiring)
    return wiring


def _provision_govpay(merchant: Merchant, url: str, namespace: str | None, scheme: str | None,
                      auth: str | None, encryption: bool | None) -> Wiring:
    old = merchant.wiring
    if scheme is not None:
        raise ProvisionError("GovPay+ signs nothing: it authenticates with a bearer token (see --govpay-auth), "
                             "so --scheme does not apply")
    if auth is not None and auth not in GOVPAY_AUTH_TYPES:
        raise ProvisionError(f"unknown GovPay+ auth {auth!r}; use one of {', '.join(GOVPAY_AUTH_TYPES)}")
    psp, token = old.psp_url.rstrip("/"), old.control_token
    ns = _namespace(psp, namespace or merchant.store.setting("namespace"), explicit=namespace is not None, token=token)
    control = _control(psp, ns["id"], token)
    settings = merchant.govpay.setup(url, ns["id"], auth, encryption)
    _ok(lambda: control.set_config({GOVPAY_LK_KEY: settings}), "set the namespace's GovPay+ settings")
    _allow_origin(control, url)
    # Read after the PUT: the inquiry key is the namespace's, shown with its GovPay+ settings.
    ns = _ok(lambda: control.namespace_document(ns["id"]), "read the namespace")
    credentials = ns.get(GOVPAY_LK_KEY)
    if not isinstance(credentials, dict) or not credentials.get("api_key"):
        raise ProvisionError(f"the provider at {psp} shows no govpay_lk.api_key for namespace {ns['id']}: "
                             "does it speak GovPay+?")
    auth = settings["auth"]["type"]
    wiring = Wiring(dialect=old.dialect, psp_url=psp, namespace=ns["id"], credentials=credentials, scheme=auth,
                    secret=None, url=url, endpoint_id=None, control_token=token)
    merchant.store.save_settings({"namespace": ns["id"], "scheme": auth, "dialect": old.dialect, "psp_url": psp,
                                  "url": url, "credentials": json.dumps(credentials)})
    merchant.rewire(wiring)
    return wiring


def _control(psp: str, namespace: str | None = None, token: str | None = None) -> Control:
    return Control(psp, namespace, session=requests.Session(), timeout=10, token=token)


def _ok(call: Callable[[], Any], what: str) -> Any:
    """One control call; its failure as a ProvisionError that says what was being done."""
    try:
        return call()
    except ProviderUnreachable as error:
        raise ProvisionError(f"cannot reach the provider: {error.__cause__ or error}") from error
    except PspHttpError as error:
        text = error.body if isinstance(error.body, str) else json.dumps(error.body)
        raise ProvisionError(f"{what}: HTTP {error.status} {text[:300]}") from error


def _namespace(psp: str, namespace_id: str | None, explicit: bool, token: str | None = None) -> dict:
    if namespace_id:
        try:
            return _control(psp, token=token).namespace_document(namespace_id)
        except PspHttpError as error:
            if error.status == 401:
                raise ProvisionError(f"the provider at {psp} needs its control token: give the merchant "
                                     "--control-token (or MOCK_PSP_CONTROL_TOKEN)") from None
            if explicit:
                raise ProvisionError(f"the provider at {psp} has no namespace {namespace_id}") from None
        except ProviderUnreachable as error:
            raise ProvisionError(f"cannot reach the provider at {psp}: {error.__cause__ or error}") from error
    return _ok(lambda: _control(psp, token=token).create_namespace(), "create namespace")


def _endpoint(control: Control, webhook_url: str, scheme: str, dialect: str) -> dict:
    for endpoint in _ok(control.webhook_endpoints, "list webhook endpoints"):
        if endpoint["url"] == webhook_url and endpoint["scheme"] == scheme and endpoint["enabled"]:
            return endpoint
    return _ok(lambda: control.create_webhook_endpoint(webhook_url, scheme=scheme, dialect=dialect,
                                                      description="mock-psp test merchant"),
               "register webhook endpoint")


def _allow_origin(control: Control, url: str) -> None:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    allowed = _ok(control.config, "read config").get("allowed_origins") or []
    if origin not in allowed:
        _ok(lambda: control.set_config({"allowed_origins": [*allowed, origin]}), "register the shop's origin")


def saved_wiring(merchant: Merchant) -> Wiring | None:
    """The wiring a previous run saved in this database, if any, with this run's provider URL and
    control token: the provider it is started with wins over the one it last ran with (a provider
    on another port has other namespaces; provisioning then finds or makes the shop's)."""
    store = merchant.store
    credentials = store.setting("credentials")
    if not credentials:
        return None
    return Wiring(dialect=store.setting("dialect") or merchant.wiring.dialect,
                  psp_url=merchant.wiring.psp_url, namespace=store.setting("namespace"),
                  credentials=json.loads(credentials), scheme=store.setting("scheme"), secret=store.setting("secret"),
                  url=store.setting("url"), endpoint_id=store.setting("endpoint_id"),
                  control_token=merchant.wiring.control_token)
