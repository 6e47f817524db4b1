"""Reports near a point: what anyone may see of one (never who reported), and the read budget.

The cells to query come from `keluhan.domain.geocell`; the reads of a call are capped
(`ReadBudget`), so its cost stays bounded whatever the number of reports, and exact distances
are computed on what was read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from keluhan.domain.catalogue import get_category, known_category
from keluhan.domain.notes import redact_contacts
from keluhan.domain.open311 import PRIVATE_DECIMALS, public_status
from keluhan.domain.photo.exif import distance_m
from keluhan.domain.report import STATUS_TEXT, Report, Status
from keluhan.domain.sla import aware

MAX_RADIUS_M = 1000.0
READ_CAP = 300  # documents one nearby call may read, whatever the number of reports
PAGE_MAX = 100


@dataclass(frozen=True)
class Spot:
    """What a search by cell reads of each report: enough to place, filter and order it. Only the
    few a caller shows are then read whole (`Reports.get_many`): a busy cell's reports, timelines
    and all, are never transferred and parsed just to be measured and dropped."""

    report_id: str
    geohash: str
    lat: float
    lon: float
    received_at: datetime
    status_changed_at: datetime
    private: bool

    FIELDS: ClassVar[tuple[str, ...]] = ("report_id", "geohash", "point", "received_at", "status_changed_at",
                                         "private")  # the stored fields it is made of

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Spot:  # Any: as Report.to_doc
        """Raises ValueError for a document that is no report's."""
        try:
            point = doc["point"]
            received, changed = doc["received_at"], doc["status_changed_at"]
            if not (isinstance(received, datetime) and isinstance(changed, datetime)):
                raise TypeError("received_at and status_changed_at must be times")
            return cls(report_id=str(doc["report_id"]), geohash=str(doc.get("geohash", "")),
                       lat=float(point["lat"]), lon=float(point["lon"]), received_at=aware(received),
                       status_changed_at=aware(changed), private=bool(doc.get("private", False)))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a report's spot: {exc!r}") from exc


@dataclass
class ReadBudget:
    """The documents a call may still read; each query is billed at least one read. `reserved` of
    them are kept for reading whole the reports the call shows, after the search by cell."""

    left: int = READ_CAP
    reserved: int = 0
    reads: int = 0
    queries: int = 0
    exhausted: bool = False  # spent while a cell still held unread reports: the answer may miss some
    per_query: list[int] = field(default_factory=list)

    @classmethod
    def showing(cls, cap: int, shown: int) -> ReadBudget:
        """`cap` reads in all for a call that shows at most `shown` reports: up to half of the cap
        is kept for reading those whole."""
        return cls(left=cap, reserved=min(shown, cap // 2))

    @property
    def searchable(self) -> int:
        """What the search by cell may still read."""
        return self.left - self.reserved

    def limit_for(self, cells_left: int) -> int:
        """An even share of what the search may read for one cell (nearest cells first take theirs)."""
        return max(1, self.searchable // max(cells_left, 1))

    def spend(self, returned: int, limit: int) -> None:
        billed = max(1, returned)
        self.reads += billed
        self.queries += 1
        self.left -= billed
        self.per_query.append(returned)

    def wholes(self, wanted: int) -> int:
        """How many of `wanted` reports may be read whole now (the reserve, and what is left)."""
        return max(0, min(wanted, self.left))

    def spend_wholes(self, read: int) -> None:
        self.reads += read
        self.left -= read
        self.reserved = max(0, self.reserved - read)


def within(spot: Spot, lat: float, lon: float, radius_m: float) -> float | None:
    """The report's distance from (lat, lon) in metres, or None beyond `radius_m`."""
    apart = distance_m((lat, lon), (spot.lat, spot.lon))
    return apart if apart <= radius_m else None


def shows_publicly(report: Report) -> bool:
    """Listed for anyone: open in GeoReport's sense, not private, past its photo wait."""
    return not report.private and "open" in report.open311_listing


def public_point(report: Report) -> tuple[float, float]:
    """The point anyone sees: rounded to ~110 m where the category points at a home or a person."""
    category = get_category(report.category)
    lat, lon = report.point.lat, report.point.lon
    if category is None or category.point_private:
        return round(lat, PRIVATE_DECIMALS), round(lon, PRIVATE_DECIMALS)
    return lat, lon


def photo_is_public(report: Report) -> bool:
    """Whether anyone may see the EXIF-free thumbnail: not a private report, not a category whose
    photo shows a home or a person, and a photo that passed its checks."""
    category = get_category(report.category)
    return (not report.private and category is not None and not category.point_private
            and report.photo.verdict == "accepted" and bool(report.photo.thumbnail_object))


def public_view(report: Report, *, lat: float, lon: float, thumbnail_url: str | None) -> dict[str, object]:
    """What anyone sees of a report near (lat, lon): never who reported, nor the exact point of a
    private category (the distance is from the rounded point, so it cannot be triangulated)."""
    category = get_category(report.category)
    shown_lat, shown_lon = public_point(report)
    private_category = category is None or category.point_private
    location = report.location
    return {
        "report_id": report.report_id,
        "category": report.category,
        "category_name": category.label if category else None,
        "status": report.status.value,
        "status_text": STATUS_TEXT[Status(report.status)],
        "public_status": public_status(report.status),
        "description": None if private_category else redact_contacts(report.description) or None,
        "kelurahan": location.kelurahan if location else None,
        "kecamatan": location.kecamatan if location else None,
        "point": {"lat": shown_lat, "lon": shown_lon},
        "distance_m": round(distance_m((lat, lon), (shown_lat, shown_lon)), 1),
        "supporters": report.supporters,
        "received_at": report.received_at,
        "thumbnail_url": thumbnail_url,
    }


class NearbyQuery(BaseModel):
    """nearby_reports' query: a point, a radius of at most 1 km, optionally one category."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(default=500.0, gt=0, le=MAX_RADIUS_M)
    category: str | None = Field(default=None, min_length=1, max_length=64)
    limit: int = Field(default=50, ge=1, le=PAGE_MAX)

    @field_validator("category")
    @classmethod
    def _known_category(cls, code: str | None) -> str | None:
        return None if code is None else known_category(code)


def nearest_first(found: Mapping[str, tuple[float, Spot]], limit: int) -> list[tuple[float, Spot]]:
    """The `limit` nearest of the reports found (ties: the newest first)."""
    ranked = sorted(found.values(), key=lambda pair: (pair[0], -pair[1].received_at.timestamp()))
    return ranked[:limit]

