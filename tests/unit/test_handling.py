"""Handling a report to the end with fake ports: every move through the one table, replayable."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from pydantic import ValidationError

from keluhan.devstack.sample_photos import make_jpeg
from keluhan.domain import open311
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
from keluhan.usecases.photo import object_from_notification, verify_uploaded_photo
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
                        url_ttl=timedelta(minutes=15), max_bytes=10**7)


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
        self.photos.objects[name] = make_jpeg(taken_at=taken_at or self.clock() - timedelta(minutes=1),
                                              lat=LAT, lon=LON, seed=seed if seed is not None else self.seed)
        attributes = {"eventType": "OBJECT_FINALIZE", "bucketId": "b", "objectId": name,
                      "objectGeneration": str(generation)}
        data = json.dumps({"bucket": "b", "name": name, "generation": str(generation),
                           "contentType": "image/jpeg"}).encode()
        return stored(verify_uploaded_photo(object_from_notification(attributes, data), bucket="b", reports=self.reports,
                                     photos=self.photos, photo_index=self.index, publish=self.publish,
                                     clock=self.clock, policy=PhotoPolicy(), reopen_window=POLICY.reopen_window))

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
    params = {"reject": {"reason": "not_a_problem"}, "reassign": {"assignee": "dinas-pu", "note": "balik"},
              "dispute": {"note": "masih rusak"}}
    made = 0
    for _ in range(200):
        action = rng.choice([a.value for a in HUMAN_ACTIONS])
        try:
            world.act(report_id, action, rng.choice(actors), **params.get(action, {}))
            made += 1
        except (StaleOrIllegal, NotPermitted, ReportMissing):
            pass
        report = world.reports.docs[report_id]
        if report["status"] == "resolving" and rng.random() < 0.7:
            world.upload(report["resolution"]["object"], seed=rng.randrange(10**6))
        assert replay(world.reports.docs[report_id]["timeline"]).value == world.status(report_id)
    assert made > 5


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
