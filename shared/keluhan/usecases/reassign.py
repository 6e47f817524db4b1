"""Reassignment by operators: routing again, or a chosen assignee, with a recorded reason."""

from __future__ import annotations

from keluhan.domain.assignees import get_assignee
from keluhan.domain.report import InvalidMove, Report
from keluhan.domain.routing import RoutingDecision
from keluhan.domain.sla import SlaPolicy
from keluhan.domain.workflow import Actor, Role
from keluhan.ports import Clock, PermanentError, Publisher, Reports
from keluhan.usecases.events import publish_status_changed
from keluhan.usecases.pipeline import RoutingDecider, mutate_report, publish_routed


def decision_for(report: Report, *, to: str | None, reason: str, decide: RoutingDecider) -> RoutingDecision:
    """The rules in force (to=None), or the chosen assignee, as a routing decision."""
    if to is None:
        location = report.location
        return decide(category=report.category, location=location)
    assignee = get_assignee(to)
    if assignee is None:
        raise InvalidMove("assignee", f"assignee {to!r} tidak dikenal / unknown assignee")
    return RoutingDecision(assignee=assignee.id, assignee_name=assignee.name, kind=assignee.kind,
                           display=assignee.display, rule="manual",
                           rules_version=report.routing.rules_version if report.routing else "", reason=reason)


def reassign_report(report_id: str, *, to: str | None, reason: str, by: str, reports: Reports,
                    decide: RoutingDecider, publish: Publisher, clock: Clock,
                    sla: SlaPolicy | None = None) -> Report:
    """Give the report to `to`, or (to=None) re-run the routing rules in force; who and why are kept."""
    if not reason.strip():
        raise PermanentError("alasan wajib diisi / a reason is required")
    now = clock()
    actor = Actor(Role.OPERATOR, by.removeprefix("operator:"))

    def mutation(report: Report) -> Report | None:
        try:
            decision = decision_for(report, to=to, reason=reason, decide=decide)
        except InvalidMove as exc:
            raise PermanentError(str(exc)) from exc
        return report.reassign(decision, actor=actor, reason=reason, now=now, sla=sla)

    before = reports.get(report_id)
    report = mutate_report(reports, report_id, mutation)
    if before is not None and before.assignee != report.assignee:
        publish_status_changed(publish, report)
    publish_routed(publish, report)
    return report
