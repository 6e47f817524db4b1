"""Supporting a report ("dukung"): one support per resident per report, idempotent and undoable."""

from __future__ import annotations

from keluhan.domain.report import NotPermitted, Report, StaleOrIllegal, support_ref
from keluhan.domain.support import PUBLIC, SUPPORTABLE, SupportAnswer
from keluhan.domain.workflow import Actor, Role
from keluhan.ports import Clock, Publisher, Reports, Supporters
from keluhan.usecases.events import publish_status_changed
from keluhan.usecases.handling import ReportMissing, reporter_uid


def support_report(report_id: str, *, undo: bool, actor: Actor, reports: Reports, supporters: Supporters,
                   publish: Publisher, clock: Clock) -> SupportAnswer:
    """Add (or with `undo` withdraw) the caller's support of a public report; the count is on the report.

    Raises NotPermitted (403: not a signed-in resident, or their own report), ReportMissing (404: no
    such report, or one the public does not see), StaleOrIllegal (409: no longer open for support).
    A second support or a second undo changes nothing and answers the same.
    """
    if actor.role != Role.WARGA or actor.anonymous:
        raise NotPermitted("hanya warga yang masuk dengan akun / only a signed-in resident supports a report")
    report = reports.get(report_id)
    ref = support_ref(report_id, actor.id)
    # A private report (issue 20's privacy) is nobody's to find; who already supports it may still withdraw.
    if report is None or report.status not in PUBLIC or (report.private and ref not in report.supporter_refs):
        raise ReportMissing(report_id)
    if reporter_uid(reports, report) == actor.id:
        raise NotPermitted("laporan Anda sendiri / your own report")
    if undo:
        after = reports.mutate(report_id, lambda current: current.unsupported(ref))
        if after is not None and ref not in after.supporter_refs:
            supporters.forget(ref)
            _announce(publish, after)
        return _answer(after or report, ref)
    if report.status not in SUPPORTABLE and ref not in report.supporter_refs:
        raise StaleOrIllegal("laporan ini tidak bisa didukung lagi / this report can no longer be supported",
                             status=report.status.value, allowed=[])
    # Who the ref stands for first: a notification of the next change finds them once the ref is on the report.
    supporters.remember(ref, report_id=report_id, uid=actor.id, at=clock())

    def add(current: Report) -> Report | None:
        if current.status not in SUPPORTABLE:
            return None
        return current.supported(ref)

    after = reports.mutate(report_id, add)
    if after is None:
        raise ReportMissing(report_id)
    if ref not in after.supporter_refs:
        raise StaleOrIllegal("laporan ini tidak bisa didukung lagi / this report can no longer be supported",
                             status=after.status.value, allowed=[])
    _announce(publish, after)
    return _answer(after, ref)


def _announce(publish: Publisher, report: Report) -> None:
    """The figures count supporters: the report's latest change is announced again (consumers
    dedupe on its seq; record_figures also looks at support_seq), as a redelivered stage does.
    Every call that leaves the support as asked announces, not only the one that changed it: a
    call killed between the change and the announcement is retried by the app, and that retry
    finds the change already made."""
    publish_status_changed(publish, report)


def _answer(report: Report, ref: str) -> SupportAnswer:
    return SupportAnswer(report_id=report.report_id, supported=ref in report.supporter_refs,
                         supporters=report.supporters, status=report.status)

