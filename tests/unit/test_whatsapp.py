"""The WhatsApp conversation (pure) and the channel's use case with fake ports: a whole
conversation to a report, redeliveries, the photo window, limits, hearing back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from keluhan.devstack.sample_photos import encode, make_image, make_jpeg
from keluhan.domain.location import Location
from keluhan.domain.notify import NOTICES, channel_of, render
from keluhan.domain.photo import PhotoPolicy, verify_photo
from keluhan.domain.push import Device, device_id
from keluhan.domain.quota import Limits
from keluhan.domain.report import Report, TimelineEntry
from keluhan.domain.whatsapp import (
    MESSAGES_PER_MINUTE,
    PHOTO_WINDOW,
    Conversation,
    Inbound,
    number_hash,
    reporter_id,
    step,
)
from keluhan.usecases.notify import notify_status_change
from keluhan.usecases.push import PushPorts
from keluhan.usecases.submission import PhotoUploadPolicy, QuotaPolicy
from keluhan.usecases.whatsapp import WhatsAppPorts, deliver_whatsapp, handle_message
from tests.support.fakes import (
    FakeClock,
    FakeDevices,
    FakeDirectory,
    FakeHolds,
    FakeInbox,
    FakeNotified,
    FakePhotoStore,
    FakePreferences,
    FakePublisher,
    FakePusher,
    FakeReports,
    FakeSends,
    FakeWaSends,
    FakeWaUsers,
    FakeWhatsAppApi,
)

NUMBER = "6281234567890"
T0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
INSIDE = Location(kelurahan="Mamajang Dalam", kode_kelurahan="73.71.02.1004", kecamatan="Mamajang",
                  kode_kecamatan="73.71.02", inside_city=True)
OUTSIDE = Location(kelurahan=None, kode_kelurahan=None, kecamatan=None, kode_kecamatan=None, inside_city=False,
                   outside_region="Kabupaten Gowa")


def locate(lat: float, lon: float) -> Location:
    """Inside the city north of -5.19 (the test's stand-in for the real boundary, tested in test_geo_*)."""
    return INSIDE if lat > -5.19 else OUTSIDE


class World:
    def __init__(self) -> None:
        self.clock = FakeClock(T0)
        self.users, self.api, self.reports = FakeWaUsers(), FakeWhatsAppApi(), FakeReports()
        self.photos, self.publish, self.holds = FakePhotoStore(), FakePublisher(), FakeHolds()
        self.ids = count(1)
        self.msgs = count(1)
        self.ports = WhatsAppPorts(
            users=self.users, api=self.api, reports=self.reports, publish=self.publish, photos=self.photos,
            holds=self.holds, clock=self.clock, new_id=lambda: f"LAP{next(self.ids):04d}",
            upload_policy=PhotoUploadPolicy(url_ttl=timedelta(minutes=15), wait=timedelta(hours=24),
                                            max_bytes=10**7),
            quota=QuotaPolicy(citizen=Limits(2, 5), service=Limits(2, 5)), locate=locate,
            max_media_bytes=5 * 2**20, keep_for=timedelta(days=180))
        self.api.media["M1"] = (encode(make_image(seed=7), "JPEG", quality=85), "image/jpeg")

    def say(self, kind: str = "text", *, message_id: str | None = None, after_s: float = 5, **fields):
        self.clock.advance(seconds=after_s)
        msg = Inbound(message_id=message_id or f"wamid.{next(self.msgs)}", at=self.clock.now, kind=kind, **fields)
        return handle_message(NUMBER, msg, ports=self.ports)

    def converse_to_confirm(self, category: str = "jalan_rusak", lat: float = -5.162247):
        self.say(text="halo")
        self.say("choice", choice=f"cat:{category}")
        self.say("location", lat=lat, lon=119.40421)
        if category == "jalan_rusak":
            self.say("image", media_id="M1", mime_type="image/jpeg")
        self.say(text="Lubang besar di tengah jalan")

    def last_text(self) -> str:
        return self.api.texts(NUMBER)[-1]


def test_a_whole_conversation_submits_one_whatsapp_report_with_its_photo():
    world = World()
    world.converse_to_confirm()
    world.say(text="ya")
    (doc,) = world.reports.docs.values()
    assert doc["channel"] == "whatsapp" and doc["category"] == "jalan_rusak" and doc["status"] == "awaiting_photo"
    assert world.photos.objects[doc["photo"]["object"]] == world.api.media["M1"][0]
    assert f"*{doc['report_id']}*" in world.last_text()
    (submission,) = world.reports.submissions.values()
    assert submission["reporter_uid"] == reporter_id(NUMBER) and NUMBER not in str(doc)


def test_the_greeting_offers_the_category_list_and_english_on_request():
    world = World()
    world.say(text="halo")
    kinds = [kind for _, _, kind, _ in world.api.sent]
    assert kinds == ["text", "category_list"] and "Halo" in world.api.sent[0][1]
    world.say(text="english")
    assert "Pick the kind of problem" in world.last_text()


def test_the_same_message_delivered_twice_changes_nothing_and_submits_once():
    world = World()
    world.converse_to_confirm()
    world.say(text="ya", message_id="wamid.yes")
    sent = len(world.api.sent)
    world.say(text="ya", message_id="wamid.yes")
    assert len(world.reports.docs) == 1 and len(world.api.sent) == sent


def test_a_reply_that_failed_to_send_is_sent_by_the_redelivery():
    world = World()
    world.api.fail_next = 1
    with pytest.raises(ConnectionError):
        world.say(text="halo", message_id="wamid.first")
    world.say(text="halo", message_id="wamid.first")  # Meta redelivers after our 503
    assert [kind for _, _, kind, _ in world.api.sent] == ["text", "category_list"]


def test_a_photo_outside_the_window_is_refused_with_a_clear_reply_and_no_report():
    world = World()
    world.say(text="halo")
    world.say("choice", choice="cat:jalan_rusak")
    world.say("location", lat=-5.162247, lon=119.40421)
    world.say("image", media_id="M1", mime_type="image/jpeg", after_s=PHOTO_WINDOW.total_seconds() + 1)
    assert "10 menit" in world.last_text() and "Bagikan lokasi" in world.last_text()
    world.say(text="Lubang")
    world.say(text="ya")
    assert world.reports.docs == {}


def test_a_picked_place_is_not_a_current_location():
    world = World()
    world.say(text="halo")
    world.say("choice", choice="cat:sampah")
    world.say("location", lat=-5.16, lon=119.42, place_named=True)
    assert "bukan lokasi Anda saat ini" in world.last_text()


def test_a_place_outside_the_city_is_told_it_will_be_forwarded():
    world = World()
    world.say(text="halo")
    world.say("choice", choice="cat:bencana")  # no photo needed
    world.say("location", lat=-5.2069, lon=119.4531)
    assert "di luar Kota Makassar (Kabupaten Gowa)" in world.last_text()


def test_batal_and_status_work_at_any_step():
    world = World()
    world.converse_to_confirm(category="bencana")
    world.say(text="ya")
    (report_id,) = world.reports.docs
    world.say(text="halo")
    world.say("choice", choice="cat:sampah")
    world.say(text="status")
    assert f"Laporan {report_id}: Laporan diterima" in world.last_text()
    world.say(text="batal")
    assert "dibatalkan" in world.last_text()


def test_a_number_over_its_report_limit_gets_a_clear_reply():
    world = World()
    for _ in range(3):
        world.converse_to_confirm(category="bencana")
        world.say(text="ya", after_s=60)
    assert len(world.reports.docs) == 2
    assert "Batas laporan dari nomor ini tercapai" in world.last_text()


def test_a_flood_of_messages_is_answered_once_with_slow_down():
    conv, at = Conversation(), T0
    replies = []
    for n in range(MESSAGES_PER_MINUTE + 5):
        out = step(conv, Inbound(message_id=f"m{n}", at=at, kind="text", text="apa"), now=at)
        conv = out.conversation
        replies.append(out.replies)
    limited = replies[MESSAGES_PER_MINUTE:]
    assert "Terlalu banyak pesan" in limited[0][0].text and all(r == () for r in limited[1:])


def test_a_held_number_has_its_reports_go_to_moderation():
    world = World()
    world.holds.hold(reporter_id(NUMBER), {"at": T0, "by": "operator:op", "note": "spam", "report_id": "x"})
    world.converse_to_confirm(category="bencana")
    world.say(text="ya")
    (doc,) = world.reports.docs.values()
    assert doc["status"] == "in_moderation"


def test_the_number_is_kept_only_hashed_outside_the_conversation_store():
    assert NUMBER not in number_hash(NUMBER) and number_hash("+62 812-3456-7890") == number_hash(NUMBER)


# --- the photo trust model ---------------------------------------------------------------------
POLICY = PhotoPolicy()


def _verify(data: bytes, *, taken_at: datetime | None, witnessed: bool):
    return verify_photo(data, declared_content_type="image/jpeg", lat=-5.16, lon=119.40, received_at=T0,
                        taken_at=taken_at, reuse_candidates=lambda _: [], policy=POLICY, witnessed=witnessed)


def test_a_whatsapp_photo_without_exif_is_accepted_by_the_witnessed_capture_rule():
    data = encode(make_image(seed=3), "JPEG", quality=85)
    result = _verify(data, taken_at=T0 - timedelta(minutes=4), witnessed=True)
    assert result.verdict == "accepted" and [r.code for r in result.reasons] == ["witnessed_capture"]
    assert _verify(data, taken_at=T0 - timedelta(minutes=4), witnessed=False).verdict == "needs_moderation"


def test_a_witnessed_photo_received_long_before_the_report_is_stale():
    data = encode(make_image(seed=3), "JPEG", quality=85)
    assert _verify(data, taken_at=T0 - timedelta(hours=2), witnessed=True).verdict == "rejected"


def test_a_witnessed_photo_is_still_checked_for_reuse():
    data = encode(make_image(seed=3), "JPEG", quality=85)
    phash = _verify(data, taken_at=T0, witnessed=True).phash
    result = verify_photo(data, declared_content_type="image/jpeg", lat=-5.16, lon=119.40, received_at=T0,
                          taken_at=T0, reuse_candidates=lambda _: [("OTHER", phash)], policy=POLICY, witnessed=True)
    assert result.verdict == "rejected" and "reused" in [r.code for r in result.reasons]


def test_exif_when_present_is_checked_as_for_the_app():
    data = make_jpeg(taken_at=datetime(2026, 11, 20, 10, 0), lat=-5.16, lon=119.40)
    assert _verify(data, taken_at=T0, witnessed=True).verdict == "rejected"  # a week-old EXIF time


# --- hearing back -------------------------------------------------------------------------------
def _routed_report(world: World) -> Report:
    world.converse_to_confirm(category="bencana")
    world.say(text="ya")
    (report_id,) = world.reports.docs
    return world.reports.report(report_id)


def test_a_notice_reaches_the_whatsapp_reporter_once_as_text_within_24_hours():
    world = World()
    report = _routed_report(world)
    uid = reporter_id(NUMBER)
    assert channel_of(uid) == "whatsapp"
    message = render(NOTICES["closed"], report, 0, recipient=uid, lang="id", channel="whatsapp", now=T0)
    sends = FakeWaSends()
    assert deliver_whatsapp(message, users=world.users, sends=sends, api=world.api, clock=world.clock)
    assert not deliver_whatsapp(message, users=world.users, sends=sends, api=world.api, clock=world.clock)
    assert world.api.sent[-1][2] == "text" and "ditutup" in world.api.sent[-1][1]
    assert sends.docs[message.message_id]["status"] == "sent"


def test_notify_sends_a_whatsapp_reporter_s_notices_on_whatsapp_only_never_to_an_inbox_or_a_push():
    """Push's preferences and queue sit beside the WhatsApp routing: a `wa:` recipient has no inbox
    and no devices, so even a device registered under that id is never pushed to."""
    world = World()
    report = _routed_report(world)
    accepted = TimelineEntry(status="accepted", at=T0, by="skpd-staff", from_="routed", action="accept",
                             assignee="dinas-pu")
    report = report.model_copy(update={"timeline": [*report.timeline, accepted]})
    world.reports.docs[report.report_id] = report.to_doc()
    uid = reporter_id(NUMBER)
    inbox, devices, sends, wa_sends = FakeInbox(), FakeDevices(), FakeSends(), FakeWaSends()
    devices.register(uid, Device(device_id=device_id("tok-wa"), token="tok-wa", platform="android",
                                 registered_at=T0), keep=10)
    push = PushPorts(devices=devices, sends=sends, pusher=FakePusher())
    sent = [notify_status_change(
        report.report_id, seq, reports=world.reports, directory=FakeDirectory(), inbox=inbox,
        notified=FakeNotified(), clock=world.clock, preferences=FakePreferences(), push=push,
        whatsapp=lambda m: deliver_whatsapp(m, users=world.users, sends=wa_sends, api=world.api, clock=world.clock))
        for seq in range(len(report.timeline))]
    assert sum(sent) >= 1 and wa_sends.docs and all(d["status"] == "sent" for d in wa_sends.docs.values())
    assert inbox.of(uid) == [] and sends.sends == {}


def test_after_24_hours_the_notice_goes_out_as_the_template_and_a_failed_send_is_retried():
    world = World()
    report = _routed_report(world)
    world.clock.advance(hours=25)
    message = render(NOTICES["accepted"], report, 0, recipient=reporter_id(NUMBER), lang="id", channel="whatsapp",
                     now=world.clock.now)
    sends = FakeWaSends()
    world.api.fail_next = 1
    with pytest.raises(Exception, match="whatsapp send failed"):
        deliver_whatsapp(message, users=world.users, sends=sends, api=world.api, clock=world.clock)
    assert sends.docs[message.message_id]["status"] == "pending"
    assert deliver_whatsapp(message, users=world.users, sends=sends, api=world.api, clock=world.clock)
    assert world.api.sent[-1][2] == "template" and sends.docs[message.message_id]["attempts"] == 2
