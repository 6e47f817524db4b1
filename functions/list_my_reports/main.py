"""HTTP GET: the signed-in reporter's own reports, newest first, paged by cursor, by status."""

import functions_framework
from pydantic import ValidationError

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps
from keluhan.domain.views import MyReportsAnswer, MyReportsQuery
from keluhan.usecases.nearby import RegisteredAccountRequired
from keluhan.usecases.nearby import list_my_reports as list_own

REGISTER = "Masuk dengan akun terdaftar / Sign in with a registered account (not an anonymous sign-in)"


@functions_framework.http
@http.endpoint("GET", bootstrap.get_deps)
def list_my_reports(call: http.Call[Deps]) -> http.Response:
    try:
        query = MyReportsQuery.model_validate(dict(call.request.args))
    except ValidationError as exc:
        return http.validation_error(exc)
    try:
        page = list_own(actor=call.actor, reports=call.deps.reports, statuses=query.status, limit=query.limit,
                        cursor=query.cursor)
    except RegisteredAccountRequired:
        return http.error(403, "registered_account_required", REGISTER, field="Authorization")
    return http.answer(MyReportsAnswer.model_validate({"reports": page.reports, "next_cursor": page.next_cursor}),
                       200)
