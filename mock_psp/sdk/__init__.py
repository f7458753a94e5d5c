"""The embeddable checkout SDK (mock-psp.js), served by the provider at /sdk/v1/."""

from __future__ import annotations

from importlib import resources

from flask import Blueprint
from flask import Response

bp = Blueprint("sdk", __name__, url_prefix="/sdk/v1")

# Appended for module imports: a module has no document.currentScript, so it
# learns the provider's origin from its own URL instead.
MODULE_FOOTER = """
window.MockPSP._setOrigin(new URL(import.meta.url).origin);
export const MockPSP = window.MockPSP;
export const PaymentGateway = window.PaymentGateway;
export default window.MockPSP;
"""


def source() -> str:
    return resources.files(__package__).joinpath("mock-psp.js").read_text(encoding="utf-8")


def _javascript(text: str) -> Response:
    response = Response(text, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    # Any page may load the SDK, including as a module (which needs CORS).
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/mock-psp.js")
def script():
    return _javascript(source())


@bp.get("/mock-psp.mjs")
def module():
    return _javascript(source() + MODULE_FOOTER)
