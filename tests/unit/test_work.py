"""The work page's use case over fake ports: the queue by due time, the staff check, one report."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keluhan.domain.report import Report
from keluhan.domain.workflow import Actor, Role
from keluhan.usecases.handling import ReportMissing
from keluhan.usecases.work import NotStaff, staff_queue, staff_report
from tests.functions.test_act_on_report import NOW, _report
from tests.support.fakes import FakePhotoStore, FakeReports

PU = Actor(Role.SKPD, "pu-staff", skpd="dinas-pu")


def _stored(report_id: str, status: str = "routed", *, due_in_h: float | None = 24, received_h_ago: float = 5,
            assignee: str = "dinas-pu") -> dict:
    doc = {**_report(status), "report_id": report_id, "assignee": assignee,
           "received_at": NOW - timedelta(hours=received_h_ago)}
    if due_in_h is not None:
        doc["sla"] = {"start_at": NOW - timedelta(hours=received_h_ago), "due_at": NOW + timedelta(hours=due_in_h)}
    return doc


def _reports(*docs: dict) -> FakeReports:
    reports = FakeReports()
    reports.docs = {d["report_id"]: d for d in docs}
    return reports


def test_soonest_due_first_then_the_oldest_received_and_reports_without_a_due_time_last():
    reports = _reports(_stored("a", due_in_h=10), _stored("b", due_in_h=-2), _stored("c", due_in_h=None),
                       _stored("d", due_in_h=10, received_h_ago=9), _stored("e", due_in_h=None, received_h_ago=9))
    queue = staff_queue(actor=PU, reports=reports, now=NOW)
    assert [r["report_id"] for r in queue["reports"]] == ["b", "d", "a", "e", "c"]


def test_a_queue_longer_than_the_limit_says_it_is_cut():
    reports = _reports(*(_stored(f"r{n}", received_h_ago=n) for n in range(5)))
    queue = staff_queue(actor=PU, reports=reports, now=NOW, limit=3)
    # The newest three, each due at the same time: the oldest received of them first.
    assert queue["truncated"] is True and [r["report_id"] for r in queue["reports"]] == ["r2", "r1", "r0"]
    assert staff_queue(actor=PU, reports=reports, now=NOW, limit=5)["truncated"] is False


@pytest.mark.parametrize("actor", [Actor(Role.OPERATOR, "op1"), Actor(Role.WARGA, "siti"),
                                   Actor(Role.CHANNEL, "cc", channel="call_center_112"), Actor(Role.SKPD, "x")])
def test_only_skpd_staff_have_a_queue(actor):
    with pytest.raises(NotStaff):
        staff_queue(actor=actor, reports=_reports(_stored("a")), now=NOW)
    with pytest.raises(NotStaff):
        staff_report("a", actor=actor, reports=_reports(_stored("a")), photos=FakePhotoStore(), clock=lambda: NOW)


def test_a_report_is_its_skpds_only_and_offers_the_moves_of_the_table():
    reports = _reports(_stored("a", "accepted"), _stored("b", assignee="dishub"))
    found = staff_report("a", actor=PU, reports=reports, photos=FakePhotoStore(), clock=lambda: NOW)
    assert found["item"]["allowed_actions"] == ["start", "reject", "schedule", "ask_reporter"]
    assert found["report"] == _staff(reports.report("a")) and found["photos"] == []
    for missing in ("b", "nope"):
        with pytest.raises(ReportMissing):
            staff_report(missing, actor=PU, reports=reports, photos=FakePhotoStore(), clock=lambda: NOW)


def _staff(report: Report) -> dict:
    from keluhan.domain.views import staff_view

    return staff_view(report.to_doc())
