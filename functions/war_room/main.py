"""HTTP GET: the War Room page, the kelurahan outlines it draws, and its stats (operators only)."""

import base64
import hashlib
import re
from pathlib import Path

import functions_framework

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps, utc_now
from keluhan.domain.views import FeatureCollection, WarRoomConfig, WarRoomStats
from keluhan.domain.workflow import Role
from keluhan.geodata import geo_files, kelurahan_outlines
from keluhan.settings import Settings
from keluhan.usecases.figures import war_room as war_room_figures

PAGE = Path(__file__).with_name("index.html")


@functions_framework.http
@http.endpoint("GET", bootstrap.get_deps, signed_in=False)  # the page and outlines are public
def war_room(call: http.Call[Deps]) -> http.Response:
    request, deps = call.request, call.deps
    path = request.path.rstrip("/") or "/"
    sign_in_url = _emulator_sign_in_url(deps.settings)
    if path in ("/", "/index.html"):  # no data in the page: it asks for stats.json with a token
        page = PAGE.read_text(encoding="utf-8")
        return page, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                           **_page_policy(sign_in_url, page)}
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


def _emulator_sign_in_url(settings: Settings) -> str | None:
    """Locally the page signs in with email and password at the Auth emulator; deployed, it takes a token."""
    host = settings.firebase_auth_emulator_host
    return f"http://{host}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo" if host else None


def _page_policy(sign_in_url: str | None, page: str) -> dict[str, str]:
    # The page's script and style are inline in the one file; it talks only to its own function
    # (and locally to the Auth emulator), so a token cannot be sent anywhere else. Only the page's
    # own script runs (its hash): an injected one would not.
    connect = "'self'" + (" " + sign_in_url.split("/identitytoolkit")[0] if sign_in_url else "")
    scripts = " ".join(f"'sha256-{_digest(body)}'" for body in SCRIPT.findall(page)) or "'none'"
    return {"Content-Security-Policy": f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; "
                                       f"connect-src {connect}; img-src 'self' data:; base-uri 'none'; "
                                       f"form-action 'none'; frame-ancestors 'none'",
            "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def _digest(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
