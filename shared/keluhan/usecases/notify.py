"""Telling everyone who should know, once: each status change → one message per recipient and channel.

Triggered by `report-status-changed` (report id and timeline position `seq`). The message id is
derived from (report, seq, recipient, channel) and the inbox stores a message only if its id is
new, so a redelivered, duplicated or re-published event adds nothing, and a crash half-way is
finished by the redelivery.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from keluhan.domain.notify import Audience, assignee_at, notices, render
from keluhan.domain.push import Preferences
from keluhan.domain.report import Report
from keluhan.ports import (
    Clock,
    Directory,
    Inbox,
    Notified,
    PermanentError,
    PreferenceStore,
    Publisher,
    Recipient,
    Reports,
)
from keluhan.usecases.events import publish_status_changed
from keluhan.usecases.pipeline import ReportNotFound
from keluhan.usecases.push import PushPorts, queue_push


def notify_status_change(report_id: str, seq: int, *, reports: Reports, directory: Directory, inbox: Inbox,
                         notified: Notified, clock: Clock, preferences: PreferenceStore | None = None,
                         push: PushPorts | None = None) -> int:
    """Deliver the messages of the report's timeline entry `seq`, then record it told; how many were new.

    With `preferences`, each recipient's chosen language; with `push`, each inbox message is also
    pushed to the recipient's devices (unless they muted the report; non-urgent ones after their
    quiet hours), its send recorded before the position is recorded told."""
    report = reports.get(report_id)
    if report is None:
        raise ReportNotFound(f"laporan {report_id} tidak ditemukan / report not found")
    if not 0 <= seq < len(report.timeline):
        raise PermanentError(f"laporan {report_id} tidak punya entri {seq} / report has no timeline entry {seq}")
    told = notices(report, seq)
    if not told:
        return 0  # a pipeline step nobody waits for: nothing to send, nothing for the reconciler to check
    now = clock()
    new = 0
    for notice in told:
        found = recipients(notice.audiences, report, seq, reports=reports, directory=directory)
        prefs = preferences.get_many([r.uid for r in found]) if preferences is not None and found else {}
        for recipient in found:
            chosen = prefs.get(recipient.uid, Preferences())
            lang = chosen.lang or recipient.lang
            message = render(notice, report, seq, recipient=recipient.uid, lang=lang, channel="inbox", now=now)
            new += inbox.deliver(message)
            if push is not None:
                other = render(notice, report, seq, recipient=recipient.uid, lang="en" if lang == "id" else "id",
                               channel="inbox", now=now)
                queue_push(message, other, urgent=notice.urgent, prefs=chosen, push=push, clock=clock)
    notified.record(report_id, seq, now)  # after every message: a crash before leaves it to the reconciler
    return new


def reconcile_notifications(*, reports: Reports, notified: Notified, publish: Publisher, clock: Clock,
                            after: timedelta, window: timedelta = timedelta(hours=1), limit: int = 200,
                            page: int = 100) -> int:
    """Announce again every status change whose messages were never all stored (its announcement
    lost by the broker, or every delivery failed): reports whose status changed in
    [now - window, now - after), each timeline position with notices that `notified` lacks.
    At most `limit` re-publishes per tick; how many. `notify` dedupes, so a slow one costs nothing."""
    now = clock()
    republished = 0
    cursor: tuple[datetime, str] | None = None
    while republished < limit:
        changed = reports.changed_between(start=now - window, end=now - after, limit=page, start_after=cursor)
        told = notified.positions([r.report_id for r in changed]) if changed else {}
        for report in changed:
            for seq in range(len(report.timeline)):
                if republished < limit and seq not in told[report.report_id] and notices(report, seq):
                    publish_status_changed(publish, report, seq)
                    republished += 1
        if len(changed) < page:
            break
        cursor = (changed[-1].status_changed_at, changed[-1].report_id)
    return republished


def recipients(audiences: tuple[Audience, ...], report: Report, seq: int, *, reports: Reports,
               directory: Directory) -> list[Recipient]:
    """Everyone in the audiences, each once (the first audience naming them decides the language)."""
    found: dict[str, Recipient] = {}
    for audience in audiences:
        for recipient in _audience(audience, report, seq, reports=reports, directory=directory):
            found.setdefault(recipient.uid, recipient)
    return list(found.values())


def _audience(audience: Audience, report: Report, seq: int, *, reports: Reports,
              directory: Directory) -> list[Recipient]:
    if audience == "reporter":
        return _reporter(report, reports)
    if audience == "supporters":  # the reporters of the reports closed as duplicates of this one
        return [r for d in report.duplicates if (dup := reports.get(d)) is not None for r in _reporter(dup, reports)]
    if audience == "operators":
        return directory.operators()
    assignee = assignee_at(report, seq)  # whom the event concerns, not whoever has the report now
    if assignee is None:
        return []
    return directory.staff(assignee, heads_only=audience == "assignee_head")


def _reporter(report: Report, reports: Reports) -> list[Recipient]:
    """A citizen who reported from the app; a channel's reports are answered through the channel."""
    if report.channel != "warga" or not report.reporter_ref:
        return []
    submission = reports.submission(report.reporter_ref)
    if submission is None:
        return []
    return [Recipient(submission["reporter_uid"], submission.get("lang", "id"))]
