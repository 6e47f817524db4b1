"""Hand-over between SKPDs and reassignment by operators: routing again, with a recorded reason."""

from __future__ import annotations

from typing import Any

from keluhan.domain.assignees import get_assignee
from keluhan.domain.location import Location
from keluhan.domain.report import Status
from keluhan.domain.routing import RoutingDecision
from keluhan.ports import Clock, PermanentError, Publisher, Reports
from keluhan.usecases.events import publish_event
from keluhan.usecases.pipeline import RoutingDecider, assignment_changes, mutate_report, routed_event

REASSIGNABLE = {Status.ROUTED, Status.FORWARDED, Status.TRIAGE}


def reassign_report(report_id: str, *, to: str | None, reason: str, by: str, reports: Reports,
                    decide: RoutingDecider, publish: Publisher, clock: Clock) -> dict[str, Any]:
    """Give the report to `to`, or (to=None) re-run the routing rules in force; who and why are kept."""
    if not reason.strip():
        raise PermanentError("alasan wajib diisi / a reason is required")
    now = clock()

    def mutation(report: dict[str, Any]) -> dict[str, Any] | None:
        if report["status"] not in REASSIGNABLE:
            raise PermanentError(f"status {report['status']} tidak bisa dialihkan / cannot be reassigned")
        if to is None:
            location = Location.model_validate(report["location"]) if report.get("location") else None
            decision = decide(category=report["category"], location=location)
        else:
            assignee = get_assignee(to)
            if assignee is None:
                raise PermanentError(f"assignee {to!r} tidak dikenal / unknown assignee")
            decision = RoutingDecision(assignee=assignee.id, assignee_name=assignee.name, kind=assignee.kind,
                                       display=assignee.display, rule="manual",
                                       rules_version=report.get("routing", {}).get("rules_version", ""),
                                       reason=reason)
        if decision.assignee == report.get("assignee"):
            return None
        history = report.get("reassignments") or []
        entry = {"at": now, "by": by, "reason": reason, "from": report.get("assignee"), "to": decision.assignee}
        return {**assignment_changes(report, decision, now=now, by=by, note=reason),
                "reassignments": history + [entry]}

    report = mutate_report(reports, report_id, mutation)
    publish_event(publish, routed_event(report))
    return report
