"""Pub/Sub sweep-tick (Cloud Scheduler): reports whose photo never arrived expire, visibly."""

import logging

import functions_framework

from keluhan import bootstrap
from keluhan.bootstrap import utc_now
from keluhan.usecases.submission import expire_overdue_reports


@functions_framework.cloud_event
def sweep_reports(cloud_event):
    expired = expire_overdue_reports(reports=bootstrap.get_deps().reports, clock=utc_now)
    logging.info("sweep_reports: %d reports expired", expired)
