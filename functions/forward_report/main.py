"""Pub/Sub report-routed: deliver externally-routed reports to the body that owns them."""

from datetime import timedelta

import functions_framework
from cloudevents.http import CloudEvent

from keluhan import bootstrap
from keluhan.bootstrap import utc_now
from keluhan.pubsub import decode, stage_errors
from keluhan.usecases.forwarding import forward_report as forward

SHARE_FOR = timedelta(days=7)  # the longest a V4 signed URL may live


@functions_framework.cloud_event
def forward_report(cloud_event: CloudEvent) -> None:
    deps = bootstrap.get_deps()
    message = decode(cloud_event)
    if message.attributes.get("kind", "external") != "external":
        return  # SKPD and triage reports stay in the city
    with stage_errors("forward_report", message, reports=deps.reports, dead_letters=deps.dead_letters,
                      clock=utc_now):
        forward(message.report_id(), reports=deps.reports, targets=deps.settings.forward_targets,
                send=deps.send_report, timeout_s=deps.settings.forward_timeout_s, clock=utc_now,
                photo_link=lambda name: deps.photos.download_url(name, expires_at=utc_now() + SHARE_FOR),
                publish=deps.publish)
