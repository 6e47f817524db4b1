"""HTTP POST: one move on a report (SKPD, reporter or operator), guarded by `expected_status`."""

import functions_framework

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps, utc_now
from keluhan.domain.report import ActOnReport, InvalidMove, NotPermitted, StaleOrIllegal
from keluhan.domain.views import ActOnReportAnswer, ReporterView, StaffView, reporter_view, staff_view
from keluhan.ports import Contention
from keluhan.usecases.handling import ReportMissing
from keluhan.usecases.handling import act_on_report as act


@functions_framework.http
@http.endpoint("POST", bootstrap.get_deps)
def act_on_report(call: http.Call[Deps]) -> http.Response:
    deps, actor = call.deps, call.actor
    cmd = call.body(ActOnReport)
    try:
        result = act(cmd, actor=actor, reports=deps.reports, publish=deps.publish, photos=deps.photos,
                     holds=deps.holds, decide=deps.decide, clock=utc_now, policy=deps.handling_policy(),
                     supporters=deps.supporters)
    except ReportMissing:
        return http.error(404, "not_found", "Laporan tidak ditemukan / Report not found", field="report_id")
    except NotPermitted as exc:
        return http.error(403, "forbidden", str(exc), field="action")
    except InvalidMove as exc:
        return http.error(422, "invalid_field", str(exc), field=exc.field)
    except (StaleOrIllegal, Contention) as exc:
        current = deps.reports.get(cmd.report_id)
        return http.error(409, "conflict", str(exc), field="expected_status",
                          status=getattr(exc, "status", current.status.value if current else None),
                          allowed_actions=getattr(exc, "allowed", None))
    stored = result.report.to_doc()
    view = (StaffView.model_validate(staff_view(stored)) if actor.role != "warga"
            else ReporterView.model_validate(reporter_view(stored, client_id=None)))
    return http.answer(ActOnReportAnswer(report=view, upload=result.upload), 200)
