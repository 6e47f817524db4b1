"""Forwarding a report to the external body that owns it, as a tracked, idempotent hop."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from keluhan.domain.catalogue import get_category
from keluhan.domain.forwarding import Delivery, build_payload, target_for
from keluhan.domain.report import DELIVERY_FAILED, Report, Status
from keluhan.ports import (
    Clock,
    PermanentDeliveryError,
    PermanentError,
    Publisher,
    Reports,
    Send,
    TransientDeliveryError,
    TransientError,
)
from keluhan.usecases.events import publish_status_changed
from keluhan.usecases.pipeline import ReportNotFound


class DeliveryRetry(TransientError):
    """The receiver failed transiently; Pub/Sub redelivers under the retry policy."""


def forward_report(report_id: str, *, reports: Reports, targets: Mapping[str, Mapping[str, str]], send: Send,
                   timeout_s: float, clock: Clock,
                   photo_link: Callable[[str], str] | None = None,
                   publish: Publisher | None = None) -> Report | None:
    """Send the report to its external assignee once; record attempts, errors and the reference.

    `send` raises the port's TransientDeliveryError or PermanentDeliveryError;
    `photo_link(object_name)` gives a URL of the EXIF-free copy. A delivery given up on gets a
    timeline entry, announced on report-status-changed through `publish` (the operators and the
    reporter are told).
    """
    report = reports.get(report_id)
    if report is None:
        raise ReportNotFound(f"laporan {report_id} tidak ditemukan / report not found")
    delivery = report.forwarding
    if report.status != Status.FORWARDED or delivery is None:
        return None  # an SKPD or triage report: nothing to forward
    if delivery.done:
        return report
    try:
        target = target_for(targets, delivery.assignee)
    except ValueError as exc:
        error = str(exc)
        mark_delivery_failed(report_id, error, reports=reports, clock=clock,
                             idempotency_key=delivery.idempotency_key, publish=publish)
        raise PermanentError(error) from exc
    clean = report.photo.clean_object
    photo_url = photo_link(clean) if clean and photo_link else None
    payload = build_payload(_outgoing(report, photo_url), target.get("format", "webhook"))

    key = delivery.idempotency_key
    _save(reports, report_id, key, lambda d: d.record_attempt(now=clock()))
    try:
        result = send(target, payload, idempotency_key=delivery.idempotency_key, timeout_s=timeout_s)
    except TransientDeliveryError as exc:
        error = str(exc)
        _save(reports, report_id, key, lambda d: d.retry_later(error, now=clock()))
        raise DeliveryRetry(error) from exc
    except PermanentDeliveryError as exc:
        error = str(exc)
        mark_delivery_failed(report_id, error, reports=reports, clock=clock, idempotency_key=key, publish=publish)
        raise PermanentError(error) from exc
    return _save(reports, report_id, key, lambda d: d.acknowledged(result.receiver_ref, now=clock()))


def _outgoing(report: Report, photo_url: str | None) -> dict[str, Any]:  # Any: as ReportDoc
    """The fields the payload builders read: the stored report flattened, plus names."""
    category = get_category(report.category)
    return {**report.to_doc(), "lat": report.point.lat, "lon": report.point.lon,
            "category_name": category.label if category else report.category,
            "photo_url": photo_url}


def mark_delivery_failed(report_id: str, reason: str, *, reports: Reports, clock: Clock,
                         idempotency_key: str | None = None, publish: Publisher | None = None) -> None:
    """Give the delivery up for good; its timeline entry is announced (again, if the delivery had
    failed already: a redelivery heals a crash between the write and the publish; notify dedupes)."""
    report = _save(reports, report_id, idempotency_key, lambda d: d.failed(reason, now=clock()))
    if publish is not None and report is not None and report.timeline and report.timeline[-1].event == DELIVERY_FAILED:
        publish_status_changed(publish, report)


def _save(reports: Reports, report_id: str, key: str | None,
          step: Callable[[Delivery], Delivery]) -> Report | None:
    """Apply a delivery step, but only to the delivery it belongs to (a reassignment starts a new one)."""
    def mutation(report: Report) -> Report | None:
        before = report.forwarding
        if before is None or (key is not None and before.idempotency_key != key):
            return None
        after = step(before)
        return None if after == before else report.delivery(after)

    return reports.mutate(report_id, mutation)
