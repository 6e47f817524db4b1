"""act_on_report through a functions-framework test client: the whole (status, action, role) table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from keluhan.domain.report import submission_key
from keluhan.domain.sla import WITA
from keluhan.domain.workflow import Status
from tests.support.deps import fake_deps, function_client  # noqa: F401

NOW = datetime.now(UTC)
TOKENS = {
    "reporter": "Bearer user:siti",
    "other citizen": "Bearer user:andi",
    "skpd (assignee)": "Bearer skpd:dinas-pu:pu-staff",
    "skpd (another)": "Bearer skpd:dishub:dishub-staff",
    "operator": "Bearer operator:op1",
    "channel": "Bearer channel:call_center_112:cc",
}
# The specification, written out independently of the workflow table: for each action, the
# statuses it is possible from and who may make it.
SPEC: dict[str, tuple[set[str], set[str]]] = {
    "accept": ({"routed"}, {"skpd (assignee)"}),
    "start": ({"accepted", "reopened", "scheduled"}, {"skpd (assignee)"}),
    "resolve": ({"in_progress"}, {"skpd (assignee)"}),
    "reject": ({"routed", "accepted"}, {"skpd (assignee)"}),
    "confirm": ({"resolved"}, {"reporter"}),
    "reopen": ({"resolved"}, {"reporter"}),
    "reassign": ({"routed", "forwarded", "triage", "accepted"}, {"operator"}),
    "approve": ({"in_moderation"}, {"operator"}),
    "disapprove": ({"in_moderation"}, {"operator"}),
    # issue 21: honest states and validation audits
    "schedule": ({"accepted", "in_progress", "reopened", "scheduled"}, {"skpd (assignee)"}),
    "ask_reporter": ({"routed", "accepted", "in_progress", "reopened"}, {"skpd (assignee)"}),
    "answer": ({"awaiting_reporter"}, {"reporter"}),
    "validate": ({"awaiting_validation"}, {"operator"}),
    "refuse_validation": ({"awaiting_validation"}, {"operator"}),
    "dispute": ({"rejected", "duplicate"}, {"reporter"}),
    "hold": ({s.value for s in Status}, {"operator"}),
    "unhold": ({s.value for s in Status}, {"operator"}),
}
PARAMS = {"reject": {"reason": "not_a_problem"}, "reassign": {"assignee": "dishub", "note": "Rambu / A sign"},
          "schedule": {"reason": "butuh_anggaran", "scheduled_for": (NOW + timedelta(days=30)).date().isoformat()},
          "ask_reporter": {"note": "Di depan rumah nomor berapa? / In front of which number?"},
          "answer": {"note": "Nomor 12 / Number 12"}, "refuse_validation": {"note": "Masih berlubang / Still a hole"},
          "dispute": {"note": "Masih rusak / Still broken"}}
ROLES_OF_ACTION = {"skpd (assignee)": "skpd", "skpd (another)": "skpd"}


def _report(status: str) -> dict:
    return {
        "report_id": "r1", "reporter_ref": submission_key("siti", "client-0001"), "channel": "warga",
        "category": "jalan_rusak", "description": "Lubang", "point": {"lat": -5.16, "lon": 119.40, "accuracy_m": 5},
        "received_at": NOW - timedelta(days=1), "status": status, "status_changed_at": NOW,
        "photo": {"required": True, "verdict": "accepted"}, "stages": {}, "timeline": [],
        "assignee": "dinas-pu", "routing": {"assignee": "dinas-pu", "kind": "skpd", "rules_version": "v1"},
        "close_by": NOW + timedelta(days=3),
        # what the statuses that wait for something keep (the move back needs it)
        "schedule": {"for_date": "2027-01-01", "until": NOW + timedelta(days=2), "reason": "butuh_anggaran",
                     "by": "skpd:dinas-pu", "at": NOW, "resume_to": "accepted"},
        "question": {"asked_at": NOW - timedelta(hours=5), "by": "skpd:dinas-pu", "note": "Di mana?",
                     "deadline": NOW + timedelta(days=9), "resume_to": "in_progress"},
        "rejection": {"reason": "not_a_problem", "by": "skpd:dinas-pu", "at": NOW},
    }


def _expected(action: str, status: str, role: str) -> int:
    statuses, roles = SPEC[action]
    if role == "other citizen":
        return 404  # someone else's report does not exist for a citizen
    if role not in roles:
        return 403
    return 200 if status in statuses else 409


@pytest.fixture
def client(fake_deps):  # noqa: F811
    return function_client("act_on_report")


def test_every_status_action_and_role_is_allowed_409_or_403_as_specified(client, fake_deps):  # noqa: F811
    wrong = []
    for status in Status:
        for action in SPEC:
            for role, token in TOKENS.items():
                fake_deps.reports.docs = {"r1": _report(status.value)}
                fake_deps.reports.submissions = {_report("routed")["reporter_ref"]: {
                    "report_id": "r1", "reporter_uid": "siti", "client_id": "client-0001"}}
                body = {"report_id": "r1", "action": action, "expected_status": status.value,
                        **PARAMS.get(action, {})}
                response = client.post("/", json=body, headers={"Authorization": token})
                want = _expected(action, status.value, role)
                if response.status_code != want:
                    wrong.append((status.value, action, role, response.status_code, want))
                if response.status_code == 409:
                    assert response.get_json()["error"]["status"] == status.value
                if want != 200:
                    assert fake_deps.reports.docs["r1"]["timeline"] == []
    assert wrong == []


def test_a_stale_expected_status_is_409_with_the_current_status_and_allowed_actions(client, fake_deps):  # noqa: F811
    fake_deps.reports.docs = {"r1": _report("accepted")}
    response = client.post("/", json={"report_id": "r1", "action": "accept", "expected_status": "routed"},
                           headers={"Authorization": TOKENS["skpd (assignee)"]})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["status"] == "accepted" and error["allowed_actions"] == ["start", "reject", "schedule", "ask_reporter"]
    assert error["field"] == "expected_status"


def test_accepting_writes_the_timeline_entry_and_announces_the_change(client, fake_deps):  # noqa: F811
    fake_deps.reports.docs = {"r1": _report("routed")}
    response = client.post("/", json={"report_id": "r1", "action": "accept", "expected_status": "routed"},
                           headers={"Authorization": TOKENS["skpd (assignee)"]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["report"]["status"] == "accepted" and "reporter_ref" not in body["report"]
    entry = fake_deps.reports.docs["r1"]["timeline"][-1]
    assert entry["action"] == "accept" and entry["by"] == "skpd:dinas-pu" and entry["from"] == "routed"
    assert fake_deps.publish.status_changes() == [("routed", "accepted")]


def test_resolve_hands_out_a_signed_upload_url_for_the_proof(client, fake_deps):  # noqa: F811
    fake_deps.reports.docs = {"r1": _report("in_progress")}
    response = client.post("/", json={"report_id": "r1", "action": "resolve", "expected_status": "in_progress"},
                           headers={"Authorization": TOKENS["skpd (assignee)"]})
    assert response.status_code == 200
    assert response.get_json()["upload"]["url"].startswith("https://storage.test/resolution/r1/1")
    assert fake_deps.reports.docs["r1"]["status"] == "resolving"


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"action": "accept", "expected_status": "routed"}, 422, "report_id"),
    ({"report_id": "r1", "action": "fly", "expected_status": "routed"}, 422, "action"),
    ({"report_id": "r1", "action": "accept", "expected_status": "nowhere"}, 422, "expected_status"),
    ({"report_id": "r1", "action": "accept"}, 422, "expected_status"),
    ({"report_id": "r1", "action": "reject", "expected_status": "routed"}, 422, "reason"),
    ({"report_id": "r1", "action": "reject", "reason": "duplicate", "expected_status": "routed"}, 422, "parent_id"),
    ({"report_id": "r1", "action": "reassign", "assignee": "dishub", "expected_status": "routed"}, 422, "note"),
    ({"report_id": "r1", "action": "reject", "reason": "duplicate", "parent_id": "nope",
      "expected_status": "routed"}, 422, "parent_id"),
    ({"report_id": "r1", "action": "reassign", "assignee": "nobody", "note": "x", "expected_status": "routed"},
     422, "assignee"),
    ({"report_id": "../r1", "action": "accept", "expected_status": "routed"}, 422, "report_id"),
    # Firestore refuses `__…__` ids: a 422 naming the field, never a failed lookup's 503.
    ({"report_id": "__r1__", "action": "accept", "expected_status": "routed"}, 422, "report_id"),
    ({"report_id": "r1", "action": "reject", "reason": "duplicate", "parent_id": "__p__",
      "expected_status": "routed"}, 422, "parent_id"),
    ({"report_id": "r1", "action": "schedule", "scheduled_for": "2027-01-04", "expected_status": "routed"},
     422, "reason"),
    ({"report_id": "r1", "action": "schedule", "reason": "not_ours", "scheduled_for": "2027-01-04",
      "expected_status": "routed"}, 422, "reason"),
    ({"report_id": "r1", "action": "schedule", "reason": "butuh_anggaran", "expected_status": "routed"},
     422, "scheduled_for"),
    ({"report_id": "r1", "action": "schedule", "reason": "butuh_anggaran", "scheduled_for": "besok",
      "expected_status": "routed"}, 422, "scheduled_for"),
    ({"report_id": "r1", "action": "accept", "scheduled_for": "2027-01-04", "expected_status": "routed"},
     422, "scheduled_for"),
    ({"report_id": "r1", "action": "ask_reporter", "expected_status": "routed"}, 422, "note"),
    ({"report_id": "missing", "action": "accept", "expected_status": "routed"}, 404, "report_id"),
    ({"report_id": "r1", "action": "accept", "expected_status": "routed", "x": 1}, 422, "x"),
])
def test_bad_requests_are_4xx_naming_the_field(client, fake_deps, body, status, field):  # noqa: F811
    fake_deps.reports.docs = {"r1": _report("routed")}
    token = TOKENS["operator"] if body.get("action") == "reassign" else TOKENS["skpd (assignee)"]
    response = client.post("/", json=body, headers={"Authorization": token})
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["field"] == field
    assert fake_deps.reports.docs["r1"]["timeline"] == []


def test_no_token_is_401_and_get_is_405(client, fake_deps):  # noqa: F811
    assert client.post("/", json={}).status_code == 401
    assert client.get("/").status_code == 405


@pytest.mark.parametrize("days", [0, -3, 800])
def test_a_schedule_date_must_be_after_today_and_within_the_limit(client, fake_deps, days):  # noqa: F811
    fake_deps.reports.docs = {"r1": _report("accepted")}
    day = (datetime.now(UTC).astimezone(WITA) + timedelta(days=days)).date().isoformat()
    response = client.post("/", json={"report_id": "r1", "action": "schedule", "reason": "pekerjaan_besar",
                                      "scheduled_for": day, "expected_status": "accepted"},
                           headers={"Authorization": TOKENS["skpd (assignee)"]})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["field"] == "scheduled_for"
    assert fake_deps.reports.docs["r1"]["timeline"] == []


def test_scheduling_answers_the_date_and_reason_and_keeps_where_it_goes_back(client, fake_deps):  # noqa: F811
    fake_deps.reports.docs = {"r1": _report("in_progress") | {"schedule": None}}
    day = (datetime.now(UTC).astimezone(WITA) + timedelta(days=40)).date()
    response = client.post("/", json={"report_id": "r1", "action": "schedule", "reason": "butuh_anggaran",
                                      "scheduled_for": day.isoformat(), "note": "APBD 2027",
                                      "expected_status": "in_progress"},
                           headers={"Authorization": TOKENS["skpd (assignee)"]})
    assert response.status_code == 200, response.get_json()
    schedule = response.get_json()["report"]["schedule"]
    assert schedule["for_date"] == day.isoformat() and schedule["reason"] == "butuh_anggaran"
    assert schedule["resume_to"] == "in_progress"
    entry = fake_deps.reports.docs["r1"]["timeline"][-1]
    assert entry["action"] == "schedule" and entry["reason"] == "butuh_anggaran" and day.isoformat() in entry["note"]
