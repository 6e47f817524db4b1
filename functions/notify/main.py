"""Pub/Sub report-status-changed: tell everyone who should know, once (inbox/{uid}/messages/…, push, WhatsApp)."""

import functions_framework
from cloudevents.http import CloudEvent

from keluhan import bootstrap
from keluhan.pubsub import decode, stage_errors
from keluhan.usecases.notify import notify_status_change


@functions_framework.cloud_event
def notify(cloud_event: CloudEvent) -> None:
    deps = bootstrap.get_deps()
    message = decode(cloud_event)
    with stage_errors("notify", message, reports=deps.reports, dead_letters=deps.dead_letters,
                      clock=bootstrap.utc_now):
        notify_status_change(message.report_id(), message.seq(), reports=deps.reports,
                             directory=deps.directory, inbox=deps.inbox, notified=deps.notified,
                             clock=bootstrap.utc_now, preferences=deps.preferences, push=deps.push(),
                             subscriptions=deps.subscriptions, digests=deps.digests,
                             supporters=deps.supporters, whatsapp=deps.whatsapp_sender(),
                             announced=message.move())
