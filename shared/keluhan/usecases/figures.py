"""The figures, kept from `report-status-changed` and rebuilt from the reports; the War Room view."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from keluhan.domain.assignees import get_assignee
from keluhan.domain.figures import add_up, contribution, delta, parse_key, summary
from keluhan.domain.report import Report
from keluhan.domain.sla import WITA
from keluhan.ports import Reports, Stats, TransientError
from keluhan.usecases.pipeline import ReportNotFound


def record_figures(report_id: str, *, reports: Reports, stats: Stats, attempts: int = 8) -> bool:
    """Bring the report's contribution to the figures up to date; idempotent per (report, seq).

    The message is only a trigger: the contribution is computed from the stored report and applied
    once per timeline position, so a redelivered, duplicated or out-of-order message adds nothing.
    """
    report = reports.get(report_id)
    if report is None:
        raise ReportNotFound(f"laporan {report_id} tidak ditemukan / report not found")
    seq, support_seq = len(report.timeline) - 1, report.support_seq
    new = contribution(report.to_doc())
    for _ in range(attempts):
        state = stats.report_state(report_id)
        # Both positions only grow, and any two reads of the report are ordered: a state at least
        # as new in both reflects this read already (supports change the count, not the timeline).
        if state is not None and state.seq >= seq and state.support_seq >= support_seq:
            return False
        old = state.contribution if state is not None else {}
        if stats.replace(report_id, seq=seq, contribution=new, delta=delta(old, new), expected=state,
                         support_seq=support_seq):
            return True
    raise TransientError(f"figures of {report_id}: too many concurrent updates")


Contribution = dict[str, dict[str, int]]  # counters per group key


def rebuild(reports: Iterable[Report]) -> tuple[Contribution, dict[str, tuple[int, Contribution]]]:
    """Every figure recomputed from the reports: (totals per group, state per report)."""
    states = {}
    for report in reports:
        states[report.report_id] = (len(report.timeline) - 1, contribution(report.to_doc()))
    return add_up(c for _, c in states.values()), states


def differences(a: dict[str, dict[str, int]], b: dict[str, dict[str, int]]) -> list[str]:
    """Where two sets of figures differ (empty when equal)."""
    out = []
    for key in sorted(set(a) | set(b)):
        for counter in sorted(set(a.get(key, {})) | set(b.get(key, {}))):
            x, y = a.get(key, {}).get(counter, 0), b.get(key, {}).get(counter, 0)
            if x != y:
                out.append(f"{key} {counter}: {x} != {y}")
    return out


def table(stats: Stats, *, by: str, month: str) -> list[dict[str, Any]]:  # Any: a row's key, name and figures
    """One row of figures per group of a dimension, for `stats show` and the War Room."""
    rows = []
    for key, counters in stats.groups(dim=by, month=month).items():
        _, value, _ = parse_key(key)
        rows.append({"key": value, "name": _name(by, value), **summary(counters)})
    return sorted(rows, key=lambda r: (-r["open"], r["key"]))


def war_room(*, stats: Stats, reports: Reports, now: datetime, month: str = "all") -> dict[str, object]:
    """Everything the War Room page shows, from O(groups) figures and two bounded queries."""
    city = stats.groups(dim="city", month=month)
    week_start = (now.astimezone(WITA) - timedelta(days=now.astimezone(WITA).weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0)
    kelurahan = {parse_key(k)[1]: summary(c) for k, c in stats.groups(dim="kelurahan", month=month).items()}
    return {
        "generated_at": now.isoformat(),
        "month": month,
        "city": summary(next(iter(city.values()), {})),
        "by_skpd": table(stats, by="skpd", month=month),
        "by_kecamatan": table(stats, by="kecamatan", month=month),
        "by_channel": table(stats, by="channel", month=month),  # the app, WhatsApp, Call Center 112, …
        "by_category": table(stats, by="category", month=month),
        "by_kelurahan": {code: {"open": f["open"], "received": f["received"], "overdue": f["overdue"]}
                         for code, f in kelurahan.items()},
        "overdue": [_overdue_row(d) for d in reports.overdue(limit=100)],
        "resolved_this_week": reports.count_since(field="resolved_at", since=week_start),
    }


def _overdue_row(report: Report) -> dict[str, object]:
    location = report.location
    return {"report_id": report.report_id, "category": report.category, "status": report.status.value,
            "assignee": report.assignee, "kelurahan": location.kelurahan if location else None,
            "kecamatan": location.kecamatan if location else None,
            "due_at": report.sla.due_at if report.sla else None, "escalation_level": report.escalation_level,
            "supporters": report.supporters}


def _name(dim: str, value: str) -> str:
    if dim == "skpd":
        assignee = get_assignee(value)
        return assignee.name if assignee else value
    return value
