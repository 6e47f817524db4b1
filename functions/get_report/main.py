"""HTTP GET ?report_id=…: the signed-in reporter's own report, with its status and timeline."""

from datetime import timedelta

import functions_framework

from keluhan import bootstrap, http
from keluhan.bootstrap import utc_now
from keluhan.domain.report import valid_report_id
from keluhan.domain.views import ReporterView, reporter_view
from keluhan.usecases.submission import expire_if_due

SHARE_FOR = timedelta(hours=1)


@functions_framework.http
def get_report(request):
    if request.method != "GET":
        return http.error(405, "method_not_allowed", "Gunakan GET / Use GET", field="method")
    deps = bootstrap.get_deps()
    actor, failure = http.caller(request, deps.authenticate)
    if failure:
        return failure
    report_id = request.args.get("report_id", "")
    if not valid_report_id(report_id):
        return http.error(400, "invalid_field", "report_id tidak valid / invalid report_id",
                          field="report_id")
    report = deps.reports.get(report_id)
    submission = deps.reports.submission(report["reporter_ref"]) if report else None
    if submission is None or submission["reporter_uid"] != actor.id:
        return http.error(404, "not_found", "Laporan tidak ditemukan / Report not found",
                          field="report_id")
    report = expire_if_due(report, reports=deps.reports, now=utc_now(), publish=deps.publish)
    proof = (report.get("resolution") or {}).get("clean_object")
    proof_url = deps.photos.download_url(proof, expires_at=utc_now() + SHARE_FOR) if proof else None
    view = reporter_view(report, client_id=submission["client_id"], proof_url=proof_url)
    return http.answer(ReporterView.model_validate(view), 200)
