"""submit_report: 429 past the quota, anonymous sign-ins refused, a broken auth guard is a 503."""

import logging

import pytest

from keluhan import bootstrap
from keluhan.adapters.auth import UnsafeEmulatorConfig
from tests.functions.test_submit_report import ALICE, GOOD
from tests.support.deps import function_client, make_fake_deps


@pytest.fixture
def tight(monkeypatch):
    deps = make_fake_deps(submit_per_hour=2, submit_per_day=10)
    monkeypatch.setattr(bootstrap, "get_deps", lambda: deps)
    return deps


def test_past_the_hourly_quota_is_429_with_retry_after_until_the_hour_ends(tight):
    client = function_client("submit_report")
    for n in range(2):
        assert client.post("/", json={**GOOD, "client_id": f"client-{n:04}"}, headers=ALICE).status_code == 201
    response = client.post("/", json={**GOOD, "client_id": "client-0002"}, headers=ALICE)
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 3600
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited" and error["window"] == "hour" and error["limit"] == 2
    assert error["retry_after_s"] == retry_after and " / " in error["message"]
    assert len(tight.reports.docs) == 2


def test_a_retry_at_the_limit_is_the_same_report_not_a_429(tight):
    client = function_client("submit_report")
    first = client.post("/", json={**GOOD, "client_id": "client-0000"}, headers=ALICE).get_json()
    client.post("/", json={**GOOD, "client_id": "client-0001"}, headers=ALICE)
    again = client.post("/", json={**GOOD, "client_id": "client-0000"}, headers=ALICE)
    assert again.status_code == 200 and again.get_json()["report_id"] == first["report_id"]


def test_an_anonymous_sign_in_may_not_submit(tight):
    response = function_client("submit_report").post("/", json=GOOD, headers={"Authorization": "Bearer anon:a1"})
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["field"] == "Authorization" and " / " in error["message"]
    assert tight.reports.docs == {}


def test_an_unsafe_emulator_configuration_is_a_logged_503_for_every_caller(tight, caplog):
    def refuse(header):
        raise UnsafeEmulatorConfig("FIREBASE_AUTH_EMULATOR_HOST refused: project is not a demo- project")

    object.__setattr__(tight, "authenticate", refuse)
    with caplog.at_level(logging.CRITICAL):
        response = function_client("submit_report").post("/", json=GOOD, headers=ALICE)
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "misconfigured"
    assert "unsafe Auth emulator configuration" in caplog.text
    assert tight.reports.docs == {}
