"""Pub/Sub *-dead-letter: record messages that kept failing in dead_letters/{id}."""

import functions_framework
from cloudevents.http import CloudEvent

from keluhan import bootstrap
from keluhan.bootstrap import utc_now
from keluhan.pubsub import decode
from keluhan.usecases.dead_letters import record_dead_letter as record


@functions_framework.cloud_event
def record_dead_letter(cloud_event: CloudEvent) -> None:
    deps = bootstrap.get_deps()
    record(decode(cloud_event), dead_letters=deps.dead_letters, reports=deps.reports, clock=utc_now,
           publish=deps.publish)
