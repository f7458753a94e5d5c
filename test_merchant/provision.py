"""Connect a merchant to its provider: namespace, webhook endpoint, allowed origin.

Done once the merchant knows its own URL (after binding, so ``--port 0`` works).
What it learns is saved in the merchant's database, so a restart with the same
database reuses the same namespace and endpoint instead of making new ones.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import requests

from .service import Merchant
from .service import Wiring
from .signatures import SCHEMES


class ProvisionError(Exception):
    """The provider could not be reached, or refused to set the merchant up."""


def provision(merchant: Merchant, url: str, namespace: str | None = None, scheme: str | None = None) -> Wiring:
    """Wire ``merchant`` (listening at ``url``) to its provider and return the wiring."""
    old = merchant.wiring
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
