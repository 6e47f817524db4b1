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
from dataclasses import dataclass
from datetime import datetime, timedelta

from keluhan import topology
from keluhan.domain.dead_letter import DeadLetterRecord
from keluhan.domain.report import Event, Report, StageError, Stalled, Status, photo_object_name
from keluhan.ports import Clock, Contention, DeadLetters, ObjectStat, PhotoStore, Publisher, Reports
from keluhan.usecases.dead_letters import store
from keluhan.usecases.events import EVENT_TOPICS
from keluhan.usecases.forwarding import mark_delivery_failed
from keluhan.usecases.pipeline import routed_event


@dataclass(frozen=True)
class Stall:
    """A pipeline status a report may get stuck in, and the event that moves it on."""

    status: Status
    clock_field: str  # when the report entered this stage (the field path the query orders by)
    since: Callable[[Report], datetime | None]  # the same time, read from the report
    event: Callable[[Report], Event] | None
    topic: str
    delivery_state: str | None = None  # only reports whose delivery is in this state
    # Waits for an upload: (the object, the upload whose verdict is on the report).
    upload: Callable[[Report], tuple[str | None, str | None]] | None = None

    @property
    def forwarding(self) -> bool:
        return self.delivery_state is not None

    @property
    def where(self) -> dict[str, str]:
        """Further equality filters of the query."""
        return {"forwarding.state": self.delivery_state} if self.delivery_state else {}

    def holds(self, report: Report) -> bool:
        """Whether the report is (still) in this stall's status and state."""
        if report.status != self.status:
            return False
        return self.delivery_state is None or (report.forwarding is not None
                                               and report.forwarding.state == self.delivery_state)

    @property
    def name(self) -> str:
        return "/".join([self.status.value, *self.where.values()])

    @property
    def stage(self) -> str:
        """The function that should have moved the report on."""
        return topology.stage_of_topic(self.topic)


def _accepted(report: Report) -> Event:
    return Event(name="ReportAccepted", report_id=report.report_id)


def _located(report: Report) -> Event:
    return Event(name="ReportLocated", report_id=report.report_id)


def _original(report: Report) -> tuple[str | None, str | None]:
    return photo_object_name(report.report_id), report.photo.event


def _proof(report: Report) -> tuple[str | None, str | None]:
    resolution = report.resolution
    return (resolution.object, resolution.event) if resolution else (None, None)


def _status_changed(report: Report) -> datetime | None:
    return report.status_changed_at


def _delivery_updated(report: Report) -> datetime | None:
    return report.forwarding.updated_at if report.forwarding else None


_CHANGED = ("status_changed_at", _status_changed)
_DELIVERY = ("forwarding.updated_at", _delivery_updated)
STALLS: tuple[Stall, ...] = (
    Stall(Status.AWAITING_PHOTO, *_CHANGED, None, topology.PHOTO_UPLOADED, upload=_original),
    Stall(Status.RESOLVING, *_CHANGED, None, topology.PHOTO_UPLOADED, upload=_proof),
    Stall(Status.RECEIVED, *_CHANGED, _accepted, topology.REPORT_ACCEPTED),
    Stall(Status.VERIFIED, *_CHANGED, _accepted, topology.REPORT_ACCEPTED),
    Stall(Status.LOCATED, *_CHANGED, _located, topology.REPORT_LOCATED),
    Stall(Status.FORWARDED, *_DELIVERY, routed_event, topology.REPORT_ROUTED, delivery_state="pending"),
    Stall(Status.FORWARDED, *_DELIVERY, routed_event, topology.REPORT_ROUTED, delivery_state="sent"),
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
        for stuck in _stuck(reports, stall, before=now - after, page=policy.page):
            if budget <= 0:
                return counts
            upload = None
            if stall.upload is not None:
                if lookups <= 0:
                    break
                lookups -= 1
                upload = _unverified_upload(stuck, stall, photos, bucket)
                if upload is None:
                    continue  # nothing uploaded yet, or its verdict is already on the report
            try:
                outcome = _count_stall(reports, stuck.report_id, stall, now=now, after=after,
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
                             reports=reports, clock=clock, publish=publish)
                counts["stalled_dead_lettered"] += 1
            else:
                publish(topic, data, attributes)
                counts["republished"] += 1
    return counts


def _unverified_upload(report: Report, stall: Stall, photos: PhotoStore | None,
                       bucket: str) -> tuple[str, ObjectStat] | None:
    """The awaited object, when it is in the bucket but no verdict on that generation is on the report."""
    assert stall.upload is not None and photos is not None
    name, verified = stall.upload(report)
    found = photos.stat(name) if name else None
    if name is None or found is None or verified == f"{bucket}/{name}#{found.generation}":
        return None
    return name, found


def _message(report: Report, stall: Stall, upload: tuple[str, ObjectStat] | None,
             bucket: str) -> tuple[str, dict[str, str | None], dict[str, str]]:
    """What to publish: the stage event, or the upload notification Cloud Storage would have sent."""
    if upload is not None:
        name, found = upload
        return stall.topic, {"bucket": bucket, "name": name, "generation": str(found.generation),
                             "contentType": found.content_type}, {
            "eventType": "OBJECT_FINALIZE", "bucketId": bucket, "objectId": name,
            "objectGeneration": str(found.generation), "payloadFormat": "JSON_API_V1",
            "report_id": report.report_id}
    assert stall.event is not None
    event = stall.event(report)
    return EVENT_TOPICS[event.name], {"report_id": event.report_id, "event": event.name}, {
        "event": event.name, "report_id": event.report_id, **event.attributes}


def _stuck(reports: Reports, stall: Stall, *, before: datetime, page: int) -> Iterator[Report]:
    """Every report in the stall's status entered before `before`, oldest first, page by page."""
    cursor = None
    while True:
        due = reports.due(status=stall.status.value, field=stall.clock_field, before=before, limit=page,
                          where=stall.where, start_after=cursor)
        yield from due
        last = stall.since(due[-1]) if len(due) == page else None
        if last is None:
            return
        cursor = (last, due[-1].report_id)


def _count_stall(reports: Reports, report_id: str, stall: Stall, *, now: datetime, after: timedelta,
                 max_republish: int) -> tuple[Report, bool] | None:
    """Count one more re-publish on the report, through `Reports.mutate` (a guarded write); (report, gave up) or None to skip."""
    changed = gave_up = False

    def mutation(report: Report) -> Report | None:
        nonlocal changed, gave_up
        changed = gave_up = False  # a retried transaction runs this again
        since = stall.since(report)
        if not stall.holds(report) or since is None or since > now - after:
            return None  # it moved on since the query
        stalled = report.stalled
        same = stalled is not None and stalled.status == stall.name and stalled.since == since
        if stalled is not None and same and (stalled.gave_up or stalled.at > now - after):
            return None  # given up on already, or re-published less than a threshold ago
        count = stalled.count + 1 if stalled is not None and same else 1
        changed = True
        if count <= max_republish:
            return report.stall(Stalled(status=stall.name, since=since, count=count, at=now))
        gave_up = True
        return report.stall(Stalled(status=stall.name, since=since, count=max_republish, at=now, gave_up=True),
                            StageError(stage=stall.stage, reason=_reason(stall, since, max_republish), at=now))

    report = reports.mutate(report_id, mutation)
    return (report, gave_up) if report is not None and changed else None


def _dead_letter(report: Report, stall: Stall, message: tuple[str, dict[str, str | None], dict[str, str]], *,
                 dead_letters: DeadLetters, reports: Reports, clock: Clock, publish: Publisher) -> None:
    topic, data, attributes = message
    stalled = report.stalled
    assert stalled is not None  # counted on the report before it is given up on
    reason = _reason(stall, stalled.since, stalled.count)
    # What `keluhan dlq replay` publishes again: the message as the stage would have received it.
    store(DeadLetterRecord.stuck(report_id=report.report_id, status=stall.status.value, stage=stall.stage,
                                 topic=topic, reason=reason, at=clock(), data=json.dumps(data).encode(),
                                 attributes=attributes, republished=stalled.count), dead_letters=dead_letters)
    if stall.forwarding:
        mark_delivery_failed(report.report_id, reason, reports=reports, clock=clock,
                             idempotency_key=report.forwarding.idempotency_key if report.forwarding else None,
                             publish=publish)


def _reason(stall: Stall, since: datetime, republished: int) -> str:
    at = since.isoformat()
    return (f"macet di {stall.name} sejak {at}, {republished} kali dikirim ulang / stuck at {stall.name} "
            f"since {at}, re-published {republished} times without moving")
