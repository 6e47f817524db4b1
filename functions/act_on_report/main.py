"""HTTP POST: one move on a report (SKPD, reporter or operator), guarded by `expected_status`."""

import functions_framework

from keluhan import bootstrap, handling_http, http
from keluhan.bootstrap import Deps, utc_now
from keluhan.domain.report import ActOnReport


@functions_framework.http
@http.endpoint("POST", bootstrap.get_deps)
def act_on_report(call: http.Call[Deps]) -> http.Response:
    return handling_http.act(call.body(ActOnReport), actor=call.actor, deps=call.deps, clock=utc_now)
