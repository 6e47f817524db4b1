"""The Pub/Sub stages after submission: locate, route. Each is idempotent per (report, stage).

A redelivered message for a stage already done re-publishes that stage's event, so a crash
between the Firestore write and the publish cannot strand a report.
"""

from __future__ import annotations

from typing import Any, Protocol

from keluhan.domain.forwarding import Delivery
from keluhan.domain.location import Location
from keluhan.domain.report import Event, Status, can_transition, timeline_entry
from keluhan.ports import Clock, PermanentError, Publisher, Reports, TransientError
from keluhan.usecases.events import publish_event


class ReportNotFound(TransientError):
    """No such report (yet): retried, and dead-lettered if it never appears."""


class Locator(Protocol):
    def locate(self, lat: float, lon: float, street: str | None = None) -> Location: ...


def locate_report(report_id: str, *, reports: Reports, geo: Locator, publish: Publisher,
                  clock: Clock) -> dict[str, Any]:
    """Add kelurahan, kecamatan and road status; keep the raw point; record the data version."""
    now = clock()

    def mutation(report: dict[str, Any]) -> dict[str, Any] | None:
        if "located" in report.get("stages", {}):
            return None
        if not can_transition(report["status"], Status.LOCATED):
            raise PermanentError(f"status {report['status']} cannot be located")
        point = report["point"]
        location = geo.locate(point["lat"], point["lon"], report.get("street"))
        return {
            "location": location.model_dump(mode="json"),
            "status": Status.LOCATED.value,
            "status_changed_at": now,
            "stages.located": {"at": now, "data_version": location.data_version},
            "timeline": report["timeline"] + [timeline_entry(Status.LOCATED.value, now, "enrich_geo",
                                                             _place(location))],
        }

    report = mutate_report(reports, report_id, mutation)
    publish_event(publish, Event(name="ReportLocated", report_id=report_id))
    return report


class RoutingDecider(Protocol):
    def __call__(self, *, category: str, location: Location | None) -> Any:
        """The routing decision (assignee, kind, rule, rules_version, reason, ...)."""


def route_report(report_id: str, *, reports: Reports, decide: RoutingDecider, publish: Publisher,
                 clock: Clock) -> dict[str, Any]:
    """Assign the report by the routing rules; store the decision and which rule made it."""
    now = clock()

    def mutation(report: dict[str, Any]) -> dict[str, Any] | None:
        if "routed" in report.get("stages", {}):
            return None
        if report["status"] != Status.LOCATED:
            raise PermanentError(f"status {report['status']} cannot be routed")
        location = Location.model_validate(report["location"]) if report.get("location") else None
        decision = decide(category=report["category"], location=location)
        return {**assignment_changes(report, decision, now=now, by="route_report", note=decision.reason),
                "stages.routed": {"at": now, "rule": decision.rule}}

    report = mutate_report(reports, report_id, mutation)
    publish_event(publish, routed_event(report))
    return report


def routed_event(report: dict[str, Any]) -> Event:
    """ReportRouted, carrying the delivery key when an external body is to receive the report."""
    routing = report["routing"]
    attributes = {"kind": routing["kind"], "assignee": routing["assignee"]}
    if routing["kind"] == "external" and report.get("forwarding"):
        attributes["delivery_key"] = report["forwarding"]["idempotency_key"]
    return Event(name="ReportRouted", report_id=report["report_id"], attributes=attributes)


def assignment_changes(report: dict[str, Any], decision, *, now, by: str, note: str) -> dict[str, Any]:
    """The field changes that put a report with the decided assignee: SKPD queue, external body
    (with a fresh tracked delivery), or triage."""
    status = {"skpd": Status.ROUTED, "external": Status.FORWARDED, "triage": Status.TRIAGE}[decision.kind]
    if not can_transition(report["status"], status):
        raise PermanentError(f"status {report['status']} cannot become {status.value}")
    changes = {
        "routing": {**decision.model_dump(mode="json"), "at": now},
        "assignee": decision.assignee,
        "status": status.value,
        "status_changed_at": now,
        "timeline": report["timeline"] + [timeline_entry(status.value, now, by, note)],
    }
    if decision.kind == "external":
        delivery = Delivery.start(report_id=report["report_id"], assignee=decision.assignee, now=now,
                                  assignment=len(report.get("reassignments") or []))
        changes["forwarding"] = delivery.model_dump()
    return changes


def mutate_report(reports: Reports, report_id: str, mutation) -> dict[str, Any]:
    """Apply a mutation; a missing report is retried (and dead-lettered if it never appears)."""
    report = reports.mutate(report_id, mutation)
    if report is None:
        raise ReportNotFound(f"laporan {report_id} tidak ditemukan / report not found")
    return report


def _place(location: Location) -> str:
    if location.kelurahan:
        return f"Kel. {location.kelurahan}, Kec. {location.kecamatan}"
    if location.outside_region:
        return f"di luar Makassar: {location.outside_region} / outside Makassar"
    return "di luar wilayah Makassar / outside Makassar"
