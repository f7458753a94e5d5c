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
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import requests

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
    session = requests.Session()
    psp = old.psp_url.rstrip("/")
    ns = _namespace(session, psp, namespace or merchant.store.setting("namespace"), explicit=namespace is not None)
    control = {"X-Mock-Namespace": ns["id"]}
    endpoint = _endpoint(session, psp, control, f"{url}/webhooks/{old.dialect}", scheme, old.dialect)
    _allow_origin(session, psp, control, url)
    wiring = Wiring(dialect=old.dialect, psp_url=psp, namespace=ns["id"], credentials=ns[old.dialect], scheme=scheme,
                    secret=endpoint["secret"], url=url, endpoint_id=endpoint["id"])
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
    session = requests.Session()
    psp = old.psp_url.rstrip("/")
    ns = _namespace(session, psp, namespace or merchant.store.setting("namespace"), explicit=namespace is not None)
    control = {"X-Mock-Namespace": ns["id"]}
    settings = merchant.govpay.setup(url, ns["id"], auth, encryption)
    _ok(_call(session, "PUT", f"{psp}/_mock/config", headers=control, json={GOVPAY_LK_KEY: settings}),
        "set the namespace's GovPay+ settings")
    _allow_origin(session, psp, control, url)
    # Read after the PUT: the inquiry key is the namespace's, shown with its GovPay+ settings.
    ns = _ok(_call(session, "GET", f"{psp}/_mock/namespaces/{ns['id']}"), "read the namespace")
    credentials = ns.get(GOVPAY_LK_KEY)
    if not isinstance(credentials, dict) or not credentials.get("api_key"):
        raise ProvisionError(f"the provider at {psp} shows no govpay_lk.api_key for namespace {ns['id']}: "
                             "does it speak GovPay+?")
    auth = settings["auth"]["type"]
    wiring = Wiring(dialect=old.dialect, psp_url=psp, namespace=ns["id"], credentials=credentials, scheme=auth,
                    secret=None, url=url, endpoint_id=None)
    merchant.store.save_settings({"namespace": ns["id"], "scheme": auth, "dialect": old.dialect, "psp_url": psp,
                                  "url": url, "credentials": json.dumps(credentials)})
    merchant.rewire(wiring)
    return wiring


def _call(session: requests.Session, method: str, url: str, **kwargs) -> requests.Response:
    try:
        return session.request(method, url, timeout=10, **kwargs)
    except requests.RequestException as error:
        raise ProvisionError(f"cannot reach the provider at {url}: {error}") from error


def _ok(response: requests.Response, what: str) -> dict:
    if response.status_code >= 300:
        raise ProvisionError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
    return response.json()


def _namespace(session, psp: str, namespace_id: str | None, explicit: bool) -> dict:
    if namespace_id:
        response = _call(session, "GET", f"{psp}/_mock/namespaces/{namespace_id}")
        if response.status_code == 200:
            return response.json()
        if explicit:
            raise ProvisionError(f"the provider at {psp} has no namespace {namespace_id}")
    return _ok(_call(session, "POST", f"{psp}/_mock/namespaces", json={}), "create namespace")


def _endpoint(session, psp: str, control: dict, webhook_url: str, scheme: str, dialect: str) -> dict:
    listed = _ok(_call(session, "GET", f"{psp}/_mock/webhook-endpoints", headers=control), "list webhook endpoints")
    for endpoint in listed.get("data", []):
        if endpoint["url"] == webhook_url and endpoint["scheme"] == scheme and endpoint["enabled"]:
            return endpoint
    return _ok(_call(session, "POST", f"{psp}/_mock/webhook-endpoints", headers=control,
                     json={"url": webhook_url, "scheme": scheme, "dialect": dialect,
                           "description": "mock-psp test merchant"}), "register webhook endpoint")


def _allow_origin(session, psp: str, control: dict, url: str) -> None:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    config = _ok(_call(session, "GET", f"{psp}/_mock/config", headers=control), "read config")
    allowed = config.get("allowed_origins") or []
    if origin not in allowed:
        _ok(_call(session, "PUT", f"{psp}/_mock/config", headers=control,
                  json={"allowed_origins": [*allowed, origin]}), "register the shop's origin")


def saved_wiring(merchant: Merchant) -> Wiring | None:
    """The wiring a previous run saved in this database, if any."""
    store = merchant.store
    credentials = store.setting("credentials")
    if not credentials:
        return None
    return Wiring(dialect=store.setting("dialect") or merchant.wiring.dialect,
                  psp_url=store.setting("psp_url") or merchant.wiring.psp_url, namespace=store.setting("namespace"),
                  credentials=json.loads(credentials), scheme=store.setting("scheme"), secret=store.setting("secret"),
                  url=store.setting("url"), endpoint_id=store.setting("endpoint_id"))
