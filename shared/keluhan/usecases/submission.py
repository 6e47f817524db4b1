"""Submitting a report: idempotent on (reporter, client_id), nothing published twice needlessly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from keluhan.domain.quota import Limits, windows
from keluhan.domain.report import Event, Report, Status, Submission, SubmitReport, submission_key
from keluhan.domain.sla import aware
from keluhan.domain.workflow import MOVES, Action, Actor, Role
from keluhan.ports import Clock, Holds, PhotoStore, Publisher, Reports
from keluhan.usecases.events import publish_event, publish_status_changed


class IdempotencyConflict(Exception):
    """The same (reporter, client_id) was used for a different report body."""

    def __init__(self, report_id: str):
        super().__init__(report_id)
        self.report_id = report_id


@dataclass(frozen=True)
class PhotoUploadPolicy:
    url_ttl: timedelta
    wait: timedelta
    max_bytes: int
    # A retry gets the URL already handed out while it stays valid at least this long.
    reuse_margin: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class QuotaPolicy:
    """New reports per reporter: citizens, and the service identities of channels and operators."""

    citizen: Limits
    service: Limits

    def limits_for(self, actor: Actor) -> Limits:
        return self.citizen if actor.role == Role.WARGA else self.service


@dataclass(frozen=True)
class SubmitResult:
    report: Report
    created: bool
    upload: dict[str, Any] | None  # Any: the signed upload as the client receives it


class ChannelNotPermitted(Exception):
    """A body claims an intake channel that the caller's identity does not carry (403)."""


class SubmitterNotPermitted(Exception):
    """The caller may not submit at all: an anonymous sign-in, or a role without `submit` (403)."""


def check_submitter(cmd: SubmitReport, actor: Actor) -> None:
    """Who may submit what: signed-in citizens as `warga`, a channel only as itself, operators."""
    if actor.anonymous:
        raise SubmitterNotPermitted("anonymous")
    if actor.role not in MOVES[Action.SUBMIT].roles:
        raise SubmitterNotPermitted(actor.role.value)
    if actor.role == Role.CHANNEL:
        if cmd.channel != actor.channel:
            raise ChannelNotPermitted(cmd.channel)
    elif cmd.channel != "warga":
        raise ChannelNotPermitted(cmd.channel)


def submit_report(cmd: SubmitReport, *, actor: Actor, reports: Reports, publish: Publisher,
                  photos: PhotoStore, clock: Clock, new_id: Callable[[], str], policy: PhotoUploadPolicy,
                  holds: Holds | None = None, quota: QuotaPolicy | None = None) -> SubmitResult:
    """Store the report once per key; hand out its upload URL or (re-)publish acceptance.

    Only a caller whose identity carries a channel (custom claim `channel`) submits on that
    channel's behalf; a reporter an operator holds has new reports go to moderation. A new
    report counts against the reporter's hour and day quotas (QuotaExceeded past them); a retry
    of the same (reporter, client_id) counts nothing and gets the same upload URL while it lasts.
    """
    check_submitter(cmd, actor)
    reporter_uid = actor.id
    now = clock()
    key = submission_key(reporter_uid, cmd.client_id)
    held = bool(holds and holds.is_held(reporter_uid))
    candidate = Report.submitted(cmd, report_id=new_id(), reporter_ref=key, actor=actor, now=now,
                                 photo_wait=policy.wait, held=held)
    submission = Submission(report_id=candidate.report_id, reporter_uid=reporter_uid, client_id=cmd.client_id,
                            request_hash=cmd.fingerprint(), created_at=now, lang=cmd.lang)
    quotas = windows(reporter_uid, now=now, limits=quota.limits_for(actor)) if quota else ()
    stored, stored_submission, created = reports.create(candidate, submission_key=key,
                                                        submission=submission, quotas=quotas)
    if not created and stored_submission["request_hash"] != submission["request_hash"]:
        raise IdempotencyConflict(stored.report_id)
    stored = expire_if_due(stored, reports=reports, now=now, publish=publish)
    # Announced once: a retry publishes again only when the stored submission shows the first
    # publish did not complete (500 retries are not 500 figure runs).
    announce = created or stored_submission.get("published_at") is None
    if announce:
        publish_status_changed(publish, stored)  # consumers dedupe on (report, seq)

    upload = None
    photo = stored.photo
    if stored.status == Status.AWAITING_PHOTO:
        assert photo.deadline is not None and photo.object is not None and photo.content_type is not None
        upload = _still_valid_upload(stored_submission, now=now, margin=policy.reuse_margin)
        if upload is None:
            expires_at = min(now + policy.url_ttl, aware(photo.deadline))
            upload = photos.upload_url(photo.object, content_types=(photo.content_type,),
                                       max_bytes=policy.max_bytes, expires_at=expires_at)
            reports.remember_upload(key, upload, expires_at)
    elif stored.status == Status.RECEIVED and announce:
        # First time, or a retry after the first publish failed: downstream dedupes.
        publish_event(publish, Event(name="ReportAccepted", report_id=stored.report_id))
    if announce:
        reports.remember_published(key, now)
    return SubmitResult(stored, created, upload)


def _still_valid_upload(submission: Submission, *, now: datetime,
                        margin: timedelta) -> dict[str, Any] | None:  # Any: as SubmitResult.upload
    """The upload URL this submission already got, if it stays valid for at least `margin`.

    Signing costs an IAM signBlob call in production, and every fresh URL is one more live
    credential for the same object: a flaky network's retries reuse the first one.
    """
    expires_at = submission.get("upload_expires_at")
    upload = submission.get("upload")
    if not upload or expires_at is None or aware(expires_at) - now < margin:
        return None
    return dict(upload)


def expire_if_due(report: Report, *, reports: Reports, now: datetime,
                  publish: Publisher | None = None) -> Report:
    """A report whose photo never arrived expires, visibly, once its deadline has passed."""
    if not report.photo_due(now):
        return report

    def expire(current: Report) -> Report | None:
        return current.expire_photo(now=now) if current.status == Status.AWAITING_PHOTO else None

    after = reports.mutate(report.report_id, expire)
    if after is None:
        return report
    if publish is not None and after.status == Status.PHOTO_EXPIRED:
        publish_status_changed(publish, after)
    return after


