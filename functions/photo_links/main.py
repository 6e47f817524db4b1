"""HTTP GET ?report_id=…: signed read links (≤ 15 min) of a report's EXIF-free photos, for its staff."""

import functions_framework

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps, utc_now
from keluhan.domain.report import NotPermitted, valid_report_id
from keluhan.domain.views import PhotoLinks
from keluhan.usecases.handling import ReportMissing
from keluhan.usecases.photo_links import photo_links as links_of


@functions_framework.http
@http.endpoint("GET", bootstrap.get_deps)
def photo_links(call: http.Call[Deps]) -> http.Response:
    deps = call.deps
    report_id = call.request.args.get("report_id", "")
    if not valid_report_id(report_id):
        return http.error(400, "invalid_field", "report_id tidak valid / invalid report_id", field="report_id")
    try:
        links = links_of(report_id, actor=call.actor, reports=deps.reports, photos=deps.photos, clock=utc_now)
    except ReportMissing:
        return http.error(404, "not_found", "Laporan tidak ditemukan / Report not found", field="report_id")
    except NotPermitted as exc:
        return http.error(403, "forbidden", str(exc), field="report_id")
    return http.answer(PhotoLinks(links), 200, headers={"Cache-Control": "private, no-store"})
