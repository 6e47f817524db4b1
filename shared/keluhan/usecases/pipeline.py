"""The Pub/Sub stages after submission: locate, route. Each is idempotent per (report, stage).

A redelivered message for a stage already done re-publishes that stage's event, so a crash
between the Firestore write and the publish cannot strand a report.
"""

from __future__ import annotations

from typing import Protocol

from keluhan.domain.location import Location
from keluhan.domain.report import Event, Report, StaleOrIllegal, Status, can_transition
from keluhan.domain.routing import RoutingDecision
from keluhan.domain.sla import SlaPolicy
from keluhan.domain.workflow import system
from keluhan.ports import Clock, Mutation, PermanentError, Publisher, Reports
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
                  clock: Clock) -> Report:
    """Add kelurahan, kecamatan and road status; keep the raw point; record the data version."""
    now = clock()

    def mutation(report: Report) -> Report | None:
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
    def __call__(self, *, category: str, location: Location | None) -> RoutingDecision:
        """The routing decision (assignee, kind, rule, rules_version, reason)."""


ROUTER = system("route_report")


def route_report(report_id: str, *, reports: Reports, decide: RoutingDecider, publish: Publisher,
                 clock: Clock, sla: SlaPolicy | None = None) -> Report:
    """Assign the report by the routing rules; store the decision and which rule made it; a city
    SKPD's handling clock (SLA) starts."""
    now = clock()

    def mutation(report: Report) -> Report | None:
        if report.stages.routed is not None:
            return None
        if report.status != Status.LOCATED:
            raise PermanentError(f"status {report.status} cannot be routed")
        decision = decide(category=report.category, location=report.location)
        return report.route(decision, actor=ROUTER, now=now, sla=sla)

    report = mutate_report(reports, report_id, mutation)
    publish_status_changed(publish, report)
    publish_routed(publish, report)
    return report


def publish_routed(publish: Publisher, report: Report) -> None:
    publish_event(publish, routed_event(report))


def routed_event(report: Report) -> Event:
    """ReportRouted, carrying the delivery key when an external body is to receive the report."""
    routing = report.routing
    assert routing is not None  # published only for a routed report
    attributes = {"kind": routing.kind, "assignee": routing.assignee}
    if routing.kind == "external" and report.forwarding is not None:
        attributes["delivery_key"] = report.forwarding.idempotency_key
    return Event(name="ReportRouted", report_id=report.report_id, attributes=attributes)


def mutate_report(reports: Reports, report_id: str, mutation: Mutation) -> Report:
    """Apply a mutation; a missing report is retried (and dead-lettered if it never appears), a
    move the workflow does not allow from the stored status is permanent."""
    def checked(report: Report) -> Report | None:
        try:
            return mutation(report)
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
