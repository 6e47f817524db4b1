"""A photo arrived (object-finalize notification): verify it, keep the EXIF-free copies, move on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from keluhan.domain.photo import PhotoPolicy, PhotoVerification, verify_photo
from keluhan.domain.photo.hash_bands import proof_key
from keluhan.domain.photo.reasons import reason
from keluhan.domain.report import Event, Report, Status, UploadTarget, upload_target
from keluhan.ports import Clock, PermanentError, PhotoStore, PhotoTooLarge, Publisher, Reports
from keluhan.usecases.events import publish_event, publish_status_changed
from keluhan.usecases.pipeline import ReportNotFound
from keluhan.usecases.submission import expire_if_due

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
                          photo_index, publish: Publisher, clock: Clock, policy: PhotoPolicy,
                          reopen_window: timedelta = timedelta(days=7)) -> dict[str, Any] | None:
    """A report's original photo decides its verdict; an SKPD's proof photo decides its fix."""
    target = upload_target(obj.name)
    if target is None or obj.bucket != bucket:
        return None  # not a report photo (e.g. our own derivatives, another bucket): nothing to do
    if target.proof_attempt is not None:
        return verify_proof(obj, target, reports=reports, photos=photos, photo_index=photo_index,
                            publish=publish, clock=clock, policy=policy, reopen_window=reopen_window)
    report_id = target.report_id
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
    report = expire_if_due(report, reports=reports, now=now, publish=publish)
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

    def mutation(current: dict[str, Any]) -> dict[str, Any] | None:
        if current["status"] != Status.AWAITING_PHOTO or current["photo"].get("event") == obj.event_key:
            return None
        note = "; ".join(r.message for r in result.reasons)
        return Report.from_doc(current).photo_verdict(result.verdict, now=now, note=note,
                                                      photo_fields=photo_fields)

    after = reports.mutate(report_id, mutation)
    if after is None:
        raise ReportNotFound(f"laporan {report_id} tidak ditemukan / report not found")
    if after["photo"].get("event") == obj.event_key:
        publish_status_changed(publish, after)
    _republish_if_verified(after, publish)
    return after


def verify_proof(obj: StoredObject, target: UploadTarget, *, reports: Reports, photos: PhotoStore,
                 photo_index, publish: Publisher, clock: Clock, policy: PhotoPolicy,
                 reopen_window: timedelta) -> dict[str, Any] | None:
    """An SKPD's proof photo: the same checks as a citizen's (fresh, near the report's point, not
    reused, not the report's own photo, safe decode, EXIF-free copies); only an accepted proof
    resolves the report, a rejected one returns it to work with the reasons."""
    report = reports.get(target.report_id)
    if report is None:
        raise ReportNotFound(f"laporan {target.report_id} tidak ditemukan / report not found")
    resolution = report.get("resolution") or {}
    if resolution.get("event") == obj.event_key:
        publish_status_changed(publish, report)  # a redelivery: the decision is made
        return report
    if report["status"] != Status.RESOLVING or resolution.get("attempt") != target.proof_attempt:
        return report  # an old attempt's upload, or no proof awaited: ignored
    now = clock()
    try:
        data = photos.read(obj.name, generation=obj.generation, max_bytes=policy.max_bytes)
    except FileNotFoundError:
        return report
    except PhotoTooLarge:
        result = PhotoVerification(verdict="rejected", reasons=[reason("too_large")])
    else:
        own = report["photo"].get("phash")
        result = _verify(data, obj, report, photo_index=photo_index, now=now, policy=policy,
                         received_at=now, taken_at=None,
                         also_compare=[(f"{target.report_id} (foto laporan ini / this report's photo)", own)]
                         if own else [])
        # A fix cannot be shown with a photo from before the complaint (phone clocks drift a little),
        # nor by a photo that does not say where it was taken (any street's "fixed" photo would do).
        if result.exif_taken_at and result.exif_taken_at < _aware(report["received_at"]) - policy.future_tolerance:
            result = result.model_copy(update={"verdict": "rejected",
                                               "reasons": [*result.reasons, reason("stale")]})
        if result.verdict == "accepted" and result.gps_distance_m is None:
            result = result.model_copy(update={"verdict": "rejected",
                                               "reasons": [*result.reasons, reason("no_gps")]})
    accepted = result.verdict == "accepted"
    if accepted and result.phash:  # one proof proves one fix: indexed before the verdict is stored
        photo_index.remember_hash(proof_key(target.report_id), result.phash, now)
    proof_fields: dict[str, Any] = {"event": obj.event_key, "exif_taken_at": result.exif_taken_at,
                                    "gps_distance_m": result.gps_distance_m, "phash": result.phash,
                                    "verified_at": now}
    if accepted and result.derivatives is not None:
        base = f"derived/{target.report_id}/resolution/{target.proof_attempt}/{obj.generation}"
        photos.write(f"{base}/photo.jpg", result.derivatives.clean_jpeg, content_type="image/jpeg")
        photos.write(f"{base}/thumb.jpg", result.derivatives.thumbnail_jpeg, content_type="image/jpeg")
        proof_fields |= {"clean_object": f"{base}/photo.jpg", "thumbnail_object": f"{base}/thumb.jpg"}
    reasons = [r.model_dump() for r in result.reasons]
    note = ("Bukti penyelesaian diterima / Proof of the fix accepted" if accepted else
            "Bukti penyelesaian ditolak / Proof of the fix rejected: " + "; ".join(r.message for r in result.reasons))

    def mutation(current: dict[str, Any]) -> dict[str, Any] | None:
        latest = current.get("resolution") or {}
        if (current["status"] != Status.RESOLVING or latest.get("attempt") != target.proof_attempt
                or latest.get("event") == obj.event_key):
            return None
        return Report.from_doc(current).proof_verdict(accepted, now=now, note=note, reasons=reasons,
                                                      proof_fields=proof_fields,
                                                      reopen_window=reopen_window)

    after = reports.mutate(target.report_id, mutation)
    if after is not None and (after.get("resolution") or {}).get("event") == obj.event_key:
        publish_status_changed(publish, after)
    return after


def _verify(data: bytes, obj: StoredObject, report: dict[str, Any], *, photo_index, now,
            policy: PhotoPolicy, received_at=None, taken_at=None,
            also_compare: list[tuple[str, str]] | None = None) -> PhotoVerification:
    report_id = report["report_id"]

    def candidates(phash: str) -> list[tuple[str, str]]:
        found = photo_index.candidates(phash, since=now - REUSE_WINDOW, exclude_report=report_id)
        return [*found, *(also_compare or [])]

    return verify_photo(
        data,
        declared_content_type=obj.content_type,
        lat=report["point"]["lat"],
        lon=report["point"]["lon"],
        received_at=received_at or report["received_at"],
        taken_at=taken_at if received_at else report.get("photo_taken_at"),
        reuse_candidates=candidates,
        policy=policy,
    )


def _aware(value):
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _republish_if_verified(report: dict[str, Any], publish: Publisher) -> None:
    if report["status"] == Status.VERIFIED:
        publish_event(publish, Event(name="ReportAccepted", report_id=report["report_id"]))


def photo_policy(settings) -> PhotoPolicy:
    return PhotoPolicy(max_bytes=settings.photo_max_bytes,
                       max_age=timedelta(hours=settings.photo_max_age_h),
                       gps_max_distance_m=settings.photo_gps_max_distance_m)
