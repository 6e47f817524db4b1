"""Area subscriptions: a user is told of new reports routed in a kelurahan or a circle (≤ 2 km).

A subscription carries its match keys (`kel:<kode>` for a kelurahan, `cell:<row>:<col>` for each
coarse grid cell a circle touches), so a new report finds its subscribers with one indexed query
on the two keys of its own point (`report_keys`), never a scan of all subscriptions; `matches`
then checks the circle's exact distance and the categories. A digest subscriber gets one message
a day instead (`digest_day`, `digest_due_at`).
"""

from __future__ import annotations

import hashlib
import math
from datetime import date, datetime, time, timedelta
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from keluhan.domain.catalogue import known_category
from keluhan.domain.geocell import degrees_of
from keluhan.domain.photo.exif import distance_m
from keluhan.domain.report import Report
from keluhan.domain.sla import WITA

MAX_PER_USER = 10  # subscriptions a user may hold (a Smart RT/RW head's default one included)
MAX_RADIUS_M = 2000
MIN_RADIUS_M = 100
CELL_DEG = 0.05  # ~5.5 km: a circle of ≤ 2 km radius touches at most 2 × 2 cells
DIGEST_AT = time(6, 0)  # a day's digest goes out at 06:00 WITA the next morning (after quiet hours)
KELURAHAN_KODE = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"
RTRW_HEAD: Literal["rtrw_head"] = "rtrw_head"  # the source (and id) of a Smart RT/RW head's default subscription
Kind = Literal["kelurahan", "circle"]
Source = Literal["user", "rtrw_head"]
Lang = Literal["id", "en"]


class NewSubscription(BaseModel):
    """What a signed-in user sends to add_subscription: a kelurahan, or a circle around a point."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kelurahan_id: str | None = Field(default=None, pattern=KELURAHAN_KODE,
                                     description="Kode Kemendagri of a kelurahan of Makassar, e.g. 73.71.01.1001")
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    radius_m: int | None = Field(default=None, ge=MIN_RADIUS_M, le=MAX_RADIUS_M)
    categories: list[str] = Field(default_factory=list, max_length=30,
                                  description="Only these categories (all when empty)")
    digest: bool = Field(default=False, description="One message a day instead of one per report")
    lang: Lang = "id"

    @field_validator("categories")
    @classmethod
    def _known(cls, codes: list[str]) -> list[str]:
        return sorted({known_category(code) for code in codes})

    @model_validator(mode="after")
    def _one_area(self) -> Self:
        circle = (self.lat, self.lon, self.radius_m)
        if self.kelurahan_id is not None:
            if any(v is not None for v in circle):
                raise PydanticCustomError("extra_forbidden", "kelurahan_id atau lingkaran, bukan keduanya / "
                                          "a kelurahan or a circle, not both", {"field": "lat"})
            return self
        for name, value in zip(("lat", "lon", "radius_m"), circle, strict=True):
            if value is None:
                raise PydanticCustomError("missing", f"{name}: wajib tanpa kelurahan_id / required without "
                                          "kelurahan_id", {"field": name})
        return self

    @property
    def kind(self) -> Kind:
        return "kelurahan" if self.kelurahan_id is not None else "circle"


class AreaSubscription(BaseModel):
    """subscriptions/{uid}/areas/{subscription_id}, as stored and as its owner reads it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subscription_id: str
    uid: str
    kind: Kind
    kelurahan_id: str | None = None
    kelurahan: str | None = None  # its name
    lat: float | None = None
    lon: float | None = None
    radius_m: int | None = None
    categories: list[str] = Field(default_factory=list)
    digest: bool = False
    lang: Lang = "id"
    source: Source = "user"
    keys: list[str] = Field(default_factory=list)  # the match keys the subscribers' query looks up
    created_at: datetime

    def to_doc(self) -> dict[str, object]:
        return self.model_dump(mode="python")

    def matches(self, report: Report) -> bool:
        """The report is in this area and of a wanted category."""
        if self.categories and report.category not in self.categories:
            return False
        if self.kind == "kelurahan":
            return report.location is not None and report.location.kode_kelurahan == self.kelurahan_id
        assert self.lat is not None and self.lon is not None and self.radius_m is not None
        return distance_m((self.lat, self.lon), (report.point.lat, report.point.lon)) <= self.radius_m


def subscription(request: NewSubscription, *, uid: str, kelurahan: str | None, now: datetime,
                 source: Source = "user") -> AreaSubscription:
    """The stored subscription for a request; its id is the same for the same area and options,
    so adding one twice keeps one."""
    if request.kelurahan_id is not None:
        keys = [kelurahan_key(request.kelurahan_id)]
    else:
        assert request.lat is not None and request.lon is not None and request.radius_m is not None
        keys = circle_keys(request.lat, request.lon, request.radius_m)
    area = f"{request.kelurahan_id}" if request.kelurahan_id else f"{request.lat:.5f},{request.lon:.5f},{request.radius_m}"
    subscription_id = (RTRW_HEAD if source == RTRW_HEAD else
                       hashlib.sha256(f"{area}|{','.join(request.categories)}".encode()).hexdigest()[:20])
    return AreaSubscription(subscription_id=subscription_id, uid=uid, kind=request.kind,
                            kelurahan_id=request.kelurahan_id, kelurahan=kelurahan, lat=request.lat,
                            lon=request.lon, radius_m=request.radius_m, categories=request.categories,
                            digest=request.digest, lang=request.lang, source=source, keys=keys, created_at=now)


def kelurahan_key(kode: str) -> str:
    return f"kel:{kode}"


def cell_key(lat: float, lon: float) -> str:
    """The coarse grid cell of a point (CELL_DEG on a side)."""
    return f"cell:{math.floor(lat / CELL_DEG)}:{math.floor(lon / CELL_DEG)}"


def circle_keys(lat: float, lon: float, radius_m: int) -> list[str]:
    """Every cell the circle's bounding box touches (≤ 4 for a radius ≤ 2 km)."""
    dlat, dlon = degrees_of(radius_m, lat=lat)
    rows = range(math.floor((lat - dlat) / CELL_DEG), math.floor((lat + dlat) / CELL_DEG) + 1)
    cols = range(math.floor((lon - dlon) / CELL_DEG), math.floor((lon + dlon) / CELL_DEG) + 1)
    return [f"cell:{r}:{c}" for r in rows for c in cols]


def report_keys(report: Report) -> list[str]:
    """The keys a report's subscribers are found by: its kelurahan's and its point's cell."""
    keys = [cell_key(report.point.lat, report.point.lon)]
    if report.location is not None and report.location.kode_kelurahan:
        keys.insert(0, kelurahan_key(report.location.kode_kelurahan))
    return keys


def digest_day(at: datetime) -> date:
    """The WITA day a report routed at `at` is counted in."""
    return at.astimezone(WITA).date()


def digest_due_at(day: date) -> datetime:
    """When the digest of `day` goes out: the next morning, WITA."""
    return datetime.combine(day + timedelta(days=1), DIGEST_AT, tzinfo=WITA)


class SubscriptionView(BaseModel):
    """One subscription as its owner sees it."""

    model_config = ConfigDict(extra="forbid")

    subscription_id: str
    kind: Kind
    kelurahan_id: str | None = None
    kelurahan: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_m: int | None = None
    categories: list[str]
    digest: bool
    lang: Lang
    source: Literal["user", "rtrw_head"] = Field(description="rtrw_head: a Smart RT/RW head's own kelurahan, "
                                                             "subscribed by default")
    created_at: datetime

    @classmethod
    def of(cls, subscription: AreaSubscription) -> SubscriptionView:
        return cls.model_validate(subscription.model_dump(exclude={"uid", "keys"}))


class SubscriptionList(BaseModel):
    """The signed-in user's subscriptions, and how many they may hold."""

    model_config = ConfigDict(extra="forbid")

    subscriptions: list[SubscriptionView]
    limit: int


class RemoveSubscription(BaseModel):
    """What a user sends to remove_subscription."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subscription_id: str = Field(pattern=r"^[A-Za-z0-9_]{1,40}$", description="As list_subscriptions gives it")


class SubscriptionRemoved(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subscription_id: str
    removed: bool
