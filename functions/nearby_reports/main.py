"""HTTP GET ?lat=&lon=&radius_m=&category=: open public reports near a point, nearest first."""

import functions_framework
from pydantic import ValidationError

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps, utc_now
from keluhan.domain.nearby import NearbyQuery
from keluhan.domain.views import NearbyAnswer
from keluhan.usecases.nearby import RegisteredAccountRequired
from keluhan.usecases.nearby import nearby_reports as near

REGISTER = "Masuk dengan akun terdaftar / Sign in with a registered account (not an anonymous sign-in)"


@functions_framework.http
@http.endpoint("GET", bootstrap.get_deps)
def nearby_reports(call: http.Call[Deps]) -> http.Response:
    try:
        query = NearbyQuery.model_validate(dict(call.request.args))
    except ValidationError as exc:
        return http.validation_error(exc)
    try:
        found = near(query, actor=call.actor, reports=call.deps.reports, photos=call.deps.photos, clock=utc_now,
                     read_cap=call.deps.settings.nearby_read_cap)
    except RegisteredAccountRequired:
        return http.error(403, "registered_account_required", REGISTER, field="Authorization")
    return http.answer(NearbyAnswer(reports=found.reports, reads=found.reads, truncated=found.truncated), 200,
                       {"Cache-Control": "private, max-age=15"})
