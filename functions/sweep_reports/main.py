"""Pub/Sub sweep-tick (Cloud Scheduler): photo and proof waits expire, resolved reports close."""

import logging

import functions_framework

from keluhan import bootstrap
from keluhan.bootstrap import utc_now
from keluhan.usecases.sweep import sweep


@functions_framework.cloud_event
def sweep_reports(cloud_event):
    deps = bootstrap.get_deps()
    counts = sweep(reports=deps.reports, publish=deps.publish, clock=utc_now, sla=deps.sla)
    logging.info("sweep_reports: %s", counts)
