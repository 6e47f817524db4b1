"""HTTP GET: the War Room page, the kelurahan outlines it draws, and its stats (operators only)."""

from pathlib import Path

import functions_framework

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps, utc_now
from keluhan.domain.views import FeatureCollection, WarRoomConfig, WarRoomStats
from keluhan.domain.workflow import Role
from keluhan.geodata import geo_files, kelurahan_outlines
from keluhan.usecases.figures import war_room as war_room_figures

PAGE = Path(__file__).with_name("index.html")


@functions_framework.http
@http.endpoint("GET", bootstrap.get_deps, signed_in=False)  # the page and outlines are public
def war_room(call: http.Call[Deps]) -> http.Response:
    request, deps = call.request, call.deps
    path = request.path.rstrip("/") or "/"
    sign_in_url = http.emulator_sign_in_url(deps.settings)
    if path in ("/", "/index.html"):  # no data in the page: it asks for stats.json with a token
        return http.page(PAGE.read_text(encoding="utf-8"), sign_in_url=sign_in_url)
    if path == "/config.json":
        return http.answer(WarRoomConfig(sign_in_url=sign_in_url), 200, {"Cache-Control": "no-store"})
    if path == "/kelurahan.geojson":  # public boundary data
        outlines = kelurahan_outlines(str(geo_files(deps.settings).kelurahan))
        return http.answer(FeatureCollection.model_validate(outlines), 200, {"Cache-Control": "public, max-age=3600"})
    if path == "/stats.json":
        if call.actor.role != Role.OPERATOR:
            return http.error(403, "forbidden", "Hanya operator War Room / War Room operators only",
                              field="Authorization")
        month = request.args.get("month", "all")
        if month != "all" and not (len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()):
            return http.error(422, "invalid_field", "month: YYYY-MM atau all / YYYY-MM or all", field="month")
        stats = war_room_figures(stats=deps.stats, reports=deps.reports, now=utc_now(), month=month)
        return http.answer(WarRoomStats.model_validate(stats), 200, {"Cache-Control": "no-store"})
    return http.error(404, "not_found", "Tidak ada / Not found", field="path")
