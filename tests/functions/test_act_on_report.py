"""act_on_report through a functions-framework test client: the whole (status, action, role) table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from keluhan.domain.report import submission_key
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
    "start": ({"accepted", "reopened"}, {"skpd (assignee)"}),
    "resolve": ({"in_progress"}, {"skpd (assignee)"}),
    "reject": ({"routed", "accepted"}, {"skpd (assignee)"}),
    "confirm": ({"resolved"}, {"reporter"}),
    "reopen": ({"resolved"}, {"reporter"}),
    "reassign": ({"routed", "forwarded", "triage", "accepted"}, {"operator"}),
    "approve": ({"in_moderation"}, {"operator"}),
    "disapprove": ({"in_moderation"}, {"operator"}),
    "hold": ({s.value for s in Status}, {"operator"}),
    "unhold": ({s.value for s in Status}, {"operator"}),
}
PARAMS = {"reject": {"reason": "not_a_problem"}, "reassign": {"assignee": "dishub", "note": "Rambu / A sign"}}
ROLES_OF_ACTION = {"skpd (assignee)": "skpd", "skpd (another)": "skpd"}


def _report(status: str) -> dict:
    return {
        "report_id": "r1", "reporter_ref": submission_key("siti", "client-0001"), "channel": "warga",
        "category": "jalan_rusak", "description": "Lubang", "point": {"lat": -5.16, "lon": 119.40, "accuracy_m": 5},
        "received_at": NOW - timedelta(days=1), "status": status, "status_changed_at": NOW,
        "photo": {"required": True, "verdict": "accepted"}, "stages": {}, "timeline": [],
        "assignee": "dinas-pu", "routing": {"assignee": "dinas-pu", "kind": "skpd", "rules_version": "v1"},
        "close_by": NOW + timedelta(days=3),
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
    assert error["status"] == "accepted" and error["allowed_actions"] == ["start", "reject"]
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
