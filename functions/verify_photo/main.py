"""Pub/Sub photo-uploaded (Cloud Storage object-finalize): fresh, real, placed, not reused."""

import functions_framework
from cloudevents.http import CloudEvent

from keluhan import bootstrap
from keluhan.bootstrap import utc_now
from keluhan.pubsub import decode, stage_errors
from keluhan.usecases.photo import object_from_notification, photo_policy, verify_uploaded_photo


@functions_framework.cloud_event
def verify_photo(cloud_event: CloudEvent) -> None:
    deps = bootstrap.get_deps()
    message = decode(cloud_event)
    with stage_errors("verify_photo", message, reports=deps.reports, dead_letters=deps.dead_letters,
                      clock=utc_now):
        stored = object_from_notification(message.attributes, message.data)
        if stored is not None:
            verify_uploaded_photo(stored, bucket=deps.settings.photo_bucket, reports=deps.reports, photos=deps.photos,
                                  photo_index=deps.photo_index, publish=deps.publish, clock=utc_now,
                                  policy=photo_policy(deps.settings),
                                  reopen_window=deps.handling_policy().reopen_window, auditor=deps.auditor)
