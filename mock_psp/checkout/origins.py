"""Where a checkout request comes from, as far as the browser tells.

A checkout form is posted by the checkout's own page (also inside the SDK's
iframe: the frame's document is on the provider's origin, so its POSTs carry
``Origin: <provider>``). Any other origin, ``Origin: null`` (sandboxed frames,
data: URLs) or a cross-site ``Sec-Fetch-Site`` is another site trying to pay,
decline or choose a method for the customer. Browsers send Origin on every POST;
the fallbacks (Sec-Fetch-Site, then Referer) cover the rest. A request with none
of them is not a browser's (curl, a test client) and is let through.
"""

from __future__ import annotations

from flask import Request

from ..domain.urls import origin_of


def own_origins(request: Request, public_url: str | None) -> set[str]:
    """The provider's origin as this request reached it, and as configured (--public-url)."""
    found = {origin_of(request.host_url)}
    public = origin_of(public_url)
    if public:
        found.add(public)
    return found


def posted_from_elsewhere(request: Request, own: set[str]) -> bool:
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.strip().lower() not in own
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site != "same-origin"  # same-site is another port or subdomain: not us
    referer = request.headers.get("Referer")
    return referer is not None and origin_of(referer) not in own


def outside_its_frame(request: Request, own: set[str], parent_origin: str | None) -> bool:
    """An embedded visit's page loaded other than inside a frame of its parent or the provider.

    A top-level navigation (a leaked iframe URL pasted into another browser) is refused;
    so is a navigation whose Referer names a third site. Framing itself is limited by
    CSP frame-ancestors to the registered origins.
    """
    if request.headers.get("Sec-Fetch-Mode") == "navigate" and \
            request.headers.get("Sec-Fetch-Dest") not in (None, "iframe", "frame"):
        return True
    referer = origin_of(request.headers.get("Referer"))
    return referer is not None and referer not in own | {parent_origin}
