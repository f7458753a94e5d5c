"""The test-control API under /_mock: namespaces, settings, outcomes, the clock, audit logs.

A call acts on one namespace: the one named by ``X-Mock-Namespace``, else the one
whose dialect key is in the usual auth header, else the default namespace.
Errors are ``{"error": {"code", "message"}}``.

Who may call (docs/security.md):

- A body must be ``application/json`` (415), and a state-changing call from a browser page
  must come from the provider's own origin or one the namespace registered
  (``allowed_origins``), else 403. CORS preflights are answered for those origins only.
- A dialect key scopes the call to its own namespace: ``X-Mock-Namespace`` naming another
  one is a 403 unless the caller also sends the control token.
- With ``control_token`` set, every call but ``/health`` needs ``X-Mock-Token`` (401), except
  calls on a namespace made with that namespace's own dialect key. The namespace listing,
  creating and importing namespaces, and the unmatched-call journal always need it then.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint
from flask import current_app
from flask import g
from flask import jsonify
from flask import request

from ..domain import durations
from ..domain import jsontext
from ..domain import namespaces
from ..domain import numbers
from ..domain import outcomes
from ..domain import payments
from ..domain import snapshots
from ..domain.errors import DomainError
from ..domain.namespaces import Namespace
from ..runtime import clock
from ..runtime.clock import ClockError
from ..runtime.clock import iso_ms
from ..runtime.clock import parse_iso
from ..web import guard
from ..web import journal
from ..webhooks import records
from . import lifecycle
from . import settings as control_settings

PREFIX = "/_mock"

bp = Blueprint("control", __name__, url_prefix=PREFIX)


class ControlError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


@bp.errorhandler(ControlError)
def _control_error(error: ControlError):
    return error_response(error.status, error.code, error.message)


_DOMAIN_STATUS = {"not_found": 404, "namespace_not_found": 404, "duplicate": 409, "invalid_state": 409}


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    return error_response(_DOMAIN_STATUS.get(error.code, 400), error.code, error.message)


@bp.errorhandler(ClockError)
def _clock_error(error: ClockError):
    return error_response(409, "clock_not_virtual", str(error))


def http_error(status: int):
    names = {400: ("bad_request", "The request could not be read"), 404: ("not_found", "No such control endpoint"),
             405: ("method_not_allowed", "Method not allowed here")}
    code, message = names.get(status, ("http_error", f"HTTP {status}"))
    return error_response(status, code, message)


def unexpected_error():
    return error_response(500, "internal_error", "The mock hit an unexpected error; see its log")


def injected_error():
    return unexpected_error()


def is_api_call() -> bool:
    return False  # the control API is not a provider API: not journalled, never faulted (it turns faults off)


# -- helpers ----------------------------------------------------------------------


def _provider():
    return current_app.extensions["mock_psp"]


def _store():
    return _provider().store


# -- who may call ------------------------------------------------------------------

TOKEN_HEADER = "X-Mock-Token"
PREFLIGHT_HEADERS = "Content-Type, X-Mock-Namespace, X-Mock-Token, Idempotency-Key, api-key, Authorization"
PREFLIGHT_METHODS = "GET, POST, PUT, PATCH, DELETE"
OPEN_ENDPOINTS = ("control.health",)


def token_configured() -> bool:
    return bool(_provider().settings.control_token)


def has_token() -> bool:
    """The caller sent the configured control token (compared in constant time)."""
    expected = _provider().settings.control_token
    given = request.headers.get(TOKEN_HEADER)
    return bool(expected) and given is not None and hmac.compare_digest(given.encode(), expected.encode())


def key_namespace() -> Namespace | None:
    """The namespace whose dialect key the call presents in the dialect's own auth header."""
    if "control_key_namespace" not in g:
        g.control_key_namespace = None
        for dialect in _provider().dialects.values():
            presented = dialect.credentials(request.headers)
            found = namespaces.find_by_key(_store(), dialect.key, *presented) if presented else None
            if found is not None:
                g.control_key_namespace = found
                break
    return g.control_key_namespace


def _scoped_key() -> Namespace | None:
    """The key's namespace when it limits the call (a dialect key without the control token)."""
    return None if has_token() else key_namespace()


def require_token() -> None:
    """For what belongs to no one namespace: the listing, new namespaces, the unmatched calls."""
    if token_configured() and not has_token():
        raise _unauthorized()


def _unauthorized() -> ControlError:
    return ControlError(401, "unauthorized", f"This provider's control API is locked: send {TOKEN_HEADER}: <token> "
                                             "(the --control-token it was started with), or a dialect key of "
                                             "the namespace you act on")


def _origin_allowed(origin: str, namespace: Namespace | None) -> bool:
    if origin in guard.own_origins(_provider().settings.public_url):
        return True
    if namespace is not None:
        return origin in namespace.config.get("allowed_origins", [])
    # A preflight carries no header values, so no namespace: any namespace's registered origin may try.
    return any(origin in n.config.get("allowed_origins", []) for n in namespaces.list_all(_store()))


def _cross_site_error(reason: str) -> ControlError:
    return ControlError(403, "cross_site_request", f"Refused: {reason}. Only the provider's own pages and the "
                                                   "origins a namespace registers (allowed_origins) may.")


@bp.before_request
def _guard():
    """The checks above, before any handler runs (docs/security.md)."""
    if guard.is_preflight():
        origin = guard.request_origin()
        if origin is None or not _origin_allowed(origin, None):
            raise _cross_site_error(f"a page on {origin} may not call the control API")
        return guard.allow_origin(current_app.response_class(status=204), origin, preflight=True,
                                  headers=PREFLIGHT_HEADERS, methods=PREFLIGHT_METHODS)
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if token_configured() and not has_token() and key_namespace() is None:
        raise _unauthorized()
    refusal = guard.cross_site_refusal(lambda origin: _origin_allowed(origin, current_namespace()))
    if refusal is not None:
        raise _cross_site_error(refusal)
    refusal = guard.content_type_refusal()
    if refusal is not None:
        raise ControlError(415, "unsupported_media_type", f"Refused: {refusal}")
    return None


@bp.after_request
def _cors(response):
    """A call from a registered origin may read its answer (GETs included)."""
    origin = guard.request_origin()
    if origin is not None and not guard.is_preflight() and response.status_code not in (401, 403):
        try:
            allowed = _origin_allowed(origin, current_namespace())
        except (ControlError, DomainError):
            allowed = False
        if allowed:
            guard.allow_origin(response, origin)
    return response


def _json_body(allowed: tuple[str, ...] | None) -> dict[str, Any]:
    """The JSON object body ({} when empty); ``allowed`` None lets the caller judge the keys."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:  # strict: no NaN, no 1e400, no 4,301-digit number, no lone surrogate ("\ud800")
        data = jsontext.loads(raw)
    except DomainError as refused:
        plain = refused["reason"] in (jsontext.SYNTAX, jsontext.NOT_UTF8, jsontext.TOO_DEEP)
        why = "" if plain else f" ({refused.message})"
        raise ControlError(400, "bad_request", "The body must be a JSON object" + why) from None
    if not isinstance(data, dict):
        raise ControlError(400, "bad_request", "The body must be a JSON object")
    unknown = sorted(set(data) - set(allowed)) if allowed is not None else []
    if unknown:
        raise ControlError(400, "bad_request", f"Unknown field(s): {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    return data


def current_namespace() -> Namespace:
    """The namespace a control call acts on (see the module docstring)."""
    explicit = request.headers.get("X-Mock-Namespace")
    scoped = _scoped_key()
    if scoped is not None:
        return _own(scoped, explicit or scoped.id)
    if explicit:
        return namespaces.get(_store(), explicit)
    return key_namespace() or namespaces.get(_store(), namespaces.DEFAULT_ID)


def _own(scoped: Namespace, wanted: str) -> Namespace:
    if wanted != scoped.id:
        raise ControlError(403, "namespace_forbidden",
                           f"The key presented belongs to namespace {scoped.id}; acting on {wanted} needs the "
                           f"control token ({TOKEN_HEADER}) or that namespace's own key")
    return scoped


def named_namespace(namespace_id: str) -> Namespace:
    """A namespace named in the path, within what the caller's key may see."""
    scoped = _scoped_key()
    if scoped is not None:
        return _own(scoped, namespace_id)
    return namespaces.get(_store(), namespace_id)


def namespace_json(namespace: Namespace) -> dict:
    base = _provider().base_url(request.host_url)
    shown = {"id": namespace.id, "default": namespace.is_default, "created_at": iso_ms(namespace.created_at),
             "label": namespace.label}
    for dialect in _provider().dialects.values():
        keys = namespace.keys_of(dialect.key)
        shown[dialect.key] = {**{spec.name: keys.get(spec.name) for spec in dialect.keys},
                              "base_url": base + dialect.prefix,
                              **(dialect.namespace_extra(namespace, base) if dialect.namespace_extra else {})}
    return {**shown, "config": _config_json(namespace), "clock": clock_json(namespace)}


def clock_json(namespace: Namespace) -> dict:
    return {"now": iso_ms(namespace.now_ms()), "mode": namespace.clock_mode}


# -- namespaces -------------------------------------------------------------------


@bp.post("/namespaces")
def create_namespace():
    """Without a clock of its own, a namespace starts on the provider's (``serve --clock``)."""
    require_token()
    body = _json_body(("seed", "clock", "config", "label"))
    namespace = namespaces.create(_store(), _provider().key_specs, seed=body.get("seed"),
                                  clock_mode=body["clock"] if "clock" in body else _provider().new_namespace_clock(),
                                  config=body.get("config"), label=body.get("label"))
    return jsonify(namespace_json(namespace)), 201


@bp.get("/namespaces")
def list_namespaces():
    """Every namespace; a caller with only a dialect key sees its own one alone (no one else's secrets)."""
    require_token()
    scoped = _scoped_key()
    shown = [scoped] if scoped is not None else namespaces.list_all(_store())
    return jsonify({"data": [namespace_json(n) for n in shown]})


@bp.get("/namespaces/<namespace_id>")
def get_namespace(namespace_id: str):
    return jsonify(namespace_json(named_namespace(namespace_id)))


@bp.delete("/namespaces/<namespace_id>")
def delete_namespace(namespace_id: str):
    """The namespace and every row it holds; its keys stop working. Like the listing: the control
    token when one is set; a dialect key only its own namespace. The default one: 409, reset it."""
    require_token()
    namespace = named_namespace(namespace_id)
    if namespace.is_default:
        raise ControlError(409, "default_namespace", "The default namespace cannot be deleted; reset it instead "
                                                     "(POST /_mock/reset, or mock-psp reset)")
    lifecycle.delete(_provider(), namespace.id)
    return jsonify({"id": namespace.id, "deleted": True})


@bp.post("/namespaces/reset")
def reset_every_namespace():
    """POST /_mock/reset for every namespace at once (the control token when one is set)."""
    require_token()
    if _scoped_key() is not None:
        raise ControlError(403, "namespace_forbidden", "Resetting every namespace needs the control token "
                                                       f"({TOKEN_HEADER}), not one namespace's key")
    body = _json_body(("keep_config",))
    done = lifecycle.reset_all(_provider(), keep_config=body.get("keep_config", True) is not False)
    return jsonify({"reset": len(done.ids), "payments_removed": done.payments_removed})


@bp.get("/namespaces/<namespace_id>/export")
def export_namespace(namespace_id: str):
    """The namespace's whole state as one JSON document (see domain/snapshots.py); ?download=1 names a file."""
    document = snapshots.export(_store(), named_namespace(namespace_id).id)
    response = current_app.response_class(snapshots.dumps(document), mimetype="application/json")
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{namespace_id}.snapshot.json"'
    return response


@bp.post("/namespaces/import")
def import_namespace():
    """A new namespace (new keys) holding a snapshot's state, on a virtual clock at the export's moment."""
    require_token()
    document = _json_body(None)
    created = snapshots.import_(_store(), _provider().key_specs, document)
    return jsonify({**namespace_json(created), "imported_from": document.get("exported_from")}), 201


@bp.post("/reset")
def reset_namespace():
    body = _json_body(("keep_config",))
    keep_config = body.get("keep_config", True) is not False
    return jsonify(namespace_json(lifecycle.reset(_provider(), current_namespace().id, keep_config=keep_config)))


# -- settings and outcomes ---------------------------------------------------------


@bp.get("/config")
def get_config():
    return jsonify(_config_json(current_namespace()))


def _config_json(namespace) -> dict:
    return control_settings.config_view(_provider(), namespace)


@bp.put("/config")
@bp.patch("/config")
def put_config():
    update = _json_body(None)
    namespace = control_settings.apply_config(_provider(), current_namespace(), update)
    return jsonify(_config_json(namespace))


@bp.get("/outcomes")
def get_outcomes():
    queue = namespaces.scripted_outcomes(_store(), current_namespace().id)
    return jsonify({"next": queue, "available": sorted(outcomes.SCRIPTED)})


@bp.post("/outcomes")
def push_outcomes():
    body = _json_body(("next", "replace"))
    names = body.get("next")
    if not isinstance(names, list) or not names:
        raise ControlError(400, "bad_request", 'next: give a non-empty list such as ["declined", "succeeded"]')
    canonical = [outcomes.scripted_name(name) for name in names]
    queue = namespaces.push_outcomes(_store(), current_namespace().id, canonical, replace=bool(body.get("replace")))
    return jsonify({"next": queue})


@bp.delete("/outcomes")
def clear_outcomes():
    namespaces.push_outcomes(_store(), current_namespace().id, [], replace=True)
    return jsonify({"next": []})


# -- the clock ---------------------------------------------------------------------


def parse_duration(value: Any) -> float:
    """Seconds from a number, or from text such as "90s", "15m", "2h", "1h30m" (domain/durations.py)."""
    try:
        return durations.parse(value)
    except durations.DurationError as error:
        raise ControlError(400, "bad_request", str(error)) from None


@bp.get("/clock")
def get_clock():
    namespace = current_namespace()
    jobs = _provider().scheduler.pending(namespace.id)
    return jsonify({**clock_json(namespace), "pending_jobs": [_job_json(j) for j in jobs]})


def _job_json(job: dict) -> dict:
    return {**job, "due_at": iso_ms(job["due_at"])}


@bp.post("/clock/advance")
def advance_clock():
    body = _json_body(("seconds", "duration"))
    if "seconds" not in body and "duration" not in body:
        raise ControlError(400, "bad_request", 'give {"seconds": N} or {"duration": "2h"}')
    seconds = parse_duration(body.get("seconds", body.get("duration")))
    namespace = current_namespace()
    ran = clock.advance(_provider().scheduler, namespace.id, seconds)
    return jsonify({**clock_json(namespaces.get(_store(), namespace.id)), "ran": [_job_json(j) for j in ran]})


@bp.post("/clock/set")
def set_clock():
    body = _json_body(("now",))
    if not isinstance(body.get("now"), str):
        raise ControlError(400, "bad_request", 'give {"now": "2030-01-01T00:00:00Z"}')
    try:
        target = parse_iso(body["now"])
    except ValueError:
        raise ControlError(400, "bad_request", f"now: {body['now']!r} is not an ISO-8601 time") from None
    namespace = current_namespace()
    ran = clock.advance_to(_provider().scheduler, namespace.id, target)
    return jsonify({**clock_json(namespaces.get(_store(), namespace.id)), "ran": [_job_json(j) for j in ran]})


# -- inspection --------------------------------------------------------------------


@bp.get("/payments/<payment_id>/events")
def payment_events(payment_id: str):
    namespace = current_namespace()
    trail = payments.audit_trail(_store(), namespace.id, payment_id)
    return jsonify({"data": [
        {"object": e["object_type"], "object_id": e["object_id"], "from": e["from_status"],
         "to": e["to_status"], "reason": e["reason"], "at": iso_ms(e["at"])}
        for e in trail
    ]})


@bp.get("/health")
def health():
    return jsonify({"ok": True})


# -- webhooks ----------------------------------------------------------------------


def _engine():
    return _provider().webhooks


@bp.post("/webhook-endpoints")
def create_webhook_endpoint():
    body = _json_body(None)
    return jsonify(_engine().endpoints.create(current_namespace().id, body)), 201


@bp.get("/webhook-endpoints")
def list_webhook_endpoints():
    return jsonify({"data": _engine().endpoints.list(current_namespace().id)})


@bp.get("/webhook-endpoints/<endpoint_id>")
def get_webhook_endpoint(endpoint_id: str):
    return jsonify(_engine().endpoints.get(current_namespace().id, endpoint_id))


@bp.patch("/webhook-endpoints/<endpoint_id>")
@bp.put("/webhook-endpoints/<endpoint_id>")
def update_webhook_endpoint(endpoint_id: str):
    body = _json_body(None)
    return jsonify(_engine().endpoints.update(current_namespace().id, endpoint_id, body))


@bp.delete("/webhook-endpoints/<endpoint_id>")
def delete_webhook_endpoint(endpoint_id: str):
    _engine().endpoints.delete(current_namespace().id, endpoint_id)
    return "", 204


def _query_limit(default: int = 100, most: int = 1000) -> tuple[int, int]:
    try:
        limit = numbers.parse_int(request.args.get("limit", str(default)), "limit")
        offset = numbers.parse_int(request.args.get("offset", "0"), "offset")
    except DomainError:
        raise ControlError(400, "bad_request", "limit and offset must be whole numbers") from None
    if not 1 <= limit <= most or offset < 0:
        raise ControlError(400, "bad_request", f"limit must be 1..{most} and offset >= 0")
    return limit, offset


@bp.get("/webhooks")
def list_webhooks():
    status = request.args.get("status")
    if status is not None and status not in records.STATUSES:
        raise ControlError(400, "bad_request", f"status must be one of {', '.join(records.STATUSES)}")
    limit, offset = _query_limit()
    found, total = _engine().log.list_deliveries(
        current_namespace().id, status=status, event_type=request.args.get("event_type"),
        payment_id=request.args.get("payment_id"), object_id=request.args.get("object_id"),
        endpoint_id=request.args.get("endpoint_id"), limit=limit, offset=offset,
    )
    return jsonify({"data": found, "total": total})


@bp.get("/webhooks/<delivery_id>")
def get_webhook(delivery_id: str):
    return jsonify(_engine().log.get_delivery(current_namespace().id, delivery_id))


@bp.post("/webhooks/<delivery_id>/retry")
def retry_webhook(delivery_id: str):
    return jsonify(_engine().retry_now(current_namespace().id, delivery_id))


@bp.post("/webhooks/flush")
def flush_webhooks():
    """Deliver everything due now, synchronously (and run any other job that is due)."""
    namespace = current_namespace()
    ran = _provider().scheduler.run_due(namespace.id)
    return jsonify({"ran": [_job_json(j) for j in ran]})


# -- faults --------------------------------------------------------------------------


@bp.get("/faults")
def get_faults():
    namespace = current_namespace()
    return jsonify(control_settings.faults_view(_provider(), namespace))


@bp.put("/faults")
@bp.patch("/faults")
def put_faults():
    body = _json_body(("webhooks", "api"))
    return jsonify(control_settings.set_faults(_provider(), current_namespace(), body))


@bp.get("/faults/api/log")
def api_fault_log():
    """The faults injected into this namespace's API calls, newest first (?limit=, at most 1000)."""
    limit, _ = _query_limit()
    return jsonify({"data": [{**entry, "at": iso_ms(entry["at"])}
                             for entry in control_settings.api_fault_log(_provider(), current_namespace(), limit)]})


# -- the request journal ---------------------------------------------------------------


# ?unmatched= names a view: "key" (the older "true") the calls whose key matched no namespace,
# "route" this namespace's calls whose method and path matched no route.
UNMATCHED_VIEWS = {"key": journal.UNMATCHED_KEY, "true": journal.UNMATCHED_KEY, "1": journal.UNMATCHED_KEY,
                   "yes": journal.UNMATCHED_KEY, "route": journal.UNMATCHED_ROUTE}
NOT_UNMATCHED = ("", "false", "0", "no")


def _unmatched_view() -> str | None:
    asked = request.args.get("unmatched", "").lower()
    if asked in NOT_UNMATCHED:
        return None
    if asked not in UNMATCHED_VIEWS:
        raise ControlError(400, "bad_request", "unmatched must be key (the calls whose key matched no namespace) "
                                               "or route (this namespace's calls that matched no route)")
    return UNMATCHED_VIEWS[asked]


def _journal_key(view: str | None) -> str:
    """The journal a view reads: the unmatched keys' own (the control token's, when one is set), or
    this namespace's."""
    if view == journal.UNMATCHED_KEY:
        require_token()
        return journal.UNMATCHED
    return current_namespace().id


def journal_json(entry: journal.Entry) -> dict:
    return {**entry.as_json(), "at": iso_ms(entry.at)}


@bp.get("/requests")
def list_requests():
    """The dialect API calls this namespace received, newest first (?method=&path=&status=&limit=&unmatched=)."""
    limit, _ = _query_limit(default=50, most=journal.PER_NAMESPACE)
    status = request.args.get("status")
    try:
        status = numbers.parse_int(status, "status", 0, 999) if status else None
    except DomainError:
        raise ControlError(400, "bad_request", "status must be an HTTP status code") from None
    view = _unmatched_view()
    entries = _provider().journal.entries(_journal_key(view), limit, method=request.args.get("method"),
                                          path_contains=request.args.get("path"), status=status, unmatched=view)
    return jsonify({"data": [journal_json(e) for e in entries]})


@bp.get("/requests/<int:entry_id>")
def get_request(entry_id: int):
    entry = _provider().journal.get(_journal_key(_unmatched_view()), entry_id)
    if entry is None:
        raise ControlError(404, "not_found", f"No request {entry_id} in this namespace's journal")
    return jsonify(journal_json(entry))


@bp.delete("/requests")
def clear_requests():
    view = _unmatched_view()
    if view == journal.UNMATCHED_ROUTE:  # the journal keeps no separate list of them: it would empty it all
        raise ControlError(400, "bad_request", "DELETE empties a whole journal: this namespace's, or with "
                                               "unmatched=key the unmatched keys' calls")
    _provider().journal.clear(_journal_key(view))
    return "", 204
