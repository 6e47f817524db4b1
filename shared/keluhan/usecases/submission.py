"""Submitting a report: idempotent on (reporter, client_id), nothing published twice needlessly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from keluhan.domain.report import (
    Event,
    Status,
    SubmitReport,
    photo_object_name,
    submission_key,
    timeline_entry,
)
from keluhan.ports import Clock, PhotoStore, Publisher, Reports
from keluhan.usecases.events import publish_event


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


@dataclass(frozen=True)
class SubmitResult:
    report: dict[str, Any]
    created: bool
    upload: dict[str, Any] | None


def new_report(cmd: SubmitReport, *, report_id: str, reporter_uid: str, now: datetime,
               policy: PhotoUploadPolicy) -> dict[str, Any]:
    status = Status.AWAITING_PHOTO if cmd.needs_photo else Status.RECEIVED
    photo: dict[str, Any] = {"required": cmd.needs_photo}
    if cmd.needs_photo:
        photo |= {"object": photo_object_name(report_id), "content_type": cmd.photo_content_type,
                  "deadline": now + policy.wait, "verdict": None}
    else:
        photo |= {"verdict": "not_required"}
    return {
        "report_id": report_id,
        # Who reported stays in submissions/{key}; SKPD tools reading reports see only the key.
        "reporter_ref": submission_key(reporter_uid, cmd.client_id),
        "channel": cmd.channel,
        "category": cmd.category,
        "description": cmd.description,
        "point": {"lat": cmd.lat, "lon": cmd.lon, "accuracy_m": cmd.accuracy_m},
        "street": cmd.street,
        "photo_taken_at": cmd.photo_taken_at,
        "received_at": now,
        "status": status.value,
        "status_changed_at": now,
        "photo": photo,
        "stages": {},
        "timeline": [timeline_entry(status.value, now, "reporter")],
    }


def submit_report(cmd: SubmitReport, *, reporter_uid: str, reports: Reports,
                  publish: Publisher, photos: PhotoStore, clock: Clock, new_id,
                  policy: PhotoUploadPolicy) -> SubmitResult:
    """Store the report once per key; hand out a fresh upload URL or (re-)publish acceptance."""
    now = clock()
    candidate = new_report(cmd, report_id=new_id(), reporter_uid=reporter_uid, now=now,
                           policy=policy)
    submission = {"report_id": candidate["report_id"], "reporter_uid": reporter_uid,
                  "client_id": cmd.client_id, "request_hash": cmd.fingerprint(), "created_at": now}
    stored, stored_submission, created = reports.create(candidate, submission_key=candidate["reporter_ref"],
                                                        submission=submission)
    if not created and stored_submission["request_hash"] != submission["request_hash"]:
        raise IdempotencyConflict(stored["report_id"])
    stored = expire_if_due(stored, reports=reports, now=now)

    upload = None
    if stored["status"] == Status.AWAITING_PHOTO:
        expires_at = min(now + policy.url_ttl, _aware(stored["photo"]["deadline"]))
        upload = photos.upload_url(stored["photo"]["object"],
                                   content_types=(stored["photo"]["content_type"],),
                                   max_bytes=policy.max_bytes, expires_at=expires_at)
    elif stored["status"] == Status.RECEIVED:
        # First time, or a retry after the first publish failed: downstream dedupes.
        publish_event(publish, Event(name="ReportAccepted", report_id=stored["report_id"]))
    return SubmitResult(stored, created, upload)


def expire_if_due(report: dict[str, Any], *, reports: Reports, now: datetime) -> dict[str, Any]:
    """A report whose photo never arrived expires, visibly, once its deadline has passed."""
    if report["status"] != Status.AWAITING_PHOTO or _aware(report["photo"]["deadline"]) > now:
        return report

    def expire(current: dict[str, Any]) -> dict[str, Any] | None:
        if current["status"] != Status.AWAITING_PHOTO:
            return None
        return {"status": Status.PHOTO_EXPIRED.value, "status_changed_at": now,
                "photo.verdict": "expired",
                "timeline": current["timeline"] + [timeline_entry(Status.PHOTO_EXPIRED.value, now, "system")]}

    return reports.mutate(report["report_id"], expire) or report


def expire_overdue_reports(*, reports: Reports, clock: Clock, limit: int = 500) -> int:
    """Expire every report whose photo never arrived in time; the number expired."""
    now = clock()
    expired = 0
    for report in reports.overdue_photo_waits(now=now, limit=limit):
        if expire_if_due(report, reports=reports, now=now)["status"] == Status.PHOTO_EXPIRED:
            expired += 1
    return expired


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
