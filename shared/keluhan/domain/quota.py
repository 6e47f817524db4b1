"""Submission quotas: which hour and day counters a submission adds to, and when each resets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

# Makassar keeps WITA (UTC+8) all year: a citizen's "day" is the local calendar day.
WITA = timezone(timedelta(hours=8), "WITA")


@dataclass(frozen=True)
class Limits:
    """At most `per_hour` new reports per clock hour and `per_day` per local day."""

    per_hour: int
    per_day: int


@dataclass(frozen=True)
class Window:
    """One counter, quotas/{key}: at most `limit` new reports until `resets_at`."""

    name: str  # "hour" or "day"
    key: str
    limit: int
    resets_at: datetime


def quota_subject(uid: str) -> str:
    """The counter's owner as a document-id prefix: a hash, so quotas/ never holds a uid."""
    return hashlib.sha256(f"quota\x00{uid}".encode()).hexdigest()[:32]


def windows(uid: str, *, now: datetime, limits: Limits) -> tuple[Window, Window]:
    """The hour and day windows `now` falls in, for this reporter."""
    local = now.astimezone(WITA)
    hour = local.replace(minute=0, second=0, microsecond=0)
    day = hour.replace(hour=0)
    subject = quota_subject(uid)
    return (Window("hour", f"{subject}_h{hour:%Y%m%d%H}", limits.per_hour, hour + timedelta(hours=1)),
            Window("day", f"{subject}_d{day:%Y%m%d}", limits.per_day, day + timedelta(days=1)))


def retry_after_s(window: Window, *, now: datetime) -> int:
    """Whole seconds until the window resets (at least 1), for a Retry-After header."""
    return max(1, int(-(-(window.resets_at - now).total_seconds() // 1)))
