"""Figures by brute force: every report walked, raw times kept, percentiles by sorting.

Deliberately naive and written apart from keluhan.domain.figures, to check the incremental
figures (histograms, deltas, Increment) against.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone

from keluhan.domain.assignees import ASSIGNEES
from keluhan.domain.stored import ReportDoc

WITA = timezone(timedelta(hours=8))
EDGES = (1, 2, 4, 8, 12, 24, 48, 72, 96, 120, 168, 240, 336, 504, 720, 1440)
# A histogram bucket: its upper edge in hours, or "> 1440" past the last.
Edge = int | str
# One figure of a group: a count, a bucket (median, p90), a share (sla_met), or None (no data).
Figure = int | float | str | None


def _at(value: str | datetime) -> datetime:
    value = datetime.fromisoformat(value) if isinstance(value, str) else value
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _edge(hours: float) -> Edge:
    for edge in EDGES:
        if hours <= edge:
            return edge
    return f"> {EDGES[-1]}"


def _pct(values: list[float], p: float) -> Edge | None:
    if not values:
        return None
    ordered = sorted(values)
    return _edge(ordered[max(1, math.ceil(p * len(ordered))) - 1])


def brute_force(docs: Iterable[ReportDoc], *, dim: str, month: str = "all") -> dict[str, dict[str, Figure]]:
    """value → figures of every group of `dim` in `month`, from the report documents."""
    rows: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    times: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    scores: defaultdict[str, list[int]] = defaultdict(list)  # the reporters' ratings of closed fixes
    for doc in docs:
        doc_month = _at(doc["received_at"]).astimezone(WITA).strftime("%Y-%m")
        if month not in ("all", doc_month):
            continue
        timeline = doc["timeline"]
        for entry in timeline:
            if entry.get("action") == "reject" and entry.get("reason") == "not_ours" and dim in ("city", "skpd"):
                rows["makassar" if dim == "city" else entry["by"][len("skpd:"):]]["rejected_not_ours"] += 1
        assignee = doc.get("assignee") or ""
        if assignee not in ASSIGNEES or ASSIGNEES[assignee].kind != "skpd":
            continue
        location = doc.get("location") or {}
        value = {"city": "makassar", "skpd": assignee, "kecamatan": location.get("kecamatan") or "-",
                 "kelurahan": location.get("kode_kelurahan") or "-", "category": doc["category"],
                 "channel": doc["channel"]}[dim]
        last = max(i for i, e in enumerate(timeline) if e.get("action") in ("route", "reassign"))
        start = _at(timeline[last]["at"])
        after = timeline[last + 1:]
        when = {name: next((_at(e["at"]) for e in after if e.get("action") in actions), None)
                for name, actions in (("first_response_h", ("accept",)), ("close_h", ("confirm", "auto_close")))}
        # The fix that stood: the proof accepted right before the move into `resolved` (directly, or
        # by a passed audit); a proof whose audit was refused did not fix it.
        when["resolution_h"] = None
        for i, entry in enumerate(after):
            if entry.get("status") == "resolved" and entry.get("action") in ("proof_accepted", "validate"):
                when["resolution_h"] = _at(next(e for e in reversed(after[:i + 1])
                                                if e.get("action") == "proof_accepted")["at"])
                break
        # Waiting for the reporter's answer: from each question to its answer the clock stands still.
        pauses = [(_at(q["at"]), _at(a["at"])) for q, a in zip(after, after[1:], strict=False)
                  if q.get("action") == "ask_reporter" and a.get("action") == "answer"]
        status = doc["status"]
        is_open = status in ("routed", "accepted", "in_progress", "resolving", "reopened")
        unanswered = timeline[-1].get("action") == "close_unanswered"
        row = rows[value]
        row["received"] += 1
        row["open"] += is_open
        row["resolved"] += status in ("resolved", "closed") and not unanswered
        row["closed"] += status == "closed" and not unanswered
        row["scheduled"] += status == "scheduled"
        schedule_moves = [e["action"] for e in after if e.get("action") == "schedule" or e.get("from") == "scheduled"]
        row["scheduled_past_date"] += is_open and bool(schedule_moves) and schedule_moves[-1] == "resume"
        row["awaiting_reporter"] += status == "awaiting_reporter"
        row["closed_unanswered"] += unanswered
        row["awaiting_validation"] += status == "awaiting_validation"
        row["audits_passed"] += sum(e.get("action") == "validate" for e in after)
        row["audits_refused"] += sum(e.get("action") == "refuse_validation" for e in after)
        row["rejected"] += status in ("rejected", "duplicate")
        row["reopened"] += any(e.get("action") == "reopen" for e in after)
        row["overdue"] += is_open and bool(doc.get("overdue"))
        due = (doc.get("sla") or {}).get("due_at")
        row["closed_on_time"] += (status == "closed" and not unanswered and when["resolution_h"] is not None
                                  and due is not None and when["resolution_h"] <= _at(due))
        row["supporters"] += int(doc.get("supporters") or 0)
        score = (doc.get("rating") or {}).get("score")
        if status == "closed" and score:
            scores[value].append(int(score))
        for name, end in when.items():
            if end is not None:
                paused = sum((b - a).total_seconds() for a, b in pauses if b <= end)
                times[value][name].append(((end - start).total_seconds() - paused) / 3600)
    out: dict[str, dict[str, Figure]] = {}
    for value, row in rows.items():
        figures: dict[str, Figure] = {k: int(v) for k, v in row.items()}
        for name in ("first_response_h", "resolution_h", "close_h"):
            figures[f"{name}_median"] = _pct(times[value][name], 0.5)
            figures[f"{name}_p90"] = _pct(times[value][name], 0.9)
        closed, overdue = row.get("closed", 0), row.get("overdue", 0)
        figures["sla_met"] = round(row.get("closed_on_time", 0) / (closed + overdue), 4) if closed + overdue \
            else None
        rated = scores[value]
        good = sum(1 for s in rated if s >= 4)
        figures["rated"], figures["rated_good"] = len(rated), good
        figures["satisfaction_mean"] = round(sum(rated) / len(rated), 2) if rated else None
        figures["satisfaction_good_share"] = round(good / len(rated), 4) if rated else None
        out[value] = figures
    return out


def comparable(summary: Mapping[str, object]) -> dict[str, object]:
    """A summary row without zero counters (the brute force never creates them)."""
    return {k: v for k, v in summary.items() if v not in (0, None) and k not in ("key", "name")}
