"""Known places in and around Makassar, computed from ../shared/geo (never copied)."""

from __future__ import annotations

import functools
import json
import os
from typing import Any

import pytest
from shapely.geometry import shape

from keluhan.settings import SHARED_GEO

# Any: a kelurahan feature's GeoJSON properties (names and codes), as ../shared/geo has them.
Properties = dict[str, Any]


def require_shared_geo() -> None:
    """../shared/geo is beside the repo; without it tests fail under CI and skip elsewhere."""
    if not (SHARED_GEO / "makassar_kelurahan.geojson").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SHARED_GEO} is missing")
        pytest.skip(f"{SHARED_GEO} is missing")


@functools.cache
def _kelurahan_shapes() -> dict[str, tuple[Properties, Any]]:  # Any: a shapely geometry (shapely is untyped)
    require_shared_geo()
    data = json.loads((SHARED_GEO / "makassar_kelurahan.geojson").read_text())
    return {f["properties"]["nama_kelurahan"]: (f["properties"], shape(f["geometry"]))
            for f in data["features"]}


def kelurahan_point(name: str) -> tuple[float, float, Properties]:
    """(lat, lon, properties) of a point well inside the kelurahan."""
    props, geom = _kelurahan_shapes()[name]
    largest = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
    inner = largest.buffer(-0.0004)
    point = (inner if not inner.is_empty else largest).point_on_surface()
    return point.y, point.x, props


# Sungguminasa, the capital of Kabupaten Gowa, just south-east of the city limit.
SUNGGUMINASA = (-5.2069, 119.4531)
