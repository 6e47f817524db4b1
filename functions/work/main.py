"""HTTP: the `work` page for SKPD staff (one HTML file), their queue, one report, and a move on it."""

from pathlib import Path

import functions_framework

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps, utc_now
from keluhan.domain.report import ActOnReport, valid_report_id
from keluhan.domain.views import WarRoomConfig, WorkQueue, WorkReport
from keluhan.handling_http import move_answer
from keluhan.usecases.handling import ReportMissing
from keluhan.usecases.work import NotStaff, staff_queue, staff_report, staff_skpd

PAGE = Path(__file__).with_name("index.html")
ROUTES = {"/": "GET", "/index.html": "GET", "/config.json": "GET", "/queue.json": "GET", "/report.json": "GET",
          "/act": "POST"}
NO_STORE = {"Cache-Control": "no-store"}


@functions_framework.http
@http.endpoint(("GET", "POST"), bootstrap.get_deps, signed_in=False)  # the page is public, its data is not
def work(call: http.Call[Deps]) -> http.Response:
    request, deps = call.request, call.deps
    path = request.path.rstrip("/") or "/"
    if path not in ROUTES:
        return http.error(404, "not_found", "Tidak ada / Not found", field="path")
    if request.method != ROUTES[path]:
        return http.method_not_allowed(ROUTES[path])
    sign_in_url = http.emulator_sign_in_url(deps.settings)
    if path in ("/", "/index.html"):  # no data in the page: it asks for the rest with a token
        photos = http.photo_origin(deps.settings)  # the proof's PUT to a signed URL; photos by signed links
        return http.page(PAGE.read_text(encoding="utf-8"), sign_in_url=sign_in_url, connect=(photos,),
                         images=(photos, "blob:"))
    if path == "/config.json":
        return http.answer(WarRoomConfig(sign_in_url=sign_in_url), 200, NO_STORE)
    try:
        staff_skpd(call.actor)
    except NotStaff:
        return http.error(403, "forbidden", "Hanya staf SKPD / SKPD staff only", field="Authorization")
    if path == "/queue.json":
        queue = staff_queue(actor=call.actor, reports=deps.reports, now=utc_now())
        return http.answer(WorkQueue.model_validate(queue), 200, NO_STORE)
    if path == "/report.json":
        report_id = request.args.get("report_id", "")
        if not valid_report_id(report_id):
            return http.error(400, "invalid_field", "report_id tidak valid / invalid report_id", field="report_id")
        try:
            found = staff_report(report_id, actor=call.actor, reports=deps.reports, photos=deps.photos,
                                 clock=utc_now)
        except ReportMissing:
            return http.error(404, "not_found", "Laporan tidak ditemukan / Report not found", field="report_id")
        return http.answer(WorkReport.model_validate(found), 200, NO_STORE)
    return move_answer(call.body(ActOnReport), actor=call.actor, reports=deps.reports, publish=deps.publish,
                       photos=deps.photos, holds=deps.holds, decide=deps.decide, clock=utc_now,
                       policy=deps.handling_policy(), supporters=deps.supporters)
