"""Telling everyone who should know, once: each status change → one message per recipient and channel.

Triggered by `report-status-changed` (report id and timeline position `seq`). The message id is
derived from (report, seq, recipient, channel) and the inbox stores a message only if its id is
new, so a redelivered, duplicated or re-published event adds nothing, and a crash half-way is
finished by the redelivery.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from keluhan.domain.notify import (
    Audience,
    Message,
    Notice,
    assignee_at,
    channel_of,
    notices,
    render,
    render_digest,
    tells_anyone,
)
from keluhan.domain.push import Preferences
from keluhan.domain.report import Report
from keluhan.domain.subscriptions import digest_day, digest_due_at, report_keys
from keluhan.ports import (
    Clock,
    Digests,
    Directory,
    Inbox,
    Notified,
    PermanentError,
    PreferenceStore,
    Publisher,
    Recipient,
    Reports,
    Subscriptions,
    Supporters,
)
from keluhan.usecases.events import publish_status_changed
from keluhan.usecases.pipeline import ReportNotFound
from keluhan.usecases.push import PushPorts, queue_push


def notify_status_change(report_id: str, seq: int, *, reports: Reports, directory: Directory, inbox: Inbox,
                         notified: Notified, clock: Clock, preferences: PreferenceStore | None = None,
                         push: PushPorts | None = None, subscriptions: Subscriptions | None = None,
                         digests: Digests | None = None,
                         supporters: Supporters | None = None,
                         whatsapp: Callable[[Message], bool] | None = None,
                         announced: tuple[str, str] | None = None) -> int:
    """Deliver the messages of the report's timeline entry `seq`, then record it told; how many were new.

    With `preferences`, each recipient's chosen language; with `push`, each inbox message is also
    pushed to the recipient's devices (unless they muted the report; non-urgent ones after their
    quiet hours), its send recorded before the position is recorded told. With `subscriptions`,
    the area's subscribers are told of a new report; those who chose a digest have it counted in
    the day's digest (`digests`) instead. With `supporters`, those who support the report (kept
    by their refs) are among its supporters. Each recipient gets one message per position: the
    first row naming them decides which (a reporter subscribed to their own kelurahan hears
    `routed`, not also `new_in_area`). A WhatsApp reporter (`wa:…`) has no inbox, devices or
    preferences: their messages go out only through `whatsapp` (idempotent per message id).

    `announced` is the move as the message names it (action, resulting status): a pipeline step
    nobody is told of (received, verified, located, …) is then known without reading anything."""
    if announced is not None and not tells_anyone(*announced):
        return 0  # as `notices` would find after two reads; nothing for the reconciler to check
    if seq in notified.positions([report_id])[report_id]:
        return 0  # every message of it is stored: a redelivery or a re-publish costs this one read
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
    seen: set[str] = set()
    at_once, daily = (area_subscribers(report, subscriptions)  # one indexed query, for both
                      if subscriptions is not None and any("subscribers" in n.audiences for n in told) else ([], []))
    for notice in told:
        found = [r for r in recipients(notice.audiences, report, seq, reports=reports, directory=directory,
                                       subscribers=at_once, supporters=supporters) if r.uid not in seen]
        seen.update(r.uid for r in found)
        in_app = [r for r in found if channel_of(r.uid) == "inbox"]
        for recipient in (r for r in found if channel_of(r.uid) == "whatsapp"):  # WhatsApp only: no inbox, no push
            message = render(notice, report, seq, recipient=recipient.uid, lang=recipient.lang,
                             channel="whatsapp", now=now)
            new += bool(whatsapp and whatsapp(message))
        if in_app:
            new += _tell_in_app(notice, report, seq, in_app, inbox=inbox, preferences=preferences, push=push,
                                clock=clock, now=now)
        if "subscribers" in notice.audiences and digests is not None:
            day = digest_day(report.timeline[seq].at)
            for recipient in daily:
                if recipient.uid not in seen:
                    seen.add(recipient.uid)
                    digests.add(recipient.uid, day.isoformat(), report_id, lang=recipient.lang,
                                due_at=digest_due_at(day))
    notified.record(report_id, seq, now)  # after every message: a crash before leaves it to the reconciler
    return new


def _tell_in_app(notice: Notice, report: Report, seq: int, recipients: list[Recipient], *, inbox: Inbox,
                 preferences: PreferenceStore | None, push: PushPorts | None, clock: Clock, now: datetime) -> int:
    """The notice's inbox messages, each pushed to its recipient's devices; how many were new.

    Each recipient's preferences, the messages stored in one write, and the devices of those who did
    not mute the report read together: a few calls whatever the number of recipients (an SKPD's
    staff are told together)."""
    prefs = preferences.get_many([r.uid for r in recipients]) if preferences is not None else {}
    chosen = {r.uid: prefs.get(r.uid, Preferences()) for r in recipients}
    messages = [render(notice, report, seq, recipient=r.uid, lang=chosen[r.uid].lang or r.lang,
                       channel="inbox", now=now) for r in recipients]
    new = inbox.deliver(messages)
    if push is None:
        return new
    pushed = [m for m in messages if report.report_id not in chosen[m.recipient].muted_reports]
    devices = push.devices.of_many([m.recipient for m in pushed]) if pushed else {}
    for message in pushed:
        if devices[message.recipient]:
            other = render(notice, report, seq, recipient=message.recipient,
                           lang="en" if message.lang == "id" else "id", channel="inbox", now=now)
            queue_push(message, other, urgent=notice.urgent, prefs=chosen[message.recipient],
                       devices=devices[message.recipient], push=push, clock=clock)
    return new


def reconcile_notifications(*, reports: Reports, notified: Notified, publish: Publisher, clock: Clock,
                            after: timedelta, window: timedelta = timedelta(hours=1), limit: int = 200,
                            page: int = 100) -> int:
    """Announce again every timeline entry whose messages were never all stored (its announcement
    lost by the broker, or every delivery failed): reports whose timeline grew in
    [now - window, now - after) (status changes, escalations, failed deliveries alike), each
    timeline position with notices that `notified` lacks.
    At most `limit` re-publishes per tick; how many. `notify` dedupes, so a slow one costs nothing.

    A tick starts where the last one found every report told (`notified.checked_until`), and keeps
    how far this one did: up to its end, or to the first report it had to announce again (the
    next tick checks that one, and what follows it, once more). A report is read again only when
    its timeline grows, or while one before it is still not told: at a tick every 5 minutes,
    about once instead of a dozen times in its first hour."""
    now = clock()
    start, end = now - window, now - after
    if (mark := notified.checked_until()) is not None and mark <= end:  # (a mark ahead of the clock: ignored)
        start = max(start, mark)
    republished = 0
    first_untold: datetime | None = None
    cursor: tuple[datetime, str] | None = None
    while republished < limit and start < end:
        changed = reports.changed_between(start=start, end=end, limit=page, start_after=cursor)
        told = notified.positions([r.report_id for r in changed]) if changed else {}
        for report in changed:
            untold = [seq for seq in range(len(report.timeline))
                      if seq not in told[report.report_id] and notices(report, seq)]
            if untold and first_untold is None:
                first_untold = report.timeline_at or report.status_changed_at
            for seq in untold:
                if republished < limit:
                    publish_status_changed(publish, report, seq)
                    republished += 1
        if len(changed) < page:
            break
        last = changed[-1]
        cursor = (last.timeline_at or last.status_changed_at, last.report_id)
    # Stopped early only at the limit, which only an untold report reaches: first_untold is set then.
    if start < end:
        notified.check_through(first_untold if first_untold is not None else end)
    return republished


def send_digests(*, digests: Digests, reports: Reports, inbox: Inbox, clock: Clock, limit: int = 200) -> int:
    """The daily job: one message per digest subscriber and day, for every digest now due; how
    many were new. The message id is (recipient, day, channel), so a tick that crashes before
    marking a digest sent, or runs twice, sends nothing twice."""
    now = clock()
    new = 0
    for uid, day, lang, report_ids in digests.due(before=now, limit=limit):
        found = [r for r in (reports.get(i) for i in sorted(set(report_ids))) if r is not None]
        if found:
            new += inbox.deliver([render_digest(found, recipient=uid, day=day, lang=lang, channel="inbox", now=now)])
        digests.mark_sent(uid, day, now)
    return new


def area_subscribers(report: Report, subscriptions: Subscriptions) -> tuple[list[Recipient], list[Recipient]]:
    """(told at once, told in the day's digest): the users with a subscription the report matches,
    found by its kelurahan's and cell's keys; at once if any of a user's matching subscriptions
    asks for each report."""
    at_once: dict[str, Recipient] = {}
    daily: dict[str, Recipient] = {}
    for sub in subscriptions.matching(report_keys(report)):
        if sub.matches(report):
            (daily if sub.digest else at_once).setdefault(sub.uid, Recipient(sub.uid, sub.lang))
    return list(at_once.values()), [r for uid, r in daily.items() if uid not in at_once]


def recipients(audiences: tuple[Audience, ...], report: Report, seq: int, *, reports: Reports,
               directory: Directory, subscriptions: Subscriptions | None = None,
               subscribers: list[Recipient] | None = None,
               supporters: Supporters | None = None) -> list[Recipient]:
    """Everyone in the audiences, each once (the first audience naming them decides the language).
    The area's subscribers are `subscribers` when given (found already), else asked of `subscriptions`."""
    if subscribers is None:
        asked = subscriptions is not None and "subscribers" in audiences
        subscribers = area_subscribers(report, subscriptions)[0] if asked and subscriptions is not None else []
    found: dict[str, Recipient] = {}
    for audience in audiences:
        chosen = subscribers if audience == "subscribers" else _audience(audience, report, seq, reports=reports,
                                                                         directory=directory,
                                                                         supporters=supporters)
        for recipient in chosen:
            found.setdefault(recipient.uid, recipient)
    return list(found.values())


def _audience(audience: Audience, report: Report, seq: int, *, reports: Reports,
              directory: Directory, supporters: Supporters | None = None) -> list[Recipient]:
    if audience == "reporter":
        return _reporter(report, reports)
    if audience == "supporters":
        # Who supports it ("dukung", or moved here with a duplicate: supports/{ref}), and the
        # reporters of its duplicates (reports merged before supporters were kept by ref).
        people = [Recipient(uid) for uid in (supporters.uids(report.supporter_refs) if supporters else [])]
        return people + [r for d in report.duplicates if (dup := reports.get(d)) is not None
                         for r in _reporter(dup, reports)]
    if audience == "operators":
        return directory.operators()
    assignee = assignee_at(report, seq)  # whom the event concerns, not whoever has the report now
    if assignee is None:
        return []
    return directory.staff(assignee, heads_only=audience == "assignee_head")


def _reporter(report: Report, reports: Reports) -> list[Recipient]:
    """A citizen who reported from the app or WhatsApp; other channels' reports are answered
    through the channel."""
    if report.channel not in ("warga", "whatsapp") or not report.reporter_ref:
        return []
    submission = reports.submission(report.reporter_ref)
    if submission is None:
        return []
    return [Recipient(submission["reporter_uid"], submission.get("lang", "id"))]
