"""The Report model holds every stored report document without loss, in every status.

The documents are made the way the pipeline makes them (use cases over the fake ports, whose
every write is also checked by tests.support.fakes.round_tripped); this test states that every
status is covered and that model → document gives back exactly what is stored.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from keluhan.domain.audit import AuditPolicy
from keluhan.domain.report import Report, SubmitReport
from keluhan.domain.workflow import Actor, Role, Status
from keluhan.usecases.photo import Auditor
from keluhan.usecases.pipeline import locate_report
from keluhan.usecases.submission import PhotoUploadPolicy, submit_report
from keluhan.usecases.sweep import sweep
from tests.support.fakes import FakeStats
from tests.unit.test_handling import CITIZEN, LAT, LON, OPERATOR, PU, FixedLocator, World

CALL_CENTRE = Actor(Role.CHANNEL, "cc112", channel="call_center_112")


def _call_centre_report(world: World) -> str:
    cmd = SubmitReport(client_id="client-112", category="jalan_rusak", description="Lubang",
                       lat=LAT, lon=LON, accuracy_m=5, channel="call_center_112")
    policy = PhotoUploadPolicy(url_ttl=timedelta(minutes=15), wait=timedelta(hours=24), max_bytes=10**7)
    return submit_report(cmd, actor=CALL_CENTRE, reports=world.reports, publish=world.publish, photos=world.photos,
                         clock=world.clock, new_id=lambda: "r-112", policy=policy,
                         holds=world.holds).report.report_id


def _every_status() -> dict[str, dict]:
    world = World()
    w = world
    expired = w.submit(client_id="client-expired")
    w.clock.advance(hours=25)
    sweep(reports=w.reports, publish=w.publish, clock=w.clock)
    w.submit(client_id="client-waiting")
    _call_centre_report(w)
    verified = w.submit(client_id="client-verified")
    w.upload(f"incoming/{verified}/photo")
    located = w.submit(client_id="client-located")
    w.upload(f"incoming/{located}/photo")
    locate_report(located, reports=w.reports, geo=FixedLocator(), publish=w.publish, clock=w.clock)
    w.routed("client-routed")
    w.act(w.routed("client-accepted"), "accept", PU)
    w.act(w.routed("client-forwarded"), "reassign", OPERATOR, assignee="bbpjn", note="Jalan nasional")
    w.act(w.routed("client-triage"), "reject", PU, reason="not_ours", note="Saluran")
    w.act(w.routed("client-rejected"), "reject", PU, reason="not_a_problem")
    parent = w.routed("client-parent")
    w.act(w.routed("client-duplicate"), "reject", PU, reason="duplicate", parent_id=parent)
    journeys = {name: w.routed(f"client-{name}") for name in ("progress", "resolving", "resolved", "reopened",
                                                              "closed")}
    for n, (name, report_id) in enumerate(journeys.items()):
        for action in ("accept", "start") + (() if name == "progress" else ("resolve",)):
            w.act(report_id, action, PU)
        if name not in ("progress", "resolving"):
            w.upload(f"resolution/{report_id}/1", seed=70 + n)  # one photo per proof: a reused proof is refused
    w.act(journeys["reopened"], "reopen", CITIZEN, note="Masih berlubang")
    w.act(journeys["closed"], "confirm", CITIZEN)
    # issue 21: scheduled, waiting for the reporter's answer, a fix held for a validation audit
    scheduled, asked = w.routed("client-scheduled"), w.routed("client-asked")
    w.act(scheduled, "accept", PU)
    w.act(scheduled, "schedule", PU, reason="butuh_anggaran", scheduled_for=(w.clock() + timedelta(days=40)).date())
    w.act(asked, "ask_reporter", PU, note="Di sebelah mana? / Where exactly?")
    audited = w.routed("client-audited")
    for action in ("accept", "start", "resolve"):
        w.act(audited, action, PU)
    w.auditor = Auditor(policy=AuditPolicy(rate=1.0), stats=FakeStats(), draw=lambda: 0.5)
    w.upload(f"resolution/{audited}/1", seed=90)
    held_by = w.routed("client-holder")
    w.act(held_by, "hold", OPERATOR)
    moderated = w.submit(client_id="client-moderated")
    w.upload(f"incoming/{moderated}/photo")
    disapproved = w.submit(client_id="client-disapproved")
    w.upload(f"incoming/{disapproved}/photo")
    w.act(disapproved, "disapprove", OPERATOR, note="Bukan foto jalan")
    assert w.status(expired) == "photo_expired"
    return w.reports.docs


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    return _every_status()


def test_the_pipeline_makes_a_document_of_every_status(documents):
    assert {doc["status"] for doc in documents.values()} == {s.value for s in Status}


@pytest.mark.parametrize("status", [s.value for s in Status])
def test_a_document_goes_through_the_model_and_back_unchanged(documents, status):
    for doc in (d for d in documents.values() if d["status"] == status):
        report = Report.from_doc(doc)
        assert report.status == status
        assert report.to_doc() == doc


def test_the_hidden_fields_are_typed_parts_of_the_model(documents):
    duplicate = next(d for d in documents.values() if d["status"] == "duplicate")
    report = Report.from_doc(duplicate)
    assert report.rejection is not None and report.rejection.reason == "duplicate"
    parent = Report.from_doc(documents[report.parent_id or ""])
    # One resident reported both: the parent gains the link, not a supporter of their own (issue 20).
    assert parent.supporters == 0 and parent.duplicates == [report.report_id] and parent.support_seq == 1
    closed = Report.from_doc(next(d for d in documents.values() if d["status"] == "closed"))
    assert closed.resolved_at is not None and closed.resolution is not None
    assert closed.resolution.verdict == "accepted"
