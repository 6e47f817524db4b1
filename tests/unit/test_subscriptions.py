"""Issue 18, the neighbourhood: area subscriptions (kelurahan or circle), their digest, the Smart RT/RW
head's default one; escalations and failed deliveries reaching people; nobody learns who reported."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from keluhan.domain.catalogue import get_category
from keluhan.domain.location import Location, Road
from keluhan.domain.report import Report
from keluhan.domain.sla import WITA, SlaPolicy, WorkingCalendar
from keluhan.domain.subscriptions import (
    MAX_PER_USER,
    RTRW_HEAD,
    NewSubscription,
    cell_key,
    circle_keys,
    digest_due_at,
)
from keluhan.domain.workflow import Actor, Role
from keluhan.ports import PermanentDeliveryError
from keluhan.usecases.forwarding import forward_report
from keluhan.usecases.notify import notify_status_change, send_digests
from keluhan.usecases.pipeline import locate_report, route_report
from keluhan.usecases.reconcile import ReconcilePolicy
from keluhan.usecases.subscriptions import (
    NotPermittedToSubscribe,
    TooManySubscriptions,
    UnknownArea,
    add_subscription,
    keep_rtrw_default,
    remove_subscription,
)
from keluhan.usecases.sweep import sweep
from tests.support.deps import FakeDeadLetters
from tests.support.fakes import FakeDigests, FakeDirectory, FakeInbox, FakeNotified, FakeSubscriptions
from tests.unit.test_handling import BONTORANNU, CITIZEN, LAT, LON, OPERATOR, PU, World

KELURAHAN = {"73.71.01.1001": "Bontorannu", "73.71.01.1002": "Mattoangin"}
WARGA_RINA = Actor(Role.WARGA, "rina")
ELSEWHERE = (-5.135, 119.44)  # Panakkukang, ~5 km from the report


def inside_city(lat: float, lon: float) -> Location:
    inside = -5.25 < lat < -5.05 and 119.3 < lon < 119.55
    return Location(kelurahan=None, kode_kelurahan=None, kecamatan=None, kode_kecamatan=None, inside_city=inside)


def subscribe(subs: FakeSubscriptions, actor: Actor = WARGA_RINA, **body):
    return add_subscription(NewSubscription(**body), actor=actor, subscriptions=subs, kelurahan=KELURAHAN,
                            locate=inside_city, clock=lambda: datetime(2026, 12, 5, tzinfo=UTC))


class Town:
    """A report's world with everyone who may be told: its staff and head, the operators, subscribers."""

    def __init__(self, locator=None):
        self.world = World()
        self.directory, self.inbox = FakeDirectory(), FakeInbox()
        self.subs, self.digests, self.notified = FakeSubscriptions(), FakeDigests(), FakeNotified()
        self.directory.add("pu-staff", "skpd", "dinas-pu")
        self.directory.add("pu-head", "skpd", "dinas-pu", head=True)
        self.directory.add("op1", "operator", lang="en")
        self.locator = locator

    def routed(self, client_id: str = "client-0001", lang: str = "id") -> str:
        if self.locator is None:
            return self.world.routed(client_id=client_id, lang=lang)
        w = self.world
        report_id = w.submit(client_id=client_id, lang=lang)
        w.upload(f"incoming/{report_id}/photo")
        locate_report(report_id, reports=w.reports, geo=self.locator, publish=w.publish, clock=w.clock)
        route_report(report_id, reports=w.reports, decide=w.decide, publish=w.publish, clock=w.clock)
        return report_id

    def changes(self) -> list[tuple[str, int]]:
        return [(d["report_id"], int(a["seq"])) for t, d, a in self.world.publish.messages
                if t == "report-status-changed"]

    def deliver(self, changes=None, *, inbox=None, digests=None) -> None:
        for report_id, seq in (self.changes() if changes is None else changes):
            notify_status_change(report_id, seq, reports=self.world.reports, directory=self.directory,
                                 inbox=inbox or self.inbox, notified=self.notified, clock=self.world.clock,
                                 subscriptions=self.subs, digests=digests or self.digests)

    def events(self, uid: str) -> list[str]:
        return [m.event for m in self.inbox.of(uid)]


@pytest.fixture
def town():
    return Town()


# --- what a subscription is ----------------------------------------------------------------

def test_a_circle_of_at_most_2_km_touches_at_most_four_cells_and_holds_the_cell_of_every_point_inside():
    rng = random.Random(18)
    for _ in range(500):
        lat, lon = rng.uniform(-5.25, -5.05), rng.uniform(119.3, 119.55)
        keys = circle_keys(lat, lon, 2000)
        assert 1 <= len(keys) <= 4
        for _ in range(20):  # a point within the radius lies in one of the circle's cells
            bearing, distance = rng.uniform(0, 6.283), rng.uniform(0, 1999)
            import math

            p_lat = lat + distance * math.cos(bearing) / 111_320
            p_lon = lon + distance * math.sin(bearing) / (111_320 * math.cos(math.radians(lat)))
            assert cell_key(p_lat, p_lon) in keys


@pytest.mark.parametrize("body, field", [
    ({}, "lat"),
    ({"kelurahan_id": "73.71.01.1001", "lat": -5.16, "lon": 119.4, "radius_m": 500}, "lat"),
    ({"lat": -5.16, "lon": 119.4}, "radius_m"),
    ({"lat": -5.16, "lon": 119.4, "radius_m": 2001}, "radius_m"),
    ({"lat": -5.16, "lon": 119.4, "radius_m": 50}, "radius_m"),
    ({"kelurahan_id": "Bontorannu"}, "kelurahan_id"),
    ({"kelurahan_id": "73.71.01.1001", "categories": ["bukan_kategori"]}, "categories"),
    ({"kelurahan_id": "73.71.01.1001", "lang": "fr"}, "lang"),
])
def test_a_subscription_names_one_area_a_circle_of_at_most_2_km_and_known_categories(body, field):
    with pytest.raises(ValidationError) as caught:
        NewSubscription(**body)
    error = caught.value.errors()[0]
    assert ".".join(map(str, error["loc"])) == field or (error.get("ctx") or {}).get("field") == field


def test_a_user_holds_at_most_ten_and_the_same_area_again_is_the_same_subscription():
    subs = FakeSubscriptions()
    first, new = subscribe(subs, kelurahan_id="73.71.01.1001")
    again, new_again = subscribe(subs, kelurahan_id="73.71.01.1001", digest=True)
    assert new and not new_again and again.subscription_id == first.subscription_id and again.digest
    for i in range(MAX_PER_USER - 1):
        subscribe(subs, lat=-5.16 + i / 1000, lon=119.41, radius_m=500)
    with pytest.raises(TooManySubscriptions):
        subscribe(subs, lat=-5.2, lon=119.41, radius_m=500)
    assert len(subs.of("rina")) == MAX_PER_USER
    assert remove_subscription(WARGA_RINA, first.subscription_id, subscriptions=subs)
    assert not remove_subscription(WARGA_RINA, first.subscription_id, subscriptions=subs)
    subscribe(subs, lat=-5.2, lon=119.41, radius_m=500)  # room again


def test_an_unknown_kelurahan_a_centre_outside_the_city_an_anonymous_user_and_a_channel_are_refused():
    subs = FakeSubscriptions()
    with pytest.raises(UnknownArea) as unknown:
        subscribe(subs, kelurahan_id="73.06.01.1001")  # Gowa
    assert unknown.value.field == "kelurahan_id"
    with pytest.raises(UnknownArea) as outside:
        subscribe(subs, lat=-6.2, lon=106.8, radius_m=1000)  # Jakarta
    assert outside.value.field == "lat"
    for actor in (Actor(Role.WARGA, "anon", anonymous=True), Actor(Role.CHANNEL, "c", channel="smart_rtrw")):
        with pytest.raises(NotPermittedToSubscribe):
            subscribe(subs, actor=actor, kelurahan_id="73.71.01.1001")
    assert subs.areas == {}


def test_a_smart_rtrw_head_is_subscribed_to_their_own_kelurahan_and_no_longer_once_not_a_head():
    subs = FakeSubscriptions()
    for i in range(MAX_PER_USER):
        subscribe(subs, lat=-5.16 + i / 1000, lon=119.41, radius_m=500)
    clock = lambda: datetime(2026, 12, 5, tzinfo=UTC)  # noqa: E731
    assert keep_rtrw_default("rina", "73.71.01.1001", subscriptions=subs, kelurahan=KELURAHAN, clock=clock) == "added"
    default = subs.areas["rina"][RTRW_HEAD]  # whatever else the head holds
    assert default.kelurahan == "Bontorannu" and default.source == "rtrw_head" and default.keys == ["kel:73.71.01.1001"]
    with pytest.raises(ValueError):
        keep_rtrw_default("rina", "99.99.99.9999", subscriptions=subs, kelurahan=KELURAHAN, clock=clock)
    assert keep_rtrw_default("rina", None, subscriptions=subs, kelurahan=KELURAHAN, clock=clock) == "removed"
    assert RTRW_HEAD not in subs.areas["rina"]


# --- subscribers are told -------------------------------------------------------------------

def test_a_subscriber_of_bontorannu_is_told_of_a_new_report_there_in_their_language(town):
    subscribe(town.subs, kelurahan_id="73.71.01.1001", lang="en")
    subscribe(town.subs, actor=Actor(Role.WARGA, "budi"), lat=LAT + 0.01, lon=LON, radius_m=1500)  # 1.1 km
    subscribe(town.subs, actor=Actor(Role.WARGA, "far"), lat=ELSEWHERE[0], lon=ELSEWHERE[1], radius_m=2000)
    subscribe(town.subs, actor=Actor(Role.WARGA, "fires"), kelurahan_id="73.71.01.1001", categories=["kebakaran"])
    report_id = town.routed()
    town.deliver()
    told = town.inbox.of("rina")
    assert [(m.event, m.report_id) for m in told] == [("new_in_area", report_id)]
    assert told[0].lang == "en" and told[0].title == "A new report in your area" and "Bontorannu" in told[0].body
    assert town.events("budi") == ["new_in_area"]
    assert town.events("far") == [] and town.events("fires") == []


def test_subscribers_hear_of_a_report_once_not_of_its_later_steps_nor_of_a_reassignment(town):
    subscribe(town.subs, kelurahan_id="73.71.01.1001")
    report_id = town.routed()
    town.world.act(report_id, "reassign", OPERATOR, assignee="dishub", note="Rambu / A sign")
    town.world.act(report_id, "accept", Actor(Role.SKPD, "d", skpd="dishub"))
    town.deliver()
    assert town.events("rina") == ["new_in_area"]


def test_a_reporter_subscribed_to_their_own_kelurahan_hears_routed_not_also_new_in_area(town):
    subscribe(town.subs, actor=CITIZEN, kelurahan_id="73.71.01.1001")
    town.routed()
    town.deliver()
    assert town.events(CITIZEN.id) == ["routed"]


def test_a_report_its_reporter_keeps_private_is_not_news_to_the_area(town):
    subscribe(town.subs, kelurahan_id="73.71.01.1001")
    report_id = town.routed()
    town.world.act(report_id, "make_private", CITIZEN)  # before notify has the routing
    town.deliver()
    assert town.events("rina") == []
    assert town.events(CITIZEN.id) == ["routed"] and town.events("pu-staff") == ["assigned"]


def test_finding_subscribers_reads_only_those_of_the_reports_kelurahan_and_cell(town):
    rng = random.Random(7)
    for i in range(2000):  # subscribers all over the city, none near the report
        lat, lon = rng.uniform(-5.13, -5.05), rng.uniform(119.42, 119.55)
        subscribe(town.subs, actor=Actor(Role.WARGA, f"u{i}"), lat=lat, lon=lon, radius_m=1000)
    subscribe(town.subs, kelurahan_id="73.71.01.1001")
    town.routed()
    town.deliver()
    assert town.events("rina") == ["new_in_area"]
    assert town.subs.read <= 5, town.subs.read  # the keys' subscriptions only, not a scan of 2,001


def test_a_digest_subscriber_gets_one_message_a_day_the_next_morning_however_often_the_job_runs(town):
    subscribe(town.subs, kelurahan_id="73.71.01.1001", digest=True, lang="en")
    first = town.routed("client-0001")
    second = town.routed("client-0002")
    town.deliver()
    town.deliver()  # redelivered: counted once
    assert town.events("rina") == []
    (uid, day), = town.digests.docs
    assert town.digests.docs[(uid, day)]["report_ids"] == [first, second]
    job = dict(digests=town.digests, reports=town.world.reports, inbox=town.inbox)
    assert send_digests(**job, clock=town.world.clock) == 0  # not yet the next morning
    morning = digest_due_at(datetime.fromisoformat(day).date())
    assert morning.astimezone(WITA).hour == 6
    town.world.clock.now = morning.astimezone(UTC) + timedelta(minutes=1)
    assert send_digests(**job, clock=town.world.clock) == 1
    assert send_digests(**job, clock=town.world.clock) == 0
    (digest,) = town.inbox.of("rina")
    assert digest.event == "digest" and digest.title == "2 new reports in your area"
    assert digest.report_ids == (first, second) and first in digest.body and "Bontorannu" in digest.body


def test_a_digest_sent_but_not_marked_is_not_sent_twice(town):
    subscribe(town.subs, kelurahan_id="73.71.01.1001", digest=True)
    town.routed()
    town.deliver()
    (key,) = town.digests.docs
    town.world.clock.now = digest_due_at(datetime.fromisoformat(key[1]).date()).astimezone(UTC)
    send_digests(digests=town.digests, reports=town.world.reports, inbox=town.inbox, clock=town.world.clock)
    town.digests.docs[key]["sent"] = False  # as if the tick crashed before marking it sent
    assert sweep(reports=town.world.reports, publish=town.world.publish, clock=town.world.clock,
                 digests=town.digests, inbox=town.inbox)["digests_sent"] == 0
    assert town.events("rina") == ["digest"]


# --- escalation and failed deliveries reach people -------------------------------------------

def _overdue(town: Town, report_id: str, sla: SlaPolicy) -> None:
    doc = town.world.reports.docs[report_id]
    doc["sla"] = sla.assignment(get_category("jalan_rusak"), doc["routing"]["at"])


def test_a_lost_escalation_announcement_is_announced_again_by_the_tick(town):
    sla, policy = SlaPolicy(WorkingCalendar.of([])), ReconcilePolicy(pipeline_after=timedelta(minutes=2))
    report_id = town.routed()
    _overdue(town, report_id, sla)
    town.deliver()
    town.world.clock.advance(days=12)
    town.world.publish.messages.clear()
    sweep(reports=town.world.reports, publish=town.world.publish, clock=town.world.clock, sla=sla)
    assert town.changes(), "the escalation is announced"
    town.world.publish.messages.clear()  # ... and the broker lost it
    town.world.clock.advance(minutes=3)
    counts = sweep(reports=town.world.reports, publish=town.world.publish, clock=town.world.clock,
                   reconciler=policy, dead_letters=FakeDeadLetters(), notified=town.notified)
    assert counts["notify_republished"] == 1  # its status did not change: found by the timeline's time
    town.deliver()
    assert town.events("pu-head") == ["assigned", "escalated_1"]


def test_a_forwarding_given_up_on_tells_the_operators_why_and_the_reporter_it_is_handled():
    provincial = BONTORANNU.model_copy(update={"road": Road(name="Jl. Andi Pangerang Pettarani",
                                                            status="provinsi", source="street_name")})

    class Provincial:
        def locate(self, lat, lon, street=None):
            return provincial

    town = Town(locator=Provincial())
    subscribe(town.subs, kelurahan_id="73.71.01.1001")
    report_id = town.routed(lang="en")
    assert town.world.reports.docs[report_id]["status"] == "forwarded"

    def refuse(target, payload, *, idempotency_key, timeout_s):
        raise PermanentDeliveryError("400 Bad Request: service_code unknown")

    targets = {"baruga": {"url": "http://receiver.test/baruga", "format": "open311"}}
    for _ in range(3):  # redelivered: one failure, one announcement's worth of messages
        try:
            forward_report(report_id, reports=town.world.reports, targets=targets, send=refuse, timeout_s=5,
                           clock=town.world.clock, publish=town.world.publish)
        except Exception:  # noqa: BLE001 - the use case raises PermanentError for the adapter to ack
            pass
    town.deliver()
    (to_operator,) = [m for m in town.inbox.of("op1") if m.event == "delivery_failed"]
    assert "service_code unknown" in to_operator.body and to_operator.lang == "en"
    assert town.events(CITIZEN.id) == ["forwarded", "delivery_handled"]
    assert "operators are handling" in town.inbox.of(CITIZEN.id)[1].body
    assert "service_code" not in town.inbox.of(CITIZEN.id)[1].body  # the receiver's error stays with staff
    assert town.events("rina") == ["new_in_area"]  # subscribers hear of the report, not of its delivery


# --- once, and never who reported --------------------------------------------------------------

def _everything(town: Town) -> list[str]:
    """Reports that reach every audience: reporter, supporters, staff, head, operators, subscribers."""
    w = town.world
    subscribe(town.subs, kelurahan_id="73.71.01.1001")
    subscribe(town.subs, actor=Actor(Role.WARGA, "budi"), lat=LAT, lon=LON, radius_m=800)
    sla = SlaPolicy(WorkingCalendar.of([]))
    parent = town.routed("client-a")
    child = w.submit(actor=Actor(Role.WARGA, "andi"), client_id="client-b")
    w.upload(f"incoming/{child}/photo")
    from tests.unit.test_handling import FixedLocator

    locate_report(child, reports=w.reports, geo=FixedLocator(), publish=w.publish, clock=w.clock)
    route_report(child, reports=w.reports, decide=w.decide, publish=w.publish, clock=w.clock)
    w.act(child, "reject", PU, reason="duplicate", parent_id=parent)
    _overdue(town, parent, sla)
    for _ in range(2):
        w.clock.advance(days=12)
        sweep(reports=w.reports, publish=w.publish, clock=w.clock, sla=sla)
    w.act(parent, "accept", PU)
    w.act(parent, "start", PU)
    w.act(parent, "resolve", PU, note="Ditambal / Patched")
    w.clock.advance(hours=1)
    w.upload(f"resolution/{parent}/1", seed=77)
    w.act(parent, "reopen", CITIZEN, note="Masih berlubang, hubungi 0812 3456 7890")
    return [parent, child]


def test_every_event_delivered_three_times_and_shuffled_is_one_message_per_recipient_and_channel(town):
    _everything(town)
    changes = town.changes()
    deliveries = changes * 3
    random.Random(18).shuffle(deliveries)
    town.deliver(deliveries)
    once = FakeInbox()
    town.notified = FakeNotified()  # a second, independent run of every event once
    town.deliver(changes, inbox=once, digests=FakeDigests())
    assert {u: sorted(box) for u, box in town.inbox.messages.items()} == {u: sorted(box) for u, box in once.messages.items()}
    audiences = {"siti", "andi", "pu-staff", "pu-head", "op1", "rina", "budi"}
    assert audiences <= set(town.inbox.messages), set(town.inbox.messages)
    for uid, box in town.inbox.messages.items():
        keys = [(m.report_id, m.seq, m.channel) for m in box.values()]
        assert len(keys) == len(set(keys)), uid  # one message per position, recipient and channel


def test_no_message_to_anyone_says_who_reported(town):
    reports = _everything(town)
    town.deliver()
    secrets = {"siti", "andi", "Lubang besar", "0812", "3456 7890"}
    for report_id in reports:
        report = Report.from_doc(town.world.reports.docs[report_id])
        secrets |= {report.reporter_ref}
        submission = town.world.reports.submission(report.reporter_ref)
        assert submission is not None
        secrets |= {submission["reporter_uid"]}
    told = {uid: list(box.values()) for uid, box in town.inbox.messages.items()}
    assert {"siti", "andi", "pu-staff", "pu-head", "op1", "rina", "budi"} <= set(told)
    for uid, messages in told.items():
        for message in messages:
            text = " ".join(str(v) for v in message.to_doc().values())
            leaked = {s for s in secrets - {uid} if s and s in text}
            assert not leaked, (uid, message.event, leaked)
