"""A report's thread: post a comment, read the thread, hide a comment (operators)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from keluhan.domain.comments import (
    THREAD_MAX,
    Comment,
    CommentOnReport,
    CommentView,
    Hidden,
    Participant,
    author_key,
    author_label,
    comment_id,
    comment_view,
    may_post,
    participant,
    text_hash,
    visible,
)
from keluhan.domain.report import InvalidMove, NotPermitted, Report, support_ref
from keluhan.domain.workflow import Actor, Role
from keluhan.ports import Clock, Comments, Publisher, Reports
from keluhan.usecases.events import publish_status_changed
from keluhan.usecases.handling import ReportMissing, reporter_uid


@dataclass(frozen=True)
class CommentLimits:
    """At most `per_hour` comments in any hour and `per_day` in any day, per author."""

    per_hour: int
    per_day: int


class TooManyComments(Exception):
    """The author posted as many comments as allowed in `window` (429)."""

    def __init__(self, window: str, limit: int, retry_after_s: int):
        super().__init__(window)
        self.window, self.limit, self.retry_after_s = window, limit, retry_after_s


class CommentConflict(Exception):
    """The same client_id was used for other words (409)."""


@dataclass(frozen=True)
class Posted:
    comment: CommentView
    created: bool


def _place(report_id: str, actor: Actor, reports: Reports) -> tuple[Report, Participant]:
    """The report and the caller's place in its thread. ReportMissing (404) for an unknown report
    and for a citizen outside the thread (as for act_on_report: nothing is revealed); NotPermitted
    (403) for staff of another SKPD and channels."""
    report = reports.get(report_id)
    if report is None:
        raise ReportMissing(report_id)
    is_reporter = actor.role == Role.WARGA and reporter_uid(reports, report) == actor.id
    is_supporter = actor.role == Role.WARGA and support_ref(report_id, actor.id) in report.supporter_refs
    who = participant(actor, assignee=report.assignee, is_reporter=is_reporter, is_supporter=is_supporter)
    if who is None:
        if actor.role == Role.WARGA:
            raise ReportMissing(report_id)
        raise NotPermitted("laporan ini bukan milik SKPD Anda / this report is not assigned to your agency")
    return report, who


def read_thread(report_id: str, *, actor: Actor, reports: Reports, comments: Comments) -> list[CommentView]:
    """The thread as the caller may read it: citizens the public comments, staff every one."""
    _, who = _place(report_id, actor, reports)
    reader = author_key(actor.id)
    return [comment_view(c, who, reader_key=reader) for c in comments.thread(report_id, limit=THREAD_MAX)
            if visible(c, who)]


def post_comment(cmd: CommentOnReport, *, actor: Actor, reports: Reports, comments: Comments,
                 publish: Publisher, clock: Clock, limits: CommentLimits) -> Posted:
    """Post a comment once per client_id; a public reply of staff is told to the reporter.

    Raises ReportMissing (404), NotPermitted (403: outside the thread, or a citizen's internal
    note), CommentConflict (409), TooManyComments (429).
    """
    assert cmd.client_id is not None  # the request model requires it to post
    report, who = _place(cmd.report_id, actor, reports)
    if not may_post(who, cmd.visibility):
        raise NotPermitted("catatan internal hanya untuk petugas / internal notes are for staff only")
    now = clock()
    key = author_key(actor.id)
    new = Comment(comment_id=comment_id(cmd.report_id, actor.id, cmd.client_id), report_id=cmd.report_id,
                  author_key=key, author_role=who.role, author=author_label(who, actor),
                  visibility=cmd.visibility, text=cmd.text, text_hash=text_hash(cmd.text, cmd.visibility), at=now)
    existing = comments.get(new.comment_id)
    if existing is None:
        _check_rate(key, now=now, comments=comments, limits=limits)
        stored, created = comments.add(new)
    else:
        stored, created = existing, False
    if stored.text_hash != new.text_hash:
        raise CommentConflict(stored.comment_id)
    if who.staff and stored.visibility == "public":
        # Told once per comment (a timeline entry keyed by it): a retry re-announces, notify dedupes.
        after = reports.mutate(report.report_id, lambda current: current.staff_replied(
            stored.comment_id, actor=actor, now=stored.at))
        if after is not None:
            publish_status_changed(publish, after, _seq_of(after, stored.comment_id))
    return Posted(comment_view(stored, who, reader_key=key), created)


def hide_comment(cmd: CommentOnReport, *, actor: Actor, reports: Reports, comments: Comments,
                 clock: Clock) -> CommentView:
    """An operator hides a comment of the report's thread, with the reason (the first hiding stands)."""
    assert cmd.comment_id is not None  # the request model requires it to hide
    _, who = _place(cmd.report_id, actor, reports)
    if who.role != "operator":
        raise NotPermitted("hanya operator yang boleh menyembunyikan / only operators may hide a comment")
    found = comments.get(cmd.comment_id)
    if found is None or found.report_id != cmd.report_id:
        raise InvalidMove("comment_id", "komentar tidak ada di laporan ini / no such comment on this report")
    hidden = comments.hide(cmd.comment_id, Hidden(by=actor.label, reason=cmd.reason, at=clock()))
    assert hidden is not None  # it was there a moment ago; comments are never deleted
    return comment_view(hidden, who, reader_key=author_key(actor.id))


def _check_rate(key: str, *, now: datetime, comments: Comments, limits: CommentLimits) -> None:
    for window, span, limit in (("hour", timedelta(hours=1), limits.per_hour),
                                ("day", timedelta(days=1), limits.per_day)):
        if comments.posted_since(key, now - span) >= limit:
            raise TooManyComments(window, limit, int(span.total_seconds() // (limit or 1)))


def _seq_of(report: Report, comment: str) -> int:
    return next(i for i, e in enumerate(report.timeline) if e.comment_id == comment)
