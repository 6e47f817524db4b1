"""Submission quotas, upload URL reuse and who may submit: the use case with fake ports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from keluhan.domain.quota import Limits, quota_subject, retry_after_s, windows
from keluhan.domain.report import SubmitReport
from keluhan.domain.workflow import Actor, Role
from keluhan.ports import QuotaExceeded
from keluhan.usecases.submission import (
    ChannelNotPermitted,
    PhotoUploadPolicy,
    QuotaPolicy,
    SubmitterNotPermitted,
    submit_report,
)
from tests.support.fakes import FakeClock, FakePhotoStore, FakePublisher, FakeReports

BODY = {"category": "jalan_rusak", "description": "Lubang di depan pasar", "lat": -5.1477,
        "lon": 119.4327, "accuracy_m": 8.0, "photo_taken_at": "2026-11-29T09:58:00+08:00"}
CITIZEN = Actor(Role.WARGA, "alice")
CALL_CENTER = Actor(Role.CHANNEL, "cc-service", channel="call_center_112")
POLICY = PhotoUploadPolicy(url_ttl=timedelta(minutes=15), wait=timedelta(hours=24), max_bytes=10**7,
                           reuse_margin=timedelta(minutes=5))
QUOTA = QuotaPolicy(citizen=Limits(per_hour=3, per_day=5), service=Limits(per_hour=50, per_day=100))


class World:
    def __init__(self, start: datetime | None = None):
        self.reports, self.photos, self.publish = FakeReports(), FakePhotoStore(), FakePublisher()
        # 10:30 WITA on 29 November 2026
        self.clock = FakeClock(start or datetime(2026, 11, 29, 2, 30, tzinfo=UTC))
        self._ids = count(1)

    def submit(self, client_id: str, actor: Actor = CITIZEN, **body):
        cmd = SubmitReport.model_validate({**BODY, "client_id": client_id, **body})
        return submit_report(cmd, actor=actor, reports=self.reports, publish=self.publish,
                             photos=self.photos, clock=self.clock, new_id=lambda: f"r{next(self._ids)}",
                             policy=POLICY, quota=QUOTA)


def test_the_report_past_the_hourly_limit_is_refused_and_nothing_is_stored():
    world = World()
    for n in range(3):
        assert world.submit(f"client-{n:04}").created
    with pytest.raises(QuotaExceeded) as refused:
        world.submit("client-0003")
    assert refused.value.window.name == "hour" and refused.value.window.limit == 3
    assert len(world.reports.docs) == 3 and len(world.reports.submissions) == 3


def test_a_retry_of_a_stored_report_counts_nothing_even_at_the_limit():
    world = World()
    first = [world.submit(f"client-{n:04}") for n in range(3)]
    again = world.submit("client-0000")
    assert not again.created and again.report.report_id == first[0].report.report_id
    assert sorted(world.reports.quotas.values()) == [3, 3]


def test_the_hour_resets_at_the_next_clock_hour_and_the_day_at_wita_midnight():
    world = World()
    for n in range(3):
        world.submit(f"a-client-{n:04}")
    world.clock.advance(minutes=30)  # 11:00 WITA: a new hour, the same day
    world.submit("b-client-0000")
    world.submit("b-client-0001")
    with pytest.raises(QuotaExceeded) as refused:  # 5 today
        world.submit("b-client-0002")
    assert refused.value.window.name == "day"
    assert retry_after_s(refused.value.window, now=world.clock()) == 13 * 3600  # until 00:00 WITA
    world.clock.advance(hours=13)  # 00:00 WITA, 16:00 UTC: a new day
    assert world.submit("c-client-0000").created


def test_retry_after_is_the_whole_seconds_until_the_window_resets():
    now = datetime(2026, 11, 29, 2, 59, 58, 500000, tzinfo=UTC)  # 10:59:58.5 WITA
    hour, day = windows("alice", now=now, limits=Limits(1, 1))
    assert retry_after_s(hour, now=now) == 2
    assert hour.resets_at == datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    assert day.resets_at == datetime(2026, 11, 29, 16, 0, tzinfo=UTC)


def test_quota_counters_never_name_the_reporter():
    hour, day = windows("alice-uid", now=datetime(2026, 11, 29, tzinfo=UTC), limits=Limits(1, 1))
    assert "alice" not in hour.key and "alice" not in day.key
    assert hour.key.startswith(quota_subject("alice-uid"))


def test_each_reporter_has_their_own_counters():
    world = World()
    for n in range(3):
        world.submit(f"client-{n:04}")
    assert world.submit("client-0000", actor=Actor(Role.WARGA, "bob")).created


def test_a_channel_service_has_the_service_limits():
    world = World()
    for n in range(10):
        world.submit(f"cc-client-{n:04}", actor=CALL_CENTER, channel="call_center_112")
    assert len(world.reports.docs) == 10


def test_a_retry_gets_the_same_upload_url_while_it_stays_valid_long_enough():
    world = World()
    first = world.submit("client-0000")
    world.clock.advance(minutes=9)  # 6 minutes left, above the 5-minute margin
    again = world.submit("client-0000")
    assert again.upload == first.upload and world.photos.urls_issued == 1


def test_a_retry_near_the_urls_expiry_gets_a_new_one_which_later_retries_reuse():
    world = World()
    first = world.submit("client-0000")
    world.clock.advance(minutes=11)  # 4 minutes left: too little to upload on a slow network
    second = world.submit("client-0000")
    assert second.upload != first.upload and world.photos.urls_issued == 2
    world.clock.advance(minutes=1)
    assert world.submit("client-0000").upload == second.upload and world.photos.urls_issued == 2


def test_the_upload_url_is_kept_on_the_submission_never_on_the_report():
    world = World()
    result = world.submit("client-0000")
    url = result.upload["url"]
    assert url not in repr(world.reports.docs)
    assert any(s.get("upload", {}).get("url") == url for s in world.reports.submissions.values())


@pytest.mark.parametrize("actor", [
    Actor(Role.WARGA, "anon-1", anonymous=True),
    Actor(Role.SKPD, "pu-staff", skpd="dinas-pu"),
])
def test_anonymous_sign_ins_and_staff_roles_may_not_submit(actor):
    world = World()
    with pytest.raises(SubmitterNotPermitted):
        world.submit("client-0000", actor=actor)
    assert world.reports.docs == {} and world.reports.quotas == {}


def test_a_channel_service_submits_only_as_its_own_channel():
    world = World()
    with pytest.raises(ChannelNotPermitted):
        world.submit("client-0000", actor=CALL_CENTER)  # as `warga`
    assert world.submit("client-0000", actor=CALL_CENTER, channel="call_center_112").created
