"""What happens to every dialect API call on its way through the app: it finds its namespace,
meets the namespace's API faults (decided before the call runs, carried out below the app by
:class:`ApiFaultMiddleware`), and goes into the request journal, as sent and as answered."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask import Response
from flask import g
from flask import request

from ..runtime import clock as clocks
from ..runtime.connection import DropConnection
from . import api_faults
from . import near_miss
from .journal import UNMATCHED_KEY
from .journal import UNMATCHED_ROUTE
from .journal import excerpt
from .journal import shown_headers

FAULT_KEY = "mock_psp.api_fault"


@dataclass(frozen=True)
class ApiCall:
    face: Any
    namespace: Any  # Namespace | None: None when the credentials match no namespace
    started: float
    faultable: bool = True  # False: a call under a dialect's prefix that is journalled only (see below)


def register(app: Flask, provider, face_of: Callable[[str], Any], namespace_of: Callable[[Any], Any]) -> None:
    """``face_of(path)``: the face a path belongs to (None: no face); ``namespace_of(face)``: the
    namespace this API call's credentials name, or None."""

    @app.before_request
    def identify_api_call():
        face = face_of(request.path)
        if face is None:
            return
        if face.routes.is_api_call():
            g.api_call = ApiCall(face, namespace_of(face), time.perf_counter())
        elif face.dialect is not None and request.url_rule is None:
            # A path under the dialect's prefix that matches no route ("/govuk/payments", /v1 left out)
            # is an integration's mistake, journalled with its near miss, but no API the faults act on.
            g.api_call = ApiCall(face, namespace_of(face), time.perf_counter(), faultable=False)

    @app.before_request
    def inject_api_fault():
        call = g.get("api_call")
        namespace = call.namespace if call is not None and call.faultable else None
        if namespace is None or not namespace.api_faults_active:
            return None
        decision = api_faults.decide_for(provider.store, namespace, request.method, request.path)
        if not decision.acts:
            return None
        request.environ[FAULT_KEY] = decision
        if decision.latency_seconds:
            provider.stopping.wait(decision.latency_seconds)  # real time: the client's timeouts are real
        if decision.fault == api_faults.ERROR:
            return _injected_error(call.face.routes, decision.error_status)
        if decision.fault == api_faults.TIMEOUT:
            provider.stopping.wait(decision.timeout_seconds)  # a stopping server lets it go at once
        if decision.fault in (api_faults.RESET, api_faults.TIMEOUT):
            return Response(status=204)  # never sent: the middleware drops the connection instead
        return None

    @app.after_request
    def journal_api_call(response):
        call = g.get("api_call")
        if call is not None:
            _journal(provider.journal, call, response, request.environ.get(FAULT_KEY))
        return response

    app.wsgi_app = ApiFaultMiddleware(app.wsgi_app)
    app.extensions.setdefault("on_server_stop", []).append(provider.stopping.set)


def _journal(journal, call: ApiCall, response, decision) -> None:
    fault = decision.fault if decision is not None and decision.fault != api_faults.NONE else None
    unanswered = fault in (api_faults.RESET, api_faults.TIMEOUT)  # the app's placeholder was never sent
    journal.record(
        call.namespace.id if call.namespace is not None else None,
        at=call.namespace.now_ms() if call.namespace is not None else clocks.system_now_ms(),
        method=request.method, path=request.path, query=request.query_string.decode("latin-1"),
        status=0 if unanswered else response.status_code,
        duration_ms=round((time.perf_counter() - call.started) * 1000, 3),
        request_headers=shown_headers(request.headers), request_body=excerpt(request.get_data()),
        response_headers={} if unanswered else shown_headers(response.headers),
        response_body="" if unanswered or response.is_streamed else excerpt(response.get_data()),
        fault=fault, near_miss=tuple(near_miss.hints_of_this_request()), unmatched=_unmatched(call))


def _unmatched(call: ApiCall) -> tuple[str, ...]:
    """Why a call found nothing: its key matched no namespace, its method and path no route."""
    reasons = []
    if call.namespace is None:
        reasons.append(UNMATCHED_KEY)
    if request.url_rule is None:
        reasons.append(UNMATCHED_ROUTE)
    return tuple(reasons)


def _injected_error(routes, status: int):
    if status == 500:
        response = routes.injected_error()
    else:  # 502/503/504 come from a gateway in front of the provider: plain text, not the API's JSON
        reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[status]
        response = Response(f"{status} {reason}\n", status=status, mimetype="text/plain")
    response.headers["X-Mock-Fault"] = "error"
    return response


class ApiFaultMiddleware:
    """Carries out the connection faults the app decided on: drop before answering (``reset``,
    ``timeout``), after the call committed (``lost_response``), or half way through the answer
    (``truncated``)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        body = self.wsgi_app(environ, start_response)
        decision = environ.get(FAULT_KEY)
        fault = decision.fault if decision is not None else api_faults.NONE
        if fault in (api_faults.NONE, api_faults.ERROR):
            return body
        data = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        if fault == api_faults.TRUNCATED:
            return _half_then_close(data)
        raise DropConnection(reset=fault != api_faults.TIMEOUT, why=f"API fault {fault}")


def _half_then_close(data: bytes):
    yield data[: len(data) // 2]
    raise DropConnection(reset=False, why="API fault truncated")
