"""Working days in WITA on Indonesia's calendar, handling targets (SLA) and escalation times."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import TypedDict

from keluhan.domain.catalogue import Category

WITA = timezone(timedelta(hours=8), "WITA")


def aware(value: datetime) -> datetime:
    """A time as stored: Firestore and older documents may give one without a zone, meaning UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
DAY = timedelta(days=1)


class SlaRecord(TypedDict):
    """A report's `sla` record: when its clock started, when it is due, when it escalates next."""

    start_at: datetime
    due_at: datetime
    target_working_days: float | None
    target_hours: float | None
    next_escalation_at: datetime | None


@dataclass(frozen=True)
class WorkingCalendar:
    """Monday to Friday, except national holidays and cuti bersama (the given dates)."""

    holidays: frozenset[date]

    @classmethod
    def of(cls, dates: Iterable[date]) -> WorkingCalendar:
        return cls(frozenset(dates))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def working_days_between(self, start: datetime, end: datetime) -> float:
        """The working time between two instants, in days: each WITA working day counts the share
        of its 24 hours that lies in the interval (Fri 16:00 → Mon 10:00 is 8/24 + 10/24)."""
        if end <= start:
            return 0.0
        start, end = start.astimezone(WITA), end.astimezone(WITA)
        total = timedelta()
        day = start.date()
        while day <= end.date():
            if self.is_working_day(day):
                lo = max(start, _midnight(day))
                hi = min(end, _midnight(day) + DAY)
                total += max(hi - lo, timedelta())
            day += DAY
        return total / DAY

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """The instant `days` working days after `start` (the inverse of working_days_between)."""
        remaining = timedelta(days=days)
        moment = start.astimezone(WITA)
        for _ in range(3660):  # ten years of days: a target beyond that is a data error
            next_midnight = _midnight(moment.date()) + DAY
            if self.is_working_day(moment.date()):
                available = next_midnight - moment
                if remaining <= available:
                    return moment + remaining
                remaining -= available
            moment = next_midnight
        raise ValueError(f"no {days} working days after {start}")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=WITA)


@dataclass(frozen=True)
class SlaPolicy:
    """When a report assigned now is due, and when it escalates to whom."""

    calendar: WorkingCalendar

    def due_at(self, category: Category, start: datetime) -> datetime:
        if category.sla_working_days is not None:
            return self.calendar.add_working_days(start, category.sla_working_days)
        return start + timedelta(hours=category.sla_hours or 24)

    def escalation_at(self, category: Category, start: datetime, level: int) -> datetime | None:
        """Level 1 (the SKPD head) when due; level 2 (the operators) after the target once more."""
        due = self.due_at(category, start)
        if level == 1:
            return due
        if level == 2:
            return self.due_at(category, due)
        return None

    def assignment(self, category: Category, start: datetime) -> SlaRecord:
        """The `sla` record a report gets when a city SKPD is assigned: the clock starts now."""
        return {"start_at": start, "due_at": self.due_at(category, start),
                "target_working_days": category.sla_working_days, "target_hours": category.sla_hours,
                "next_escalation_at": self.escalation_at(category, start, 1)}


ESCALATION_TO = {
    1: "kepala SKPD / the head of the SKPD",
    2: "operator War Room / the War Room operators",
}
