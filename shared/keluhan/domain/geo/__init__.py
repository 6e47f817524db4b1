"""Geolocation: kelurahan, kecamatan, border distance, neighbouring regency, snapping and road status."""

from keluhan.domain.geo.index import Answers, Area, GeoIndex
from keluhan.domain.geo.layers import GeoDataError
from keluhan.domain.geo.loader import load_geo_index, packaged_road_table
from keluhan.domain.geo.roads import RoadTable, normalize_street_name

__all__ = [
    "Answers",
    "Area",
    "GeoDataError",
    "GeoIndex",
    "RoadTable",
    "load_geo_index",
    "normalize_street_name",
    "packaged_road_table",
]
