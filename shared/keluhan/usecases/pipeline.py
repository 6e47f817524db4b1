"""The Pub/Sub stages after submission: locate, route. Each is idempotent per (report, stage).

A redelivered message for a stage already done re-publishes that stage's event, so a crash
between the Firestore write and the publish cannot strand a report.
"""

from __future__ import annotations

from typing import Any, Protocol

from keluhan.domain.location import Location
from keluhan.domain.report import Event, Report, StaleOrIllegal, Status, can_transition
from keluhan.domain.sla import SlaPolicy
from keluhan.domain.workflow import Action, system
from keluhan.ports import Clock, PermanentError, Publisher, Reports
from keluhan.usecases.events import publish_event, publish_status_changed


class ReportNotFound(PermanentError):
    """No such report: a poison message, recorded in `dead_letters` with the reason and acknowledged.

    Every event is published after its report was written, and Firestore reads are strongly
    consistent, so a report that is not there now never will be. (Left to Pub/Sub's retries it
    would depend on the broker's dead-lettering, which the emulator drops after four attempts.)
    """


class Locator(Protocol):
    def locate(self, lat: float, lon: float, street: str | None = None) -> Location: ...


def locate_report(report_id: str, *, reports: Reports, geo: Locator, publish: Publisher,
                  clock: Clock) -> dict[str, Any]:
    """Add kelurahan, kecamatan and road status; keep the raw point; record the data version."""
    now = clock()

    def mutation(doc: dict[str, Any]) -> dict[str, Any] | None:
        report = Report.from_doc(doc)
        if report.stages.located is not None:
            return None
        if not can_transition(report.status, Status.LOCATED):
            raise PermanentError(f"status {report.status} cannot be located")
        location = geo.locate(report.point.lat, report.point.lon, report.street)
        return report.locate(location, now=now, note=_place(location))

    report = mutate_report(reports, report_id, mutation)
    publish_status_changed(publish, report)
    publish_event(publish, Event(name="ReportLocated", report_id=report_id))
    return report


class RoutingDecider(Protocol):
    def __call__(self, *, category: str, location: Location | None) -> Any:
        """The routing decision (assignee, kind, rule, rules_version, reason, ...)."""


ROUTER = system("route_report")


def route_report(report_id: str, *, reports: Reports, decide: RoutingDecider, publish: Publisher,
                 clock: Clock, sla: SlaPolicy | None = None) -> dict[str, Any]:
    """Assign the report by the routing rules; store the decision and which rule made it; a city
    SKPD's handling clock (SLA) starts."""
    now = clock()

    def mutation(doc: dict[str, Any]) -> dict[str, Any] | None:
        report = Report.from_doc(doc)
        if report.stages.routed is not None:
            return None
        if report.status != Status.LOCATED:
            raise PermanentError(f"status {report.status} cannot be routed")
        location = report.location
        decision = decide(category=report.category, location=location)
        return {**report.assign(decision, action=Action.ROUTE, actor=ROUTER, now=now, note=decision.reason,
                                sla=sla),
                "stages.routed": {"at": now, "rule": decision.rule}}

    report = mutate_report(reports, report_id, mutation)
    publish_status_changed(publish, report)
    publish_routed(publish, report)
    return report


def publish_routed(publish: Publisher, report: dict[str, Any]) -> None:
    publish_event(publish, routed_event(report))


def routed_event(report: dict[str, Any]) -> Event:
    """ReportRouted, carrying the delivery key when an external body is to receive the report."""
    routing = report["routing"]
    attributes = {"kind": routing["kind"], "assignee": routing["assignee"]}
    if routing["kind"] == "external" and report.get("forwarding"):
        attributes["delivery_key"] = report["forwarding"]["idempotency_key"]
    return Event(name="ReportRouted", report_id=report["report_id"], attributes=attributes)


def mutate_report(reports: Reports, report_id: str, mutation) -> dict[str, Any]:
    """Apply a mutation; a missing report is retried (and dead-lettered if it never appears), a
    move the workflow does not allow from the stored status is permanent."""
    def checked(doc: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return mutation(doc)
        except StaleOrIllegal as exc:
            raise PermanentError(str(exc)) from exc

    report = reports.mutate(report_id, checked)
    if report is None:
        raise ReportNotFound(f"laporan {report_id} tidak ditemukan / report not found")
    return report


def _place(location: Location) -> str:
    if location.kelurahan:
        return f"Kel. {location.kelurahan}, Kec. {location.kecamatan}"
    if location.outside_region:
        return f"di luar Makassar: {location.outside_region} / outside Makassar"
    return "di luar wilayah Makassar / outside Makassar"
