"""The photo verification use case: is this upload a fresh, real photo of the reported place?"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from keluhan.domain.photo.decode import Unreadable, content_type_matches
from keluhan.domain.photo.derivatives import PhotoDerivatives
from keluhan.domain.photo.exif import distance_m
from keluhan.domain.photo.inspection import inspect_photo
from keluhan.domain.photo.policy import ImageFormat, PhotoPolicy
from keluhan.domain.photo.reasons import Reason, ReasonCode, Verdict, reason, verdict_for


class PhotoVerification(BaseModel):
    """The outcome for one upload; `model_dump()` is the stored record, without the derivatives."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    reasons: list[Reason]
    format: ImageFormat | None = None
    # The upload's pixel size as stored, before EXIF orientation.
    width: int | None = None
    height: int | None = None
    exif_taken_at: datetime | None = None
    exif_gps: tuple[float, float] | None = None
    gps_distance_m: float | None = None
    # Make, Model and DateTimeOriginal all present (required of a proof photo, not of a citizen's).
    camera_exif: bool | None = None
    phash: str | None = None
    reused_of: list[str] = Field(default_factory=list)
    # Present unless rejected; bytes for storage, never part of the record.
    derivatives: PhotoDerivatives | None = Field(default=None, exclude=True, repr=False)


def verify_photo(
    data: bytes,
    *,
    declared_content_type: str | None,
    lat: float,
    lon: float,
    received_at: datetime,
    taken_at: datetime | None,
    reuse_candidates: Callable[[str], Iterable[tuple[str, str]]],
    policy: PhotoPolicy,
) -> PhotoVerification:
    """Check an uploaded photo and, unless rejected, make its EXIF-free derivatives.

    `taken_at` is the capture time the app declares, `received_at` when the server received
    the report; both must be timezone-aware. `reuse_candidates(phash)` gives (report_id, hex
    pHash) of recent photos of OTHER reports that may be the same picture; which of them are
    is decided here. Bad uploads come back rejected with reasons; nothing about the bytes raises.
    """
    if received_at.tzinfo is None or (taken_at is not None and taken_at.tzinfo is None):
        raise ValueError("received_at and taken_at must be timezone-aware")
    try:
        photo = inspect_photo(data, policy=policy)
    except Unreadable as unreadable:
        return PhotoVerification(verdict="rejected", reasons=[reason(unreadable.code)])

    exif_gps = photo.exif_gps
    gps_distance = round(distance_m(exif_gps, (lat, lon)), 1) if exif_gps else None
    reused_of = _same_picture(photo.phash, reuse_candidates(photo.phash), policy.reuse_max_distance)

    findings: list[tuple[bool, ReasonCode]] = [
        (not content_type_matches(declared_content_type, photo.format), "content_type_mismatch"),
        (gps_distance is not None and gps_distance > policy.gps_max_distance_m, "elsewhere"),
        (bool(reused_of), "reused"),
    ]
    codes = [
        *_time_findings(photo.exif_taken_at, taken_at, received_at, policy),
        *(c for hit, c in findings if hit),
    ]
    reasons = [reason(code) for code in dict.fromkeys(codes)]
    verdict = verdict_for(reasons)
    return PhotoVerification(
        verdict=verdict,
        reasons=reasons,
        format=photo.format,
        width=photo.width,
        height=photo.height,
        exif_taken_at=photo.exif_taken_at,
        exif_gps=exif_gps,
        gps_distance_m=gps_distance,
        camera_exif=photo.camera_exif,
        phash=photo.phash,
        reused_of=reused_of,
        derivatives=None if verdict == "rejected" else photo.derivatives,
    )


def _time_findings(
    exif_taken_at: datetime | None, taken_at: datetime | None, received_at: datetime, policy: PhotoPolicy
) -> list[ReasonCode]:
    """Fresh: the EXIF time exists, agrees with the declared one, and both lie in the window."""
    codes: list[ReasonCode] = []
    if exif_taken_at is None:
        codes.append("no_capture_time")
    elif taken_at is not None and abs(exif_taken_at - taken_at) > policy.taken_at_tolerance:
        codes.append("taken_at_mismatch")
    for moment in (t for t in (exif_taken_at, taken_at) if t is not None):
        if moment < received_at - policy.max_age:
            codes.append("stale")
        elif moment > received_at + policy.future_tolerance:
            codes.append("future")
    return codes


def _same_picture(phash: str, candidates: Iterable[tuple[str, str]], max_distance: int) -> list[str]:
    """Report ids whose photo's pHash is within `max_distance` bits of this one, nearest first."""
    mine = int(phash, 16)
    matches: list[tuple[int, str]] = []
    for report_id, other in candidates:
        try:
            distance = (mine ^ int(other, 16)).bit_count()
        except ValueError:  # a damaged stored hash must not block every new photo
            continue
        if distance <= max_distance:
            matches.append((distance, report_id))
    return [report_id for _, report_id in sorted(matches)]
