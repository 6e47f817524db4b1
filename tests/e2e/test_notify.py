"""Issue 18 on the real emulators: the reporter's inbox hears every step to closed, in their language;
the SKPD's staff hear of the assignment, its head of escalation level 1, the operators of level 2."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from google.cloud.firestore import FieldFilter

from keluhan.devstack.client import wait_for
from keluhan.domain.catalogue import get_category
from keluhan.domain.sla import SlaPolicy, WorkingCalendar
from tests.e2e.test_handling import PU_CLAIMS, act, resolve_with_proof, step
from tests.e2e.test_pipeline import _publisher, fresh_photo, report_body, submit_with_photo
from tests.support.places import kelurahan_point


def inbox(client, uid: str, report_id: str) -> list[dict]:
    messages = client.db.collection("inbox").document(uid).collection("messages")
    query = messages.where(filter=FieldFilter("report_id", "==", report_id))
    return sorted((d.to_dict() for d in query.stream()),
                  key=lambda m: m["seq"])


def told(client, uid: str, report_id: str, events: list[str]) -> list[dict]:
    return wait_for(lambda: (found := inbox(client, uid, report_id)) and [m["event"] for m in found] == events
                    and found, timeout_s=60, what=f"{uid}'s inbox: {events}")


def test_the_reporter_hears_every_step_to_closed_in_english_and_the_skpd_its_assignment(client):
    tag = uuid.uuid4().hex[:8]
    uid, token = client.sign_in(f"warga.notify.{tag}@example.com")
    staff_uid, pu = client.user(f"pu.notify.{tag}@dinas-pu.makassar.test", PU_CLAIMS)
    lat, lon, _ = kelurahan_point("Bontorannu")
    taken = datetime.now(UTC) - timedelta(minutes=1)
    body = report_body(lat, lon, street="Jl. Landak Baru", taken_at=taken, lang="en")
    report_id = submit_with_photo(client, token, body, fresh_photo(lat, lon, seed=uuid.uuid4().int,
                                                                   taken_at=taken))
    client.wait_report(report_id, lambda r: r["status"] == "routed")
    act(client, pu, report_id, "accept", "routed")
    act(client, pu, report_id, "start", "accepted")
    assert resolve_with_proof(client, pu, report_id)["status"] == "resolved"
    act(client, token, report_id, "confirm", "resolved")
    step(client, report_id, "closed", "confirm", "reporter")

    mine = told(client, uid, report_id, ["routed", "accepted", "in_progress", "resolved", "closed"])
    assert {m["lang"] for m in mine} == {"en"} and all(m["read_at"] is None for m in mine)
    assert mine[0]["title"].startswith("Report assigned to")
    staff = told(client, staff_uid, report_id, ["assigned"])
    assert staff[0]["lang"] == "id" and report_id in staff[0]["body"]
    for message in [*mine, *staff]:  # nobody learns who reported, nor reads the description
        assert uid not in str(message) and "Laporan uji end-to-end" not in str(message)


def test_escalation_reaches_the_head_at_level_1_and_the_operators_at_level_2(client, citizen):
    tag = uuid.uuid4().hex[:8]
    _, token = citizen
    head_uid, _ = client.user(f"kepala.notify.{tag}@dinas-pu.makassar.test", {**PU_CLAIMS, "head": True})
    operator_uid, _ = client.user(f"op.notify.{tag}@warroom.makassar.test", {"role": "operator"})
    lat, lon, _ = kelurahan_point("Bontorannu")
    taken = datetime.now(UTC) - timedelta(minutes=1)
    report_id = submit_with_photo(client, token, report_body(lat, lon, street="Jl. Landak Baru", taken_at=taken),
                                  fresh_photo(lat, lon, seed=uuid.uuid4().int, taken_at=taken))
    routed = client.wait_report(report_id, lambda r: r["status"] == "routed")
    told(client, head_uid, report_id, ["assigned"])  # the head is staff of the SKPD too
    # As if the SKPD's target passed long ago: the sweep tick escalates one level per tick.
    sla = SlaPolicy(WorkingCalendar.of([])).assignment(get_category("jalan_rusak"),
                                                       routed["routing"]["at"] - timedelta(days=60))
    client.db.collection("reports").document(report_id).update({"sla": sla})
    _publisher(client)("sweep-tick", {}, {})
    told(client, head_uid, report_id, ["assigned", "escalated_1"])
    client.wait_report(report_id, lambda r: r.get("escalation_level") == 1)
    _publisher(client)("sweep-tick", {}, {})
    told(client, operator_uid, report_id, ["escalated_2"])
