"""Near misses: for a call that matched no route, the routes of its dialect it most likely meant."""

from __future__ import annotations

import pytest
from flask import Blueprint
from flask import Flask
from flask import request

from mock_psp.web import near_miss
from mock_psp.web.near_miss import Route

HYPERSWITCH = tuple(Route.from_rule(method, rule) for method, rule in [
    ("POST", "/hyperswitch/payments"),
    ("GET", "/hyperswitch/payments/list"),
    ("GET", "/hyperswitch/payments/<payment_id>"),
    ("POST", "/hyperswitch/payments/<payment_id>"),
    ("POST", "/hyperswitch/payments/<payment_id>/confirm"),
    ("POST", "/hyperswitch/payments/<payment_id>/capture"),
    ("POST", "/hyperswitch/payments/<payment_id>/cancel"),
    ("POST", "/hyperswitch/refunds"),
    ("GET", "/hyperswitch/refunds/<refund_id>"),
    ("POST", "/hyperswitch/refunds/list"),
    ("POST", "/hyperswitch/customers"),
    ("GET", "/hyperswitch/customers/<customer_id>"),
    ("DELETE", "/hyperswitch/customers/<customer_id>"),
])


@pytest.mark.parametrize("method, path, expected", [
    ("POST", "/hyperswitch/payment", ["POST /hyperswitch/payments"]),                         # a typo
    ("POST", "/hyperswitch/Payments", ["POST /hyperswitch/payments"]),                        # the case
    ("POST", "/hyperswitch/payments/", ["POST /hyperswitch/payments"]),                       # a trailing slash
    ("POST", "/hyperswitch/paymnets/pay_1/confirm", ["POST /hyperswitch/payments/{payment_id}/confirm"]),
    ("GET", "/hyperswitch/v1/payments/list",                                                  # a segment too many
     ["GET /hyperswitch/payments/list"]),
])
def test_a_typo_or_a_stray_segment_suggests_the_route_meant(method, path, expected):
    assert near_miss.suggest(method, path, HYPERSWITCH) == expected


def test_a_wrong_method_suggests_the_methods_that_path_takes_first():
    assert near_miss.suggest("PUT", "/hyperswitch/payments/pay_x", HYPERSWITCH) == [
        "GET /hyperswitch/payments/{payment_id}", "POST /hyperswitch/payments/{payment_id}"]
    assert near_miss.suggest("DELETE", "/hyperswitch/payments", HYPERSWITCH) == ["POST /hyperswitch/payments"]
    # then the routes one segment away, literal ones before templates
    assert near_miss.suggest("GET", "/hyperswitch/payments", HYPERSWITCH) == [
        "POST /hyperswitch/payments", "GET /hyperswitch/payments/list", "GET /hyperswitch/payments/{payment_id}"]


def test_at_most_three_best_first():
    hints = near_miss.suggest("PATCH", "/hyperswitch/customers/cus_1", HYPERSWITCH)
    assert hints == ["DELETE /hyperswitch/customers/{customer_id}", "GET /hyperswitch/customers/{customer_id}"]
    assert len(near_miss.suggest("PUT", "/hyperswitch/payments/list", HYPERSWITCH)) == 3


@pytest.mark.parametrize("method, path", [
    ("GET", "/hyperswitch/disputes/dp_1"),      # no such resource
    ("POST", "/hyperswitch/payouts"),           # a word that only looks alike
    ("GET", "/hyperswitch"),
    ("GET", "/hyperswitch/a/b/c/d/e"),
])
def test_nothing_is_suggested_when_nothing_is_close(method, path):
    assert near_miss.suggest(method, path, HYPERSWITCH) == []


def test_did_you_mean_lists_them_in_words():
    assert near_miss.did_you_mean(["POST /a"]) == "did you mean POST /a?"
    assert near_miss.did_you_mean(["POST /a", "GET /b"]) == "did you mean POST /a or GET /b?"
    assert near_miss.did_you_mean(["POST /a", "GET /b", "GET /c"]) == "did you mean POST /a, GET /b or GET /c?"
    assert near_miss.did_you_mean([]) == ""


def test_the_routes_are_read_from_the_blueprint_without_its_pages():
    bp = Blueprint("examplepay", __name__, url_prefix="/examplepay")
    bp.add_url_rule("/charges", "create", lambda: "", methods=["POST"])
    bp.add_url_rule("/charges/<charge_id>", "get", lambda charge_id: "", methods=["GET"])
    bp.add_url_rule("/pay/<token>", "page", lambda token: "", methods=["GET", "POST"])
    app = Flask(__name__)
    app.register_blueprint(bp)
    app.add_url_rule("/examplepay-elsewhere", "other", lambda: "")

    routes = near_miss.api_routes(app, bp, is_api_call=lambda: request.path.startswith("/examplepay/charges"))
    assert sorted(str(r) for r in routes) == ["GET /examplepay/charges/{charge_id}", "POST /examplepay/charges"]
