"""work through a functions-framework test client: the page, the SKPD's queue by due time, one report,
and the moves of the transition table."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keluhan.domain.workflow import Status
from tests.functions.test_act_on_report import NOW, _report
from tests.support.deps import fake_deps, function_client  # noqa: F401

PU = {"Authorization": "Bearer skpd:dinas-pu:pu-staff"}
DISHUB = {"Authorization": "Bearer skpd:dishub:dishub-staff"}


def _due(report_id: str, status: str, *, due_in_h: float | None, overdue: bool = False, supporters: int = 0,
         assignee: str = "dinas-pu") -> dict:
    doc = {**_report(status), "report_id": report_id, "assignee": assignee, "overdue": overdue,
           "supporters": supporters, "received_at": NOW - timedelta(hours=30 - len(report_id))}
    if due_in_h is not None:
        doc["sla"] = {"start_at": NOW - timedelta(days=1), "due_at": NOW + timedelta(hours=due_in_h),
                      "target_working_days": 3}
    doc["location"] = {"kelurahan": "Bontorannu", "kode_kelurahan": "73.71.01.1001", "kecamatan": "Mariso",
                       "kode_kecamatan": "73.71.01", "inside_city": True}
    return doc


@pytest.fixture
def client(fake_deps):  # noqa: F811
    fake_deps.reports.docs = {d["report_id"]: d for d in (
        _due("later", "accepted", due_in_h=48),
        _due("late", "in_progress", due_in_h=-5, overdue=True, supporters=3),
        _due("soon", "routed", due_in_h=2),
        _due("no-sla", "routed", due_in_h=None),
        _due("fixed", "resolved", due_in_h=1),              # not open: not in the queue
        _due("theirs", "routed", due_in_h=1, assignee="dishub"),
    )}
    return function_client("work")


def test_the_page_is_served_without_data_and_may_talk_only_to_itself_and_the_photo_bucket(client):
    response = client.get("/")
    assert response.status_code == 200 and b"Keluhan Work" in response.data and b"queue.json" in response.data
    policy = response.headers["Content-Security-Policy"]
    assert "connect-src 'self' https://storage.googleapis.com;" in policy
    assert "img-src 'self' data: https://storage.googleapis.com blob:;" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy and "script-src 'sha256-" in policy
    assert b'capture="environment"' in response.data or b"capture: \"environment\"" in response.data


def test_the_queue_is_the_skpds_open_reports_soonest_due_first_with_overdue_and_supporters(client):
    body = client.get("/queue.json", headers=PU).get_json()
    assert body["skpd"] == "dinas-pu" and body["truncated"] is False
    assert [r["report_id"] for r in body["reports"]] == ["late", "soon", "later", "no-sla"]
    late = body["reports"][0]
    assert (late["overdue"], late["supporters"], late["status"], late["kelurahan"]) == (True, 3, "in_progress",
                                                                                        "Bontorannu")
    assert late["allowed_actions"] == ["resolve", "schedule", "ask_reporter"]
    assert {r["report_id"]: r["allowed_actions"] for r in body["reports"][1:]} == {
        "soon": ["accept", "reject", "ask_reporter"], "later": ["start", "reject", "schedule", "ask_reporter"],
        "no-sla": ["accept", "reject", "ask_reporter"]}
    assert body["reports"][-1]["due_at"] is None


def test_the_queue_and_reports_are_for_skpd_staff_only(client):
    for path in ("/queue.json", "/report.json?report_id=soon"):
        assert client.get(path).status_code == 401
        for token in ("user:siti", "operator:op1", "channel:call_center_112:cc", "unverified-skpd:dinas-pu:x"):
            response = client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 403 and response.get_json()["error"]["field"] == "Authorization", token
    assert [r["report_id"] for r in client.get("/queue.json", headers=DISHUB).get_json()["reports"]] == ["theirs"]


def test_a_report_of_the_queue_carries_its_staff_view_and_the_moves_allowed_now(client):
    body = client.get("/report.json?report_id=late", headers=PU).get_json()
    assert body["item"]["report_id"] == "late" and body["item"]["allowed_actions"] == ["resolve", "schedule", "ask_reporter"]
    assert body["report"]["point"] == {"lat": -5.16, "lon": 119.40, "accuracy_m": 5}
    assert body["photos"] == []  # no photo links yet: the page shows a placeholder
    assert "reporter_ref" not in body["report"]
    fixed = client.get("/report.json?report_id=fixed", headers=PU).get_json()  # off the queue, still its own
    assert fixed["item"]["status"] == "resolved" and fixed["item"]["allowed_actions"] == []


def test_another_skpds_report_or_a_bad_id_is_not_found_or_refused(client):
    for report_id, status in (("theirs", 404), ("nope", 404), ("../x", 400), ("", 400)):
        response = client.get(f"/report.json?report_id={report_id}", headers=PU)
        assert response.status_code == status and response.get_json()["error"]["field"] == "report_id"


def test_an_officer_takes_a_report_from_routed_to_resolving_and_gets_the_proof_upload_url(client, fake_deps):  # noqa: F811
    def act(action, expected, **more):
        return client.post("/act", json={"report_id": "soon", "action": action, "expected_status": expected,
                                         **more}, headers=PU)

    assert act("accept", "routed").status_code == 200
    assert act("start", "accepted").status_code == 200
    answer = act("resolve", "in_progress", note="Sudah ditambal").get_json()
    assert answer["report"]["status"] == "resolving" and "resolution/soon/1" in answer["upload"]["url"]
    assert fake_deps.publish.status_changes()[-3:] == [("routed", "accepted"), ("accepted", "in_progress"),
                                                       ("in_progress", "resolving")]
    stale = act("start", "accepted")
    assert stale.status_code == 409 and stale.get_json()["error"]["status"] == "resolving"
    item = client.get("/report.json?report_id=soon", headers=PU).get_json()["item"]
    assert (item["status"], item["allowed_actions"]) == ("resolving", [])


def test_moves_are_refused_as_act_on_report_refuses_them_and_only_to_staff(client):
    def post(body, headers=PU):
        return client.post("/act", json=body, headers=headers)

    reject = {"report_id": "soon", "action": "reject", "expected_status": "routed"}
    assert post(reject).get_json()["error"]["field"] == "reason"  # 422: a reject needs its reason
    theirs = post({**reject, "reason": "not_a_problem"}, DISHUB)  # another SKPD's: 403, as act_on_report
    assert theirs.status_code == 403 and theirs.get_json()["error"]["field"] == "action"
    operator = post({**reject, "action": "reassign", "assignee": "dishub", "note": "x"},
                    {"Authorization": "Bearer operator:op1"})
    assert operator.status_code == 403 and operator.get_json()["error"]["field"] == "Authorization"
    assert post({**reject, "reason": "not_a_problem"}, {}).status_code == 401
    answer = post({**reject, "reason": "not_a_problem", "note": "Sudah diperbaiki warga"})
    assert answer.status_code == 200 and answer.get_json()["report"]["status"] == Status.REJECTED


def test_other_paths_404_and_wrong_methods_405(client):
    assert client.get("/../etc/passwd").status_code == 404
    assert client.post("/queue.json", headers=PU).status_code == 405
    assert client.get("/act", headers=PU).status_code == 405
    assert client.put("/", headers=PU).status_code == 405
    assert client.get("/config.json").get_json() == {"sign_in_url": None}


def test_locally_the_page_may_reach_the_auth_and_storage_emulators(monkeypatch):
    from keluhan import bootstrap
    from tests.support.deps import make_fake_deps

    deps = make_fake_deps(FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099", STORAGE_EMULATOR_HOST="http://127.0.0.1:9023")
    monkeypatch.setattr(bootstrap, "get_deps", lambda: deps)
    policy = function_client("work").get("/").headers["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:9099 http://127.0.0.1:9023;" in policy
    assert "img-src 'self' data: http://127.0.0.1:9023 blob:;" in policy
