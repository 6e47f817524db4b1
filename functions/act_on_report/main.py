"""HTTP POST: one move on a report (SKPD, reporter or operator), guarded by `expected_status`."""

import logging

import functions_framework
from pydantic import ValidationError

from keluhan import bootstrap, http
from keluhan.bootstrap import utc_now
from keluhan.domain.report import ActOnReport, InvalidMove, NotPermitted, StaleOrIllegal
from keluhan.domain.views import ActOnReportAnswer, ReporterView, StaffView, reporter_view, staff_view
from keluhan.ports import Contention
from keluhan.usecases.handling import ReportMissing
from keluhan.usecases.handling import act_on_report as act


@functions_framework.http
def act_on_report(request):
    if request.method != "POST":
        return http.error(405, "method_not_allowed", "Gunakan POST / Use POST", field="method")
    deps = bootstrap.get_deps()
    actor, failure = http.caller(request, deps.authenticate)
    if failure:
        return failure
    body, failure = http.read_json_body(request, max_bytes=deps.settings.max_body_bytes)
    if failure:
        return failure
    try:
        cmd = ActOnReport.model_validate(body)
    except ValidationError as exc:
        return http.validation_error(exc)
    try:
        result = act(cmd, actor=actor, reports=deps.reports, publish=deps.publish, photos=deps.photos,
                     holds=deps.holds, decide=deps.decide, clock=utc_now, policy=deps.handling_policy())
    except ReportMissing:
        return http.error(404, "not_found", "Laporan tidak ditemukan / Report not found", field="report_id")
    except NotPermitted as exc:
        return http.error(403, "forbidden", str(exc), field="action")
    except InvalidMove as exc:
        return http.error(422, "invalid_field", str(exc), field=exc.field)
    except (StaleOrIllegal, Contention) as exc:
        current = deps.reports.get(cmd.report_id) or {}
        return http.error(409, "conflict", str(exc), field="expected_status",
                          status=getattr(exc, "status", current.get("status")),
                          allowed_actions=getattr(exc, "allowed", None))
    except Exception:  # the move was not made; the same request later completes
        logging.exception("act_on_report failed", extra={"stage": "act_on_report"})
        return http.unavailable()
    view = (StaffView.model_validate(staff_view(result.report)) if actor.role != "warga"
            else ReporterView.model_validate(reporter_view(result.report, client_id=None)))
    return http.answer(ActOnReportAnswer(report=view, upload=result.upload), 200)
