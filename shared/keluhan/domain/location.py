"""What the geolocation stage says about a point."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

RoadStatus = Literal["nasional", "provinsi", "kota"]
RoadSource = Literal["layer", "street_name", "default"]


class Road(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str | None
    status: RoadStatus
    source: RoadSource
    toll: bool = False


class Location(BaseModel):
    """The answer for one point; `inside_city` is true for snapped points too."""

    model_config = ConfigDict(frozen=True)

    kelurahan: str | None
    kode_kelurahan: str | None
    kecamatan: str | None
    kode_kecamatan: str | None
    inside_city: bool
    snapped: bool = False
    snap_distance_m: float | None = None
    border_distance_m: float | None = None
    near_border: bool = False
    nearest_other_kelurahan: str | None = None
    outside_region: str | None = None
    outside_region_kode: str | None = None
    road: Road | None = None
    data_version: str = ""
