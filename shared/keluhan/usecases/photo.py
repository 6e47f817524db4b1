"""A photo arrived (object-finalize notification): verify it, keep the EXIF-free copies, move on."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from keluhan.domain.audit import AuditPolicy
from keluhan.domain.figures import stats_key
from keluhan.domain.photo import PhotoPolicy, PhotoVerification, verify_photo
from keluhan.domain.photo.copy_check import derivative_is_copy, edited_copy_reason
from keluhan.domain.photo.hash_bands import proof_key
from keluhan.domain.photo.reasons import Reason, reason
from keluhan.domain.report import (
    WITNESSED_CAPTURE_CHANNELS,
    Audit,
    Event,
    Finding,
    PhotoCheck,
    Report,
    Status,
    UploadTarget,
    upload_target,
)
from keluhan.domain.sla import aware
from keluhan.ports import (
    Clock,
    PermanentError,
    PhotoIndex,
    PhotoStore,
    PhotoTooLarge,
    Publisher,
    Reports,
    Stats,
)
from keluhan.usecases.events import publish_event, publish_status_changed
from keluhan.usecases.pipeline import ReportNotFound
from keluhan.usecases.submission import expire_if_due

REUSE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Auditor:
    """Decides, once per accepted proof, whether the fix is held for a validation audit."""

    policy: AuditPolicy
    stats: Stats
    draw: Callable[[], float]  # uniform in [0, 1): random in production, seeded in tests

    def decide(self, report: Report, now: datetime) -> Audit:
        figures = self.stats.group(stats_key("skpd", report.assignee, "all")) if report.assignee else {}
        return self.policy.decide(report.assignee, figures, draw=self.draw(), now=now)


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    name: str
    generation: int
    content_type: str | None

    @property
    def event_key(self) -> str:
        """The dedupe key of an upload: bucket/object#generation."""
        return f"{self.bucket}/{self.name}#{self.generation}"


def object_from_notification(attributes: dict[str, str], data: bytes) -> StoredObject | None:
    """The object of a Cloud Storage OBJECT_FINALIZE notification; None for other events."""
    if attributes.get("eventType") != "OBJECT_FINALIZE":
        return None
    try:
        resource = json.loads(data) if data else {}
        generation = int(attributes.get("objectGeneration") or resource["generation"])
        return StoredObject(bucket=attributes.get("bucketId") or resource["bucket"],
                            name=attributes.get("objectId") or resource["name"],
                            generation=generation, content_type=resource.get("contentType"))
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentError(f"notifikasi tidak valid / malformed storage notification: {exc}") from exc


def derived_objects(obj: StoredObject, report_id: str) -> tuple[str, str]:
    """Where the EXIF-free copy and the thumbnail of one upload live: the only images SKPD tools see.

    Per generation, so a concurrent second upload can never replace the copy of the verified one.
    """
    base = f"derived/{report_id}/{obj.generation}"
    return f"{base}/photo.jpg", f"{base}/thumb.jpg"


def verify_uploaded_photo(obj: StoredObject, *, bucket: str, reports: Reports, photos: PhotoStore,
                          photo_index: PhotoIndex, publish: Publisher, clock: Clock, policy: PhotoPolicy,
                          reopen_window: timedelta = timedelta(days=7), auditor: Auditor | None = None
                          ) -> Report | None:
    """A report's original photo decides its verdict; an SKPD's proof photo decides its fix."""
    target = upload_target(obj.name)
    if target is None or obj.bucket != bucket:
        return None  # not a report photo (e.g. our own derivatives, another bucket): nothing to do
    if target.proof_attempt is not None:
        return verify_proof(obj, target, reports=reports, photos=photos, photo_index=photo_index,
                            publish=publish, clock=clock, policy=policy, reopen_window=reopen_window,
                            auditor=auditor)
    report_id = target.report_id
    report = reports.get(report_id)
    if report is None:
        raise ReportNotFound(f"laporan {report_id} tidak ditemukan / report not found")
    now = clock()
    if report.photo.event == obj.event_key:
        # A redelivery: finish what may have been cut short.
        photo = report.photo
        if photo.phash and photo.verdict == "accepted" and photo.verified_at is not None:
            photo_index.remember_hash(report_id, photo.phash, photo.verified_at)
        _republish_if_verified(report, publish)
        return report
    report = expire_if_due(report, reports=reports, now=now, publish=publish)
    if report.status != Status.AWAITING_PHOTO:
        return report  # a later upload after the verdict, or an expired report: ignored

    try:
        data = photos.read(obj.name, generation=obj.generation, max_bytes=policy.max_bytes)
    except FileNotFoundError:
        return report  # this generation was replaced before we got to it; its successor is notified
    except PhotoTooLarge:
        result = PhotoVerification(verdict="rejected", reasons=[reason("too_large")])
    else:
        result = _verify(data, obj, report, photo_index=photo_index, now=now, policy=policy)
    check = _check(result, obj, now)
    if result.phash and result.verdict == "accepted":  # only vetted photos can make another "reused"
        photo_index.remember_hash(report_id, result.phash, now)  # idempotent; before the verdict is final
    if result.derivatives is not None:
        clean_name, thumb_name = derived_objects(obj, report_id)
        photos.write(clean_name, result.derivatives.clean_jpeg, content_type="image/jpeg")
        photos.write(thumb_name, result.derivatives.thumbnail_jpeg, content_type="image/jpeg")
        check = check.updated(clean_object=clean_name, thumbnail_object=thumb_name)
    note = "; ".join(r.message for r in result.reasons)

    def mutation(current: Report) -> Report | None:
        if current.status != Status.AWAITING_PHOTO or current.photo.event == obj.event_key:
            return None
        return current.photo_verdict(check, now=now, note=note)

    after = reports.mutate(report_id, mutation)
    if after is None:
        raise ReportNotFound(f"laporan {report_id} tidak ditemukan / report not found")
    if after.photo.event == obj.event_key:
        publish_status_changed(publish, after)
    _republish_if_verified(after, publish)
    return after


def verify_proof(obj: StoredObject, target: UploadTarget, *, reports: Reports, photos: PhotoStore,
                 photo_index: PhotoIndex, publish: Publisher, clock: Clock, policy: PhotoPolicy,
                 reopen_window: timedelta, auditor: Auditor | None = None) -> Report | None:
    """An SKPD's proof photo: the same checks as a citizen's (fresh, near the report's point, not
    reused, not the report's own photo, safe decode, EXIF-free copies); only an accepted proof
    resolves the report, a rejected one returns it to work with the reasons."""
    attempt = target.proof_attempt
    assert attempt is not None  # a proof's upload target names its attempt
    report = reports.get(target.report_id)
    if report is None:
        raise ReportNotFound(f"laporan {target.report_id} tidak ditemukan / report not found")
    if report.resolution is not None and report.resolution.event == obj.event_key:
        publish_status_changed(publish, report)  # a redelivery: the decision is made
        return report
    if not report.awaits_proof(attempt):
        return report  # an old attempt's upload, or no proof awaited: ignored
    now = clock()
    try:
        data = photos.read(obj.name, generation=obj.generation, max_bytes=policy.max_bytes)
    except FileNotFoundError:
        return report
    except PhotoTooLarge:
        result = PhotoVerification(verdict="rejected", reasons=[reason("too_large")])
    else:
        own = report.photo.phash
        result = _verify(data, obj, report, photo_index=photo_index, now=now, policy=policy,
                         received_at=now, taken_at=None,
                         also_compare=[(f"{target.report_id} (foto laporan ini / this report's photo)", own)]
                         if own else [])
        # A fix cannot be shown with a photo from before the complaint (phone clocks drift a little),
        # nor by a photo that does not say where it was taken (any street's "fixed" photo would do).
        if result.exif_taken_at and result.exif_taken_at < aware(report.received_at) - policy.future_tolerance:
            result = result.model_copy(update={"verdict": "rejected",
                                               "reasons": [*result.reasons, reason("stale")]})
        if result.verdict == "accepted" and result.gps_distance_m is None:
            result = result.model_copy(update={"verdict": "rejected",
                                               "reasons": [*result.reasons, reason("no_gps")]})
        # Nor by a file an editor wrote (no camera tags), nor by an edit of the complaint photo itself.
        late = [*([reason("no_camera_exif")] if result.camera_exif is False else []),
                *_copy_of_complaint(result, report, photos=photos, policy=policy)]
        if late:
            result = result.model_copy(update={"verdict": "rejected", "reasons": [*result.reasons, *late],
                                               "derivatives": None})
    accepted = result.verdict == "accepted"
    if accepted and result.phash:  # one proof proves one fix: indexed before the verdict is stored
        photo_index.remember_hash(proof_key(target.report_id), result.phash, now)
    check = _check(result, obj, now)
    if accepted and result.derivatives is not None:
        base = f"derived/{target.report_id}/resolution/{attempt}/{obj.generation}"
        photos.write(f"{base}/photo.jpg", result.derivatives.clean_jpeg, content_type="image/jpeg")
        photos.write(f"{base}/thumb.jpg", result.derivatives.thumbnail_jpeg, content_type="image/jpeg")
        check = check.updated(clean_object=f"{base}/photo.jpg", thumbnail_object=f"{base}/thumb.jpg")
    note = ("Bukti penyelesaian diterima / Proof of the fix accepted" if accepted else
            "Bukti penyelesaian ditolak / Proof of the fix rejected: " + "; ".join(r.message for r in result.reasons))

    # Decided once, before the write (the mutation may run again on contention); what is stored is the decision.
    audit = auditor.decide(report, now) if accepted and auditor is not None else None

    def mutation(current: Report) -> Report | None:
        if not current.awaits_proof(attempt) or (current.resolution and current.resolution.event == obj.event_key):
            return None
        return current.proof_verdict(check, now=now, note=note, reopen_window=reopen_window, audit=audit)

    after = reports.mutate(target.report_id, mutation)
    if after is not None and after.resolution is not None and after.resolution.event == obj.event_key:
        publish_status_changed(publish, after)
    return after


def _copy_of_complaint(result: PhotoVerification, report: Report, *, photos: PhotoStore,
                       policy: PhotoPolicy) -> list[Reason]:
    """`edited_copy` when the proof's pixels are the complaint photo's, cropped, recoloured or
    partly painted over (compared on the two EXIF-free copies this system made itself)."""
    complaint = report.photo.clean_object
    if result.derivatives is None or complaint is None:
        return []  # already refused, or a report without a photo: nothing to compare with
    try:
        complaint_jpeg = photos.read(complaint, generation=None, max_bytes=policy.max_bytes)
    except (FileNotFoundError, PhotoTooLarge):
        return []
    finding = derivative_is_copy(complaint_jpeg, result.derivatives.clean_jpeg, policy.copy_check)
    return [edited_copy_reason(finding)] if finding.derived else []


def _check(result: PhotoVerification, obj: StoredObject, now: datetime) -> PhotoCheck:
    """What is stored of a verification: the verdict and findings on this upload (a proof's
    verdict is `accepted` or `rejected` like a photo's)."""
    return PhotoCheck(event=obj.event_key, verdict=result.verdict,
                      reasons=[Finding(code=r.code, message=r.message) for r in result.reasons],
                      exif_taken_at=result.exif_taken_at, gps_distance_m=result.gps_distance_m,
                      phash=result.phash, verified_at=now)


def _verify(data: bytes, obj: StoredObject, report: Report, *, photo_index: PhotoIndex, now: datetime,
            policy: PhotoPolicy, received_at: datetime | None = None, taken_at: datetime | None = None,
            also_compare: list[tuple[str, str]] | None = None) -> PhotoVerification:
    report_id = report.report_id

    def candidates(phash: str) -> list[tuple[str, str]]:
        found = photo_index.candidates(phash, since=now - REUSE_WINDOW, exclude_report=report_id)
        return [*found, *(also_compare or [])]

    return verify_photo(
        data,
        declared_content_type=obj.content_type,
        lat=report.point.lat,
        lon=report.point.lon,
        received_at=received_at or report.received_at,
        taken_at=taken_at if received_at else report.photo_taken_at,
        reuse_candidates=candidates,
        policy=policy,
        # A proof is never witnessed: only a report's own photo from a channel whose server saw it arrive.
        witnessed=received_at is None and report.channel in WITNESSED_CAPTURE_CHANNELS,
    )


def _republish_if_verified(report: Report, publish: Publisher) -> None:
    if report.status == Status.VERIFIED:
        publish_event(publish, Event(name="ReportAccepted", report_id=report.report_id))


class PhotoSettings(Protocol):
    @property
    def photo_max_bytes(self) -> int: ...
    @property
    def photo_max_age_h(self) -> float: ...
    @property
    def photo_gps_max_distance_m(self) -> float: ...


def photo_policy(settings: PhotoSettings) -> PhotoPolicy:
    return PhotoPolicy(max_bytes=settings.photo_max_bytes,
                       max_age=timedelta(hours=settings.photo_max_age_h),
                       gps_max_distance_m=settings.photo_gps_max_distance_m)
