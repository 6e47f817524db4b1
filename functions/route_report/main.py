"""Pub/Sub report-located: decide the assignee by the routing rules in force."""

import functions_framework
from cloudevents.http import CloudEvent

from keluhan import bootstrap
from keluhan.bootstrap import utc_now
from keluhan.pubsub import decode, stage_errors
from keluhan.usecases.pipeline import route_report as route


@functions_framework.cloud_event
def route_report(cloud_event: CloudEvent) -> None:
    deps = bootstrap.get_deps()
    message = decode(cloud_event)
    with stage_errors("route_report", message, reports=deps.reports, dead_letters=deps.dead_letters,
                      clock=utc_now):
        route(message.report_id(), reports=deps.reports, decide=deps.decide, publish=deps.publish,
              clock=utc_now, sla=deps.sla)
