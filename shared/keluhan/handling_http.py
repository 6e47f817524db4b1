"""One move on a report as an HTTP answer: `act_on_report`'s, and the `work` page's the same way."""

from __future__ import annotations

from keluhan import http
from keluhan.domain.report import ActOnReport, InvalidMove, NotPermitted, StaleOrIllegal
from keluhan.domain.views import ActOnReportAnswer, ReporterView, StaffView, reporter_view, staff_view
from keluhan.domain.workflow import Actor
from keluhan.ports import Clock, Contention, Holds, PhotoStore, Publisher, Reports, Supporters
from keluhan.usecases.handling import HandlingPolicy, ReportMissing
from keluhan.usecases.handling import act_on_report as act_use_case
from keluhan.usecases.pipeline import RoutingDecider


def move_answer(cmd: ActOnReport, *, actor: Actor, reports: Reports, publish: Publisher, photos: PhotoStore,
                holds: Holds, decide: RoutingDecider, clock: Clock, policy: HandlingPolicy,
                supporters: Supporters) -> http.Response:
    """Make the move (the act_on_report use case, with its ports); 200 with the report after it (and the
    proof's upload URL after `resolve`), else 404, 403, 422 or 409 (with the current status and the
    moves allowed instead)."""
    try:
        result = act_use_case(cmd, actor=actor, reports=reports, publish=publish, photos=photos, holds=holds,
                              decide=decide, clock=clock, policy=policy, supporters=supporters)
    except ReportMissing:
        return http.error(404, "not_found", "Laporan tidak ditemukan / Report not found", field="report_id")
    except NotPermitted as exc:
        return http.error(403, "forbidden", str(exc), field="action")
    except InvalidMove as exc:
        return http.error(422, "invalid_field", str(exc), field=exc.field)
    except (StaleOrIllegal, Contention) as exc:
        current = reports.get(cmd.report_id)
        return http.error(409, "conflict", str(exc), field="expected_status",
                          status=getattr(exc, "status", current.status.value if current else None),
                          allowed_actions=getattr(exc, "allowed", None))
    stored = result.report.to_doc()
    view = (StaffView.model_validate(staff_view(stored)) if actor.role != "warga"
            else ReporterView.model_validate(reporter_view(stored, client_id=None)))
    return http.answer(ActOnReportAnswer(report=view, upload=result.upload), 200)
