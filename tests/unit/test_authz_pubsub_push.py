"""The Pub/Sub-triggered functions' row of the authorization matrix: in production only Pub/Sub
push, with an OIDC token of the push service account, reaches them (read from infra/terraform)."""

from __future__ import annotations

import pytest

from keluhan import topology
from tests.unit.test_terraform import MODULES, SYSTEM, named, resource

PUBSUB_FUNCTIONS = [fn.name for fn in topology.FUNCTIONS if fn.trigger == "pubsub"]
CALL = named(SYSTEM, "module")["function"]["function"]


def test_event_functions_are_not_public_and_take_no_traffic_from_outside():
    assert CALL["public"] == '${each.value.trigger == "http"}'
    fn = resource(MODULES / "function", "google_cloudfunctions2_function", "this")
    assert fn["service_config"][0]["ingress_settings"] == '${var.function.public ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"}'


def test_only_the_push_service_account_may_invoke_an_event_function():
    invokers = CALL["invokers"]
    http_branch, _, event_branch = invokers.partition(" : ")
    # HTTP functions: allUsers or the API Gateway account (public_front; test_terraform checks it).
    assert http_branch == '${each.value.trigger == "http" ? local.http_invokers'
    assert "allUsers" not in event_branch and "allAuthenticatedUsers" not in event_branch
    assert event_branch == '{pubsub_push = "serviceAccount:${google_service_account.pubsub_push.email}"}}'
    invoker = resource(MODULES / "function", "google_cloud_run_service_iam_member", "invoker")
    assert invoker["role"] == "roles/run.invoker" and invoker["for_each"] == "${var.function.invokers}"


def test_push_subscriptions_carry_an_oidc_token_of_the_push_service_account_for_the_function():
    push = resource(MODULES / "pubsub", "google_pubsub_subscription", "push")["push_config"][0]
    oidc = push["oidc_token"][0]
    assert oidc["service_account_email"] == "${var.push_service_account_email}"
    assert oidc["audience"] == "${each.value.push_audience}"
    subscriptions = named(SYSTEM, "module")["pubsub"]
    assert subscriptions["push_service_account_email"] == "${google_service_account.pubsub_push.email}"


@pytest.mark.parametrize("function", PUBSUB_FUNCTIONS)
def test_every_event_function_is_fed_only_through_push_subscriptions(function):
    subs = [s for s in topology.subscriptions() if s.function == function]
    assert subs, f"{function} has no subscription: nothing can reach it, or something else does"
