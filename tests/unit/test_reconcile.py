"""The reconciler on the sweep tick: stuck reports move on by themselves, never twice, never forever."""

from __future__ import annotations

import base64
import functools
import json
import random
from datetime import timedelta

import pytest

from keluhan.domain.location import Location, Road
from keluhan.domain.report import SubmitReport
from keluhan.domain.routing import decide
from keluhan.domain.workflow import Actor, Role, replay
from keluhan.ports import PermanentError
from keluhan.rules_provider import default_rules_path, load_rules
from keluhan.usecases.forwarding import forward_report
from keluhan.usecases.pipeline import locate_report, route_report
from keluhan.usecases.reconcile import ReconcilePolicy, reconcile
from keluhan.usecases.submission import PhotoUploadPolicy, submit_report
from keluhan.usecases.sweep import sweep
from tests.support.deps import FakeDeadLetters
from tests.support.fakes import FakeClock, FakePhotoStore, FakePublisher, FakeReports

POLICY = ReconcilePolicy(pipeline_after=timedelta(minutes=2), forwarding_after=timedelta(minutes=10),
                         max_republish=3, limit=50, page=2)
CALL_CENTER = Actor(Role.CHANNEL, "cc", channel="call_center_112")
ROADS = {"kota": "Jl. Landak Baru", "provinsi": "Jl. Hertasning"}


def _place(road_status: str) -> Location:
    return Location(kelurahan="Bontorannu", kode_kelurahan="73.71.01.1001", kecamatan="Mariso",
                    kode_kecamatan="73.71.01", inside_city=True, data_version="test-v1",
                    road=Road(name=ROADS[road_status], status=road_status, source="street_name"))


class Locator:
    def __init__(self):
        self.calls = 0

    def locate(self, lat, lon, street=None):
        self.calls += 1
        return _place("provinsi" if street == ROADS["provinsi"] else "kota")


class Receiver:
    """An external body that accepts every report and counts what it received."""

    def __init__(self):
        self.received: list[str] = []

    def __call__(self, target, payload, *, idempotency_key, timeout_s):
        self.received.append(idempotency_key)
        return type("Delivered", (), {"receiver_ref": f"ref-{len(self.received)}"})()


class World:
    """Submission, the pipeline stages and the tick over fakes; `deliver` plays Pub/Sub push."""

    def __init__(self):
        self.reports, self.publish, self.clock = FakeReports(), FakePublisher(), FakeClock()
        self.dead_letters, self.locator, self.receiver = FakeDeadLetters(), Locator(), Receiver()
        self.ids = iter(f"r{i}" for i in range(10_000))

    def submit(self, client_id: str, *, street: str = ROADS["kota"]) -> str:
        cmd = SubmitReport(client_id=client_id, category="jalan_rusak", description="Lubang", lat=-5.16,
                           lon=119.40, accuracy_m=5, street=street, channel="call_center_112")
        policy = PhotoUploadPolicy(url_ttl=timedelta(minutes=15), wait=timedelta(hours=24), max_bytes=1000)
        return submit_report(cmd, actor=CALL_CENTER, reports=self.reports, publish=self.publish,
                             photos=FakePhotoStore(), clock=self.clock, new_id=lambda: next(self.ids),
                             policy=policy).report.report_id

    def deliver(self, topic: str, report_id: str) -> None:
        """What the subscribed function does with one message (a permanent error is acknowledged)."""
        kw = dict(reports=self.reports, publish=self.publish, clock=self.clock)
        try:
            if topic == "report-accepted":
                locate_report(report_id, geo=self.locator, **kw)
            elif topic == "report-located":
                route_report(report_id, decide=functools.partial(decide, rules=load_rules(default_rules_path())),
                             **kw)
            elif topic == "report-routed":
                forward_report(report_id, reports=self.reports, targets={"baruga": {"url": "http://b.test"}},
                               send=self.receiver, timeout_s=5, clock=self.clock)
        except PermanentError:
            pass

    def take(self, topic: str | None = None) -> list[tuple[str, str]]:
        """Remove and return the stage messages published so far: (topic, report id)."""
        taken = [(t, d["report_id"]) for t, d, _ in self.publish.messages
                 if t != "report-status-changed" and (topic is None or t == topic)]
        self.publish.messages = [m for m in self.publish.messages
                                 if m[0] == "report-status-changed" or (topic and m[0] != topic)]
        return taken

    def tick(self, policy: ReconcilePolicy = POLICY) -> dict[str, int]:
        return sweep(reports=self.reports, publish=self.publish, clock=self.clock,
                     dead_letters=self.dead_letters, reconciler=policy)

    def status(self, report_id: str) -> str:
        return self.reports.docs[report_id]["status"]


@pytest.fixture
def world() -> World:
    return World()


def test_a_received_report_whose_event_was_lost_is_republished_after_the_threshold(world):
    report_id = world.submit("client-0001")
    world.take()  # the broker lost report-accepted
    world.clock.advance(minutes=1)
    assert world.tick()["republished"] == 0  # not stuck yet
    world.clock.advance(minutes=1, seconds=1)
    assert world.tick()["republished"] == 1
    assert world.reports.docs[report_id]["stalled"]["count"] == 1
    for topic, rid in world.take():
        world.deliver(topic, rid)
    assert world.status(report_id) == "located"


def test_each_pipeline_status_republishes_the_event_of_its_own_stage(world):
    received = world.submit("client-0001")
    located = world.submit("client-0002")
    world.deliver("report-accepted", located)
    forwarded = world.submit("client-0003", street=ROADS["provinsi"])
    world.deliver("report-accepted", forwarded)
    world.deliver("report-located", forwarded)
    world.take()
    world.clock.advance(minutes=11)
    assert world.tick()["republished"] == 3
    routed = [a for t, _, a in world.publish.messages if t == "report-routed"]
    assert sorted(world.take()) == sorted([("report-accepted", received), ("report-located", located),
                                           ("report-routed", forwarded)])
    assert routed[0]["delivery_key"] == world.reports.docs[forwarded]["forwarding"]["idempotency_key"]
    assert world.reports.docs[forwarded]["stalled"]["status"] == "forwarded/pending"


def test_a_report_is_republished_at_most_once_per_threshold(world):
    report_id = world.submit("client-0001")
    world.take()
    world.clock.advance(minutes=3)
    assert world.tick()["republished"] == 1
    assert world.tick()["republished"] == 0
    world.clock.advance(minutes=1)
    assert world.tick()["republished"] == 0
    world.clock.advance(minutes=1, seconds=1)
    assert world.tick()["republished"] == 1
    assert world.reports.docs[report_id]["stalled"]["count"] == 2


def test_a_report_that_never_moves_ends_in_dead_letters_with_a_reason_and_is_left_alone(world):
    report_id = world.submit("client-0001")
    for _ in range(POLICY.max_republish):
        world.clock.advance(minutes=2, seconds=1)
        assert world.tick()["republished"] == 1
    world.clock.advance(minutes=2, seconds=1)
    assert world.tick() == {"photo_expired": 0, "proof_expired": 0, "auto_closed": 0, "escalated": 0,
                            "resumed": 0, "closed_unanswered": 0, "contended": 0, "republished": 0,
                            "stalled_dead_lettered": 1}
    (dead_id, record), = world.dead_letters.records.items()
    assert dead_id == f"reconcile-{report_id}-received"
    assert record["stage"] == "enrich_geo" and record["topic"] == "report-accepted"
    assert "stuck at received" in record["reason"] and "re-published 3 times" in record["reason"]
    report = world.reports.docs[report_id]
    assert report["status"] == "received"  # no status the workflow table does not have
    assert report["errors"][-1]["reason"] == record["reason"]
    world.clock.advance(hours=1)
    assert world.tick()["republished"] == world.tick()["stalled_dead_lettered"] == 0


def test_a_stuck_forwarding_that_never_arrives_is_marked_failed(world):
    report_id = world.submit("client-0001", street=ROADS["provinsi"])
    world.deliver("report-accepted", report_id)
    world.deliver("report-located", report_id)
    for _ in range(POLICY.max_republish + 1):
        world.clock.advance(minutes=10, seconds=1)
        world.tick()
    report = world.reports.docs[report_id]
    assert report["forwarding"]["state"] == "failed" and "stuck at forwarded/pending" in report["forwarding"]["last_error"]
    assert world.dead_letters.records[f"reconcile-{report_id}-forwarded"]["stage"] == "forward_report"


def test_the_tick_is_bounded_and_given_up_reports_do_not_crowd_out_the_rest(world):
    first = world.submit("client-0001")
    for _ in range(POLICY.max_republish + 1):
        world.clock.advance(minutes=2, seconds=1)
        world.tick()
    assert world.reports.docs[first]["stalled"]["gave_up"]
    others = [world.submit(f"client-{i:04d}") for i in range(2, 8)]
    world.take()
    world.clock.advance(minutes=2, seconds=1)
    small = ReconcilePolicy(max_republish=3, limit=4, page=2)
    assert world.tick(small)["republished"] == 4  # pages past the given-up report, stops at the limit
    assert world.tick(small)["republished"] == 2
    assert all(world.reports.docs[r]["stalled"]["count"] == 1 for r in others)


def test_a_report_that_moved_on_between_query_and_tick_is_not_counted(world):
    report_id = world.submit("client-0001")
    world.clock.advance(minutes=3)
    stale = world.reports.get(report_id)
    world.deliver("report-accepted", report_id)
    assert reconcile(reports=_Stale(world.reports, stale), publish=world.publish, dead_letters=world.dead_letters,
                     clock=world.clock, policy=POLICY)["republished"] == 0
    assert "stalled" not in world.reports.docs[report_id]


class _Stale:
    """Reports whose query still answers what it read before the report moved on."""

    def __init__(self, reports, doc):
        self._reports, self._doc = reports, doc

    def due(self, *, status, **kw):
        return [self._doc] if status == self._doc.status else []

    def __getattr__(self, name):
        return getattr(self._reports, name)


@pytest.mark.parametrize("seed", range(8))
def test_lossy_duplicating_shuffling_broker_and_ticks_end_every_report_once(world, seed):
    """Idempotent stages make re-publishing safe: every message delivered 3×, shuffled, a third lost.

    Whatever the order, every report ends routed or forwarded-and-acknowledged; the timeline
    has one entry per move and replays to the stored status; the receiver gets each delivery
    key (it dedupes on it) and nothing reaches dead letters.
    """
    rng = random.Random(seed)
    ids = [world.submit(f"client-{i:04d}", street=rng.choice(list(ROADS.values()))) for i in range(12)]
    for _ in range(30):
        batch = world.take()
        copies = [m for m in batch for _ in range(3)]
        rng.shuffle(copies)
        for topic, report_id in copies:
            if rng.random() > 1 / 3:
                world.deliver(topic, report_id)
        world.clock.advance(minutes=rng.choice([1, 3, 11]))
        world.tick()
    for report_id in ids:
        report = world.reports.docs[report_id]
        assert report["status"] in ("routed", "forwarded"), report
        moves = [(e.get("from"), e["status"]) for e in report["timeline"] if "action" in e]
        assert len(moves) == len(set(moves)) == 3
        assert replay(report["timeline"]).value == report["status"]
        if report["status"] == "forwarded":
            assert report["forwarding"]["state"] == "acknowledged"
    forwarded = {world.reports.docs[r]["forwarding"]["idempotency_key"] for r in ids
                 if world.status(r) == "forwarded"}
    assert set(world.receiver.received) == forwarded
    assert not world.dead_letters.records
    assert world.locator.calls == len(ids)  # the geo lookup ran once per report, however often asked


def test_new_report_ids_are_never_refused_by_the_pipeline():
    from keluhan.bootstrap import new_report_id
    from keluhan.domain.report import valid_report_id

    assert all(valid_report_id(new_report_id()) for _ in range(20_000))


def _citizen_report(world: World, client_id: str = "client-0100") -> str:
    """A citizen's report, waiting for its photo."""
    cmd = SubmitReport(client_id=client_id, category="jalan_rusak", description="Lubang", lat=-5.16, lon=119.40,
                       accuracy_m=5, street=ROADS["kota"])
    policy = PhotoUploadPolicy(url_ttl=timedelta(minutes=15), wait=timedelta(hours=24), max_bytes=1000)
    report = submit_report(cmd, actor=Actor(Role.WARGA, "siti"), reports=world.reports, publish=world.publish,
                           photos=FakePhotoStore(), clock=world.clock, new_id=lambda: next(world.ids),
                           policy=policy).report
    assert report.status == "awaiting_photo"
    return report.report_id


def _upload_tick(world: World, photos: FakePhotoStore, policy: ReconcilePolicy = POLICY) -> dict[str, int]:
    return sweep(reports=world.reports, publish=world.publish, clock=world.clock, dead_letters=world.dead_letters,
                 reconciler=policy, photos=photos, bucket="demo-keluhan-photos")


def test_an_upload_whose_notification_was_lost_is_notified_again_as_cloud_storage_would(world):
    from keluhan.usecases.photo import object_from_notification

    report_id = _citizen_report(world)
    photos = FakePhotoStore()
    world.take()
    world.clock.advance(minutes=30)
    assert _upload_tick(world, photos)["republished"] == 0  # nothing uploaded: the citizen may still send it
    assert "stalled" not in world.reports.docs[report_id]
    photos.objects[f"incoming/{report_id}/photo"] = b"jpeg"  # uploaded; the notification never came
    assert _upload_tick(world, photos)["republished"] == 1
    (topic, data, attributes), = [m for m in world.publish.messages if m[0] == "photo-uploaded"]
    stored = object_from_notification(attributes, json.dumps(data).encode())
    assert (stored.bucket, stored.name, stored.generation) == ("demo-keluhan-photos", f"incoming/{report_id}/photo", 1)
    assert _upload_tick(world, photos)["republished"] == 0  # at most once per threshold


def test_an_upload_already_verified_is_not_notified_again(world):
    report_id = _citizen_report(world)
    photos = FakePhotoStore(objects={f"incoming/{report_id}/photo": b"jpeg"})
    world.reports.mutate(report_id, lambda r: r.changed(
        photo=r.photo.updated(event=f"demo-keluhan-photos/incoming/{report_id}/photo#1")))
    world.clock.advance(minutes=30)
    assert _upload_tick(world, photos)["republished"] == 0


def test_a_proof_photo_whose_notification_was_lost_is_notified_again(world):
    report_id = world.submit("client-0001")
    _awaiting_proof(world, report_id, attempt=2)
    world.take()
    photos = FakePhotoStore(objects={f"resolution/{report_id}/1": b"old proof"})
    world.clock.advance(minutes=3)
    assert _upload_tick(world, photos)["republished"] == 0  # the awaited attempt is 2
    photos.objects[f"resolution/{report_id}/2"] = b"proof"
    assert _upload_tick(world, photos)["republished"] == 1
    assert [a["objectId"] for t, _, a in world.publish.messages if t == "photo-uploaded"] == [
        f"resolution/{report_id}/2"]


def test_an_upload_notified_again_in_vain_ends_in_dead_letters_replayable(world):
    report_id = _citizen_report(world)
    photos = FakePhotoStore(objects={f"incoming/{report_id}/photo": b"jpeg"})
    for _ in range(POLICY.max_republish):
        world.clock.advance(minutes=2, seconds=1)
        assert _upload_tick(world, photos)["republished"] == 1
    world.clock.advance(minutes=2, seconds=1)
    assert _upload_tick(world, photos)["stalled_dead_lettered"] == 1
    record = world.dead_letters.records[f"reconcile-{report_id}-awaiting_photo"]
    assert record["topic"] == "photo-uploaded" and record["stage"] == "verify_photo"
    assert record["attributes"]["objectId"] == f"incoming/{report_id}/photo"
    assert json.loads(base64.b64decode(record["data"]))["name"] == f"incoming/{report_id}/photo"


def test_upload_lookups_are_bounded_per_tick(world):
    for i in range(5):
        _citizen_report(world, f"client-{200 + i}")
    calls = []

    class Counting(FakePhotoStore):
        def stat(self, object_name):
            calls.append(object_name)
            return super().stat(object_name)

    world.clock.advance(minutes=30)
    _upload_tick(world, Counting(), ReconcilePolicy(lookups=3, page=2))
    assert len(calls) == 3


def test_a_report_locked_by_a_concurrent_change_does_not_stop_the_tick(world):
    """Seen on the emulators: one report's lock timed out and failed every tick, so no other stuck
    report was ever re-published. Now the tick skips it, counts it, and the next tick retries."""
    from keluhan.ports import Contention

    locked, other = world.submit("client-0001"), world.submit("client-0002")
    world.take()
    world.clock.advance(minutes=3)
    mutate = world.reports.mutate

    def contended(report_id, mutation):
        if report_id == locked:
            raise Contention("Transaction lock timeout")
        return mutate(report_id, mutation)

    world.reports.mutate = contended
    counts = world.tick()
    assert (counts["contended"], counts["republished"]) == (1, 1)
    assert [rid for _, rid in world.take()] == [other]
    world.reports.mutate = mutate
    assert world.tick()["republished"] == 1
    assert [rid for _, rid in world.take()] == [locked]


def test_abandoned_photo_less_reports_do_not_starve_a_lost_proof_notification(world):
    """Issue 23: the awaiting_photo and resolving stages each have their own bucket lookups."""
    policy = ReconcilePolicy(pipeline_after=timedelta(minutes=2), max_republish=3, limit=50, page=10, lookups=5)
    for i in range(8):  # never uploaded: each costs a lookup and finds nothing
        _citizen_report(world, client_id=f"client-abandon-{i}")
    report_id = world.submit("client-0001")
    _awaiting_proof(world, report_id, attempt=1)
    world.take()
    photos = FakePhotoStore(objects={f"resolution/{report_id}/1": b"proof"})
    world.clock.advance(minutes=3)
    assert _upload_tick(world, photos, policy)["republished"] == 1
    assert [a["objectId"] for t, _, a in world.publish.messages if t == "photo-uploaded"] == [
        f"resolution/{report_id}/1"]


def _awaiting_proof(world: World, report_id: str, *, attempt: int) -> None:
    """As if the SKPD had resolved the report `attempt` times: its proof upload is awaited."""
    world.reports.mutate(report_id, lambda r: r.changed(status="resolving", resolution={
        "attempt": attempt, "object": f"resolution/{report_id}/{attempt}", "verdict": None}))
