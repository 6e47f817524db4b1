"""Behind API Gateway the caller's token arrives in X-Forwarded-Authorization (issue 24).

The gateway invokes each function with its own Google-signed ID token in `Authorization` and
passes the caller's `Authorization` on as `X-Forwarded-Authorization`. With
`forwarded_authorization` on, that header (and only it) carries the caller; off (the default, no
gateway), only `Authorization` does, so a client can never choose the header itself.
"""

import pytest

from keluhan import bootstrap
from keluhan.http import FORWARDED_AUTHORIZATION, token_header
from keluhan.settings import Settings
from tests.functions.test_submit_report import ALICE, GOOD
from tests.support.deps import fake_deps, function_client, make_fake_deps  # noqa: F401

GATEWAY = {"Authorization": "Bearer eyJ-the-gateway-google-id-token"}  # not a Firebase token


def forwarded(headers: dict[str, str]) -> dict[str, str]:
    """What the gateway sends the function for a client that sent `headers`."""
    return {**GATEWAY, FORWARDED_AUTHORIZATION: headers["Authorization"]}


@pytest.fixture
def gateway_deps(monkeypatch):
    deps = make_fake_deps(forwarded_authorization=True)
    monkeypatch.setattr(bootstrap, "get_deps", lambda: deps)
    return deps


def test_the_setting_is_off_by_default_and_read_from_its_environment_variable(monkeypatch):
    assert Settings().forwarded_authorization is False
    assert token_header(Settings()) == "Authorization"
    monkeypatch.setenv("KELUHAN_FORWARDED_AUTHORIZATION", "true")
    assert token_header(Settings()) == "X-Forwarded-Authorization"


def test_behind_the_gateway_the_forwarded_token_is_the_caller(gateway_deps):
    client = function_client("submit_report")
    response = client.post("/", json=GOOD, headers=forwarded(ALICE))
    assert response.status_code == 201, response.get_json()
    report_id = response.get_json()["report_id"]
    read = function_client("get_report").get(f"/?report_id={report_id}", headers=forwarded(ALICE))
    assert read.status_code == 200
    # Someone else's forwarded token reads nothing of alice's.
    other = forwarded({"Authorization": "Bearer user:mallory"})
    assert function_client("get_report").get(f"/?report_id={report_id}", headers=other).status_code == 404


def test_behind_the_gateway_authorization_alone_is_never_the_caller(gateway_deps):
    """The gateway's own token (or anything else in Authorization) signs nobody in."""
    response = function_client("get_report").get("/?report_id=x", headers=ALICE)
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["field"] == "Authorization"  # the header the client sends to the gateway
    assert " / " in error["message"]
    assert function_client("get_report").get("/?report_id=x", headers=GATEWAY).status_code == 401


def test_behind_the_gateway_operators_read_the_war_room_figures(gateway_deps):
    client = function_client("war_room")
    assert client.get("/stats.json", headers=forwarded({"Authorization": "Bearer operator:op1"})).status_code == 200
    assert client.get("/stats.json", headers=forwarded(ALICE)).status_code == 403
    assert client.get("/stats.json", headers=GATEWAY).status_code == 401


def test_without_the_gateway_a_client_cannot_pick_the_forwarded_header(fake_deps):  # noqa: F811
    client = function_client("get_report")
    response = client.get("/?report_id=x", headers={FORWARDED_AUTHORIZATION: ALICE["Authorization"]})
    assert response.status_code == 401
    assert response.get_json()["error"]["field"] == "Authorization"
    # A direct caller's own Authorization is read as always.
    submitted = function_client("submit_report").post("/", json=GOOD, headers=ALICE)
    assert submitted.status_code == 201
