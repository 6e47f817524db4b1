"""HTTP POST {report_id, undo?}: support a report ("dukung"), or withdraw; DELETE ?report_id= withdraws."""

import functions_framework

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps, utc_now
from keluhan.domain.report import NotPermitted, StaleOrIllegal, valid_report_id
from keluhan.domain.support import SupportReport
from keluhan.ports import Contention
from keluhan.usecases.handling import ReportMissing
from keluhan.usecases.support import support_report as support


@functions_framework.http
@http.endpoint(("POST", "DELETE"), bootstrap.get_deps)
def support_report(call: http.Call[Deps]) -> http.Response:
    deps = call.deps
    if call.request.method == "DELETE":
        report_id = call.request.args.get("report_id", "")
        if not valid_report_id(report_id):
            return http.error(400, "invalid_field", "report_id tidak valid / invalid report_id", field="report_id")
        cmd = SupportReport(report_id=report_id, undo=True)
    else:
        cmd = call.body(SupportReport)
    try:
        answer = support(cmd.report_id, undo=cmd.undo, actor=call.actor, reports=deps.reports,
                         supporters=deps.supporters, publish=deps.publish, clock=utc_now)
    except ReportMissing:
        return http.error(404, "not_found", "Laporan tidak ditemukan / Report not found", field="report_id")
    except NotPermitted as exc:
        return http.error(403, "forbidden", str(exc), field="report_id")
    except (StaleOrIllegal, Contention) as exc:
        return http.error(409, "conflict", str(exc), field="report_id", status=getattr(exc, "status", None))
    return http.answer(answer, 200)
