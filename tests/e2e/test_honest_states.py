"""Honest states and validation audits on the emulators (issue 21), through HTTP and the sweep tick.

A scheduled pothole leaves the overdue list and comes back on its date; a question to the reporter
pauses the SLA by exactly the waiting time in the figures; an audited fix refused by an operator
goes back to work. The functions' clock is moved as the figures test does (`KELUHAN_CLOCK_FILE`).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from keluhan.adapters.firestore_store import OPEN_STATUSES
from keluhan.devstack.client import wait_for
from keluhan.devstack.sample_photos import make_jpeg
from keluhan.domain.figures import bucket
from keluhan.domain.sla import WITA
from keluhan.domain.workflow import replay
from tests.e2e.test_figures import simulated_clock  # noqa: F401  # the fixture moving the stack's clock
from tests.e2e.test_pipeline import _publisher, report_body
from tests.support.places import kelurahan_point

LAT, LON, _ = kelurahan_point("Bontorannu")


def _act(client, token, report_id, action, expected, **extra):
    response = client.act(token, {"report_id": report_id, "action": action, "expected_status": expected, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def _call_center_pothole(client, call_center) -> str:
    body = report_body(LAT, LON, street="Jl. Landak Baru", channel="call_center_112")
    response = client.submit(call_center[1], body)
    assert response.status_code == 201, response.text
    report_id = response.json()["report_id"]
    report = client.wait_report(report_id, lambda r: r["status"] == "routed", timeout_s=60)
    assert report["assignee"] == "dinas-pu", report
    return report_id


def _figures(client, report_id: str) -> dict:
    """The report's contribution to the figures once record_figures has seen its last timeline entry."""
    def current():
        report = client.report(report_id)
        snap = client.db.collection("stats_reports").document(report_id).get()
        if report is None or not snap.exists or snap.get("seq") != len(report["timeline"]) - 1:
            return None
        return snap.to_dict()["contribution"]

    return wait_for(current, timeout_s=60, what=f"figures of {report_id}")


def _on_overdue_list(client, report_id: str) -> bool:
    """Whether the War Room's overdue query (flagged overdue, open) selects the report. Asked of the
    report's own document: in the whole suite, earlier tests' reports, all late under this test's
    clock, fill the list's first page ahead of this one."""
    doc = client.db.collection("reports").document(report_id).get().to_dict() or {}
    return bool(doc.get("overdue")) and doc.get("status") in OPEN_STATUSES


def _proof(client, upload, *, taken_at):
    photo = make_jpeg(taken_at=taken_at, lat=LAT, lon=LON, seed=uuid.uuid4().int, width=800, height=600)
    assert client.upload_photo(upload, photo).status_code in (200, 201)


def test_a_scheduled_pothole_leaves_the_overdue_list_and_returns_on_its_date(
        client, call_center, simulated_clock):  # noqa: F811
    pu = client.user("pu.states@dinas-pu.makassar.test", {"role": "skpd", "skpd": "dinas-pu"})[1]
    tick = _publisher(client)
    start = simulated_clock(datetime.now(UTC) + timedelta(days=40))
    report_id = _call_center_pothole(client, call_center)
    _act(client, pu, report_id, "accept", "routed")

    # Three weeks on, past its 7 working days: the tick escalates it onto the overdue list.
    simulated_clock(start + timedelta(days=21))
    tick("sweep-tick", {}, {})
    wait_for(lambda: _on_overdue_list(client, report_id) or None, timeout_s=60, what="overdue")

    day = (start + timedelta(days=21)).astimezone(WITA).date() + timedelta(days=10)
    answer = _act(client, pu, report_id, "schedule", "accepted", reason="butuh_anggaran",
                  scheduled_for=day.isoformat(), note="Masuk APBD perubahan / In the revised budget")
    assert answer["report"]["status"] == "scheduled" and answer["report"]["schedule"]["for_date"] == day.isoformat()
    assert not _on_overdue_list(client, report_id)

    # The evening before the date the tick leaves it scheduled (and does not escalate it).
    until = datetime(day.year, day.month, day.day, tzinfo=WITA)
    simulated_clock(until - timedelta(hours=1))
    before = len(client.report(report_id)["timeline"])
    tick("sweep-tick", {}, {})
    time.sleep(5)  # nothing is to happen: give the tick time to do it wrongly
    report = client.report(report_id)
    assert report["status"] == "scheduled" and len(report["timeline"]) == before
    assert not _on_overdue_list(client, report_id)

    # On the date it is back in the queue, still late, so on the overdue list again.
    simulated_clock(until + timedelta(minutes=1))
    tick("sweep-tick", {}, {})
    report = client.wait_report(report_id, lambda r: r["status"] == "accepted", timeout_s=60)
    resumed = [e for e in report["timeline"] if e.get("action") == "resume"]
    assert len(resumed) == 1 and resumed[0]["by"] == "sweep_reports" and resumed[0]["at"] >= until
    assert replay(report["timeline"]).value == "accepted"
    assert _on_overdue_list(client, report_id)
    month = report["received_at"].astimezone(WITA).strftime("%Y-%m")
    counters = _figures(client, report_id)[f"skpd=dinas-pu@{month}"]
    assert counters["scheduled_past_date"] == 1 and counters["overdue"] == 1 and "scheduled" not in counters


def test_a_question_to_the_reporter_pauses_the_sla_by_exactly_the_waiting_time_in_the_figures(
        client, citizen, simulated_clock):  # noqa: F811
    pu = client.user("pu.states@dinas-pu.makassar.test", {"role": "skpd", "skpd": "dinas-pu"})[1]
    start = simulated_clock(datetime.now(UTC) + timedelta(days=80))
    body = report_body(LAT, LON, street="Jl. Landak Baru", taken_at=start)
    created = client.submit(citizen[1], body).json()
    photo = make_jpeg(taken_at=start, lat=LAT, lon=LON, seed=uuid.uuid4().int, width=800, height=600)
    assert client.upload_photo(created["upload"], photo).status_code in (200, 201)
    report_id = created["report_id"]
    report = client.wait_report(report_id, lambda r: r["status"] == "routed", timeout_s=60)
    due_before = report["sla"]["due_at"]
    _act(client, pu, report_id, "accept", "routed")
    _act(client, pu, report_id, "start", "accepted")

    simulated_clock(start + timedelta(hours=2))
    _act(client, pu, report_id, "ask_reporter", "in_progress", note="Lajur kiri atau kanan? / Which lane?")
    mine = client.get_report(citizen[1], report_id).json()
    assert mine["status"] == "awaiting_reporter" and mine["question"]["note"].startswith("Lajur kiri")

    simulated_clock(start + timedelta(days=3, hours=2))
    _act(client, citizen[1], report_id, "answer", "awaiting_reporter", note="Kiri / Left")
    report = client.report(report_id)
    asked, answered = (next(e["at"] for e in report["timeline"] if e.get("action") == a) for a in
                       ("ask_reporter", "answer"))
    waited = answered - asked
    assert abs(waited - timedelta(days=3)) < timedelta(minutes=5)  # the clock moved by 3 days, plus the seconds between
    assert report["status"] == "in_progress" and report["sla"]["due_at"] - due_before == waited
    assert report["sla"]["paused_s"] == waited.total_seconds()

    simulated_clock(start + timedelta(days=3, hours=5))
    upload = _act(client, pu, report_id, "resolve", "in_progress")["upload"]
    _proof(client, upload, taken_at=start + timedelta(days=3, hours=5))
    report = client.wait_report(report_id, lambda r: r["status"] in ("resolved", "in_progress"), timeout_s=60)
    assert report["status"] == "resolved", report.get("resolution")
    routed_at = next(e["at"] for e in report["timeline"] if e.get("action") == "route")
    proof_at = next(e["at"] for e in report["timeline"] if e.get("action") == "proof_accepted")
    handled_h = (proof_at - routed_at - waited).total_seconds() / 3600
    assert 4.9 <= handled_h < 6 and (proof_at - routed_at).total_seconds() / 3600 > 76  # ~5 h of work in ~77 h
    month = report["received_at"].astimezone(WITA).strftime("%Y-%m")
    counters = _figures(client, report_id)[f"skpd=dinas-pu@{month}"]
    assert [k for k in counters if k.startswith("resolution_h_")] == [f"resolution_h_b{bucket(handled_h):02d}"]
    assert bucket(handled_h) != bucket(handled_h + waited.total_seconds() / 3600)  # the pause is visible


def test_an_audited_fix_refused_by_the_operator_returns_to_in_progress(client, call_center):
    pdam = client.user("pdam.states@pdam.makassar.test", {"role": "skpd", "skpd": "pdam"})[1]
    operator = client.user("operator.states@warroom.makassar.test", {"role": "operator"})[1]
    report_id = _call_center_pothole(client, call_center)
    # A burst water main under the road: the operators hand it to PDAM, whose fixes the local stack audits.
    _act(client, operator, report_id, "reassign", "routed", assignee="pdam", note="Pipa PDAM bocor / A burst main")
    _act(client, pdam, report_id, "accept", "routed")
    _act(client, pdam, report_id, "start", "accepted")
    upload = _act(client, pdam, report_id, "resolve", "in_progress", note="Pipa diganti / Main replaced")["upload"]
    _proof(client, upload, taken_at=datetime.now(UTC))
    report = client.wait_report(report_id, lambda r: r["status"] != "resolving", timeout_s=60)
    assert report["status"] == "awaiting_validation", report.get("resolution")
    audit = report["resolution"]["audit"]
    assert audit["sampled"] and audit["basis"] == "skpd_setting" and audit["rate"] == 1.0
    assert "close_by" not in report  # the reporter's window has not started

    refused = client.act(pdam, {"report_id": report_id, "action": "validate", "expected_status": "awaiting_validation"})
    assert refused.status_code == 403  # never the SKPD whose fix it is
    _act(client, operator, report_id, "refuse_validation", "awaiting_validation",
         note="Aspal belum ditutup / The road is not closed up")
    report = client.report(report_id)
    entry = report["timeline"][-1]
    assert report["status"] == "in_progress" and entry["action"] == "refuse_validation"
    assert "Tindak lanjut ditolak" in entry["note"] and "Aspal belum ditutup" in entry["note"]
    assert report["resolution"]["audit"]["result"] == "refused"
    assert replay(report["timeline"]).value == "in_progress"
    month = report["received_at"].astimezone(WITA).strftime("%Y-%m")
    counters = _figures(client, report_id)[f"skpd=pdam@{month}"]
    assert counters["audits_refused"] == 1 and counters["open"] == 1
