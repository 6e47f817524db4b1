"""Handling a report to the end with fake ports: every move through the one table, replayable."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from keluhan.devstack.sample_photos import make_jpeg
from keluhan.domain import open311
from keluhan.domain.audit import AuditPolicy
from keluhan.domain.figures import contribution
from keluhan.domain.location import Location
from keluhan.domain.notes import REDACTED, public_note
from keluhan.domain.photo import PhotoPolicy
from keluhan.domain.report import (
    HELD_NOTE,
    ActOnReport,
    InvalidMove,
    NotPermitted,
    StaleOrIllegal,
    SubmitReport,
)
from keluhan.domain.routing import decide
from keluhan.domain.views import reporter_view
from keluhan.domain.workflow import HUMAN_ACTIONS, MOVES, Action, Actor, NotAllowedNow, Role, Status, replay
from keluhan.rules_provider import default_rules_path, load_rules
from keluhan.usecases.handling import HandlingPolicy, ReportMissing, act_on_report
from keluhan.usecases.photo import Auditor, object_from_notification, verify_uploaded_photo
from keluhan.usecases.pipeline import locate_report, route_report
from keluhan.usecases.submission import PhotoUploadPolicy, submit_report
from keluhan.usecases.support import support_report
from keluhan.usecases.sweep import sweep
from tests.support.fakes import (
    FakeClock,
    FakeHolds,
    FakePhotoIndex,
    FakePhotoStore,
    FakePublisher,
    FakeReports,
    FakeStats,
    FakeSupporters,
    stored,
)

LAT, LON = -5.162247, 119.40421  # Kel. Bontorannu, Jl. Landak Baru (a city road)
BONTORANNU = Location(kelurahan="Bontorannu", kode_kelurahan="73.71.01.1001", kecamatan="Mariso",
                      kode_kecamatan="73.71.01", inside_city=True, data_version="test-v1")
CITIZEN = Actor(Role.WARGA, "siti")
OTHER_CITIZEN = Actor(Role.WARGA, "andi")
PU = Actor(Role.SKPD, "pu-staff", skpd="dinas-pu")
DISHUB = Actor(Role.SKPD, "dishub-staff", skpd="dishub")
OPERATOR = Actor(Role.OPERATOR, "op1")
POLICY = HandlingPolicy(proof_wait=timedelta(hours=24), reopen_window=timedelta(days=7),
                        url_ttl=timedelta(minutes=15), max_bytes=10**7, answer_wait=timedelta(days=14))


class FixedLocator:
    def locate(self, lat, lon, street=None):
        return BONTORANNU


class World:
    def __init__(self):
        self.reports, self.publish, self.clock = FakeReports(), FakePublisher(), FakeClock()
        self.photos, self.index, self.holds = FakePhotoStore(), FakePhotoIndex(), FakeHolds()
        self.supporters = FakeSupporters()
        self.rules = load_rules(default_rules_path())
        self.seed = 0
        self.auditor = None  # no validation audits unless a test samples them

    def decide(self, *, category, location):
        return decide(category=category, location=location, rules=self.rules)

    def submit(self, actor=CITIZEN, client_id="client-0001", lang="id") -> str:
        cmd = SubmitReport(client_id=client_id, category="jalan_rusak", description="Lubang besar", lang=lang,
                           lat=LAT, lon=LON, accuracy_m=5, street="Jl. Landak Baru",
                           photo_taken_at=self.clock() - timedelta(minutes=2))
        policy = PhotoUploadPolicy(url_ttl=timedelta(minutes=15), wait=timedelta(hours=24), max_bytes=10**7)
        return submit_report(cmd, actor=actor, reports=self.reports, publish=self.publish, photos=self.photos,
                             clock=self.clock, new_id=lambda: f"r-{client_id}", policy=policy,
                             holds=self.holds).report.report_id

    def upload(self, name: str, *, taken_at=None, generation=1, seed=None):
        self.seed += 1
        # 800 × 600, as the e2e history's: the checks do not depend on the size, and a 1600 × 1200
        # photo costs ~4× the time to make and to verify (the generated history uploads ~130).
        self.photos.objects[name] = make_jpeg(taken_at=taken_at or self.clock() - timedelta(minutes=1),
                                              lat=LAT, lon=LON, seed=seed if seed is not None else self.seed,
                                              width=800, height=600)
        attributes = {"eventType": "OBJECT_FINALIZE", "bucketId": "b", "objectId": name,
                      "objectGeneration": str(generation)}
        data = json.dumps({"bucket": "b", "name": name, "generation": str(generation),
                           "contentType": "image/jpeg"}).encode()
        return stored(verify_uploaded_photo(object_from_notification(attributes, data), bucket="b", reports=self.reports,
                                     photos=self.photos, photo_index=self.index, publish=self.publish,
                                     clock=self.clock, policy=PhotoPolicy(), reopen_window=POLICY.reopen_window,
                                     auditor=self.auditor))

    def routed(self, client_id="client-0001", lang="id") -> str:
        report_id = self.submit(client_id=client_id, lang=lang)
        self.upload(f"incoming/{report_id}/photo")
        locate_report(report_id, reports=self.reports, geo=FixedLocator(), publish=self.publish, clock=self.clock)
        route_report(report_id, reports=self.reports, decide=self.decide, publish=self.publish, clock=self.clock)
        self.clock.advance(hours=1)  # the SKPD gets to it later: a proof is never older than the report
        return report_id

    def act(self, report_id, action, actor, **body):
        status = body.pop("expected_status", None) or self.reports.docs[report_id]["status"]
        cmd = ActOnReport(report_id=report_id, action=action, expected_status=status, **body)
        return act_on_report(cmd, actor=actor, reports=self.reports, publish=self.publish, photos=self.photos,
                             holds=self.holds, decide=self.decide, clock=self.clock, policy=POLICY,
                             supporters=self.supporters)

    def support(self, report_id, actor, *, undo=False):
        return support_report(report_id, undo=undo, actor=actor, reports=self.reports, supporters=self.supporters,
                              publish=self.publish, clock=self.clock)

    def status(self, report_id) -> str:
        return self.reports.docs[report_id]["status"]


@pytest.fixture
def world():
    return World()


def test_pothole_is_handled_from_routed_to_closed_with_a_proof_photo(world):
    report_id = world.routed()
    assert world.status(report_id) == "routed"
    assert world.reports.docs[report_id]["assignee"] == "dinas-pu"
    world.clock.advance(hours=2)
    world.act(report_id, "accept", PU)
    world.act(report_id, "start", PU)
    result = world.act(report_id, "resolve", PU, note="Sudah ditambal / Patched")
    assert world.status(report_id) == "resolving"
    assert result.upload["url"].startswith(f"https://storage.test/resolution/{report_id}/1")
    world.clock.advance(hours=1)
    report = world.upload(f"resolution/{report_id}/1", seed=99)
    assert report["status"] == "resolved", report["resolution"]
    assert report["resolution"]["clean_object"].startswith(f"derived/{report_id}/resolution/1/")
    assert report["close_by"] == world.clock() + POLICY.reopen_window
    world.act(report_id, "confirm", CITIZEN)
    report = world.reports.docs[report_id]
    assert report["status"] == "closed"
    actions = [e["action"] for e in report["timeline"]]
    assert actions == ["submit", "verify_photo", "locate", "route", "accept", "start", "resolve",
                       "proof_accepted", "confirm"]
    assert [e["by"] for e in report["timeline"]][-5:] == ["skpd:dinas-pu", "skpd:dinas-pu", "skpd:dinas-pu",
                                                          "verify_photo", "reporter"]
    assert replay(report["timeline"]) == Status.CLOSED
    assert world.publish.status_changes()[-4:] == [("accepted", "in_progress"), ("in_progress", "resolving"),
                                                   ("resolving", "resolved"), ("resolved", "closed")]


def test_the_reporter_reopens_within_the_window_and_work_starts_again(world):
    report_id = world.routed()
    for action in ("accept", "start", "resolve"):
        world.act(report_id, action, PU)
    world.upload(f"resolution/{report_id}/1", seed=50)
    world.clock.advance(days=6)
    world.act(report_id, "reopen", CITIZEN, note="Masih berlubang / Still a hole")
    assert world.status(report_id) == "reopened"
    world.act(report_id, "start", PU)
    world.act(report_id, "resolve", PU)
    assert world.reports.docs[report_id]["resolution"]["object"] == f"resolution/{report_id}/2"
    assert replay(world.reports.docs[report_id]["timeline"]) == Status.RESOLVING


def test_reopening_after_the_window_is_409_offering_confirm(world):
    report_id = world.routed()
    for action in ("accept", "start", "resolve"):
        world.act(report_id, action, PU)
    world.upload(f"resolution/{report_id}/1", seed=51)
    world.clock.advance(days=7, seconds=1)
    with pytest.raises(StaleOrIllegal) as exc:
        world.act(report_id, "reopen", CITIZEN)
    assert exc.value.allowed == ["confirm"]


def test_a_stale_proof_photo_returns_the_report_to_work_with_reasons(world):
    report_id = world.routed()
    for action in ("accept", "start", "resolve"):
        world.act(report_id, action, PU)
    report = world.upload(f"resolution/{report_id}/1", taken_at=world.clock() - timedelta(days=7), seed=52)
    assert report["status"] == "in_progress"
    assert report["resolution"]["verdict"] == "rejected"
    assert "stale" in [r["code"] for r in report["resolution"]["reasons"]]
    assert "ditolak" in report["timeline"][-1]["note"]


def test_the_reports_own_photo_is_no_proof_of_the_fix(world):
    report_id = world.routed()
    original = world.photos.objects[f"incoming/{report_id}/photo"]
    for action in ("accept", "start", "resolve"):
        world.act(report_id, action, PU)
    world.photos.objects[f"resolution/{report_id}/1"] = original
    attributes = {"eventType": "OBJECT_FINALIZE", "bucketId": "b", "objectId": f"resolution/{report_id}/1",
                  "objectGeneration": "5"}
    report = stored(verify_uploaded_photo(object_from_notification(attributes, b""), bucket="b", reports=world.reports,
                                   photos=world.photos, photo_index=world.index, publish=world.publish,
                                   clock=world.clock, policy=PhotoPolicy(), reopen_window=POLICY.reopen_window))
    assert report["status"] == "in_progress"
    assert "reused" in [r["code"] for r in report["resolution"]["reasons"]]


def test_redelivered_proof_changes_nothing(world):
    report_id = world.routed()
    for action in ("accept", "start", "resolve"):
        world.act(report_id, action, PU)
    first = world.upload(f"resolution/{report_id}/1", seed=53)
    again = world.upload(f"resolution/{report_id}/1", seed=53)
    assert again["timeline"] == first["timeline"]


def test_the_sweep_closes_resolved_reports_after_the_window_and_resumes_missing_proofs(world):
    closed_id = world.routed("client-a")
    waiting_id = world.routed("client-b")
    for report_id in (closed_id, waiting_id):
        for action in ("accept", "start", "resolve"):
            world.act(report_id, action, PU)
    world.upload(f"resolution/{closed_id}/1", seed=54)
    world.clock.advance(days=1, seconds=1)
    assert sweep(reports=world.reports, publish=world.publish, clock=world.clock)["proof_expired"] == 1
    assert world.status(waiting_id) == "in_progress"
    world.clock.advance(days=7)
    counts = sweep(reports=world.reports, publish=world.publish, clock=world.clock)
    assert counts["auto_closed"] == 1 and world.status(closed_id) == "closed"
    assert world.reports.docs[closed_id]["timeline"][-1]["by"] == "sweep_reports"
    assert sweep(reports=world.reports, publish=world.publish, clock=world.clock)["auto_closed"] == 0


def test_not_ours_goes_back_to_triage_and_leaves_the_skpd_queue(world):
    report_id = world.routed()
    world.act(report_id, "reject", PU, reason="not_ours", note="Ini saluran, bukan jalan / A drain, not a road")
    report = world.reports.docs[report_id]
    assert report["status"] == "triage" and report["assignee"] == "triage"
    assert report["timeline"][-1]["reason"] == "not_ours"
    with pytest.raises(NotPermitted):
        world.act(report_id, "accept", PU)
    world.act(report_id, "reassign", OPERATOR, assignee="dishub", note="Saluran / Drains")
    assert world.reports.docs[report_id]["assignee"] == "dishub"
    world.act(report_id, "accept", DISHUB)
    assert replay(world.reports.docs[report_id]["timeline"]) == Status.ACCEPTED


@pytest.mark.parametrize("undo", [False, True])
def test_a_support_whose_announcement_was_lost_is_announced_by_the_apps_retry(world, undo):
    """Killed after the report changed and before the announcement (the figures count supporters from
    it): the app's retry of the same request announces it, as a redelivered stage does."""
    report_id = world.routed()
    if undo:
        world.support(report_id, OTHER_CITIZEN)
    world.publish.fail_next = 1
    with pytest.raises(ConnectionError):
        world.support(report_id, OTHER_CITIZEN, undo=undo)
    assert world.reports.docs[report_id]["supporters"] == (0 if undo else 1)  # the change is stored
    before = len(world.publish.messages)
    answer = world.support(report_id, OTHER_CITIZEN, undo=undo)
    assert answer.supporters == (0 if undo else 1)
    [(topic, data, _)] = world.publish.messages[before:]
    assert topic == "report-status-changed" and data["report_id"] == report_id


def test_a_duplicate_links_to_its_parent_which_counts_supporters_once(world):
    parent = world.routed("client-a")
    child = world.routed("client-b")
    world.act(child, "reject", PU, reason="duplicate", parent_id=parent)
    assert world.status(child) == "duplicate"
    assert world.reports.docs[child]["parent_id"] == parent
    # The same resident reported both: the parent gains the link, not a supporter of their own.
    assert world.reports.docs[parent]["supporters"] == 0 and world.reports.docs[parent]["duplicates"] == [child]
    from keluhan.domain.report import InvalidMove

    with pytest.raises(InvalidMove):
        world.act(world.routed("client-c"), "reject", PU, reason="duplicate", parent_id="no-such-report")


def test_a_duplicate_moves_its_reporter_and_supporters_onto_the_parent_each_once(world):
    parent = world.routed("client-a")
    world.submit(actor=OTHER_CITIZEN, client_id="client-b")
    child = "r-client-b"
    world.upload(f"incoming/{child}/photo")
    locate_report(child, reports=world.reports, geo=FixedLocator(), publish=world.publish, clock=world.clock)
    route_report(child, reports=world.reports, decide=world.decide, publish=world.publish, clock=world.clock)
    world.support(child, Actor(Role.WARGA, "budi"))
    world.support(child, CITIZEN)  # the parent's own reporter: not a supporter of their own report
    world.support(parent, Actor(Role.WARGA, "budi"))  # already supports the parent: counted once
    world.act(child, "reject", PU, reason="duplicate", parent_id=parent)
    doc = world.reports.docs[parent]
    assert doc["supporters"] == 2 and len(doc["supporter_refs"]) == 2 and doc["duplicates"] == [child]
    assert sorted(world.supporters.uids(doc["supporter_refs"])) == ["andi", "budi"]
    assert world.reports.docs[child]["supporters"] == 0
    assert "andi" not in str(doc) and "budi" not in str(doc)  # refs, never uids, on the report


def test_support_is_one_per_resident_idempotent_and_undoable(world):
    report_id = world.routed()
    budi = Actor(Role.WARGA, "budi")
    assert world.support(report_id, budi).supporters == 1
    assert world.support(report_id, budi).supporters == 1
    assert world.support(report_id, Actor(Role.WARGA, "andi")).supporters == 2
    answer = world.support(report_id, budi, undo=True)
    assert (answer.supported, answer.supporters) == (False, 1)
    assert world.support(report_id, budi, undo=True).supporters == 1
    with pytest.raises(NotPermitted):
        world.support(report_id, CITIZEN)  # one's own report
    with pytest.raises(NotPermitted):
        world.support(report_id, PU)
    with pytest.raises(ReportMissing):
        world.support("no-such-report", budi)


def test_a_private_report_cannot_be_found_by_supporting_it_but_its_supporters_may_withdraw(world):
    report_id = world.routed()
    budi, andi = Actor(Role.WARGA, "budi"), Actor(Role.WARGA, "andi")
    assert world.support(report_id, budi).supporters == 1
    world.act(report_id, "make_private", CITIZEN)
    with pytest.raises(ReportMissing):  # as for no report at all: nothing is revealed
        world.support(report_id, andi)
    with pytest.raises(ReportMissing):
        world.support(report_id, andi, undo=True)
    assert world.support(report_id, budi, undo=True).supporters == 0


def test_the_reporter_rates_the_fix_on_confirm_or_after_an_auto_close_within_the_window(world):
    first, second = world.routed("client-a"), world.routed("client-b")
    for report_id, seed in ((first, 99), (second, 55)):
        for action in ("accept", "start", "resolve"):
            world.act(report_id, action, PU)
        world.clock.advance(hours=1)
        assert world.upload(f"resolution/{report_id}/1", seed=seed)["status"] == "resolved"
    world.act(first, "confirm", CITIZEN, rating=4, rating_text="Cepat / Quick")
    assert world.reports.docs[first]["rating"]["score"] == 4
    with pytest.raises(StaleOrIllegal):
        world.act(first, "rate", CITIZEN, rating=5)  # rated on confirm already
    world.clock.advance(days=8)
    sweep(reports=world.reports, publish=world.publish, clock=world.clock)
    assert world.status(second) == "closed"
    with pytest.raises(NotPermitted):
        world.act(second, "rate", PU, rating=5)
    world.act(second, "rate", CITIZEN, rating=2)
    doc = world.reports.docs[second]
    assert doc["rating"]["after"] == "auto_close" and doc["timeline"][-1]["event"] == "rated"
    assert contribution(doc)["skpd=dinas-pu@all"]["rated"] == 1
    with pytest.raises(ValidationError):
        ActOnReport(report_id=first, action="accept", expected_status="routed", rating=3)


def test_another_citizen_cannot_see_the_report_to_act_on_it(world):
    report_id = world.routed()
    for action in ("accept", "start", "resolve"):
        world.act(report_id, action, PU)
    world.upload(f"resolution/{report_id}/1", seed=55)
    with pytest.raises(ReportMissing):
        world.act(report_id, "confirm", OTHER_CITIZEN)


def test_a_held_reporter_goes_to_moderation_and_an_operator_approves(world):
    first = world.routed("client-a")
    world.act(first, "hold", OPERATOR, note="Banjir laporan / Flooding reports")
    held = world.submit(client_id="client-b")
    report = world.upload(f"incoming/{held}/photo")
    assert report["status"] == "in_moderation"
    world.act(held, "approve", OPERATOR)
    assert world.status(held) == "verified"
    assert world.publish.stage_topics()[-1] == "report-accepted"
    world.act(first, "unhold", OPERATOR)
    free = world.submit(client_id="client-c")
    assert world.upload(f"incoming/{free}/photo")["status"] == "verified"


def test_random_moves_always_leave_a_timeline_that_replays_to_the_status(world):
    rng = random.Random(7)
    report_id = world.routed()
    actors = [CITIZEN, PU, DISHUB, OPERATOR]
    world.auditor = Auditor(policy=AuditPolicy(rate=0.5), stats=FakeStats(), draw=random.Random(3).random)
    params = {"reject": {"reason": "not_a_problem"}, "reassign": {"assignee": "dinas-pu", "note": "balik"},
              "dispute": {"note": "masih rusak"}, "ask_reporter": {"note": "Di depan nomor berapa?"},
              "answer": {"note": "Nomor 12"}, "refuse_validation": {"note": "Masih berlubang"}}
    made = 0
    for step in range(600):
        if world.status(report_id) in ("closed", "rejected", "duplicate", "forwarded") and rng.random() < 0.5:
            report_id = world.routed(f"client-{step:04d}")  # a new report once this one is done
        action, actor = rng.choice([a.value for a in HUMAN_ACTIONS]), rng.choice(actors)
        possible = [a.value for a in HUMAN_ACTIONS if Status(world.status(report_id)) in MOVES[a].sources]
        if possible and rng.random() < 0.5:  # half the time a move the table allows from here, by anyone
            action = rng.choice(possible)
        body = params.get(action, {})
        if action == "schedule":
            body = {"reason": "butuh_anggaran", "scheduled_for": (world.clock() + timedelta(days=3)).date()}
        try:
            world.act(report_id, action, actor, **body)
            made += 1
        except (StaleOrIllegal, NotPermitted, ReportMissing):
            pass
        report = world.reports.docs[report_id]
        if report["status"] == "resolving" and rng.random() < 0.7:
            world.upload(report["resolution"]["object"], seed=rng.randrange(10**6))
        if rng.random() < 0.1:  # days pass: scheduled dates come, questions go unanswered
            world.clock.advance(days=rng.choice([1, 5, 15]))
            sweep(reports=world.reports, publish=world.publish, clock=world.clock)
        assert replay(world.reports.docs[report_id]["timeline"]).value == world.status(report_id)
    assert made > 5
    made_moves = {e.get("action") for doc in world.reports.docs.values() for e in doc["timeline"]}
    assert {"schedule", "resume", "ask_reporter", "answer", "close_unanswered", "validate",
            "refuse_validation"} <= made_moves, sorted(m for m in made_moves if m)
    for doc in world.reports.docs.values():
        assert replay(doc["timeline"]).value == doc["status"]


def test_replay_refuses_a_timeline_the_table_does_not_allow():
    at = "2026-12-01T00:00:00Z"
    bad = [{"status": "awaiting_photo", "from": None, "action": "submit", "at": at},
           {"status": "closed", "from": "awaiting_photo", "action": "confirm", "at": at}]
    with pytest.raises(NotAllowedNow):
        replay(bad)


def test_every_move_of_the_table_names_who_may_make_it():
    for action, move in MOVES.items():
        assert move.roles, action
        assert move.targets, action
    assert Action.SUBMIT not in HUMAN_ACTIONS and Action.PROOF_ACCEPTED not in HUMAN_ACTIONS


# --- issue 23: proofs reused across reports -----------------------------------------------------
def _resolving(world, client_id: str) -> str:
    report_id = world.routed(client_id=client_id)
    for action in ("accept", "start", "resolve"):
        world.act(report_id, action, PU)
    world.clock.advance(minutes=30)
    return report_id


def test_the_same_jpeg_accepted_as_proof_for_one_report_is_refused_for_a_second(world):
    first, second = _resolving(world, "client-0001"), _resolving(world, "client-0002")
    assert world.upload(f"resolution/{first}/1", seed=700)["status"] == "resolved"
    report = world.upload(f"resolution/{second}/1", seed=700)  # the very same "fixed" photo
    assert report["status"] == "in_progress" and report["resolution"]["verdict"] == "rejected"
    assert "reused" in [r["code"] for r in report["resolution"]["reasons"]]


def test_a_proof_without_gps_is_refused_and_never_counted_resolved(world):
    report_id = _resolving(world, "client-0003")
    name = f"resolution/{report_id}/1"
    world.photos.objects[name] = make_jpeg(taken_at=world.clock() - timedelta(minutes=1), lat=None, lon=None,
                                           seed=701)
    attributes = {"eventType": "OBJECT_FINALIZE", "bucketId": "b", "objectId": name, "objectGeneration": "1"}
    report = stored(verify_uploaded_photo(object_from_notification(attributes, b""), bucket="b", reports=world.reports,
                                   photos=world.photos, photo_index=world.index, publish=world.publish,
                                   clock=world.clock, policy=PhotoPolicy(), reopen_window=POLICY.reopen_window))
    assert report["status"] == "in_progress"
    assert [r["code"] for r in report["resolution"]["reasons"]] == ["no_gps"]
    assert all(key.endswith(".proof") is False for key in world.index.docs)  # a refused proof is not indexed
    assert ("resolving", "resolved") not in world.publish.status_changes()
    assert all(not counters.get("resolved") for counters in contribution(report).values())  # nor the figures


# --- issue 23: notes that leak ------------------------------------------------------------------
def test_internal_notes_are_never_published(world):
    report_id = world.routed()
    world.act(report_id, "reassign", OPERATOR, assignee="dishub",
              note="Internal: PU kepala minta dialihkan, hubungi 0812-3456-7890")
    world.act(report_id, "accept", DISHUB, note="Menunggu anggaran dari Pak Andi")
    report = world.reports.docs[report_id]
    internal = [e["note"] for e in report["timeline"] if e.get("action") in ("reassign", "accept")]
    assert all(internal)  # staff keep them
    text = json.dumps([open311.request_view(report), reporter_view(report, client_id="client-0001")], default=str)
    assert "Internal" not in text and "anggaran" not in text and "0812" not in text
    assert open311.request_view(report)["status_notes"] == public_note(
        next(e for e in report["timeline"] if e["action"] == "route"))


def test_a_held_reporters_report_says_in_moderation_but_not_why(world):
    world.holds.hold("siti", {"by": "op1"})
    report_id = world.submit()
    report = world.upload(f"incoming/{report_id}/photo")
    assert report["status"] == "in_moderation"
    entry = report["timeline"][-1]
    assert entry["internal_note"] == HELD_NOTE and "ditahan" not in entry["note"]
    assert "ditahan" not in json.dumps(reporter_view(report, client_id="client-0001"), default=str)


def test_private_category_descriptions_are_withheld_and_contacts_redacted_in_public_views(world):
    report = world.reports.docs[world.routed()]
    described = report | {"description": "Lubang, hubungi siti@example.id atau +62 812 3456 7890 / (0411) 873-123"}
    view = open311.request_view(described)
    assert view["description"] == f"Lubang, hubungi {REDACTED} atau {REDACTED} / {REDACTED}"
    private = described | {"category": "parkir_liar"}  # point_private: people write addresses and names
    assert open311.request_view(private)["description"] is None


# --- issue 23: duplicates of any report ------------------------------------------------------------
def test_an_skpd_closes_as_duplicate_only_a_live_report_of_the_same_category_nearby(world):
    parent, child = world.routed("client-p1"), world.routed("client-c1")
    awaiting = world.submit(client_id="client-a1")  # still waiting for its photo
    other_category = world.routed("client-o1")
    world.reports.docs[other_category]["category"] = "sampah"
    far = world.routed("client-f1")
    world.reports.docs[far]["point"] = {"lat": LAT + 0.01, "lon": LON, "accuracy_m": 5}  # ~1.1 km north
    for bad in (awaiting, other_category, far):
        with pytest.raises(InvalidMove) as exc:
            world.act(child, "reject", PU, reason="duplicate", parent_id=bad)
        assert exc.value.field == "parent_id"
    assert world.status(child) == "routed"
    world.act(child, "reject", PU, reason="duplicate", parent_id=parent)
    assert world.status(child) == "duplicate"


def test_the_reporter_disputes_a_rejection_and_the_operators_look_again(world):
    # Issue 23 (Low): "let the reporter dispute a rejection" — before, a rejected report was final.
    report_id = world.routed()
    world.act(report_id, "reject", PU, reason="not_a_problem", note="Sudah baik / Looks fine")
    with pytest.raises(ValidationError):  # a dispute says why
        world.act(report_id, "dispute", CITIZEN)
    with pytest.raises(ReportMissing):  # someone else's report does not exist for a citizen
        world.act(report_id, "dispute", OTHER_CITIZEN, note="Masih rusak / Still broken")
    with pytest.raises(NotPermitted):  # the SKPD cannot undo its own rejection this way
        world.act(report_id, "dispute", PU, note="x")
    world.act(report_id, "dispute", CITIZEN, note="Masih berlubang / Still a hole")
    report = world.reports.docs[report_id]
    assert report["status"] == "triage" and report["assignee"] == "triage"
    assert report["timeline"][-1]["action"] == "dispute" and report["timeline"][-1]["role"] == "warga"
    world.act(report_id, "reassign", OPERATOR, assignee="dinas-pu", note="Dicek ulang / Check again")
    assert world.status(report_id) == "routed"
    assert replay(world.reports.docs[report_id]["timeline"]) == Status.ROUTED


def test_a_rejection_can_be_disputed_only_within_the_reopen_window(world):
    report_id = world.routed()
    world.act(report_id, "reject", PU, reason="not_a_problem")
    world.clock.advance(days=8)
    with pytest.raises(StaleOrIllegal):
        world.act(report_id, "dispute", CITIZEN, note="Masih rusak / Still broken")
    assert world.status(report_id) == "rejected"


def test_every_outcome_of_the_table_is_one_the_domain_computes():
    from typing import get_args

    from keluhan.domain.assignees import AssigneeKind
    from keluhan.domain.photo.reasons import Verdict
    from keluhan.domain.workflow import BY_KIND, BY_VERDICT, DONE, RejectReason

    assert set(MOVES[Action.REJECT].outcomes) == {r.value for r in RejectReason}
    assert set(BY_KIND) == set(get_args(AssigneeKind))
    assert set(BY_VERDICT) == {*get_args(Verdict), "held"}
    for action, move in MOVES.items():
        assert move.outcomes, action
        if len(move.outcomes) == 1:
            assert set(move.outcomes) == {DONE}, action


# --- issue 21: honest states ---------------------------------------------------------------------
def _with_sla(world, report_id):
    from keluhan.domain.catalogue import get_category
    from keluhan.domain.sla import SlaPolicy, WorkingCalendar

    sla = SlaPolicy(WorkingCalendar.of([]))
    doc = world.reports.docs[report_id]
    doc["sla"] = sla.assignment(get_category(doc["category"]), doc["routing"]["at"])
    return sla


def test_a_scheduled_report_leaves_the_overdue_list_and_comes_back_on_its_date(world):
    from keluhan.domain.sla import WITA

    report_id = world.routed()
    sla = _with_sla(world, report_id)
    world.act(report_id, "accept", PU)
    world.clock.advance(days=12)
    sweep(reports=world.reports, publish=world.publish, clock=world.clock, sla=sla)
    assert [r.report_id for r in world.reports.overdue(limit=10)] == [report_id]
    day = (world.clock().astimezone(WITA) + timedelta(days=30)).date()
    world.act(report_id, "schedule", PU, reason="butuh_anggaran", scheduled_for=day, note="APBD perubahan")
    report = world.reports.docs[report_id]
    assert report["status"] == "scheduled" and report["schedule"]["resume_to"] == "accepted"
    assert world.reports.overdue(limit=10) == []
    assert reporter_view(report, client_id="client-0001")["schedule"] == {"for_date": day.isoformat(),
                                                                          "reason": "butuh_anggaran"}
    world.clock.now = report["schedule"]["until"] - timedelta(seconds=1)  # the day before, 23:59:59 WITA
    counts = sweep(reports=world.reports, publish=world.publish, clock=world.clock, sla=sla)
    assert counts["resumed"] == 0 and world.status(report_id) == "scheduled" and counts["escalated"] == 0
    world.clock.advance(seconds=2)  # just past 00:00 WITA on the date (the first tick of the day)
    assert sweep(reports=world.reports, publish=world.publish, clock=world.clock, sla=sla)["resumed"] == 1
    report = world.reports.docs[report_id]
    resumed = [e for e in report["timeline"] if e.get("action") == "resume"]
    assert report["status"] == "accepted" and len(resumed) == 1 and resumed[0]["by"] == "sweep_reports"
    assert resumed[0]["at"] == world.clock() and resumed[0]["from"] == "scheduled"
    assert [r.report_id for r in world.reports.overdue(limit=10)] == [report_id]  # still late: honest
    counters = contribution(report)["skpd=dinas-pu@all"]
    assert counters["scheduled_past_date"] == 1 and "scheduled" not in counters and counters["open"] == 1
    assert replay(report["timeline"]) == Status.ACCEPTED


def test_the_skpd_may_start_a_scheduled_report_early_or_move_its_date(world):
    from keluhan.domain.sla import WITA

    report_id = world.routed()
    world.act(report_id, "accept", PU)
    world.act(report_id, "start", PU)
    today = world.clock().astimezone(WITA).date()
    world.act(report_id, "schedule", PU, reason="menunggu_pihak_lain", scheduled_for=today + timedelta(days=5))
    assert contribution(world.reports.docs[report_id])["skpd=dinas-pu@all"]["scheduled"] == 1
    world.act(report_id, "schedule", PU, reason="pekerjaan_besar", scheduled_for=today + timedelta(days=9))
    assert world.reports.docs[report_id]["schedule"]["resume_to"] == "in_progress"  # where it first left
    with pytest.raises(InvalidMove) as exc:
        world.act(report_id, "schedule", PU, reason="pekerjaan_besar", scheduled_for=today)
    assert exc.value.field == "scheduled_for"
    with pytest.raises(NotPermitted):
        world.act(report_id, "schedule", DISHUB, reason="pekerjaan_besar", scheduled_for=today + timedelta(days=2))
    world.act(report_id, "start", PU)
    counters = contribution(world.reports.docs[report_id])["skpd=dinas-pu@all"]
    assert "scheduled" not in counters and "scheduled_past_date" not in counters


def test_the_reporter_is_told_of_a_schedule_with_its_date_and_reason():
    from keluhan.domain.notify import notices, render
    from keluhan.domain.report import Report
    from keluhan.domain.sla import WITA

    world = World()
    report_id = world.routed()
    world.act(report_id, "accept", PU)
    day = (world.clock().astimezone(WITA) + timedelta(days=60)).date()
    world.act(report_id, "schedule", PU, reason="butuh_anggaran", scheduled_for=day)
    report = Report.from_doc(world.reports.docs[report_id])
    seq = len(report.timeline) - 1
    found = notices(report, seq)
    assert [n.event for n in found] == ["scheduled"] and found[0].audiences == ("reporter", "supporters")
    for lang, words in (("id", "Butuh anggaran"), ("en", "Needs budget")):
        message = render(found[0], report, seq, recipient="siti", lang=lang, channel="inbox", now=world.clock())
        assert day.isoformat() in message.body and words in message.body, message.body


def test_a_question_pauses_the_sla_by_exactly_the_waiting_time(world):
    report_id = world.routed()
    _with_sla(world, report_id)
    world.act(report_id, "accept", PU)
    world.act(report_id, "start", PU)
    due_before = world.reports.docs[report_id]["sla"]["due_at"]
    world.clock.advance(hours=3)
    world.act(report_id, "ask_reporter", PU, note="Lubangnya di lajur kiri atau kanan? / Which lane?")
    report = world.reports.docs[report_id]
    assert report["status"] == "awaiting_reporter"
    assert reporter_view(report, client_id="client-0001")["question"]["note"].startswith("Lubangnya")
    with pytest.raises(NotPermitted):
        world.act(report_id, "answer", PU, note="x")
    world.clock.advance(days=2, hours=5)
    world.act(report_id, "answer", CITIZEN, note="Kiri / Left")
    report = world.reports.docs[report_id]
    assert report["status"] == "in_progress"
    assert report["sla"]["due_at"] - due_before == timedelta(days=2, hours=5)
    assert report["sla"]["paused_s"] == timedelta(days=2, hours=5).total_seconds()
    world.act(report_id, "resolve", PU)
    world.clock.advance(hours=1)
    world.upload(f"resolution/{report_id}/1", seed=802)
    report = world.reports.docs[report_id]
    routed_at = next(e["at"] for e in report["timeline"] if e["action"] == "route")
    proof_at = next(e["at"] for e in report["timeline"] if e["action"] == "proof_accepted")
    hours = (proof_at - routed_at - timedelta(days=2, hours=5)).total_seconds() / 3600
    from keluhan.domain.figures import bucket

    assert contribution(report)["skpd=dinas-pu@all"][f"resolution_h_b{bucket(hours):02d}"] == 1
    assert (proof_at - routed_at).total_seconds() / 3600 > 48 and hours < 8  # 5 h of work, not 2 days


def test_only_a_reporter_with_the_app_can_be_asked():
    from keluhan.domain.report import Report

    world = World()
    report = Report.from_doc(world.reports.docs[world.routed()] | {"channel": "call_center_112"})
    with pytest.raises(InvalidMove) as exc:
        report.ask_reporter(actor=PU, is_reporter=False, expected_status="routed", now=world.clock(), note="?",
                            answer_window=timedelta(days=14))
    assert exc.value.field == "action"


def test_an_unanswered_question_closes_the_report_with_that_reason_after_the_configured_days(world):
    report_id = world.routed()
    world.act(report_id, "ask_reporter", PU, note="Fotonya kurang jelas, di mana? / Where exactly?")
    assert world.reports.docs[report_id]["question"]["deadline"] == world.clock() + POLICY.answer_wait
    world.clock.advance(days=13)
    assert sweep(reports=world.reports, publish=world.publish, clock=world.clock)["closed_unanswered"] == 0
    world.clock.advance(days=1, seconds=1)
    assert sweep(reports=world.reports, publish=world.publish, clock=world.clock)["closed_unanswered"] == 1
    report = world.reports.docs[report_id]
    assert report["status"] == "closed" and report["timeline"][-1]["reason"] == "no_answer"
    counters = contribution(report)["skpd=dinas-pu@all"]
    assert counters["closed_unanswered"] == 1 and "closed" not in counters and "resolved" not in counters
    with pytest.raises(StaleOrIllegal):
        world.act(report_id, "answer", CITIZEN, note="Maaf terlambat")


# --- issue 21: validation audits -------------------------------------------------------------------
class CountingDraw:
    """A seeded uniform draw that counts its calls."""

    def __init__(self, seed: int):
        self.rng, self.calls = random.Random(seed), 0

    def __call__(self) -> float:
        self.calls += 1
        return self.rng.random()


def _fixed(world, client_id: str, *, seed: int) -> str:
    report_id = _resolving(world, client_id)
    world.upload(f"resolution/{report_id}/1", seed=seed)
    return report_id


def test_a_sampled_fix_waits_for_validation_and_its_window_starts_when_validated(world):
    draw = CountingDraw(1)
    world.auditor = Auditor(policy=AuditPolicy(rate=1.0), stats=FakeStats(), draw=draw)
    report_id = _fixed(world, "client-0901", seed=901)
    report = world.reports.docs[report_id]
    assert report["status"] == "awaiting_validation" and "close_by" not in report and "resolved_at" not in report
    audit = report["resolution"]["audit"]
    assert audit["sampled"] and audit["rate"] == 1.0 and audit["basis"] == "base" and 0 <= audit["draw"] < 1
    again = world.upload(f"resolution/{report_id}/1", seed=901)  # redelivered: decided once
    assert again["timeline"] == report["timeline"] and draw.calls == 1
    with pytest.raises(NotPermitted):
        world.act(report_id, "validate", PU)  # never the SKPD itself
    with pytest.raises(StaleOrIllegal):  # the reporter's window has not started
        world.act(report_id, "confirm", CITIZEN)
    world.clock.advance(hours=20)
    world.act(report_id, "validate", OPERATOR)
    report = world.reports.docs[report_id]
    assert report["status"] == "resolved" and report["close_by"] == world.clock() + POLICY.reopen_window
    assert report["resolution"]["audit"]["result"] == "passed"
    assert contribution(report)["skpd=dinas-pu@all"]["audits_passed"] == 1


def test_a_refused_audit_goes_back_to_work_with_the_reason_and_counts_for_the_skpd(world):
    world.auditor = Auditor(policy=AuditPolicy(rate=0.0, by_skpd={"dinas-pu": 1.0}), stats=FakeStats(),
                            draw=random.Random(2).random)
    report_id = _fixed(world, "client-0902", seed=902)
    assert world.reports.docs[report_id]["resolution"]["audit"]["basis"] == "skpd_setting"
    world.act(report_id, "refuse_validation", OPERATOR, note="Foto bukan lokasi ini / Not this place")
    report = world.reports.docs[report_id]
    assert report["status"] == "in_progress" and "Tindak lanjut ditolak" in report["timeline"][-1]["note"]
    assert report["resolution"]["audit"]["result"] == "refused"
    counters = contribution(report)["skpd=dinas-pu@all"]
    assert counters["audits_refused"] == 1 and counters["open"] == 1
    assert not any(k.startswith("resolution_h") for k in counters)  # a refused fix is no fix
    assert replay(report["timeline"]) == Status.IN_PROGRESS


def test_an_unsampled_fix_is_resolved_at_once_and_its_draw_is_recorded(world):
    world.auditor = Auditor(policy=AuditPolicy(rate=0.0), stats=FakeStats(), draw=random.Random(4).random)
    report_id = _fixed(world, "client-0903", seed=903)
    report = world.reports.docs[report_id]
    assert report["status"] == "resolved" and report["resolution"]["audit"]["sampled"] is False


def test_the_share_sampled_follows_the_rate_with_a_seeded_draw():
    policy = AuditPolicy(rate=0.10)
    rng = random.Random(21)
    sampled = sum(policy.decide("dinas-pu", {}, draw=rng.random(), now=datetime.now(UTC)).sampled
                  for _ in range(10_000))
    assert 900 <= sampled <= 1100


def test_an_skpd_whose_fixes_are_often_reopened_is_audited_more():
    policy = AuditPolicy(rate=0.10, high_rate=0.30, reopen_threshold=0.20, min_fixes=10)
    few = {"reopened": 3, "resolution_h_b05": 5}  # 60 % but only 5 fixes: too few to say
    often = {"reopened": 5, "resolution_h_b05": 12, "resolution_h_b07": 8}  # 25 % of 20
    seldom = {"reopened": 2, "resolution_h_b05": 20}
    assert policy.rate_for("dinas-pu", few) == (0.10, "base")
    assert policy.rate_for("dinas-pu", often) == (0.30, "high_reopen_rate")
    assert policy.rate_for("dinas-pu", seldom) == (0.10, "base")
