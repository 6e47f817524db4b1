"""HTTP: a citizen (or an intake channel) submits a report."""

import logging

import functions_framework

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps, new_report_id, utc_now
from keluhan.domain.quota import retry_after_s
from keluhan.domain.report import STATUS_TEXT, SubmitReport
from keluhan.domain.views import SubmitReportAnswer
from keluhan.ports import QuotaExceeded
from keluhan.usecases.nearby import possible_duplicates
from keluhan.usecases.submission import ChannelNotPermitted, IdempotencyConflict, SubmitterNotPermitted
from keluhan.usecases.submission import submit_report as submit


@functions_framework.http
@http.endpoint("POST", bootstrap.get_deps)
def submit_report(call: http.Call[Deps]) -> http.Response:
    deps = call.deps
    cmd = call.body(SubmitReport)
    try:  # any other failure is a 503: stored or not, a retry with the same client_id completes it
        result = submit(cmd, actor=call.actor, reports=deps.reports, holds=deps.holds,
                        publish=deps.publish, photos=deps.photos, clock=utc_now, new_id=new_report_id,
                        policy=deps.upload_policy(), quota=deps.quota_policy())
    except SubmitterNotPermitted:
        return http.error(403, "submitter_not_permitted",
                          "Masuk dengan akun terdaftar untuk melapor / Sign in with a registered account "
                          "to report (anonymous sign-in and staff roles may not submit)", field="Authorization")
    except QuotaExceeded as exc:
        window = exc.window
        return http.too_many_requests(window.name, window.limit, retry_after_s(window, now=utc_now()))
    except ChannelNotPermitted as exc:
        return http.error(403, "channel_not_permitted",
                          f"Akun ini tidak boleh mengirim atas nama kanal {exc} / This account may not "
                          f"submit on behalf of the channel {exc}", field="channel")
    except IdempotencyConflict as exc:
        return http.error(409, "idempotency_conflict",
                          "client_id ini sudah dipakai untuk laporan lain / this client_id was already "
                          "used for a different report", field="client_id", report_id=exc.report_id)
    report = result.report
    try:  # a suggestion only: the report is stored whatever happens here
        duplicates = possible_duplicates(report, reports=deps.reports, photos=deps.photos, clock=utc_now,
                                         policy=deps.duplicate_policy())
    except Exception:
        logging.exception("possible duplicates of %s not found", report.report_id,
                          extra={"report_id": report.report_id})
        duplicates = []
    return http.answer(SubmitReportAnswer.model_validate({
        "report_id": report.report_id,
        "status": report.status.value,
        "status_text": STATUS_TEXT[report.status],
        "photo": {"required": report.photo.required, "verdict": report.photo.verdict},
        "upload": result.upload,
        "possible_duplicates": duplicates,
    }), 201 if result.created else 200)
