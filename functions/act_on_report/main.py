"""HTTP POST: one move on a report (SKPD, reporter or operator), guarded by `expected_status`."""

import functions_framework

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps, utc_now
from keluhan.domain.report import ActOnReport
from keluhan.handling_http import move_answer


@functions_framework.http
@http.endpoint("POST", bootstrap.get_deps)
def act_on_report(call: http.Call[Deps]) -> http.Response:
    deps = call.deps
    return move_answer(call.body(ActOnReport), actor=call.actor, reports=deps.reports, publish=deps.publish,
                       photos=deps.photos, holds=deps.holds, decide=deps.decide, clock=utc_now,
                       policy=deps.handling_policy(), supporters=deps.supporters)
