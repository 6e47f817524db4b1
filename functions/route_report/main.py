"""Pub/Sub report-located: decide the assignee by the routing rules in force."""

import functools

import functions_framework

from keluhan import bootstrap
from keluhan.bootstrap import utc_now
from keluhan.domain.routing import decide, default_rules_path
from keluhan.pubsub import decode, stage_errors
from keluhan.rules_provider import RulesProvider
from keluhan.usecases.pipeline import route_report as route


@functools.cache
def _rules() -> RulesProvider:
    deps = bootstrap.get_deps()
    return RulesProvider(load_doc=deps.rules_doc.load, fixture_path=default_rules_path(deps.settings),
                         ttl_s=deps.settings.routing_rules_ttl_s)


@functions_framework.cloud_event
def route_report(cloud_event):
    deps = bootstrap.get_deps()
    message = decode(cloud_event)
    rules = _rules().current()
    with stage_errors("route_report", message, reports=deps.reports, dead_letters=deps.dead_letters,
                      clock=utc_now):
        route(message.report_id(), reports=deps.reports,
              decide=functools.partial(decide, rules=rules), publish=deps.publish, clock=utc_now)
