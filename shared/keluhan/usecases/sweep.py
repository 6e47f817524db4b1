"""The sweep tick (Cloud Scheduler): every time-based move, and the reconciler, so nothing waits forever."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from keluhan.domain.report import OPEN, Report, Status
from keluhan.domain.sla import SlaPolicy
from keluhan.ports import Clock, Contention, DeadLetters, Mutation, Notified, PhotoStore, Publisher, Reports
from keluhan.usecases.events import publish_status_changed
from keluhan.usecases.notify import reconcile_notifications
from keluhan.usecases.push import PushPorts, resend_due
from keluhan.usecases.reconcile import ReconcilePolicy, reconcile
from keluhan.usecases.submission import expire_if_due


def sweep(*, reports: Reports, publish: Publisher, clock: Clock, limit: int = 500,
          sla: SlaPolicy | None = None, dead_letters: DeadLetters | None = None,
          reconciler: ReconcilePolicy | None = None, photos: PhotoStore | None = None,
          bucket: str = "", notified: Notified | None = None, push: PushPorts | None = None) -> dict[str, int]:
    """Expire photo waits and proof waits, close resolved reports whose window passed, escalate
    overdue ones; counts.

    With a reconciler policy (and the dead letters it writes to), also re-publish the stage
    event of every report stuck in the pipeline (`keluhan.usecases.reconcile`); with the photo
    bucket too, of every upload whose notification was lost; with `notified`, announce again every
    status change whose messages were never all stored (`keluhan.usecases.notify`); with `push`,
    attempt every pending push that is due (`keluhan.usecases.push`).
    """
    now = clock()
    counts = {"photo_expired": 0, "proof_expired": 0, "auto_closed": 0, "escalated": 0, "contended": 0}

    def each(due: Iterable[Report], key: str, move: Callable[[Report], int]) -> None:
        # One report locked by a concurrent change must not stop the tick: the next one retries it.
        for report in due:
            try:
                counts[key] += move(report)
            except Contention:
                counts["contended"] += 1

    each(reports.due(status="awaiting_photo", field="photo.deadline", before=now, limit=limit), "photo_expired",
         lambda r: int(expire_if_due(r, reports=reports, now=now, publish=publish).status == Status.PHOTO_EXPIRED))
    each(reports.due(status="resolving", field="resolution.deadline", before=now, limit=limit), "proof_expired",
         lambda r: _apply(reports, publish, r, lambda c: c.proof_missing(now=now)))
    each(reports.due(status="resolved", field="close_by", before=now, limit=limit), "auto_closed",
         lambda r: _apply(reports, publish, r, lambda c: c.auto_close(now=now)))
    if sla is not None:
        for status in sorted(OPEN):
            each(reports.due(status=status, field="sla.next_escalation_at", before=now, limit=limit), "escalated",
                 lambda r: _apply(reports, publish, r, lambda c: c.escalate(now=now, sla=sla)))
    if reconciler is not None and dead_letters is not None:
        reconciled = reconcile(reports=reports, publish=publish, dead_letters=dead_letters, clock=clock,
                               policy=reconciler, photos=photos, bucket=bucket)
        counts["contended"] += reconciled.pop("contended")
        counts |= reconciled
    if reconciler is not None and notified is not None:
        counts["notify_republished"] = reconcile_notifications(
            reports=reports, notified=notified, publish=publish, clock=clock, after=reconciler.pipeline_after,
            limit=reconciler.limit, page=reconciler.page)
    if push is not None:
        counts["pushes_attempted"] = resend_due(push=push, clock=clock, limit=limit)
    return counts


def _apply(reports: Reports, publish: Publisher, report: Report, change: Mutation) -> int:
    moved = False

    def mutation(current: Report) -> Report | None:
        nonlocal moved
        changed = change(current)
        moved = changed is not None
        return changed

    after = reports.mutate(report.report_id, mutation)
    if after is not None and moved:
        publish_status_changed(publish, after)
    return int(moved)

