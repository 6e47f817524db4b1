"""Staff see a report's photos: short-lived signed links to the EXIF-free copies, never the original."""

from __future__ import annotations

from datetime import timedelta

from keluhan.domain.report import NotPermitted
from keluhan.domain.views import PhotoKind, PhotoLink
from keluhan.domain.workflow import Actor, Role
from keluhan.ports import Clock, PhotoStore, Reports
from keluhan.usecases.handling import ReportMissing

LINK_LIFETIME = timedelta(minutes=15)


def photo_links(report_id: str, *, actor: Actor, reports: Reports, photos: PhotoStore, clock: Clock,
                lifetime: timedelta = LINK_LIFETIME) -> list[PhotoLink]:
    """Signed read links of the complaint photo's clean copy and thumbnail and of the accepted
    proof's, for the staff of the report's current assignee and for operators.

    Raises ReportMissing (404) for an unknown report and for anyone who is not staff (a citizen,
    the reporter included, reads the report through get_report), NotPermitted (403) for the staff
    of another SKPD. Only objects under derived/ are ever linked; the upload in incoming/ is not.
    """
    report = reports.get(report_id)
    if report is None or actor.role not in (Role.SKPD, Role.OPERATOR):
        raise ReportMissing(report_id)
    if actor.role == Role.SKPD and (actor.skpd is None or report.assignee != actor.skpd):
        raise NotPermitted("Laporan ini bukan tugas SKPD Anda / This report is not assigned to your SKPD")
    objects: list[tuple[PhotoKind, str | None]] = [("photo", report.photo.clean_object),
                                                   ("thumbnail", report.photo.thumbnail_object)]
    if report.resolution is not None:
        objects += [("proof", report.resolution.clean_object), ("proof_thumbnail", report.resolution.thumbnail_object)]
    until = clock() + lifetime
    links = []
    for kind, name in objects:
        if name:
            url, expires_at = photos.download_link(name, expires_at=until)
            links.append(PhotoLink(kind=kind, url=url, expires_at=expires_at))
    return links
