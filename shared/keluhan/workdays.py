"""Indonesia's working calendar: the `holidays` package (public holidays and cuti bersama) plus
the dates ops add when the government announces more (a CSV of `date,name`)."""

from __future__ import annotations

import csv
import functools
from datetime import date
from importlib import resources
from pathlib import Path

from keluhan.domain.sla import SlaPolicy, WorkingCalendar

YEARS = range(2020, 2036)


def announced_dates_file() -> Path:
    """The packaged file of extra non-working days (shared/keluhan/data/libur_tambahan.csv)."""
    return Path(str(resources.files("keluhan") / "data" / "libur_tambahan.csv"))


def read_announced(path: Path) -> dict[date, str]:
    """Extra non-working days: `date,name` rows (ISO dates); `#` starts a comment."""
    out: dict[date, str] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        rows = (r for r in csv.reader(handle) if r and not r[0].lstrip().startswith("#"))
        for row in rows:
            if row[0].strip() == "date":
                continue
            try:
                out[date.fromisoformat(row[0].strip())] = row[1].strip() if len(row) > 1 else ""
            except ValueError as exc:
                raise ValueError(f"{path.name}: {row[0]!r} is not an ISO date") from exc
    return out


def indonesian_holidays(extra_file: Path | None = None) -> dict[date, str]:
    """Public holidays and cuti bersama (the package's `government` category), plus announced ones."""
    import holidays

    known = holidays.country_holidays("ID", years=YEARS, categories=("public", "government"))
    return {**dict(known), **read_announced(extra_file or announced_dates_file())}


@functools.cache
def sla_policy(extra_file: str = "") -> SlaPolicy:
    """The process's SLA policy on Indonesia's calendar, built once."""
    dates = indonesian_holidays(Path(extra_file) if extra_file else None)
    return SlaPolicy(WorkingCalendar.of(dates))
