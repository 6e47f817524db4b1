"""Pub/Sub report-accepted: the point's kelurahan, kecamatan and road status."""

import functions_framework
from cloudevents.http import CloudEvent

from keluhan import bootstrap
from keluhan.bootstrap import utc_now
from keluhan.geodata import geo_index_from_settings
from keluhan.pubsub import decode, stage_errors
from keluhan.usecases.pipeline import locate_report


@functions_framework.cloud_event
def enrich_geo(cloud_event: CloudEvent) -> None:
    deps = bootstrap.get_deps()
    message = decode(cloud_event)
    with stage_errors("enrich_geo", message, reports=deps.reports, dead_letters=deps.dead_letters,
                      clock=utc_now):
        locate_report(message.report_id(), reports=deps.reports,
                      geo=geo_index_from_settings(deps.settings), publish=deps.publish, clock=utc_now)
