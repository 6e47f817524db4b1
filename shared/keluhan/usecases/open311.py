"""Open311 GeoReport v2 over the pipeline: who an api key is, the public reads of requests, and the
backfill of their listing tags."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from keluhan.domain.nearby import ReadBudget
from keluhan.domain.open311 import (
    AREA_READ_CAP,
    LISTING_FIELD,
    Area,
    RequestQuery,
    decode_cursor,
    encode_cursor,
    key_hash,
    key_identity,
    listing,
    request_view,
)
from keluhan.domain.report import Report, valid_report_id
from keluhan.domain.sla import aware
from keluhan.domain.workflow import Actor, Role
from keluhan.ports import ListedOpen311Key, Open311Keys, PhotoStore, Reports
from keluhan.usecases.nearby import read_whole, reports_near, thumbnail_link


class BadApiKey(Exception):
    """No api_key, an unknown one, or a revoked one (403)."""


def key_actor(api_key: str | None, *, keys: Open311Keys) -> Actor:
    """The channel service identity an api key stands for; raises BadApiKey."""
    if not api_key or len(api_key) > 200:
        raise BadApiKey("missing")
    digest = key_hash(api_key)
    record = keys.get(digest)
    if record is None or record.get("revoked") or not record.get("channel"):
        raise BadApiKey("unknown or revoked")
    return Actor(Role.CHANNEL, key_identity(digest), channel=record["channel"])


@dataclass(frozen=True)
class Listing:
    """A page of public requests and the cursor of the next page (None on the last)."""

    requests: list[dict[str, object]]
    next_cursor: str | None


def public_request(report: Report, *, photos: PhotoStore | None, now: datetime) -> dict[str, object]:
    """The GeoReport view of a report, with the public thumbnail's short-lived link as `media_url`
    (null for a private report, a private category, or no accepted photo)."""
    media_url = thumbnail_link(report, photos=photos, now=now) if photos is not None else None
    return request_view(report.to_doc(), media_url=media_url)


def find_requests(query: RequestQuery, *, reports: Reports, now: datetime,
                  photos: PhotoStore | None = None) -> Listing:
    """`GET requests.json`: by ids (any status, in the order asked; never a private report), in an
    area (one page from the geohash ranges, at most AREA_READ_CAP reads), else one page of the
    window, paged in the store: it reads at most page_size + 1 reports past the MAX_SKIPPED a
    `page` skips."""
    if query.service_request_id:
        found = reports.get_many([i for i in dict.fromkeys(query.service_request_id) if valid_report_id(i)])
        return Listing([public_request(r, photos=photos, now=now) for r in found if not r.private], None)
    area = query.area()
    if area is not None:
        return Listing([public_request(r, photos=photos, now=now) for r in _in_area(query, area, reports, now)],
                       None)
    window = query.received_window(now)
    start, end = window or (now, now)
    after = decode_cursor(query.cursor) if query.cursor else None
    listed = reports.listed(tag=query.listing_tag(), start=start, end=end, categories=query.service_code,
                            limit=query.page_size + 1, offset=query.skipped(), after=after,
                            updated_after=query.updated_after)
    page = listed[:query.page_size]
    more = len(listed) > query.page_size
    cursor = None
    if more:
        last = page[-1]
        cursor = encode_cursor(last.received_at if query.updated_after is None else last.status_changed_at,
                               last.report_id)
    if query.updated_after is not None and window is not None:  # both asked: the page keeps what is in both
        page = [r for r in page if window[0] <= aware(r.received_at) < window[1]]
    return Listing([public_request(r, photos=photos, now=now) for r in page], cursor)


def _in_area(query: RequestQuery, area: Area, reports: Reports, now: datetime) -> list[Report]:
    """The newest page_size listed requests in the area, by the filters, searched in its geohash
    cells and then read whole (AREA_READ_CAP reads in all)."""
    tag = query.listing_tag()
    budget = ReadBudget.showing(AREA_READ_CAP, query.page_size)
    found = reports_near(reports, lat=area.lat, lon=area.lon, radius_m=area.radius_m,
                         categories=query.service_code, budget=budget, tag=tag)
    window = query.received_window(now)

    def fits(received_at: datetime, status_changed_at: datetime) -> bool:
        return ((window is None or window[0] <= received_at < window[1])
                and (query.updated_after is None or status_changed_at > query.updated_after))

    kept = [s for _, s in found.values() if area.holds(s.lat, s.lon) and fits(s.received_at, s.status_changed_at)]
    kept.sort(key=lambda s: (s.received_at, s.report_id), reverse=True)
    return [r for r in read_whole(reports, kept[:query.page_size], budget=budget, tag=tag)
            if fits(aware(r.received_at), aware(r.status_changed_at))]  # as it is now, not as searched


def get_request(report_id: str, *, reports: Reports, photos: PhotoStore | None = None,
                now: datetime | None = None) -> dict[str, object] | None:
    """`GET requests/{id}.json`: the public view of one report, or None (a private one included)."""
    if not valid_report_id(report_id):
        return None
    report = reports.get(report_id)
    if report is None or report.private:
        return None
    return public_request(report, photos=photos, now=now or report.status_changed_at)


# --- api keys ---------------------------------------------------------------------------------
KEY_PREFIX_SHOWN = 9  # "o311_" and four characters: enough to tell keys apart in a listing


class KeyNotFound(Exception):
    """No key, or more than one, matches what was given."""


def issue_key(*, channel: str, name: str, keys: Open311Keys, now: datetime, new_key: Callable[[], str]) -> str:
    """A new api key for a channel; only its hash is stored, so it is shown once."""
    api_key = new_key()
    keys.add(key_hash(api_key), {"channel": channel, "name": name, "created_at": now, "revoked": False,
                                 "key_prefix": api_key[:KEY_PREFIX_SHOWN]})
    return api_key


def revoke_key(key_or_prefix: str, *, keys: Open311Keys, now: datetime) -> ListedOpen311Key:
    """Revoke the key given whole, or the one key whose shown prefix or digest starts so."""
    if keys.get(key_hash(key_or_prefix)) is not None:
        digest = key_hash(key_or_prefix)
    else:
        matches = [r["digest"] for r in keys.list() if len(key_or_prefix) >= 6 and (
            r["digest"].startswith(key_or_prefix) or r.get("key_prefix", "").startswith(key_or_prefix))]
        if len(matches) != 1:
            raise KeyNotFound(f"{len(matches)} keys match")
        digest = matches[0]
    record = keys.get(digest) if keys.revoke(digest, now) else None
    if record is None:  # deleted meanwhile
        raise KeyNotFound(f"{digest[:12]} is gone")
    return {**record, "digest": digest}


@dataclass
class ListingBackfill:
    """What `backfill_listing` did: reports read, tags written (with `dry_run`: to be written),
    reports already right, reports deleted while it ran, and the batches it took."""

    scanned: int = 0
    written: int = 0
    unchanged: int = 0
    gone: int = 0
    batches: int = 0


BACKFILL_BATCH = 200


def backfill_listing(*, reports: Reports, batch_size: int = BACKFILL_BATCH, dry_run: bool = False) -> ListingBackfill:
    """Give every stored report the Open311 listing tags its status calls for.

    Reports stored before the tags existed lack `open311_listing` and so never appear in the
    paged public list. Reports are read in batches of `batch_size`; a report whose stored tags
    differ from `listing(status)` is rewritten by `Reports.mutate` (a write guarded by the report's
    update time), which computes them again from the report as it is then (a status changed meanwhile keeps its own, right, tags). Only differing
    reports are written, so a second run writes nothing, and a run stopped anywhere is resumed by
    running it again: every batch is written before the next is read. `dry_run` writes nothing.
    """
    done = ListingBackfill()
    stream = iter(reports.all())
    while batch := list(itertools.islice(stream, batch_size)):
        done.batches += 1
        for report in batch:
            done.scanned += 1
            if _tags_due(report) is None:
                done.unchanged += 1
            elif dry_run:
                done.written += 1
            else:
                _retag(report.report_id, reports=reports, done=done)
    return done


def _tags_due(report: Report) -> list[str] | None:
    """The listing tags to store, or None when the stored ones are right (a report stored before
    the tags has none: `open311_listing` is not among the fields it was read with)."""
    tags = listing(report.status, private=report.private)
    return None if LISTING_FIELD in report.model_fields_set and report.open311_listing == tags else tags


def _retag(report_id: str, *, reports: Reports, done: ListingBackfill) -> None:
    wrote = False

    def retag(report: Report) -> Report | None:
        nonlocal wrote  # the transaction may run this again: its last run is what was written
        tags = _tags_due(report)
        wrote = tags is not None
        return report.changed(open311_listing=tags) if tags is not None else None

    if reports.mutate(report_id, retag) is None:
        done.gone += 1
    elif wrote:
        done.written += 1
    else:  # tagged meanwhile by a status change
        done.unchanged += 1
