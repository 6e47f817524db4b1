"""HTTP GET ?report_id=…: the signed-in reporter's own report, with its status and timeline."""

import functions_framework

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps, utc_now
from keluhan.domain.report import valid_report_id
from keluhan.domain.views import ReporterView
from keluhan.usecases.handling import ReportMissing
from keluhan.usecases.reading import get_own_report


@functions_framework.http
@http.endpoint("GET", bootstrap.get_deps)
def get_report(call: http.Call[Deps]) -> http.Response:
    deps = call.deps
    report_id = call.request.args.get("report_id", "")
    if not valid_report_id(report_id):
        return http.error(400, "invalid_field", "report_id tidak valid / invalid report_id", field="report_id")
    try:
        view = get_own_report(report_id, actor=call.actor, reports=deps.reports, photos=deps.photos,
                              publish=deps.publish, clock=utc_now)
    except ReportMissing:
        return http.error(404, "not_found", "Laporan tidak ditemukan / Report not found", field="report_id")
    return http.answer(ReporterView.model_validate(view), 200)
