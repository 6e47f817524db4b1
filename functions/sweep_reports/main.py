"""Pub/Sub sweep-tick (Cloud Scheduler): time-based moves, and the reconciler for stuck reports."""

import logging

import functions_framework
from cloudevents.http import CloudEvent

from keluhan import bootstrap
from keluhan.bootstrap import utc_now
from keluhan.usecases.sweep import sweep


@functions_framework.cloud_event
def sweep_reports(cloud_event: CloudEvent) -> None:
    deps = bootstrap.get_deps()
    counts = sweep(reports=deps.reports, publish=deps.publish, clock=utc_now, sla=deps.sla,
                   dead_letters=deps.dead_letters, reconciler=deps.reconcile_policy(),
                   photos=deps.photos, bucket=deps.settings.photo_bucket, notified=deps.notified,
                   push=deps.push())
    logging.info("sweep_reports: %s", counts, extra={"stage": "sweep_reports", "counts": counts})
