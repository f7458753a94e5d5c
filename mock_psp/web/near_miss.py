"""Near misses: for a call under a dialect's prefix that matched no route, the one to three routes
of that dialect it most likely meant, as WireMock's near-miss report does.

The provider's own answer (Hyperswitch's ``IR_02``, GOV.UK's ``P0199``) stays as it is, byte for
byte: the hint goes beside it, in the ``X-Mock-Near-Miss`` header and the request journal.

Closeness is an edit distance over the path's segments, plus a cost for the wrong method: a
template segment (``{payment_id}``) matches any value, a segment that only differs by a typo
costs less than one, a missing or extra segment costs one. The candidates come from the
dialect blueprint's rules in the app's url_map, so a new dialect gets hints without a line here;
its pages (the checkout, the payment links) are left out: an integration calls the API.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from flask import Flask
from flask import g

HEADER = "X-Mock-Near-Miss"
MOST = 3
GAP = 1.0            # a segment missing or too many
PARAMETER = 0.1      # a value in a template's place: cheap, but dearer than the very word a literal route has
WRONG_METHOD = 0.5   # less than any segment: a path that exists with another method comes first
TYPO_RATIO = 0.75    # segments at least this alike are a typo of each other ("payment", "payments")
CLOSE_ENOUGH = 1.0   # beyond this nothing is suggested: a guess would mislead more than help
MARGIN = 0.75        # next to a route nearly as sent, one a segment farther away is noise
IGNORED_METHODS = {"HEAD", "OPTIONS"}  # Flask adds them to every rule
_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@dataclass(frozen=True)
class Route:
    method: str
    template: str                      # "/hyperswitch/payments/{payment_id}"
    segments: tuple[str | None, ...]   # None: a path parameter, which any value matches

    @classmethod
    def from_rule(cls, method: str, rule: str) -> Route:
        """From a werkzeug rule's text: ``<payment_id>`` (or ``<int:id>``) becomes ``{payment_id}``."""
        template = _PARAMETER.sub(r"{\1}", rule)
        segments = tuple(None if "<" in part else part.lower() for part in _split(rule))
        return cls(method, template, segments)

    @property
    def parameters(self) -> int:
        return sum(segment is None for segment in self.segments)

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def api_routes(app: Flask, blueprint, is_api_call: Callable[[], bool]) -> tuple[Route, ...]:
    """The API routes of one blueprint, from the app's url_map; ``is_api_call`` (the dialect face's,
    which reads the request) tells them from the pages, asked on each rule with its parameters filled."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(blueprint.name + ".") or rule.endpoint.endswith(".static"):
            continue
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            with app.test_request_context(_PARAMETER.sub("x", rule.rule), method=method):
                if is_api_call():
                    routes.append(Route.from_rule(method, rule.rule))
    return tuple(routes)


def suggest(method: str, path: str, routes: Iterable[Route], most: int = MOST) -> list[str]:
    """The closest routes to ``method path``, best first ("POST /hyperswitch/payments"); none when
    nothing is close. Ties go to literal routes before templates."""
    sent = tuple(part.lower() for part in _split(path))
    method = "GET" if method.upper() == "HEAD" else method.upper()
    scored = []
    for route in routes:
        cost = _path_cost(sent, route.segments) + (0 if route.method == method else WRONG_METHOD)
        if cost <= CLOSE_ENOUGH:
            scored.append((cost, route.parameters, route.template, route.method, str(route)))
    scored.sort()
    return [hint for cost, *_, hint in scored[:most] if cost <= scored[0][0] + MARGIN]


def did_you_mean(hints: list[str]) -> str:
    """``["POST /a", "GET /b"]`` in words: "did you mean POST /a or GET /b?" ("" for none)."""
    if not hints:
        return ""
    listed = hints[0] if len(hints) == 1 else ", ".join(hints[:-1]) + " or " + hints[-1]
    return f"did you mean {listed}?"


def hint(response, hints: list[str]):
    """Put the hints on the answer, and keep them for the journal entry of this request."""
    g.near_miss = hints
    if hints:
        response.headers[HEADER] = ", ".join(hints)
    return response


def hints_of_this_request() -> list[str]:
    return g.get("near_miss", [])


class Finder:
    """Each dialect's routes, read from the url_map the first time one of its calls misses (the
    blueprints are complete by then; reading them costs nothing to an app that never misses)."""

    def __init__(self, app: Flask):
        self._app = app
        self._routes: dict[str, tuple[Route, ...]] = {}

    def suggest(self, face_routes, method: str, path: str) -> list[str]:
        name = face_routes.bp.name
        if name not in self._routes:  # two threads may both read it: the same tuple either way
            self._routes[name] = api_routes(self._app, face_routes.bp, face_routes.is_api_call)
        return suggest(method, path, self._routes[name])


def _split(path: str) -> list[str]:
    # Empty segments ("/payments/", "//payments") are dropped: the route meant has none.
    return [part for part in path.split("/") if part]


def _path_cost(sent: tuple[str, ...], route: tuple[str | None, ...]) -> float:
    """A weighted edit distance: what it takes to turn the path sent into the route's."""
    previous = [j * GAP for j in range(len(route) + 1)]
    for i, part in enumerate(sent, start=1):
        current = [i * GAP]
        for j, template in enumerate(route, start=1):
            current.append(min(previous[j] + GAP, current[j - 1] + GAP,
                               previous[j - 1] + _swap_cost(part, template)))
        previous = current
    return previous[-1]


def _swap_cost(part: str, template: str | None) -> float:
    if template is None:
        return PARAMETER
    if part == template:
        return 0.0
    ratio = SequenceMatcher(None, part, template).ratio()
    return 1 - ratio if ratio >= TYPO_RATIO else 2 * GAP  # unrelated words: as dear as one out, one in
