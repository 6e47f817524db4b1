"""get_report: the reporter sees only their own report, and an expired wait is visible."""

import pytest

from tests.functions.test_submit_report import ALICE, GOOD
from tests.support.deps import fake_deps, function_client  # noqa: F401


@pytest.fixture
def report_id(fake_deps):  # noqa: F811
    return function_client("submit_report").post("/", json=GOOD, headers=ALICE).get_json()["report_id"]


def test_reporter_sees_status_and_timeline(fake_deps, report_id):  # noqa: F811
    response = function_client("get_report").get(f"/?report_id={report_id}", headers=ALICE)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "awaiting_photo" and " / " in body["status_text"]
    assert [t["status"] for t in body["timeline"]] == ["awaiting_photo"]
    assert "reporter_uid" not in body


def test_another_user_gets_404_not_the_report(fake_deps, report_id):  # noqa: F811
    response = function_client("get_report").get(f"/?report_id={report_id}",
                                                  headers={"Authorization": "Bearer user:mallory"})
    assert response.status_code == 404


def test_missing_report_id_is_400_and_no_token_is_401(fake_deps):  # noqa: F811
    client = function_client("get_report")
    assert client.get("/", headers=ALICE).get_json()["error"]["field"] == "report_id"
    assert client.get("/?report_id=x").status_code == 401


def test_a_photo_that_never_arrived_expires_visibly(fake_deps, report_id):  # noqa: F811
    doc = fake_deps.reports.docs[report_id]
    doc["photo"]["deadline"] = doc["received_at"]  # the wait is over
    body = function_client("get_report").get(f"/?report_id={report_id}", headers=ALICE).get_json()
    assert body["status"] == "photo_expired"
    assert fake_deps.reports.docs[report_id]["status"] == "photo_expired"


def test_the_photo_checks_reasons_are_shown_as_stored(fake_deps, report_id):  # noqa: F811
    # The answer is validated against its model: reasons are {code, message} objects, not strings
    # (the first ReporterView said strings, and a rejected photo's report answered 500).
    stale = {"code": "stale", "message": "Foto terlalu lama / The photo is too old"}
    fake_deps.reports.docs[report_id]["photo"] |= {"verdict": "rejected", "reasons": [stale]}
    fake_deps.reports.docs[report_id]["resolution"] = {"attempt": 1, "object": f"resolution/{report_id}/1",
                                                       "verdict": "rejected", "reasons": [stale, stale]}
    response = function_client("get_report").get(f"/?report_id={report_id}", headers=ALICE)
    assert response.status_code == 200
    body = response.get_json()
    assert body["photo"]["reasons"] == [stale]
    assert body["resolution"] == {"verdict": "rejected", "reasons": [stale, stale], "proof_url": None}
