"""Handling a report to the end: the SKPD's, the reporter's and the operators' moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from keluhan.domain.duplicates import duplicate_problem
from keluhan.domain.report import ActOnReport, Event, InvalidMove, NotPermitted, Report
from keluhan.domain.sla import SlaPolicy
from keluhan.domain.workflow import MOVES, Action, Actor, RejectReason, Role
from keluhan.ports import Clock, Holds, PhotoStore, Publisher, Reports
from keluhan.usecases.events import publish_event, publish_status_changed
from keluhan.usecases.pipeline import RoutingDecider, publish_routed
from keluhan.usecases.reassign import decision_for, reassignment


class ReportMissing(Exception):
    """No such report, or (for a citizen) not their own: the same 404 either way."""


@dataclass(frozen=True)
class HandlingPolicy:
    proof_wait: timedelta          # how long a proof upload is awaited before work resumes
    reopen_window: timedelta       # how long the reporter may dispute a fix
    url_ttl: timedelta
    max_bytes: int
    sla: SlaPolicy | None = None   # a reassigned city SKPD's clock starts at the hand-over


@dataclass(frozen=True)
class ActResult:
    report: dict[str, Any]
    upload: dict[str, Any] | None = None


def act_on_report(cmd: ActOnReport, *, actor: Actor, reports: Reports, publish: Publisher,
                  photos: PhotoStore, holds: Holds, decide: RoutingDecider, clock: Clock,
                  policy: HandlingPolicy) -> ActResult:
    """Make one move on a report, atomically with its timeline entry, and announce it.

    Raises ReportMissing (404), NotPermitted (403), StaleOrIllegal (409), InvalidMove (422).
    """
    now = clock()
    doc = reports.get(cmd.report_id)
    if doc is None:
        raise ReportMissing(cmd.report_id)
    reporter_uid = _reporter_uid(reports, doc)
    is_reporter = actor.role == Role.WARGA and reporter_uid == actor.id
    if actor.role == Role.WARGA and not is_reporter:
        raise ReportMissing(cmd.report_id)  # someone else's report does not exist for a citizen
    if cmd.action in ("hold", "unhold"):
        return ActResult(_hold(cmd, actor=actor, holds=holds, reporter_uid=reporter_uid, doc=doc, now=now))
    action = Action(cmd.action)
    if action == Action.REJECT and cmd.reason == RejectReason.DUPLICATE:
        _check_parent(reports, cmd, doc)

    def mutation(current: dict[str, Any]) -> dict[str, Any] | None:
        return _move(Report.from_doc(current), cmd, action, actor=actor, is_reporter=is_reporter, now=now,
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
        resolution = after["resolution"]
        expires_at = min(now + policy.url_ttl, resolution["deadline"])
        upload = photos.upload_url(resolution["object"], content_types=(cmd.photo_content_type,),
                                   max_bytes=policy.max_bytes, expires_at=expires_at)
    elif action == Action.REJECT and cmd.reason == RejectReason.DUPLICATE and cmd.parent_id:
        _count_supporter(reports, cmd.parent_id, cmd.report_id)
    return ActResult(after, upload)


def _move(report: Report, cmd: ActOnReport, action: Action, *, actor: Actor, is_reporter: bool,
          now: datetime, decide: RoutingDecider, policy: HandlingPolicy) -> dict[str, Any] | None:
    common: dict[str, Any] = {"actor": actor, "is_reporter": is_reporter, "expected_status": cmd.expected_status,
              "now": now}
    if action == Action.REJECT:
        assert cmd.reason is not None  # the request model requires it
        return report.reject(cmd.reason, note=cmd.note, parent_id=cmd.parent_id, **common)
    if action == Action.RESOLVE:
        return report.request_proof(note=cmd.note, proof_wait=policy.proof_wait, **common)
    if action == Action.REOPEN:
        return report.reopen(note=cmd.note, **common)
    if action == Action.REASSIGN:
        decision = decision_for(report, to=cmd.assignee, reason=cmd.note, decide=decide)
        return reassignment(report, decision, actor=actor, reason=cmd.note, now=now,
                            expected_status=cmd.expected_status, sla=policy.sla)
    (to,) = MOVES[action].targets
    fields = {"closed_at": now} if action == Action.CONFIRM else None
    return report.act(action, to=to, note=cmd.note, fields=fields, **common)


def _hold(cmd: ActOnReport, *, actor: Actor, holds: Holds, reporter_uid: str | None, doc: dict[str, Any],
          now: datetime) -> dict[str, Any]:
    """An operator holds (or releases) the reporter of a report: their new reports go to moderation."""
    if actor.role != Role.OPERATOR:
        raise NotPermitted(f"hanya operator yang boleh {cmd.action} / only operators may {cmd.action}")
    if reporter_uid is None:
        raise InvalidMove("report_id", "pelapor tidak diketahui / the reporter is unknown")
    if cmd.action == "hold":
        holds.hold(reporter_uid, {"at": now, "by": actor.label, "note": cmd.note, "report_id": cmd.report_id})
    else:
        holds.unhold(reporter_uid)
    return doc


def _check_parent(reports: Reports, cmd: ActOnReport, doc: dict[str, Any]) -> None:
    parent = reports.get(cmd.parent_id) if cmd.parent_id else None
    problem = duplicate_problem(doc, parent)
    if problem is not None:
        raise InvalidMove("parent_id", problem)


def _count_supporter(reports: Reports, parent_id: str, child_id: str) -> None:
    """The parent counts each duplicate once (a retried reject adds nothing)."""
    def mutation(parent: dict[str, Any]) -> dict[str, Any] | None:
        duplicates = parent.get("duplicates") or []
        if child_id in duplicates:
            return None
        return {"duplicates": [*duplicates, child_id], "supporters": len(duplicates) + 1}

    reports.mutate(parent_id, mutation)


def _reporter_uid(reports: Reports, doc: dict[str, Any]) -> str | None:
    submission = reports.submission(doc.get("reporter_ref", "")) if doc.get("reporter_ref") else None
    return submission["reporter_uid"] if submission else None
