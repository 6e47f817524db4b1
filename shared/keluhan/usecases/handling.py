"""Handling a report to the end: the SKPD's, the reporter's and the operators' moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from keluhan.domain.duplicates import duplicate_problem
from keluhan.domain.report import (
    PRIVACY_ACTIONS,
    RATE,
    ActOnReport,
    Event,
    InvalidMove,
    NotPermitted,
    Rating,
    Report,
    support_ref,
)
from keluhan.domain.sla import SlaPolicy
from keluhan.domain.workflow import Action, Actor, RejectReason, Role, ScheduleReason
from keluhan.ports import Clock, Holds, PhotoStore, Publisher, Reports, Supporters
from keluhan.usecases.events import publish_event, publish_status_changed
from keluhan.usecases.pipeline import RoutingDecider, publish_routed
from keluhan.usecases.reassign import decision_for


class ReportMissing(Exception):
    """No such report, or (for a citizen) not their own: the same 404 either way."""


@dataclass(frozen=True)
class HandlingPolicy:
    proof_wait: timedelta          # how long a proof upload is awaited before work resumes
    reopen_window: timedelta       # how long the reporter may dispute a fix, or a rejection
    url_ttl: timedelta
    max_bytes: int
    sla: SlaPolicy | None = None   # a reassigned city SKPD's clock starts at the hand-over
    answer_wait: timedelta = timedelta(days=14)          # unanswered questions close after this
    schedule_max_ahead: timedelta = timedelta(days=730)  # how far ahead work may be scheduled


@dataclass(frozen=True)
class ActResult:
    report: Report
    upload: dict[str, Any] | None = None  # Any: the signed upload as the client receives it


def act_on_report(cmd: ActOnReport, *, actor: Actor, reports: Reports, publish: Publisher,
                  photos: PhotoStore, holds: Holds, decide: RoutingDecider, clock: Clock,
                  policy: HandlingPolicy, supporters: Supporters) -> ActResult:
    """Make one move on a report, atomically with its timeline entry, and announce it.

    Raises ReportMissing (404), NotPermitted (403), StaleOrIllegal (409), InvalidMove (422).
    """
    now = clock()
    report = reports.get(cmd.report_id)
    if report is None:
        raise ReportMissing(cmd.report_id)
    uid = reporter_uid(reports, report)
    is_reporter = actor.role == Role.WARGA and uid == actor.id
    if actor.role == Role.WARGA and not is_reporter:
        raise ReportMissing(cmd.report_id)  # someone else's report does not exist for a citizen
    if cmd.action in ("hold", "unhold"):
        _hold(cmd, actor=actor, holds=holds, reporter_uid=uid, now=now)
        return ActResult(report)
    if cmd.action == RATE:
        return _rate(cmd, actor=actor, is_reporter=is_reporter, reports=reports, publish=publish, now=now,
                     policy=policy)
    if cmd.action in PRIVACY_ACTIONS:
        return ActResult(_set_private(cmd, reports=reports, is_reporter=is_reporter))
    action = Action(cmd.action)
    if action == Action.REJECT and cmd.reason == RejectReason.DUPLICATE:
        _check_parent(reports, cmd, report)

    def mutation(current: Report) -> Report | None:
        return _move(current, cmd, action, actor=actor, is_reporter=is_reporter, now=now,
                     decide=decide, policy=policy)

    after = reports.mutate(cmd.report_id, mutation)
    if after is None:
        raise ReportMissing(cmd.report_id)
    publish_status_changed(publish, after)
    upload = None
    if action == Action.APPROVE:
        publish_event(publish, Event(name="ReportAccepted", report_id=cmd.report_id))
    elif action == Action.REASSIGN:
        publish_routed(publish, after)
    elif action == Action.RESOLVE:
        resolution = after.resolution
        assert resolution is not None and resolution.deadline is not None  # set by the resolve move
        expires_at = min(now + policy.url_ttl, resolution.deadline)
        upload = photos.upload_url(resolution.object, content_types=(cmd.photo_content_type,),
                                   max_bytes=policy.max_bytes, expires_at=expires_at)
    elif action == Action.REJECT and cmd.reason == RejectReason.DUPLICATE and cmd.parent_id:
        move_supporters(child=after, parent_id=cmd.parent_id, reports=reports, supporters=supporters,
                        publish=publish, clock=clock)
        after = reports.get(cmd.report_id) or after
    return ActResult(after, upload)


def _move(report: Report, cmd: ActOnReport, action: Action, *, actor: Actor, is_reporter: bool,
          now: datetime, decide: RoutingDecider, policy: HandlingPolicy) -> Report | None:
    expected = cmd.expected_status
    if action == Action.REJECT:
        assert isinstance(cmd.reason, RejectReason)  # the request model requires it
        return report.reject(cmd.reason, note=cmd.note, parent_id=cmd.parent_id, actor=actor,
                             is_reporter=is_reporter, expected_status=expected, now=now)
    if action == Action.RESOLVE:
        return report.request_proof(note=cmd.note, proof_wait=policy.proof_wait, actor=actor,
                                    is_reporter=is_reporter, expected_status=expected, now=now)
    if action == Action.REOPEN:
        return report.reopen(note=cmd.note, actor=actor, is_reporter=is_reporter, expected_status=expected, now=now)
    if action == Action.DISPUTE:
        return report.dispute(note=cmd.note, actor=actor, is_reporter=is_reporter, expected_status=expected,
                              now=now, window=policy.reopen_window)
    if action == Action.CONFIRM:
        rating = Rating(score=cmd.rating, text=cmd.rating_text, at=now) if cmd.rating is not None else None
        return report.confirm(note=cmd.note, actor=actor, is_reporter=is_reporter, expected_status=expected, now=now,
                              rating=rating)
    if action == Action.SCHEDULE:
        assert isinstance(cmd.reason, ScheduleReason) and cmd.scheduled_for is not None  # the request model
        return report.schedule_for(cmd.reason, cmd.scheduled_for, note=cmd.note, actor=actor,
                                   is_reporter=is_reporter, expected_status=expected, now=now,
                                   max_ahead=policy.schedule_max_ahead)
    if action == Action.ASK_REPORTER:
        return report.ask_reporter(note=cmd.note, actor=actor, is_reporter=is_reporter, expected_status=expected,
                                   now=now, answer_window=policy.answer_wait)
    if action == Action.ANSWER:
        return report.answer(note=cmd.note, actor=actor, is_reporter=is_reporter, expected_status=expected, now=now)
    if action == Action.VALIDATE:
        return report.pass_audit(note=cmd.note, actor=actor, is_reporter=is_reporter, expected_status=expected,
                                 now=now, reopen_window=policy.reopen_window)
    if action == Action.REFUSE_VALIDATION:
        return report.refuse_audit(note=cmd.note, actor=actor, is_reporter=is_reporter,
                                   expected_status=expected, now=now)
    if action == Action.REASSIGN:
        decision = decision_for(report, to=cmd.assignee, reason=cmd.note, decide=decide)
        return report.reassign(decision, actor=actor, reason=cmd.note, now=now, expected_status=expected,
                               sla=policy.sla)
    return report.act(action, note=cmd.note, actor=actor, is_reporter=is_reporter, expected_status=expected,
                      now=now)


def _hold(cmd: ActOnReport, *, actor: Actor, holds: Holds, reporter_uid: str | None, now: datetime) -> None:
    """An operator holds (or releases) the reporter of a report: their new reports go to moderation."""
    if actor.role != Role.OPERATOR:
        raise NotPermitted(f"hanya operator yang boleh {cmd.action} / only operators may {cmd.action}")
    if reporter_uid is None:
        raise InvalidMove("report_id", "pelapor tidak diketahui / the reporter is unknown")
    if cmd.action == "hold":
        holds.hold(reporter_uid, {"at": now, "by": actor.label, "note": cmd.note, "report_id": cmd.report_id})
    else:
        holds.unhold(reporter_uid)


def _set_private(cmd: ActOnReport, *, reports: Reports, is_reporter: bool) -> Report:
    """The reporter keeps the report out of public answers (`make_private`) or shows it again; the
    listing tags and the staff view follow in the same write. No status changes."""
    if not is_reporter:
        raise NotPermitted(f"hanya pelapor yang boleh {cmd.action} / only the reporter may {cmd.action}")
    after = reports.mutate(cmd.report_id, lambda current: current.set_private(cmd.action == "make_private"))
    if after is None:
        raise ReportMissing(cmd.report_id)
    return after


def _check_parent(reports: Reports, cmd: ActOnReport, report: Report) -> None:
    parent = reports.get(cmd.parent_id) if cmd.parent_id else None
    problem = duplicate_problem(report, parent)
    if problem is not None:
        raise InvalidMove("parent_id", problem)


def _rate(cmd: ActOnReport, *, actor: Actor, is_reporter: bool, reports: Reports, publish: Publisher,
          now: datetime, policy: HandlingPolicy) -> ActResult:
    """The reporter rates a fix the sweep tick closed, within the reopen window of the close."""
    assert cmd.rating is not None  # the request model requires it
    rating = Rating(score=cmd.rating, text=cmd.rating_text, at=now)
    after = reports.mutate(cmd.report_id, lambda current: current.rate(
        rating, actor=actor, is_reporter=is_reporter, window=policy.reopen_window))
    if after is None:
        raise ReportMissing(cmd.report_id)
    publish_status_changed(publish, after)  # the figures count the rating (a timeline entry, no status change)
    return ActResult(after)


def move_supporters(*, child: Report, parent_id: str, reports: Reports, supporters: Supporters,
                    publish: Publisher, clock: Clock) -> None:
    """A duplicate's reporter and supporters support its parent now (each once; the parent's own
    reporter is not their own supporter), and the duplicate keeps none; each step is idempotent.
    Both reports' latest changes are announced again: the figures count supporters."""
    parent = reports.get(parent_id)
    if parent is None:
        return
    parent_reporter = reporter_uid(reports, parent)
    child_reporter = reporter_uid(reports, child)
    people = [uid for uid in (child_reporter, *supporters.uids(child.supporter_refs))
              if uid is not None and uid != parent_reporter]
    now = clock()
    made = []
    for uid in dict.fromkeys(people):
        ref = support_ref(parent_id, uid)
        supporters.remember(ref, report_id=parent_id, uid=uid, at=now)
        made.append(ref)
    # A channel's report has no person behind it: still one voice more (supported_by's None).
    refs = None if child_reporter is None and not child.supporter_refs else made
    for report_id, change in ((parent_id, lambda current: current.supported_by(child.report_id, refs)),
                              (child.report_id, lambda current: current.supporters_moved())):
        after = reports.mutate(report_id, change)
        if after is not None:
            publish_status_changed(publish, after)


def reporter_uid(reports: Reports, report: Report) -> str | None:
    """Who reported (from submissions/{key}); None for a report without a person's submission."""
    submission = reports.submission(report.reporter_ref) if report.reporter_ref else None
    return submission["reporter_uid"] if submission else None
