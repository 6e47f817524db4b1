"""A photo arrived (object-finalize notification): verify it, keep the EXIF-free copies, move on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from keluhan.domain.photo import PhotoPolicy, PhotoVerification, verify_photo
from keluhan.domain.photo.reasons import reason
from keluhan.domain.report import Event, Status, report_id_from_object, timeline_entry
from keluhan.ports import Clock, PermanentError, PhotoStore, PhotoTooLarge, Publisher, Reports
from keluhan.usecases.events import publish_event
from keluhan.usecases.pipeline import ReportNotFound
from keluhan.usecases.submission import expire_if_due

VERDICT_STATUS = {
    "accepted": Status.VERIFIED,
    "rejected": Status.PHOTO_REJECTED,
    "needs_moderation": Status.IN_MODERATION,
}
REUSE_WINDOW = timedelta(days=30)


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
                          photo_index, publish: Publisher, clock: Clock,
                          policy: PhotoPolicy) -> dict[str, Any] | None:
    report_id = report_id_from_object(obj.name)
    if report_id is None or obj.bucket != bucket:
        return None  # not a report photo (e.g. our own derivatives, another bucket): nothing to do
    report = reports.get(report_id)
    if report is None:
        raise ReportNotFound(f"laporan {report_id} tidak ditemukan / report not found")
    now = clock()
    if report["photo"].get("event") == obj.event_key:
        # A redelivery: finish what may have been cut short.
        if report["photo"].get("phash") and report["photo"].get("verdict") == "accepted":
            photo_index.remember_hash(report_id, report["photo"]["phash"], report["photo"]["verified_at"])
        _republish_if_verified(report, publish)
        return report
    report = expire_if_due(report, reports=reports, now=now)
    if report["status"] != Status.AWAITING_PHOTO:
        return report  # a later upload after the verdict, or an expired report: ignored

    try:
        data = photos.read(obj.name, generation=obj.generation, max_bytes=policy.max_bytes)
    except FileNotFoundError:
        return report  # this generation was replaced before we got to it; its successor is notified
    except PhotoTooLarge:
        result = PhotoVerification(verdict="rejected", reasons=[reason("too_large")])
    else:
        result = _verify(data, obj, report, photo_index=photo_index, now=now, policy=policy)
    photo_fields: dict[str, Any] = {
        "photo.event": obj.event_key,
        "photo.verdict": result.verdict,
        "photo.reasons": [r.model_dump() for r in result.reasons],
        "photo.exif_taken_at": result.exif_taken_at,
        "photo.gps_distance_m": result.gps_distance_m,
        "photo.phash": result.phash,
        "photo.verified_at": now,
    }
    if result.phash and result.verdict == "accepted":  # only vetted photos can make another "reused"
        photo_index.remember_hash(report_id, result.phash, now)  # idempotent; before the verdict is final
    if result.derivatives is not None:
        clean_name, thumb_name = derived_objects(obj, report_id)
        photos.write(clean_name, result.derivatives.clean_jpeg, content_type="image/jpeg")
        photos.write(thumb_name, result.derivatives.thumbnail_jpeg, content_type="image/jpeg")
        photo_fields |= {"photo.clean_object": clean_name, "photo.thumbnail_object": thumb_name}
    status = VERDICT_STATUS[result.verdict]

    def mutation(current: dict[str, Any]) -> dict[str, Any] | None:
        if current["status"] != Status.AWAITING_PHOTO or current["photo"].get("event") == obj.event_key:
            return None
        note = "; ".join(r.message for r in result.reasons)
        return photo_fields | {
            "status": status.value,
            "status_changed_at": now,
            "timeline": current["timeline"] + [timeline_entry(status.value, now, "verify_photo", note)],
        }

    after = reports.mutate(report_id, mutation)
    _republish_if_verified(after, publish)
    return after


def _verify(data: bytes, obj: StoredObject, report: dict[str, Any], *, photo_index, now,
            policy: PhotoPolicy) -> PhotoVerification:
    report_id = report["report_id"]
    return verify_photo(
        data,
        declared_content_type=obj.content_type,
        lat=report["point"]["lat"],
        lon=report["point"]["lon"],
        received_at=report["received_at"],
        taken_at=report.get("photo_taken_at"),
        reuse_candidates=lambda phash: photo_index.candidates(phash, since=now - REUSE_WINDOW,
                                                               exclude_report=report_id),
        policy=policy,
    )


def _republish_if_verified(report: dict[str, Any], publish: Publisher) -> None:
    if report["status"] == Status.VERIFIED:
        publish_event(publish, Event(name="ReportAccepted", report_id=report["report_id"]))


def photo_policy(settings) -> PhotoPolicy:
    return PhotoPolicy(max_bytes=settings.photo_max_bytes,
                       max_age=timedelta(hours=settings.photo_max_age_h),
                       gps_max_distance_m=settings.photo_gps_max_distance_m)
