"""When a report may be closed as a duplicate of another: the same problem, not just any report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keluhan.domain.photo.exif import distance_m
from keluhan.domain.workflow import Status

if TYPE_CHECKING:
    from keluhan.domain.report import Report

# A parent that is no real report yet (no photo, held, refused) cannot absorb another.
NOT_A_PARENT: frozenset[Status] = frozenset({
    Status.AWAITING_PHOTO, Status.PHOTO_EXPIRED, Status.PHOTO_REJECTED, Status.IN_MODERATION,
})
MAX_DISTANCE_M = 200.0  # two reports of one pothole, each with a phone's GPS error


def duplicate_problem(report: Report, parent: Report | None) -> str | None:
    """Why `report` cannot be a duplicate of `parent` (bilingual), or None when it can: the parent
    must be another live report of the same category within MAX_DISTANCE_M. Anything else is
    an operator's call (reassign or moderate), not the SKPD's."""
    if parent is None or parent.report_id == report.report_id:
        return "laporan induk tidak ditemukan / the parent report does not exist"
    if parent.status in NOT_A_PARENT:
        return "laporan induk belum menjadi laporan / the parent report is not a live report yet"
    if parent.category != report.category:
        return "laporan induk berbeda kategori; minta operator / the parent has another category; ask an operator"
    apart = distance_m((report.point.lat, report.point.lon), (parent.point.lat, parent.point.lon))
    if apart > MAX_DISTANCE_M:
        return (f"laporan induk lebih dari {MAX_DISTANCE_M:g} m; minta operator / the parent is more than "
                f"{MAX_DISTANCE_M:g} m away; ask an operator")
    return None
