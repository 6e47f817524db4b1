"""SKPD staff at work (the `work` page): their SKPD's queue by due time, and one report of it."""

from __future__ import annotations

from datetime import datetime

from keluhan.domain.report import OPEN
from keluhan.domain.views import by_due_time, staff_view, work_item
from keluhan.domain.workflow import Actor, Role
from keluhan.ports import Clock, PhotoStore, Reports
from keluhan.usecases.handling import ReportMissing
from keluhan.usecases.photo_links import photo_links

QUEUE_LIMIT = 300  # the newest open reports of one SKPD; `truncated` says when there are more


class NotStaff(Exception):
    """The caller is not SKPD staff (403): the page is their tool, operators have the War Room."""


def staff_skpd(actor: Actor) -> str:
    """The caller's SKPD; NotStaff for anyone but SKPD staff."""
    if actor.role != Role.SKPD or not actor.skpd:
        raise NotStaff(actor.role.value)
    return actor.skpd


def staff_queue(*, actor: Actor, reports: Reports, now: datetime, limit: int = QUEUE_LIMIT) -> dict[str, object]:
    """The open reports assigned to the caller's SKPD, soonest due first, each with its allowed moves.

    Raises NotStaff for anyone but SKPD staff.
    """
    skpd = staff_skpd(actor)
    found = reports.assigned(assignee=skpd, statuses=OPEN, limit=limit + 1)
    items = by_due_time([work_item(r, actor) for r in found[:limit]])
    return {"skpd": skpd, "generated_at": now, "reports": items, "truncated": len(found) > limit}


def staff_report(report_id: str, *, actor: Actor, reports: Reports, photos: PhotoStore,
                 clock: Clock) -> dict[str, object]:
    """One report assigned to the caller's SKPD: its queue item, its staff view and its photos'
    signed links (`photo_links`: the EXIF-free copies, never the original).

    Raises NotStaff for anyone but SKPD staff, ReportMissing (404) for a report that is not, or no
    longer, assigned to the caller's SKPD: another SKPD's report does not exist for them.
    """
    skpd = staff_skpd(actor)
    report = reports.get(report_id)
    if report is None or report.assignee != skpd:
        raise ReportMissing(report_id)
    links = photo_links(report_id, actor=actor, reports=reports, photos=photos, clock=clock)
    return {"item": work_item(report, actor), "report": staff_view(report.to_doc()), "photos": links}
