"""Why a photo is not simply accepted: each reason code, its message and the verdict it forces."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

Verdict = Literal["accepted", "rejected", "needs_moderation"]
ReasonCode = Literal[
    "not_an_image",
    "unsupported_format",
    "too_large",
    "too_many_pixels",
    "too_many_scans",
    "too_slow",
    "truncated",
    "content_type_mismatch",
    "stale",
    "future",
    "taken_at_mismatch",
    "no_capture_time",
    "elsewhere",
    "reused",
    "no_gps",
    "no_camera_exif",
    "edited_copy",
]

# The verdict rule: any "rejected" reason rejects, else any "needs_moderation" reason holds
# the photo for a moderator, else it is accepted.
# fmt: off
REASONS: dict[ReasonCode, tuple[Verdict, str]] = {
    "not_an_image":          ("rejected",         "Berkas bukan foto / The file is not an image"),
    "unsupported_format":    ("rejected",         "Format tidak didukung, kirim JPEG, PNG atau HEIC / Unsupported format, send JPEG, PNG or HEIC"),
    "too_large":             ("rejected",         "Berkas foto terlalu besar / The photo file is too large"),
    "too_many_pixels":       ("rejected",         "Resolusi foto terlalu besar / The photo has too many pixels"),
    "too_many_scans":        ("rejected",         "Foto progresif dengan terlalu banyak lapisan / The photo has too many progressive scans"),
    "too_slow":              ("rejected",         "Foto terlalu berat untuk diperiksa / The photo takes too long to decode"),
    "truncated":             ("rejected",         "Foto rusak atau terpotong / The photo is damaged or truncated"),
    "content_type_mismatch": ("rejected",         "Jenis berkas tidak sesuai isinya / The file is not of its declared type"),
    "stale":                 ("rejected",         "Foto terlalu lama, ambil foto baru di lokasi / The photo is too old, take a new one on the spot"),
    "future":                ("rejected",         "Waktu foto di masa depan / The photo's capture time is in the future"),
    "taken_at_mismatch":     ("rejected",         "Waktu foto tidak cocok dengan laporan / The capture time differs from the reported one"),
    "no_capture_time":       ("needs_moderation", "Waktu foto tidak diketahui, diperiksa petugas / No capture time, a moderator will check"),
    "elsewhere":             ("rejected",         "Foto diambil jauh dari lokasi laporan / The photo was taken far from the reported place"),
    "reused":                ("rejected",         "Foto sama dengan foto laporan lain / The photo is a copy of another report's photo"),
    "no_gps":                ("rejected",         "Foto bukti tanpa lokasi GPS; ambil di lokasi dengan GPS aktif / The proof photo has no GPS position; take it on the spot with GPS on"),
    "no_camera_exif":        ("rejected",         "Foto bukti tanpa data kamera (merek, model, waktu pengambilan); ambil langsung dengan kamera / The proof photo carries no camera EXIF (make, model, capture time); take it with the camera"),
    "edited_copy":           ("rejected",         "Foto bukti adalah salinan atau suntingan foto laporan / The proof photo is a copy or an edit of the complaint photo"),
}
# fmt: on


class Reason(BaseModel):
    """One finding, as shown to the reporter and to moderators."""

    model_config = ConfigDict(frozen=True)

    code: ReasonCode
    message: str


def reason(code: ReasonCode) -> Reason:
    """The reason for a code, with its bilingual message."""
    return Reason(code=code, message=REASONS[code][1])


def verdict_for(reasons: Iterable[Reason]) -> Verdict:
    """The strictest verdict any of the reasons forces."""
    forced = {REASONS[r.code][0] for r in reasons}
    for verdict in ("rejected", "needs_moderation"):
        if verdict in forced:
            return verdict
    return "accepted"
