"""Pub/Sub report-status-changed: bring the report's part of the figures (stats/…) up to date."""

import functions_framework
from cloudevents.http import CloudEvent

from keluhan import bootstrap
from keluhan.pubsub import decode, stage_errors
from keluhan.usecases.figures import record_figures as record


@functions_framework.cloud_event
def record_figures(cloud_event: CloudEvent) -> None:
    deps = bootstrap.get_deps()
    message = decode(cloud_event)
    with stage_errors("record_figures", message, reports=deps.reports, dead_letters=deps.dead_letters,
                      clock=bootstrap.utc_now):
        record(message.report_id(), reports=deps.reports, stats=deps.stats)
