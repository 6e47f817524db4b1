"""The city's figures: what one report contributes to each group, and percentiles from histograms.

A report's contribution is a function of its document alone (timeline, assignee, flags), so the
incremental figures (each change replaces the report's old contribution by its new one) and a
rebuild from all reports are the same sum. Only reports in a city SKPD's hands count, and only
for their current assignee, from the moment it was assigned: a forwarded report, a report back
in triage, or a hand-over leaves no time on the previous SKPD. An SKPD that rejects a report as
`not_ours` keeps just that count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from keluhan.domain.assignees import get_assignee
from keluhan.domain.sla import WITA, WorkingCalendar, aware
from keluhan.domain.stored import ReportDoc

# Fixed histogram buckets for handling times, in hours: each bucket counts times ≤ its edge
# (and > the previous edge); the last is open-ended. A percentile is reported as the edge of
# the bucket holding the nearest-rank value ("p90 ≤ 72 h").
HOUR_EDGES: tuple[float, ...] = (1, 2, 4, 8, 12, 24, 48, 72, 96, 120, 168, 240, 336, 504, 720, 1440, math.inf)
DIMENSIONS = ("city", "skpd", "kecamatan", "kelurahan", "category", "channel")
COUNTERS = ("received", "open", "resolved", "closed", "reopened", "rejected", "rejected_not_ours", "overdue",
            "closed_on_time", "supporters", "rated", "rated_good",
            # honest states and validation audits (issue 21): counted apart from the open backlog
            "scheduled", "scheduled_past_date", "awaiting_reporter", "closed_unanswered", "awaiting_validation",
            "audits_passed", "audits_refused")
# Satisfaction: the reporters' ratings of fixes (1–5), as a count, a sum and how many were ≥ 4.
GOOD_RATING = 4
HISTOGRAMS = ("first_response_h", "resolution_h", "close_h")
OPEN = {"routed", "accepted", "in_progress", "resolving", "reopened"}
CITY = "makassar"


def bucket(hours: float) -> int:
    """The index of the bucket holding this duration."""
    for i, edge in enumerate(HOUR_EDGES):
        if hours <= edge:
            return i
    return len(HOUR_EDGES) - 1


def percentile_edge(histogram: Mapping[str, int] | Iterable[int], p: float) -> float | None:
    """The upper edge of the bucket holding the nearest-rank p-quantile (None when empty)."""
    counts = [histogram.get(f"b{i:02d}", 0) for i in range(len(HOUR_EDGES))] if isinstance(histogram, Mapping) \
        else list(histogram)
    n = sum(counts)
    if n == 0:
        return None
    rank = max(1, math.ceil(p * n))
    seen = 0
    for i, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return HOUR_EDGES[i]
    return HOUR_EDGES[-1]


@dataclass(frozen=True)
class ReportTimes:
    """One report's handling times at its current city assignee (hours and working days), the time
    the SLA clock was paused (waiting for the reporter's answer) left out."""

    assignee: str
    start: datetime
    first_response: datetime | None
    resolved: datetime | None
    closed: datetime | None
    pauses: tuple[tuple[datetime, datetime], ...] = ()  # (asked, answered), after `start`
    start_index: int = 0  # the timeline position of the assignment

    def paused(self, end: datetime) -> timedelta:
        return sum((min(b, end) - a for a, b in self.pauses if a < end), timedelta())

    def hours(self, end: datetime | None) -> float | None:
        return None if end is None else (end - self.start - self.paused(end)).total_seconds() / 3600

    def working_days(self, end: datetime | None, calendar: WorkingCalendar) -> float | None:
        if end is None:
            return None
        paused = sum((calendar.working_days_between(a, min(b, end)) for a, b in self.pauses if a < end), 0.0)
        return calendar.working_days_between(self.start, end) - paused


def report_times(doc: ReportDoc) -> ReportTimes | None:
    """When the current city SKPD got the report, first responded, resolved and closed; None when no
    city SKPD holds it."""
    assignee = doc.get("assignee")
    who = get_assignee(assignee) if isinstance(assignee, str) else None
    if who is None or who.kind != "skpd":
        return None
    timeline = doc.get("timeline") or []
    starts = [i for i, e in enumerate(timeline) if e.get("action") in ("route", "reassign")]
    if not starts:
        return None
    start_index = starts[-1]
    after = timeline[start_index + 1:]

    def first(*actions: str) -> datetime | None:
        return next((_aware(e["at"]) for e in after if e.get("action") in actions), None)

    return ReportTimes(assignee=who.id, start=_aware(timeline[start_index]["at"]),
                       first_response=first("accept"), resolved=_fixed_at(after),
                       closed=first("confirm", "auto_close"), pauses=_pauses(after),
                       start_index=start_index)


def _fixed_at(after: list[dict[str, Any]]) -> datetime | None:  # Any: timeline entries as stored
    """When the first fix that stood was accepted: a proof accepted and not sampled, or whose
    validation audit passed (an audit refused means it was not fixed then)."""
    candidate = None
    for entry in after:
        action = entry.get("action")
        if action == "proof_accepted":
            if entry.get("status") == "resolved":
                return _aware(entry["at"])
            candidate = _aware(entry["at"])
        elif action == "validate" and candidate is not None:
            return candidate
        elif action == "refuse_validation":
            candidate = None
    return None


def _pauses(after: list[dict[str, Any]]) -> tuple[tuple[datetime, datetime], ...]:  # Any: as _fixed_at
    """(asked, answered) of every answered question: the SLA clock stood still between."""
    out, asked = [], None
    for entry in after:
        if entry.get("action") == "ask_reporter":
            asked = _aware(entry["at"])
        elif entry.get("action") == "answer" and asked is not None:
            out.append((asked, _aware(entry["at"])))
            asked = None
    return tuple(out)


def _last_schedule_move(timeline: list[dict[str, Any]]) -> str | None:  # Any: as _fixed_at
    """The latest move into or out of `scheduled`: `resume` means its date came before the work."""
    for entry in reversed(timeline):
        if entry.get("action") == "schedule" or entry.get("from") == "scheduled":
            return str(entry.get("action"))
    return None


def group_keys(doc: ReportDoc, assignee: str) -> list[tuple[str, str, str]]:
    """(dimension, value, month) of every group the report counts in; month is its WITA month."""
    location = doc.get("location") or {}
    values = {"city": CITY, "skpd": assignee, "kecamatan": location.get("kecamatan") or "-",
              "kelurahan": location.get("kode_kelurahan") or "-", "category": doc.get("category") or "-",
              "channel": doc.get("channel") or "warga"}
    month = _aware(doc["received_at"]).astimezone(WITA).strftime("%Y-%m")
    return [(dim, values[dim], m) for dim in DIMENSIONS for m in (month, "all")]


def stats_key(dim: str, value: str, month: str) -> str:
    return f"{dim}={value}@{month}".replace("/", "_")


def contribution(doc: ReportDoc) -> dict[str, dict[str, int]]:
    """stats key → counter → what this report adds (histogram buckets as `<name>_bNN`)."""
    out: dict[str, dict[str, int]] = {}
    for rejecter in _not_ours_rejecters(doc):
        for dim, value, month in group_keys(doc, rejecter):
            if dim in ("city", "skpd"):  # the rejecting SKPD keeps this count, nothing else
                group = out.setdefault(stats_key(dim, value, month), {})
                group["rejected_not_ours"] = group.get("rejected_not_ours", 0) + 1
    times = report_times(doc)
    if times is None:
        return out
    status = doc["status"]
    resolved_at = times.resolved
    due = (doc.get("sla") or {}).get("due_at")
    timeline = doc.get("timeline") or []
    since_start = timeline[times.start_index + 1:]
    unanswered = status == "closed" and bool(timeline) and timeline[-1].get("action") == "close_unanswered"
    fixed = status in ("resolved", "closed") and not unanswered
    counters = {
        "received": 1,
        "open": int(status in OPEN),
        "resolved": int(fixed),
        "closed": int(status == "closed" and not unanswered),
        "reopened": int(any(e.get("action") == "reopen" and _aware(e["at"]) >= times.start
                            for e in doc.get("timeline") or [])),
        "rejected": int(status in ("rejected", "duplicate")),
        "overdue": int(status in OPEN and bool(doc.get("overdue"))),
        "closed_on_time": int(status == "closed" and not unanswered and resolved_at is not None and due is not None
                              and resolved_at <= _aware(due)),
        "supporters": int(doc.get("supporters") or 0),
        "scheduled": int(status == "scheduled"),
        "scheduled_past_date": int(status in OPEN and _last_schedule_move(since_start) == "resume"),
        "awaiting_reporter": int(status == "awaiting_reporter"),
        "closed_unanswered": int(unanswered),
        "awaiting_validation": int(status == "awaiting_validation"),
        "audits_passed": sum(e.get("action") == "validate" for e in since_start),
        "audits_refused": sum(e.get("action") == "refuse_validation" for e in since_start),
    }
    rating = doc.get("rating") or {}
    if status == "closed" and rating.get("score"):
        score = int(rating["score"])
        counters |= {"rated": 1, "rating_sum": score, "rated_good": int(score >= GOOD_RATING)}
    for name, end in (("first_response_h", times.first_response), ("resolution_h", resolved_at),
                      ("close_h", times.closed)):
        hours = times.hours(end)
        if hours is not None:
            counters[f"{name}_b{bucket(hours):02d}"] = 1
    for dim, value, month in group_keys(doc, times.assignee):
        group = out.setdefault(stats_key(dim, value, month), {})
        for counter, n in counters.items():
            if n:
                group[counter] = group.get(counter, 0) + n
    return out


def delta(old: Mapping[str, Mapping[str, int]], new: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """What to add to each group to replace `old` by `new` (zeros left out)."""
    out: dict[str, dict[str, int]] = {}
    for key in set(old) | set(new):
        for counter in set(old.get(key, {})) | set(new.get(key, {})):
            change = new.get(key, {}).get(counter, 0) - old.get(key, {}).get(counter, 0)
            if change:
                out.setdefault(key, {})[counter] = change
    return out


def add_up(contributions: Iterable[Mapping[str, Mapping[str, int]]]) -> dict[str, dict[str, int]]:
    """The sum of many contributions: what `stats rebuild` computes."""
    total: dict[str, dict[str, int]] = {}
    for contrib in contributions:
        for key, counters in contrib.items():
            group = total.setdefault(key, {})
            for counter, n in counters.items():
                group[counter] = group.get(counter, 0) + n
    return {k: {c: n for c, n in g.items() if n} for k, g in total.items() if any(g.values())}


def summary(counters: Mapping[str, int]) -> dict[str, float | str | None]:
    """The figures of one group: counts, median and p90 times (bucket edges), SLA met."""
    def hist(name: str) -> dict[str, int]:
        prefix = name + "_"
        return {k[len(prefix):]: v for k, v in counters.items() if k.startswith(prefix)}

    closed, overdue = counters.get("closed", 0), counters.get("overdue", 0)
    out: dict[str, float | str | None] = {c: counters.get(c, 0) for c in COUNTERS}
    for name in HISTOGRAMS:
        out[f"{name}_median"] = _finite(percentile_edge(hist(name), 0.5))
        out[f"{name}_p90"] = _finite(percentile_edge(hist(name), 0.9))
    out["sla_met"] = round(counters.get("closed_on_time", 0) / (closed + overdue), 4) if closed + overdue else None
    rated = counters.get("rated", 0)
    out["satisfaction_mean"] = round(counters.get("rating_sum", 0) / rated, 2) if rated else None
    out["satisfaction_good_share"] = round(counters.get("rated_good", 0) / rated, 4) if rated else None
    return out


def _finite(edge: float | None) -> float | str | None:
    """JSON has no infinity: the open-ended bucket reads "> 1440"."""
    return f"> {HOUR_EDGES[-2]:g}" if edge == math.inf else edge


def parse_key(key: str) -> tuple[str, str, str]:
    """(dimension, value, month) of a stats key."""
    dim, rest = key.split("=", 1)
    value, month = rest.rsplit("@", 1)
    return dim, value, month


def _not_ours_rejecters(doc: ReportDoc) -> list[str]:
    return [e["by"].removeprefix("skpd:") for e in doc.get("timeline") or []
            if e.get("action") == "reject" and e.get("reason") == "not_ours" and str(e.get("by", "")).startswith("skpd:")]


def _aware(value: datetime | str) -> datetime:
    return aware(datetime.fromisoformat(value) if isinstance(value, str) else value)
