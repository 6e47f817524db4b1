"""Issue 18, push: device tokens, preferences (language, quiet hours, mute), and each push sent once
with its send tracked (the use cases on fakes; the domain's arithmetic)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from keluhan.domain.notify import message_id
from keluhan.domain.push import (
    MAX_ATTEMPTS,
    MAX_DEVICES,
    WITA,
    QuietHours,
    RegisterDevice,
    SetPreferences,
    quiet_until,
)
from keluhan.usecases.notify import notify_status_change
from keluhan.usecases.push import PushPorts, register_device, resend_due, set_preferences, unregister_device
from keluhan.usecases.sweep import sweep
from tests.support.fakes import FakeDevices, FakePreferences, FakePusher, FakeSends
from tests.unit.test_handling import PU
from tests.unit.test_notify import SITI, _to_closed, told  # noqa: F401 - the fixture

TOKEN = "fcm-token-siti-phone-0001"
WITA_0700 = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)


@pytest.fixture
def push(told):  # noqa: F811 - the fixture imported above
    world, directory, inbox = told
    ports = PushPorts(devices=FakeDevices(), sends=FakeSends(), pusher=FakePusher())
    return world, directory, inbox, ports, FakePreferences()


def _deliver_all(world, directory, inbox, ports, prefs, *, times=1, rng=None):
    changes = [(d["report_id"], int(a["seq"])) for t, d, a in world.publish.messages if t == "report-status-changed"]
    deliveries = changes * times
    if rng is not None:
        rng.shuffle(deliveries)
    for report_id, seq in deliveries:
        notify_status_change(report_id, seq, reports=world.reports, directory=directory, inbox=inbox,
                             notified=world.notified, clock=world.clock, preferences=prefs, push=ports)


def _register(ports, world, uid=SITI, token=TOKEN, lang=None, platform="android"):
    return register_device(uid, RegisterDevice(token=token, platform=platform, lang=lang),
                           devices=ports.devices, clock=world.clock)


def test_the_reporters_phone_gets_a_push_for_every_status_change_in_the_chosen_language(push):
    world, directory, inbox, ports, prefs = push
    _register(ports, world)
    set_preferences(SITI, SetPreferences(lang="en"), preferences=prefs, clock=world.clock)
    report_id = world.routed()  # submitted in Indonesian; the preference says English
    _to_closed(world, report_id)
    _deliver_all(world, directory, inbox, ports, prefs)
    pushed = ports.pusher.to(TOKEN)
    assert [p["event"] for p in pushed] == ["routed", "accepted", "in_progress", "resolved", "closed"]
    assert pushed[0]["title"].startswith("Report assigned to ") and all(p["report_id"] == report_id for p in pushed)
    # Each says its place in the timeline: pushes may arrive in any order, the app orders them by it.
    timeline = world.reports.docs[report_id]["timeline"]
    assert [timeline[int(p["seq"])]["status"] for p in pushed] == [p["event"] for p in pushed]
    assert [m.lang for m in inbox.of(SITI)] == ["en"] * 5
    assert {s.state for s in ports.sends.sends.values()} == {"sent"}
    assert all(s.attempts == 1 for s in ports.sends.sends.values())


def test_a_device_that_names_its_language_gets_its_pushes_in_it(push):
    world, directory, inbox, ports, prefs = push
    _register(ports, world, lang="en")
    _register(ports, world, token="fcm-token-siti-tablet-02", lang="id", platform="ios")
    world.routed()
    _deliver_all(world, directory, inbox, ports, prefs)
    assert ports.pusher.to(TOKEN)[0]["title"].startswith("Report assigned")
    assert ports.pusher.to("fcm-token-siti-tablet-02")[0]["title"].startswith("Laporan diteruskan")
    assert inbox.of(SITI)[0].lang == "id"


def test_every_event_delivered_three_times_and_shuffled_pushes_once_per_device(push):
    world, directory, inbox, ports, prefs = push
    _register(ports, world)
    _register(ports, world, uid="pu-staff", token="fcm-token-pu-staff-0001")
    for uid in (SITI, "pu-staff"):  # the delivery ends past 21:00 WITA
        set_preferences(uid, SetPreferences(quiet_hours=None), preferences=prefs, clock=world.clock)
    for i in range(3):
        _to_closed(world, world.routed(client_id=f"client-{i:04d}"), seed=100 + i)
    _deliver_all(world, directory, inbox, ports, prefs, times=3, rng=random.Random(18))
    keys = [(p["token"], p["collapse_key"]) for p in ports.pusher.pushed]
    assert len(keys) == len(set(keys)) == 3 * 5 + 3  # the reporter's 15, the staff's 3 assignments
    assert [p["event"] for p in ports.pusher.to("fcm-token-pu-staff-0001")] == ["assigned"] * 3


def test_a_token_fcm_answers_unregistered_is_removed_and_the_others_still_get_it(push):
    world, directory, inbox, ports, prefs = push
    _register(ports, world)
    world.clock.advance(seconds=1)
    _register(ports, world, token="fcm-token-siti-old-phone")
    ports.pusher.unregistered.add("fcm-token-siti-old-phone")
    world.routed()
    _deliver_all(world, directory, inbox, ports, prefs)
    assert [d.token for d in ports.devices.of(SITI)] == [TOKEN]
    assert len(ports.pusher.to(TOKEN)) == 1
    (send,) = [s for s in ports.sends.sends.values() if s.recipient == SITI]
    assert send.state == "sent" and "UNREGISTERED" in (send.last_error or "")


def test_a_push_whose_only_token_is_unregistered_fails_and_nothing_is_retried(push):
    world, directory, inbox, ports, prefs = push
    _register(ports, world)
    ports.pusher.unregistered.add(TOKEN)
    world.routed()
    _deliver_all(world, directory, inbox, ports, prefs)
    (send,) = ports.sends.sends.values()
    assert send.state == "failed" and ports.devices.of(SITI) == []
    world.clock.advance(hours=1)
    assert resend_due(push=ports, clock=world.clock) == 0


def test_a_passing_failure_is_retried_by_the_tick_after_a_backoff_and_sent_once(push):
    world, directory, inbox, ports, prefs = push
    _register(ports, world)
    ports.pusher.unavailable[TOKEN] = 2
    world.routed()
    _deliver_all(world, directory, inbox, ports, prefs)
    (send,) = ports.sends.sends.values()
    assert send.state == "pending" and send.attempts == 1 and ports.pusher.pushed == []
    assert sweep(reports=world.reports, publish=world.publish, clock=world.clock, push=ports)["pushes_attempted"] == 0
    world.clock.advance(seconds=31)
    assert resend_due(push=ports, clock=world.clock) == 1  # UNAVAILABLE again: a longer backoff
    world.clock.advance(seconds=61)
    assert sweep(reports=world.reports, publish=world.publish, clock=world.clock, push=ports)["pushes_attempted"] == 1
    (send,) = ports.sends.sends.values()
    assert send.state == "sent" and send.attempts == 3 and len(ports.pusher.to(TOKEN)) == 1


def test_a_send_that_keeps_failing_is_failed_after_the_last_attempt(push):
    world, directory, inbox, ports, prefs = push
    _register(ports, world)
    ports.pusher.unavailable[TOKEN] = 99
    world.routed()
    _deliver_all(world, directory, inbox, ports, prefs)
    for _ in range(MAX_ATTEMPTS):
        world.clock.advance(hours=1)
        resend_due(push=ports, clock=world.clock)
    (send,) = ports.sends.sends.values()
    assert send.state == "failed" and send.attempts == MAX_ATTEMPTS and "UNAVAILABLE" in (send.last_error or "")


def test_a_send_stalled_by_a_crash_is_sent_by_the_tick_after_its_lease(push):
    from keluhan.domain.push import claim

    world, directory, inbox, ports, prefs = push
    _register(ports, world)
    world.routed()
    _deliver_all(world, directory, inbox, ports, prefs)
    (send,) = ports.sends.sends.values()
    # As if a notify that claimed it died before pushing: pending, one attempt in flight.
    ports.sends.sends[send.message_id] = claim(send.__class__(**{**send.__dict__, "state": "pending", "done": (),
                                                                  "reached": (), "attempts": 0}), world.clock())
    ports.pusher.pushed.clear()
    assert resend_due(push=ports, clock=world.clock) == 0  # still leased
    world.clock.advance(seconds=61)
    assert resend_due(push=ports, clock=world.clock) == 1
    assert len(ports.pusher.to(TOKEN)) == 1 and ports.sends.sends[send.message_id].state == "sent"


def test_quiet_hours_hold_a_non_urgent_push_until_they_end_and_the_inbox_gets_it_at_once(push):
    world, directory, inbox, ports, prefs = push
    world.clock.now = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)  # 22:00 WITA
    _register(ports, world)
    world.routed()
    _deliver_all(world, directory, inbox, ports, prefs)
    assert [m.event for m in inbox.of(SITI)] == ["routed"] and ports.pusher.pushed == []
    (send,) = ports.sends.sends.values()
    assert send.held and send.next_at == datetime(2026, 11, 29, 22, 0, tzinfo=UTC)  # 06:00 WITA
    world.clock.now = datetime(2026, 11, 29, 21, 59, tzinfo=UTC)
    assert resend_due(push=ports, clock=world.clock) == 0
    world.clock.now = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)
    assert resend_due(push=ports, clock=world.clock) == 1
    assert [p["event"] for p in ports.pusher.to(TOKEN)] == ["routed"]


def test_an_escalation_is_urgent_and_pushed_in_the_heads_quiet_hours(push):
    from keluhan.domain.catalogue import get_category
    from keluhan.domain.sla import SlaPolicy, WorkingCalendar

    world, directory, inbox, ports, prefs = push
    _register(ports, world, uid="pu-head", token="fcm-token-pu-head-0001")
    sla = SlaPolicy(WorkingCalendar.of([]))
    report_id = world.routed()
    doc = world.reports.docs[report_id]
    doc["sla"] = sla.assignment(get_category("jalan_rusak"), doc["routing"]["at"])
    world.clock.advance(days=12)
    world.clock.now = world.clock.now.replace(hour=15)  # 23:00 WITA
    sweep(reports=world.reports, publish=world.publish, clock=world.clock, sla=sla)
    _deliver_all(world, directory, inbox, ports, prefs)
    assert [p["event"] for p in ports.pusher.to("fcm-token-pu-head-0001")] == ["escalated_1"]  # "assigned" waits


def test_quiet_hours_off_and_a_muted_report_send_no_push_but_the_inbox_keeps_it(push):
    world, directory, inbox, ports, prefs = push
    world.clock.now = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)  # 22:00 WITA
    _register(ports, world)
    set_preferences(SITI, SetPreferences(quiet_hours=None), preferences=prefs, clock=world.clock)
    first = world.routed("client-a")
    _deliver_all(world, directory, inbox, ports, prefs)
    assert [p["event"] for p in ports.pusher.to(TOKEN)] == ["routed"]  # at 22:00: quiet hours are off
    set_preferences(SITI, SetPreferences(mute=first), preferences=prefs, clock=world.clock)
    world.act(first, "accept", PU)
    world.publish.messages.clear()
    world.act(first, "start", PU)
    _deliver_all(world, directory, inbox, ports, prefs)
    assert len(ports.pusher.to(TOKEN)) == 1 and [m.event for m in inbox.of(SITI)] == ["routed", "in_progress"]
    set_preferences(SITI, SetPreferences(unmute=first), preferences=prefs, clock=world.clock)
    assert prefs.get(SITI).muted_reports == [] and prefs.get(SITI).quiet_hours is None


def test_a_user_keeps_at_most_ten_devices_and_the_oldest_goes(push):
    world, _, _, ports, _ = push
    for i in range(MAX_DEVICES + 2):
        world.clock.advance(seconds=1)
        _register(ports, world, token=f"fcm-token-device-{i:04d}")
    tokens = [d.token for d in ports.devices.of(SITI)]
    assert len(tokens) == MAX_DEVICES and tokens[0] == "fcm-token-device-0002"
    _, new = _register(ports, world, token="fcm-token-device-0011")
    assert not new  # the same token again: registered once
    assert unregister_device(SITI, "fcm-token-device-0011", devices=ports.devices)
    assert not unregister_device("andi", "fcm-token-device-0005", devices=ports.devices)  # not andi's


@pytest.mark.parametrize(("wita", "quiet", "until"), [
    ("22:00", ("21:00", "06:00"), "06:00"), ("05:59", ("21:00", "06:00"), "06:00"), ("06:00", ("21:00", "06:00"), None),
    ("20:59", ("21:00", "06:00"), None), ("13:00", ("12:00", "14:00"), "14:00"), ("14:00", ("12:00", "14:00"), None),
    ("03:00", ("00:00", "00:00"), None),
])
def test_quiet_hours_in_wita(wita, quiet, until):
    hour, minute = map(int, wita.split(":"))
    now = WITA_0700 + timedelta(hours=hour - 7, minutes=minute)
    ends = quiet_until(now, QuietHours(start=quiet[0], end=quiet[1]))
    if until is None:
        assert ends is None
    else:
        assert ends is not None and now < ends <= now + timedelta(hours=24)
        assert ends.astimezone(WITA).strftime("%H:%M") == until


def test_bad_registrations_and_preferences_are_refused_by_the_models():
    with pytest.raises(ValidationError):
        RegisterDevice(token="short", platform="android")
    with pytest.raises(ValidationError):
        RegisterDevice(token="fcm-token-siti-phone-0001", platform="symbian")
    with pytest.raises(ValidationError):
        SetPreferences.model_validate({"quiet_hours": {"start": "25:00", "end": "06:00"}})
    with pytest.raises(ValidationError):
        SetPreferences.model_validate({"mute": "../reports"})


def test_a_push_has_its_own_message_id_beside_the_inbox_copy():
    assert message_id("r1", 3, "u", "push") != message_id("r1", 3, "u", "inbox")


def test_an_skpds_staff_are_told_in_one_inbox_write_and_one_devices_read_whatever_their_number(push):
    """Twelve staff of dinas-pu, three with phones and one who muted the report: the assignment is
    one call to the inbox and one to the devices (the adapters make each one Firestore call or two),
    not one per recipient; every staff member still gets the message, the phones their push."""
    world, directory, inbox, ports, prefs = push
    staff = [f"pu-{n:02d}" for n in range(12)]
    for uid in staff:
        directory.add(uid, "skpd", "dinas-pu")
    for n, uid in enumerate(staff[:3]):
        _register(ports, world, uid=uid, token=f"fcm-token-pu-{n:04d}")
    report_id = world.routed()
    for uid in staff[:3]:
        set_preferences(uid, SetPreferences(quiet_hours=None, mute=report_id if uid == staff[2] else None),
                        preferences=prefs, clock=world.clock)

    calls = {"deliver": 0, "of_many": 0}

    class CountingInbox(type(inbox)):
        def deliver(self, messages):
            calls["deliver"] += 1
            return super().deliver(messages)

    class CountingDevices(type(ports.devices)):
        def of(self, uid):
            raise AssertionError(f"devices read one by one: {uid}")

        def of_many(self, uids):
            calls["of_many"] += 1
            return super().of_many(uids)

    counting, devices = CountingInbox(), CountingDevices()
    devices.devices = ports.devices.devices
    ports = PushPorts(devices=devices, sends=ports.sends, pusher=ports.pusher)
    routed = next(seq for seq, entry in enumerate(world.reports.get(report_id).timeline) if entry.status == "routed")
    new = notify_status_change(report_id, routed, reports=world.reports, directory=directory, inbox=counting,
                               notified=world.notified, clock=world.clock, preferences=prefs, push=ports)
    assert all([m.event for m in counting.of(uid)] == ["assigned"] for uid in staff)
    assert new >= len(staff) and calls["deliver"] <= 2  # the staff's notice, and the reporter's
    assert calls["of_many"] <= 2
    pushed = {p["token"] for p in ports.pusher.pushed}
    assert pushed == {"fcm-token-pu-0000", "fcm-token-pu-0001"}, pushed  # pu-02 muted the report
