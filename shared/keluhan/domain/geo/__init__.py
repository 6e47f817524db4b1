"""Geolocation: kelurahan, kecamatan, border distance, neighbouring regency, snapping and road status."""

from keluhan.domain.geo.build import build_geo_index
from keluhan.domain.geo.index import Answers, Area, GeoIndex
from keluhan.domain.geo.layers import GeoDataError
from keluhan.domain.geo.roads import RoadTable, normalize_street_name

__all__ = [
    "Answers",
    "Area",
    "GeoDataError",
    "GeoIndex",
    "RoadTable",
    "build_geo_index",
    "normalize_street_name",
]
