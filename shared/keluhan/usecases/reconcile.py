"""The reconciler: finds reports that stopped moving in the pipeline and re-publishes their stage.

Pub/Sub retries and dead-lettering cover a handler that fails; they do not cover a message that
was never published (a crash between the Firestore write and the publish), one that expired,
or a broker that lost its state. The sweep tick therefore looks for reports sitting in a
pipeline status longer than that stage's threshold and publishes the stage's event again.
Every stage is idempotent per (report, stage), so a re-publish for a report that was merely
slow changes nothing twice. A report waiting for a photo (the citizen's original, or an SKPD's
proof of a fix) is stuck only once the object is in the bucket but its upload notification never
arrived: the reconciler then sends the notification Cloud Storage would have sent. Each re-publish is counted on the report (`stalled`); a report
that still has not moved after `max_republish` tries ends in `dead_letters` with a reason and
an error on the report, and is left alone until an operator replays it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from keluhan import topology
from keluhan.domain.dead_letter import DeadLetterRecord
from keluhan.domain.report import Event, Status, photo_object_name
from keluhan.ports import Clock, Contention, DeadLetters, ObjectStat, PhotoStore, Publisher, Reports
from keluhan.usecases.dead_letters import store
from keluhan.usecases.events import EVENT_TOPICS
from keluhan.usecases.forwarding import mark_delivery_failed
from keluhan.usecases.pipeline import routed_event


@dataclass(frozen=True)
class Stall:
    """A pipeline status a report may get stuck in, and the event that moves it on."""

    status: Status
    clock_field: str  # when the report entered this stage (a dotted path)
    event: Callable[[dict[str, Any]], Event] | None
    topic: str
    where: dict[str, str] = field(default_factory=dict)  # further equality filters
    forwarding: bool = False
    # Waits for an upload: (the object, the report field holding the upload it last verified).
    upload: Callable[[dict[str, Any]], tuple[str | None, str | None]] | None = None

    @property
    def name(self) -> str:
        return "/".join([self.status.value, *self.where.values()])

    @property
    def stage(self) -> str:
        """The function that should have moved the report on."""
        return topology.stage_of_topic(self.topic)


def _accepted(report: dict[str, Any]) -> Event:
    return Event(name="ReportAccepted", report_id=report["report_id"])


def _located(report: dict[str, Any]) -> Event:
    return Event(name="ReportLocated", report_id=report["report_id"])


def _original(report: dict[str, Any]) -> tuple[str | None, str | None]:
    return photo_object_name(report["report_id"]), (report.get("photo") or {}).get("event")


def _proof(report: dict[str, Any]) -> tuple[str | None, str | None]:
    resolution = report.get("resolution") or {}
    return resolution.get("object"), resolution.get("event")


STALLS: tuple[Stall, ...] = (
    Stall(Status.AWAITING_PHOTO, "status_changed_at", None, topology.PHOTO_UPLOADED, upload=_original),
    Stall(Status.RESOLVING, "status_changed_at", None, topology.PHOTO_UPLOADED, upload=_proof),
    Stall(Status.RECEIVED, "status_changed_at", _accepted, topology.REPORT_ACCEPTED),
    Stall(Status.VERIFIED, "status_changed_at", _accepted, topology.REPORT_ACCEPTED),
    Stall(Status.LOCATED, "status_changed_at", _located, topology.REPORT_LOCATED),
    Stall(Status.FORWARDED, "forwarding.updated_at", routed_event, topology.REPORT_ROUTED,
          {"forwarding.state": "pending"}, forwarding=True),
    Stall(Status.FORWARDED, "forwarding.updated_at", routed_event, topology.REPORT_ROUTED,
          {"forwarding.state": "sent"}, forwarding=True),
)


@dataclass(frozen=True)
class ReconcilePolicy:
    """How long each stage may take before its event is re-published, and how often at most."""

    pipeline_after: timedelta = timedelta(minutes=2)
    forwarding_after: timedelta = timedelta(minutes=10)
    max_republish: int = 5
    limit: int = 200  # re-publishes (and dead letters) per tick, over all stages
    page: int = 100
    lookups: int = 500  # bucket lookups per tick for each stage waiting for an upload

    def after(self, stall: Stall) -> timedelta:
        return self.forwarding_after if stall.forwarding else self.pipeline_after


def reconcile(*, reports: Reports, publish: Publisher, dead_letters: DeadLetters, clock: Clock,
              policy: ReconcilePolicy, photos: PhotoStore | None = None, bucket: str = "") -> dict[str, int]:
    """Re-publish the stage event of every report stuck past its threshold; counts.

    Bounded per tick by `policy.limit`; reports already re-published within the threshold, or
    already given up on, are skipped without counting against it. Without `photos`, reports
    waiting for an upload are not looked at.
    """
    now = clock()
    counts = {"republished": 0, "stalled_dead_lettered": 0, "contended": 0}
    budget = policy.limit
    for stall in STALLS:
        if stall.upload is not None and photos is None:
            continue
        # Each upload stage has its own lookups: abandoned photo-less reports must not starve a
        # lost proof notification.
        lookups = policy.lookups
        after = policy.after(stall)
        for doc in _stuck(reports, stall, before=now - after, page=policy.page):
            if budget <= 0:
                return counts
            upload = None
            if stall.upload is not None:
                if lookups <= 0:
                    break
                lookups -= 1
                upload = _unverified_upload(doc, stall, photos, bucket)
                if upload is None:
                    continue  # nothing uploaded yet, or its verdict is already on the report
            try:
                outcome = _count_stall(reports, doc["report_id"], stall, now=now, after=after,
                                       max_republish=policy.max_republish)
            except Contention:
                counts["contended"] += 1  # locked by a concurrent change: the next tick looks again
                continue
            if outcome is None:
                continue
            report, gave_up = outcome
            budget -= 1
            topic, data, attributes = _message(report, stall, upload, bucket)
            if gave_up:
                _dead_letter(report, stall, (topic, data, attributes), dead_letters=dead_letters,
                             reports=reports, clock=clock)
                counts["stalled_dead_lettered"] += 1
            else:
                publish(topic, data, attributes)
                counts["republished"] += 1
    return counts


def _unverified_upload(doc: dict[str, Any], stall: Stall, photos, bucket: str) -> tuple[str, ObjectStat] | None:
    """The awaited object, when it is in the bucket but no verdict on that generation is on the report."""
    assert stall.upload is not None
    name, verified = stall.upload(doc)
    found = photos.stat(name) if name else None
    if name is None or found is None or verified == f"{bucket}/{name}#{found.generation}":
        return None
    return name, found


def _message(report: dict[str, Any], stall: Stall, upload: tuple[str, ObjectStat] | None,
             bucket: str) -> tuple[str, dict[str, Any], dict[str, str]]:
    """What to publish: the stage event, or the upload notification Cloud Storage would have sent."""
    if upload is not None:
        name, found = upload
        return stall.topic, {"bucket": bucket, "name": name, "generation": str(found.generation),
                             "contentType": found.content_type}, {
            "eventType": "OBJECT_FINALIZE", "bucketId": bucket, "objectId": name,
            "objectGeneration": str(found.generation), "payloadFormat": "JSON_API_V1",
            "report_id": report["report_id"]}
    assert stall.event is not None
    event = stall.event(report)
    return EVENT_TOPICS[event.name], {"report_id": event.report_id, "event": event.name}, {
        "event": event.name, "report_id": event.report_id, **event.attributes}


def _stuck(reports: Reports, stall: Stall, *, before: datetime, page: int) -> Iterator[dict[str, Any]]:
    """Every report in the stall's status entered before `before`, oldest first, page by page."""
    cursor = None
    while True:
        docs = reports.due(status=stall.status.value, field=stall.clock_field, before=before, limit=page,
                           where=stall.where, start_after=cursor)
        yield from docs
        if len(docs) < page:
            return
        cursor = (_value(docs[-1], stall.clock_field), docs[-1]["report_id"])


def _count_stall(reports: Reports, report_id: str, stall: Stall, *, now: datetime, after: timedelta,
                 max_republish: int) -> tuple[dict[str, Any], bool] | None:
    """Count one more re-publish on the report, in a transaction; (report, gave up) or None to skip."""
    changed = gave_up = False

    def mutation(doc: dict[str, Any]) -> dict[str, Any] | None:
        nonlocal changed, gave_up
        changed = gave_up = False  # a retried transaction runs this again
        since = _value(doc, stall.clock_field)
        if doc.get("status") != stall.status.value or since is None or since > now - after:
            return None  # it moved on since the query
        if any(_value(doc, path) != value for path, value in stall.where.items()):
            return None
        stalled = doc.get("stalled") or {}
        same = stalled.get("status") == stall.name and stalled.get("since") == since
        if same and (stalled.get("gave_up") or stalled["at"] > now - after):
            return None  # given up on already, or re-published less than a threshold ago
        count = stalled.get("count", 0) + 1 if same else 1
        record = {"status": stall.name, "since": since, "count": count, "at": now}
        changed = True
        if count <= max_republish:
            return {"stalled": record}
        gave_up = True
        reason = _reason(stall, since, max_republish)
        errors = doc.get("errors") or []
        return {"stalled": {**record, "count": max_republish, "gave_up": True},
                "errors": errors + [{"stage": stall.stage, "reason": reason, "at": now}]}

    report = reports.mutate(report_id, mutation)
    return (report, gave_up) if report is not None and changed else None


def _dead_letter(report: dict[str, Any], stall: Stall, message: tuple[str, dict[str, Any], dict[str, str]], *,
                 dead_letters: DeadLetters, reports: Reports, clock: Clock) -> None:
    topic, data, attributes = message
    stalled = report["stalled"]
    reason = _reason(stall, stalled["since"], stalled["count"])
    # What `keluhan dlq replay` publishes again: the message as the stage would have received it.
    store(DeadLetterRecord.stuck(report_id=report["report_id"], status=stall.status.value, stage=stall.stage,
                                 topic=topic, reason=reason, at=clock(), data=json.dumps(data).encode(),
                                 attributes=attributes, republished=stalled["count"]), dead_letters=dead_letters)
    if stall.forwarding:
        mark_delivery_failed(report["report_id"], reason, reports=reports, clock=clock,
                             idempotency_key=(report.get("forwarding") or {}).get("idempotency_key"))


def _reason(stall: Stall, since: Any, republished: int) -> str:
    at = since.isoformat() if hasattr(since, "isoformat") else str(since)
    return (f"macet di {stall.name} sejak {at}, {republished} kali dikirim ulang / stuck at {stall.name} "
            f"since {at}, re-published {republished} times without moving")


def _value(doc: dict[str, Any] | None, path: str) -> Any:
    for part in path.split("."):
        doc = (doc or {}).get(part) if isinstance(doc, dict) else None
    return doc
