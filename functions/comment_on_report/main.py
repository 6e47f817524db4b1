"""HTTP GET ?report_id=: the report's thread; POST: a comment (public or internal), or an operator's hide."""

import functions_framework

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps, utc_now
from keluhan.domain.comments import CommentAnswer, CommentOnReport, Thread
from keluhan.domain.report import InvalidMove, NotPermitted, valid_report_id
from keluhan.ports import Contention
from keluhan.usecases.comments import (
    CommentConflict,
    TooManyComments,
    hide_comment,
    post_comment,
    read_thread,
)
from keluhan.usecases.handling import ReportMissing


@functions_framework.http
@http.endpoint(("GET", "POST"), bootstrap.get_deps)
def comment_on_report(call: http.Call[Deps]) -> http.Response:
    deps, actor = call.deps, call.actor
    try:
        if call.request.method == "GET":
            report_id = call.request.args.get("report_id", "")
            if not valid_report_id(report_id):
                return http.error(400, "invalid_field", "report_id tidak valid / invalid report_id",
                                  field="report_id")
            thread = read_thread(report_id, actor=actor, reports=deps.reports, comments=deps.comments)
            return http.answer(Thread(report_id=report_id, comments=thread), 200)
        cmd = call.body(CommentOnReport)
        if cmd.action == "hide":
            hidden = hide_comment(cmd, actor=actor, reports=deps.reports, comments=deps.comments, clock=utc_now)
            return http.answer(CommentAnswer(comment=hidden), 200)
        posted = post_comment(cmd, actor=actor, reports=deps.reports, comments=deps.comments,
                              publish=deps.publish, clock=utc_now, limits=deps.comment_limits())
        return http.answer(CommentAnswer(comment=posted.comment), 201 if posted.created else 200)
    except ReportMissing:
        return http.error(404, "not_found", "Laporan tidak ditemukan / Report not found", field="report_id")
    except NotPermitted as exc:
        return http.error(403, "forbidden", str(exc), field="report_id")
    except InvalidMove as exc:
        return http.error(422, "invalid_field", str(exc), field=exc.field)
    except CommentConflict:
        return http.error(409, "idempotency_conflict", "client_id sudah dipakai untuk komentar lain / client_id "
                          "was used for another comment", field="client_id")
    except Contention as exc:
        return http.error(409, "conflict", str(exc), field="report_id")
    except TooManyComments as exc:
        return http.error(429, "rate_limited", f"Batas {exc.limit} komentar per {exc.window} tercapai / Limit of "
                          f"{exc.limit} comments per {exc.window} reached", field="text", window=exc.window,
                          limit=exc.limit, retry_after_s=exc.retry_after_s,
                          headers={"Retry-After": str(exc.retry_after_s)})
