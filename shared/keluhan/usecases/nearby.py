"""Reports near a point for anyone (nearby_reports), the same search for duplicates while
reporting, and the reporter's own list (list_my_reports)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from keluhan.domain.geocell import cover
from keluhan.domain.nearby import (
    READ_CAP,
    NearbyQuery,
    ReadBudget,
    Spot,
    nearest_first,
    photo_is_public,
    public_view,
    within,
)
from keluhan.domain.open311 import decode_cursor, encode_cursor
from keluhan.domain.report import Report, Status, reporter_key
from keluhan.domain.views import reporter_view
from keluhan.domain.workflow import Actor
from keluhan.ports import Clock, PhotoStore, Reports

THUMBNAIL_LINK_FOR = timedelta(minutes=15)
OPEN_TAG = "open"  # keluhan.domain.open311.listing: open, listed, not private


class RegisteredAccountRequired(Exception):
    """An anonymous sign-in: it has no reports of its own and takes no part in the social side (403)."""


def check_registered(actor: Actor) -> None:
    if actor.anonymous:
        raise RegisteredAccountRequired(actor.id)


def reports_near(reports: Reports, *, lat: float, lon: float, radius_m: float, categories: Sequence[str],
                 budget: ReadBudget, tag: str = OPEN_TAG) -> dict[str, tuple[float, Spot]]:
    """Listed reports (tag `open` by default) within `radius_m` of the point, by id with their
    distance, as spots: one range query per covering geohash cell, nearest cell first, within
    `budget` (what it reserves left for `read_whole`)."""
    found: dict[str, tuple[float, Spot]] = {}
    # Each round gives every cell still holding unread reports an even share of the budget left,
    # nearest cell first; a cell that filled its share goes on where it stopped in the next round.
    pending: list[tuple[str, tuple[str, str] | None]] = [(cell, None) for cell in cover(lat, lon, radius_m)]
    while pending:
        more: list[tuple[str, tuple[str, str] | None]] = []
        for done, (cell, after) in enumerate(pending):
            if budget.searchable <= 0:
                budget.exhausted = True
                return found
            limit = budget.limit_for(len(pending) - done)
            batch = reports.in_cell(cell, tag=tag, categories=categories, limit=limit, after=after)
            budget.spend(len(batch), limit)
            for spot in batch:
                apart = within(spot, lat, lon, radius_m)
                if apart is not None and not spot.private:
                    found[spot.report_id] = (apart, spot)
            if len(batch) >= limit:
                more.append((cell, (batch[-1].geohash, batch[-1].report_id)))
        pending = more
    return found


def read_whole(reports: Reports, spots: Sequence[Spot], *, budget: ReadBudget, tag: str = OPEN_TAG) -> list[Report]:
    """The reports of `spots`, in their order, read whole in one call (as many as the budget allows),
    those still listed under `tag` and public: one may have closed since its spot was read."""
    wanted = spots[:budget.wholes(len(spots))]
    if not wanted:
        return []
    found = reports.get_many([s.report_id for s in wanted])
    budget.spend_wholes(len(wanted))
    return [r for r in found if tag in r.open311_listing and not r.private]


@dataclass(frozen=True)
class Nearby:
    reports: list[dict[str, object]]
    reads: int
    queries: int
    truncated: bool  # the read cap was reached: nearer or more reports may exist


def thumbnail_link(report: Report, *, photos: PhotoStore, now: datetime) -> str | None:
    """A short-lived GET link of the EXIF-free thumbnail, where anyone may see it; else None."""
    if not photo_is_public(report) or report.photo.thumbnail_object is None:
        return None
    return photos.download_url(report.photo.thumbnail_object, expires_at=now + THUMBNAIL_LINK_FOR)


def nearby_reports(query: NearbyQuery, *, actor: Actor, reports: Reports, photos: PhotoStore, clock: Clock,
                   read_cap: int = READ_CAP) -> Nearby:
    """Open, public reports near a point, nearest first, each in the public view; at most
    `read_cap` documents read whatever the number of reports. Raises RegisteredAccountRequired."""
    check_registered(actor)
    budget = ReadBudget.showing(read_cap, query.limit)
    found = reports_near(reports, lat=query.lat, lon=query.lon, radius_m=query.radius_m,
                         categories=[query.category] if query.category else [], budget=budget)
    now = clock()
    shown = read_whole(reports, [s for _, s in nearest_first(found, query.limit)], budget=budget)
    views = [public_view(r, lat=query.lat, lon=query.lon, thumbnail_url=thumbnail_link(r, photos=photos, now=now))
             for r in shown]
    return Nearby(views, budget.reads, budget.queries, budget.exhausted)


@dataclass(frozen=True)
class DuplicatePolicy:
    """Which open reports a new one is shown as possibly the same problem."""

    radius_m: float = 75.0
    max_age: timedelta = timedelta(days=30)
    limit: int = 5
    read_cap: int = 60


def possible_duplicates(report: Report, *, reports: Reports, photos: PhotoStore, clock: Clock,
                        policy: DuplicatePolicy) -> list[dict[str, object]]:
    """Up to `policy.limit` open public reports of the same category within `policy.radius_m` and
    `policy.max_age` of a submitted report, nearest first: the app offers to support one instead.
    Only a suggestion: the report is stored whatever this finds."""
    now = clock()
    since = now - policy.max_age
    budget = ReadBudget.showing(policy.read_cap, policy.limit)
    found = reports_near(reports, lat=report.point.lat, lon=report.point.lon, radius_m=policy.radius_m,
                         categories=[report.category], budget=budget)
    recent = {k: v for k, v in found.items() if k != report.report_id and v[1].received_at >= since}
    shown = read_whole(reports, [s for _, s in nearest_first(recent, policy.limit)], budget=budget)
    return [public_view(r, lat=report.point.lat, lon=report.point.lon,
                        thumbnail_url=thumbnail_link(r, photos=photos, now=now))
            for r in shown]


@dataclass(frozen=True)
class MyReports:
    reports: list[dict[str, object]]
    next_cursor: str | None


def list_my_reports(*, actor: Actor, reports: Reports, statuses: Sequence[Status], limit: int,
                    cursor: str | None) -> MyReports:
    """The caller's own reports, newest first, each in the reporter's view; one query of at most
    `limit + 1` reports (the extra one tells whether a next page exists). Raises RegisteredAccountRequired."""
    check_registered(actor)
    after = decode_cursor(cursor) if cursor else None
    found = reports.of_reporter(reporter_key(actor.id), statuses=[s.value for s in statuses],
                                limit=limit + 1, after=after)
    page = found[:limit]
    more = len(found) > limit
    next_cursor = encode_cursor(page[-1].received_at, page[-1].report_id) if more and page else None
    return MyReports([reporter_view(r.to_doc(), client_id=None) for r in page], next_cursor)

