"""Issue 18: everyone who should know is told, once, in their language (the notify use case on fakes)."""

from __future__ import annotations

import random

import pytest

from keluhan.domain.catalogue import get_category
from keluhan.domain.comments import CommentOnReport
from keluhan.domain.notify import NOTICES, event_of, message_id, notices, tells_anyone
from keluhan.domain.report import Report, TimelineEntry
from keluhan.domain.sla import SlaPolicy, WorkingCalendar
from keluhan.domain.workflow import Actor, Role
from keluhan.ports import PermanentError
from keluhan.pubsub import Message
from keluhan.usecases.comments import CommentLimits, post_comment
from keluhan.usecases.notify import notify_status_change
from keluhan.usecases.sweep import sweep
from tests.support.deps import FakeDeadLetters
from tests.support.fakes import FakeComments, FakeDirectory, FakeInbox, FakeNotified
from tests.unit.test_handling import CITIZEN, OPERATOR, PU, World

SITI = CITIZEN.id


@pytest.fixture
def told():
    world, directory, inbox = World(), FakeDirectory(), FakeInbox()
    world.notified = FakeNotified()  # what notify recorded as told, per test
    directory.add("pu-staff", "skpd", "dinas-pu")
    directory.add("pu-head", "skpd", "dinas-pu", head=True, lang="en")
    directory.add("dishub-staff", "skpd", "dishub")
    directory.add("op1", "operator")
    return world, directory, inbox


def _announced(attributes: dict[str, str]) -> tuple[str, str] | None:
    """The move a message names, as the notify function reads it from the attributes."""
    return Message(data=b"{}", attributes=attributes, message_id="1", publish_time="", topic="").move()


def _deliver_all(world, directory, inbox, *, times=1, rng=None) -> None:
    """Play Pub/Sub: every report-status-changed published so far, `times` times, shuffled."""
    changes = [(d["report_id"], int(a["seq"]), _announced(a))
               for t, d, a in world.publish.messages if t == "report-status-changed"]
    deliveries = changes * times
    if rng is not None:
        rng.shuffle(deliveries)
    for report_id, seq, announced in deliveries:
        notify_status_change(report_id, seq, reports=world.reports, directory=directory, inbox=inbox,
                             notified=world.notified, clock=world.clock, supporters=world.supporters,
                             announced=announced)


def test_a_step_nobody_is_told_of_is_known_from_the_message_without_a_read():
    """For every move of reports in every status, what the message names decides exactly as the
    stored timeline entry does; a silent pipeline step (received, located, …) reads nothing."""
    from tests.unit.test_report_document import _every_status

    world = World()
    documents = _every_status()
    decided = 0
    for doc in documents.values():
        report = Report.from_doc(doc)
        for seq, entry in enumerate(report.timeline):
            if entry.action is None:
                continue  # an event (escalation, rating, reply, failed delivery): always read
            assert tells_anyone(entry.action, entry.status) == bool(notices(report, seq)), (entry.action, entry.status)
            decided += 1

    class Refusing:
        def get(self, report_id):
            raise AssertionError("read the report")

        def positions(self, report_ids):
            raise AssertionError("read the told positions")

    assert decided >= 40
    for action, status in (("submit", "received"), ("locate", "located"), ("verify_photo", "verified")):
        assert not tells_anyone(action, status)
        assert notify_status_change("r-1", 0, reports=Refusing(), directory=FakeDirectory(), inbox=FakeInbox(),
                                    notified=Refusing(), clock=world.clock, announced=(action, status)) == 0
    assert tells_anyone("escalation", "routed")  # not a move: the entry itself is read


def _to_closed(world, report_id, seed=99):
    for action in ("accept", "start", "resolve"):
        world.act(report_id, action, PU, note="Ditambal / Patched" if action == "resolve" else "")
    world.clock.advance(hours=1)
    world.upload(f"resolution/{report_id}/1", seed=seed)  # one proof photo proves one fix
    world.act(report_id, "confirm", CITIZEN)


def test_the_reporter_is_told_of_every_step_to_closed_in_their_language_and_the_skpd_of_its_assignment(told):
    world, directory, inbox = told
    report_id = world.routed(lang="en")
    _to_closed(world, report_id)
    _deliver_all(world, directory, inbox)
    mine = inbox.of(SITI)
    assert [m.event for m in mine] == ["routed", "accepted", "in_progress", "resolved", "closed"]
    assert all(m.lang == "en" for m in mine)
    assert mine[0].title.startswith("Report assigned to ") and "Lubang" not in mine[0].body
    assert [m.event for m in inbox.of("pu-staff")] == ["assigned"]
    assert inbox.of("pu-staff")[0].lang == "id" and "antrean" in inbox.of("pu-staff")[0].body
    assert inbox.of("dishub-staff") == [] and inbox.of("op1") == []


def test_an_event_told_already_is_not_worked_again_when_redelivered(told):
    """A redelivery of a told position reads the told positions and stops: under a backlog, Pub/Sub
    redelivering slow events must not make notify redo every recipient's writes (a snowball)."""
    world, directory, inbox = told
    report_id = world.routed()
    _deliver_all(world, directory, inbox)

    class Refusing:
        def deliver(self, messages):
            raise AssertionError(f"delivered again: {[m.message_id for m in messages]}")

        def get(self, report_id):
            raise AssertionError("read the report again")

    told_seqs = world.notified.told[report_id]
    assert told_seqs  # the routing's position at least
    for seq in told_seqs:
        assert notify_status_change(report_id, seq, reports=Refusing(), directory=directory, inbox=Refusing(),
                                    notified=world.notified, clock=world.clock) == 0
    assert [m.event for m in inbox.of(SITI)] == ["routed"]


def test_every_event_delivered_three_times_and_shuffled_is_one_message_per_recipient(told):
    world, directory, inbox = told
    for i in range(3):
        _to_closed(world, world.routed(client_id=f"client-{i:04d}"), seed=100 + i)
    _deliver_all(world, directory, inbox, times=3, rng=random.Random(18))
    once = FakeInbox()
    world.notified = FakeNotified()  # a second, independent run of every event once
    _deliver_all(world, directory, once)
    assert {u: sorted(box) for u, box in inbox.messages.items()} == {u: sorted(box) for u, box in once.messages.items()}
    assert len(inbox.of(SITI)) == 3 * 5


def test_escalation_reaches_the_head_at_level_1_and_the_operators_at_level_2(told):
    world, directory, inbox = told
    sla = SlaPolicy(WorkingCalendar.of([]))
    report_id = world.routed()
    doc = world.reports.docs[report_id]
    doc["sla"] = sla.assignment(get_category("jalan_rusak"), doc["routing"]["at"])
    world.clock.advance(days=12)
    sweep(reports=world.reports, publish=world.publish, clock=world.clock, sla=sla)
    _deliver_all(world, directory, inbox)
    assert [m.event for m in inbox.of("pu-head")] == ["assigned", "escalated_1"]  # the head is staff too
    assert inbox.of("pu-head")[1].lang == "en" and inbox.of("op1") == []
    world.clock.advance(days=12)
    sweep(reports=world.reports, publish=world.publish, clock=world.clock, sla=sla)
    _deliver_all(world, directory, inbox)
    assert [m.event for m in inbox.of("op1")] == ["escalated_2"]
    assert [m.event for m in inbox.of("pu-staff")] == ["assigned"]  # escalations go up, not to the staff


def test_supporters_hear_what_the_reporter_hears_and_nobody_learns_who_reported(told):
    world, directory, inbox = told
    parent = world.routed("client-a")
    child = world.submit(actor=type(CITIZEN)(CITIZEN.role, "andi"), client_id="client-b")
    world.upload(f"incoming/{child}/photo")
    from keluhan.usecases.pipeline import locate_report, route_report
    from tests.unit.test_handling import FixedLocator

    locate_report(child, reports=world.reports, geo=FixedLocator(), publish=world.publish, clock=world.clock)
    route_report(child, reports=world.reports, decide=world.decide, publish=world.publish, clock=world.clock)
    world.act(child, "reject", PU, reason="duplicate", parent_id=parent)
    _to_closed(world, parent)
    _deliver_all(world, directory, inbox)
    told_andi = {(m.report_id, m.event) for m in inbox.of("andi")}
    assert (child, "duplicate") in told_andi and (parent, "closed") in told_andi  # through the parent
    for uid, box in inbox.messages.items():
        for message in box.values():
            text = message.title + message.body
            assert "siti" not in text and "andi" not in text and "Lubang besar" not in text, (uid, message)


def test_an_operators_triage_and_a_reporters_dispute_reach_the_operators(told):
    world, directory, inbox = told
    report_id = world.routed()
    world.act(report_id, "reject", PU, reason="not_a_problem", note="Sudah baik / Looks fine")
    world.act(report_id, "dispute", CITIZEN, note="Masih berlubang / Still a hole")
    _deliver_all(world, directory, inbox)
    assert [m.event for m in inbox.of(SITI)] == ["routed", "rejected"]
    assert "Sudah baik" in inbox.of(SITI)[1].body
    assert [m.event for m in inbox.of("op1")] == ["disputed"]
    assert "Masih berlubang" in inbox.of("op1")[0].body


def test_a_position_past_the_timeline_is_a_permanent_error(told):
    world, directory, inbox = told
    report_id = world.routed()
    with pytest.raises(PermanentError):
        notify_status_change(report_id, 99, reports=world.reports, directory=directory, inbox=inbox,
                             notified=world.notified, clock=world.clock)


def test_the_table_names_an_event_for_every_move_people_wait_for():
    assert set(NOTICES) >= {"routed", "assigned", "forwarded", "accepted", "in_progress", "resolved", "rejected",
                            "duplicate", "reopened", "closed", "escalated_1", "escalated_2", "disputed"}
    for notice in NOTICES.values():
        assert notice.title.keys() == notice.body.keys() == {"id", "en"}
    entry = TimelineEntry.model_validate({"status": "routed", "at": "2026-12-05T00:00:00Z", "by": "x",
                                          "action": "route"})
    assert event_of(entry) == "routed"
    assert message_id("r1", 3, "u", "inbox") != message_id("r1", 4, "u", "inbox")
    assert len({message_id("r1", 3, u, "inbox") for u in ("a", "b")}) == 2


def test_an_skpds_reassignment_tells_the_new_assignees_staff(told):
    world, directory, inbox = told
    report_id = world.routed()
    world.act(report_id, "reassign", OPERATOR, assignee="dishub", note="Rambu / A sign")
    _deliver_all(world, directory, inbox)
    assert [m.event for m in inbox.of("dishub-staff")] == ["assigned"]
    assert [m.event for m in inbox.of(SITI)] == ["routed", "routed"]


def test_docs_list_every_event_of_the_table():
    from keluhan.settings import REPO_ROOT

    text = (REPO_ROOT / "docs" / "notifications.md").read_text(encoding="utf-8")
    for event in NOTICES:
        assert f"| `{event}` |" in text, event


def test_a_status_change_whose_announcement_was_lost_is_announced_again_by_the_tick(told):
    from datetime import timedelta

    from keluhan.usecases.reconcile import ReconcilePolicy

    world, directory, inbox = told
    report_id = world.routed()
    world.act(report_id, "accept", PU)
    changes = [(d["report_id"], int(a["seq"])) for t, d, a in world.publish.messages if t == "report-status-changed"]
    *delivered, lost = changes  # the broker lost the last announcement (accepted)
    for rid, seq in delivered:
        notify_status_change(rid, seq, reports=world.reports, directory=directory, inbox=inbox, notified=world.notified,
                             clock=world.clock)
    assert [m.event for m in inbox.of(SITI)] == ["routed"]
    world.publish.messages.clear()
    policy = ReconcilePolicy(pipeline_after=timedelta(minutes=2))
    assert sweep(reports=world.reports, publish=world.publish, clock=world.clock, reconciler=policy,
                 dead_letters=FakeDeadLetters(), notified=world.notified)["notify_republished"] == 0  # too recent
    world.clock.advance(minutes=3)
    counts = sweep(reports=world.reports, publish=world.publish, clock=world.clock, reconciler=policy,
                   dead_letters=FakeDeadLetters(), notified=world.notified)
    assert counts["notify_republished"] == 1
    _deliver_all(world, directory, inbox)
    assert [m.event for m in inbox.of(SITI)] == ["routed", "accepted"] and lost[1] == inbox.of(SITI)[1].seq
    world.publish.messages.clear()
    assert sweep(reports=world.reports, publish=world.publish, clock=world.clock, reconciler=policy,
                 dead_letters=FakeDeadLetters(), notified=world.notified)["notify_republished"] == 0  # told now


def test_a_resident_who_supports_a_report_hears_its_changes_until_they_withdraw(told):
    world, directory, inbox = told
    report_id = world.routed()
    budi, ani = Actor(Role.WARGA, "budi"), Actor(Role.WARGA, "ani")
    world.support(report_id, budi)
    world.support(report_id, ani)
    world.act(report_id, "accept", PU)
    _deliver_all(world, directory, inbox, times=2)
    world.support(report_id, ani, undo=True)
    world.act(report_id, "start", PU)
    _deliver_all(world, directory, inbox)
    # Supporting announces the latest change again (the figures count supporters): a new supporter
    # is told where the report stands, once; everyone else was told already (the same message id).
    assert sorted(m.event for m in inbox.of("budi")) == ["accepted", "in_progress", "routed"]
    assert sorted(m.event for m in inbox.of("ani")) == ["accepted", "routed"]
    assert sorted(m.event for m in inbox.of(SITI)) == ["accepted", "in_progress", "routed"]
    assert all("budi" not in m.body and SITI not in m.body for m in inbox.of("ani"))


def test_a_staff_reply_is_told_to_the_reporter_once_and_an_internal_note_to_nobody(told):
    world, directory, inbox = told
    report_id = world.routed()
    world.support(report_id, Actor(Role.WARGA, "budi"))
    comments = FakeComments()
    limits = CommentLimits(per_hour=20, per_day=100)
    for visibility, client_id in (("internal", "note-0001"), ("public", "reply-001"), ("public", "reply-001")):
        cmd = CommentOnReport(report_id=report_id, client_id=client_id, text="Besok dikerjakan",
                              visibility=visibility)
        post_comment(cmd, actor=PU, reports=world.reports, comments=comments, publish=world.publish,
                     clock=world.clock, limits=limits)
    _deliver_all(world, directory, inbox, times=2)
    replies = [m for m in inbox.of(SITI) if m.event == "staff_reply"]
    assert len(replies) == 1 and "Besok" not in replies[0].body  # told of it; the words stay in the thread
    assert not [m for m in inbox.of("budi") if m.event == "staff_reply"]
    assert [e["event"] for e in world.reports.docs[report_id]["timeline"] if e.get("event")] == ["staff_reply"]


def test_the_reconciler_reads_a_told_report_once_and_an_untold_one_until_it_is_told(told):
    """Each tick starts where the last found every report told: a report is read again only while
    it (or one before it) still lacks a message, not at every tick of its first hour."""
    from datetime import timedelta

    from keluhan.usecases.notify import reconcile_notifications

    world, directory, inbox = told
    first, second = world.routed(client_id="client-0001"), world.routed(client_id="client-0002")
    world.act(second, "accept", PU)
    changes = [(d["report_id"], int(a["seq"])) for t, d, a in world.publish.messages if t == "report-status-changed"]
    *delivered, lost = changes  # the broker lost the second report's acceptance
    for rid, seq in delivered:
        notify_status_change(rid, seq, reports=world.reports, directory=directory, inbox=inbox,
                             notified=world.notified, clock=world.clock)
    read: list[str] = []
    changed_between = world.reports.changed_between

    def counted(**kwargs):
        found = changed_between(**kwargs)
        read.extend(r.report_id for r in found)
        return found

    world.reports.changed_between = counted

    def tick() -> int:
        world.clock.advance(minutes=5)
        world.publish.messages.clear()
        read.clear()
        return reconcile_notifications(reports=world.reports, notified=world.notified, publish=world.publish,
                                       clock=world.clock, after=timedelta(minutes=2), window=timedelta(hours=6))

    assert lost[0] == second
    assert tick() == 1 and sorted(read) == sorted([first, second])  # the first look: both read
    assert tick() == 1 and read == [second]  # the first was told: not read again; the second still lacks one
    _deliver_all(world, directory, inbox)
    assert tick() == 0 and read == [second]  # told now: checked once more
    assert tick() == 0 and read == []  # nothing changed since: nothing read
    world.act(first, "accept", PU)  # its timeline grows: read again, once it is past the threshold
    assert tick() == 1 and read == [first]
    world.notified.check_through(world.clock() + timedelta(days=1))  # a mark ahead of the clock (moved back):
    assert tick() == 1 and sorted(read) == sorted([first, second])  # ignored, the whole window read again
