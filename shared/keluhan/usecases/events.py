"""Where each domain event is published: one mapping, used by every adapter."""

from __future__ import annotations

from keluhan import topology
from keluhan.domain.report import Event, Report
from keluhan.ports import Publisher

EVENT_TOPICS = {
    "ReportAccepted": topology.REPORT_ACCEPTED,
    "ReportLocated": topology.REPORT_LOCATED,
    "ReportRouted": topology.REPORT_ROUTED,
}


def publish_event(publish: Publisher, event: Event) -> None:
    attributes = {"event": event.name, "report_id": event.report_id, **event.attributes}
    publish(EVENT_TOPICS[event.name], {"report_id": event.report_id, "event": event.name}, attributes)


def status_changed(report: Report, seq: int | None = None) -> dict[str, str | int | None] | None:
    """A status change of a report as a message body: report id, from, to, by role, at (the latest,
    or the timeline entry at `seq`).

    `seq` is the entry's position in the timeline: with the report id, the key a consumer
    dedupes on, so a re-publish after a redelivered stage never counts twice.
    """
    positions = range(len(report.timeline) - 1, -1, -1) if seq is None else [seq]
    for at in positions:
        entry = report.timeline[at]
        action = entry.action or entry.event  # an escalation changes no status
        if action:
            return {"report_id": report.report_id, "seq": at,
                    "from": entry.from_ if "from_" in entry.model_fields_set else entry.status,
                    "to": entry.status, "action": action, "role": entry.role or "system",
                    "by": entry.by, "at": entry.at.isoformat(), "assignee": report.assignee}
    return None


def publish_status_changed(publish: Publisher, report: Report, seq: int | None = None) -> None:
    """Publish the report's latest status change (or the one at `seq`) to `report-status-changed`
    (again, if redelivered)."""
    body = status_changed(report, seq)
    if body is None:
        return
    attributes = {"event": "ReportStatusChanged", "report_id": report.report_id, "seq": str(body["seq"]),
                  "from": str(body["from"] or ""), "to": str(body["to"]), "action": str(body["action"])}
    publish(topology.REPORT_STATUS_CHANGED, body, attributes)
