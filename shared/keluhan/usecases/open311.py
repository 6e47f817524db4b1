"""Open311 GeoReport v2 over the pipeline: who an api key is, the public reads of requests, and the
backfill of their listing tags."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from keluhan.domain.open311 import (
    LISTING_FIELD,
    RequestQuery,
    decode_cursor,
    encode_cursor,
    key_hash,
    key_identity,
    listing,
    request_view,
)
from keluhan.domain.report import Report, valid_report_id
from keluhan.domain.workflow import Actor, Role
from keluhan.ports import ListedOpen311Key, Open311Keys, Reports


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


def find_requests(query: RequestQuery, *, reports: Reports, now: datetime) -> Listing:
    """`GET requests.json`: by ids (any status, in the order asked), else one page of the window,
    paged in the store: it reads at most page_size + 1 reports past the MAX_SKIPPED a `page` skips."""
    if query.service_request_id:
        found = (reports.get(i) for i in dict.fromkeys(query.service_request_id) if valid_report_id(i))
        return Listing([request_view(r.to_doc()) for r in found if r is not None], None)
    start, end = query.window(now)
    after = decode_cursor(query.cursor) if query.cursor else None
    listed = reports.listed(tag=query.listing_tag(), start=start, end=end, categories=query.service_code,
                            limit=query.page_size + 1, offset=query.skipped(), after=after)
    page = listed[:query.page_size]
    more = len(listed) > query.page_size
    cursor = encode_cursor(page[-1].received_at, page[-1].report_id) if more else None
    return Listing([request_view(r.to_doc()) for r in page], cursor)


def get_request(report_id: str, *, reports: Reports) -> dict[str, object] | None:
    """`GET requests/{id}.json`: the public view of one report, or None."""
    if not valid_report_id(report_id):
        return None
    report = reports.get(report_id)
    return request_view(report.to_doc()) if report else None


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
    tags = listing(report.status)
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
