"""Where each domain event is published: one mapping, used by every adapter."""

from __future__ import annotations

from keluhan import topology
from keluhan.domain.report import Event
from keluhan.ports import Publisher

EVENT_TOPICS = {
    "ReportAccepted": topology.REPORT_ACCEPTED,
    "ReportLocated": topology.REPORT_LOCATED,
    "ReportRouted": topology.REPORT_ROUTED,
}


def publish_event(publish: Publisher, event: Event) -> None:
    attributes = {"event": event.name, "report_id": event.report_id, **event.attributes}
    publish(EVENT_TOPICS[event.name], {"report_id": event.report_id, "event": event.name}, attributes)
