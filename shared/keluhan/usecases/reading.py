"""A reporter reads their own report: status, timeline and, once resolved, a link to the proof."""

from __future__ import annotations

from datetime import timedelta

from keluhan.domain.views import reporter_view
from keluhan.domain.workflow import Actor
from keluhan.ports import Clock, PhotoStore, Publisher, Reports
from keluhan.usecases.handling import ReportMissing
from keluhan.usecases.submission import expire_if_due

PROOF_LINK_FOR = timedelta(hours=1)


def get_own_report(report_id: str, *, actor: Actor, reports: Reports, photos: PhotoStore,
                   publish: Publisher, clock: Clock) -> dict[str, object]:
    """The reporter's view of their own report (expired first if its photo never came).

    Raises ReportMissing (404) for an unknown report and for someone else's: the same answer,
    so a report id reveals nothing to whoever is not its reporter.
    """
    report = reports.get(report_id)
    submission = reports.submission(report.reporter_ref) if report else None
    if report is None or submission is None or submission["reporter_uid"] != actor.id:
        raise ReportMissing(report_id)
    report = expire_if_due(report, reports=reports, now=clock(), publish=publish)
    proof = report.resolution.clean_object if report.resolution else None
    proof_url = photos.download_url(proof, expires_at=clock() + PROOF_LINK_FOR) if proof else None
    return reporter_view(report.to_doc(), client_id=submission["client_id"], proof_url=proof_url)
