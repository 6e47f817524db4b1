"""Parsing and checking the kelurahan, neighbouring-regency and road GeoJSON layers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np
import shapely

from keluhan.domain.geo.projection import Geometries, Geometry, LocalProjection

POLYGONS = ("Polygon", "MultiPolygon")
LINES = ("LineString", "MultiLineString")
ROAD_STATUSES = ("nasional", "provinsi", "kota")

# Any: a feature's GeoJSON properties, any JSON per key; check_layer vets the values the index reads.
Properties = dict[str, Any]


class GeoDataError(ValueError):
    """A geo file that cannot be used; the message names the file, the feature and the problem."""

    def __init__(self, path: PurePath | str, problem: str, feature: str | None = None) -> None:
        where = f"{PurePath(path).name}: feature {feature}" if feature else PurePath(path).name
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class LayerSpec:
    """What a layer must hold: geometry types, required properties, how to label a feature."""

    kind: str
    geometry_types: tuple[str, ...]
    required: tuple[str, ...]
    label: tuple[str, ...]


KELURAHAN = LayerSpec("kelurahan", POLYGONS, ("kode_kelurahan", "nama_kelurahan"), ("kode_kelurahan", "nama_kelurahan"))
TETANGGA = LayerSpec("tetangga", POLYGONS, ("kode_kabupaten", "nama_kabupaten"), ("kode_kabupaten", "nama_kabupaten"))
ROADS = LayerSpec("roads", LINES, ("name", "status"), ("name",))


@dataclass(frozen=True)
class Layer:
    """One GeoJSON layer: its features' properties and lon/lat geometries, in file order."""

    path: PurePath  # where it was read from: named in errors, copied by an import
    digest: str
    properties: list[Properties]
    geometries: Geometries

    def label(self, i: int, spec: LayerSpec) -> str:
        """How an error names feature i."""
        return feature_label(i, self.properties[i], spec)


def feature_label(i: int, props: Properties, spec: LayerSpec) -> str:
    """Feature i as errors name it: "#12 (73.71.01.1001 Bontorannu)"."""
    words = [str(props.get(key, "")) for key in spec.label]
    return f"#{i} ({' '.join(w for w in words if w)})" if any(words) else f"#{i}"


def parse_layer(raw: bytes, spec: LayerSpec, *, path: PurePath | str) -> Layer:
    """Parse a FeatureCollection read from `path`; check geometry types, lon/lat ranges, required properties."""
    path = PurePath(path)
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise GeoDataError(path, f"cannot read GeoJSON: {exc}") from exc
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list) or data.get("type") != "FeatureCollection" or not features:
        raise GeoDataError(path, "not a GeoJSON FeatureCollection with features")
    properties: list[Properties] = []
    geometries: list[Geometry] = []
    for i, feature in enumerate(features):
        props = (feature or {}).get("properties") or {}
        geometry = (feature or {}).get("geometry") or {}
        label = feature_label(i, props, spec)
        missing = [key for key in spec.required if props.get(key) in (None, "")]
        if missing:
            raise GeoDataError(path, f"missing required properties {missing}", label)
        if geometry.get("type") not in spec.geometry_types:
            raise GeoDataError(path, f"geometry type {geometry.get('type')!r}, expected one of {spec.geometry_types}", label)
        try:
            geom = shapely.geometry.shape(geometry)
        except (ValueError, TypeError, IndexError, shapely.errors.GEOSException) as exc:
            raise GeoDataError(path, f"malformed coordinates: {exc}", label) from exc
        coords = shapely.get_coordinates(geom)
        if geom.is_empty or not np.isfinite(coords).all():
            raise GeoDataError(path, "empty geometry or non-finite coordinates", label)
        lon, lat = coords[:, 0], coords[:, 1]
        if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
            raise GeoDataError(
                path, f"coordinates outside WGS84 lon/lat (e.g. {coords[0].tolist()}); lon first, lat second", label
            )
        properties.append(props)
        geometries.append(geom)
    return Layer(path, hashlib.sha256(raw).hexdigest(), properties, np.array(geometries, dtype=np.object_))


def check_layer(layer: Layer, spec: LayerSpec, *, overlap_tolerance_m2: float = 10.0) -> None:
    """The import checks: valid geometries, unique codes, allowed road statuses, no overlaps."""
    for i in np.flatnonzero(~shapely.is_valid(layer.geometries)).tolist():
        reason = shapely.is_valid_reason(layer.geometries[i])
        raise GeoDataError(layer.path, f"invalid geometry: {reason}", layer.label(i, spec))
    if spec.kind == "roads":
        for i, props in enumerate(layer.properties):
            if props["status"] not in ROAD_STATUSES:
                raise GeoDataError(layer.path, f"status {props['status']!r} is not one of {ROAD_STATUSES}", layer.label(i, spec))
            if props.get("toll", False) not in (True, False) or (props.get("toll") and props["status"] != "nasional"):
                raise GeoDataError(layer.path, "toll must be true or false, and a toll road is nasional", layer.label(i, spec))
        return
    seen: dict[str, int] = {}
    for i, props in enumerate(layer.properties):
        code = str(props[spec.required[0]])
        if code in seen:
            raise GeoDataError(layer.path, f"duplicate {spec.required[0]} {code!r} (also #{seen[code]})", layer.label(i, spec))
        seen[code] = i
    if spec.kind == "kelurahan":
        _check_overlaps(layer, spec, overlap_tolerance_m2)


def _check_overlaps(layer: Layer, spec: LayerSpec, tolerance_m2: float) -> None:
    """Two kelurahan may share a border but not land: overlaps above the tolerance are errors."""
    projection = LocalProjection.for_bounds(shapely.total_bounds(layer.geometries))
    polygons = projection.project(layer.geometries)
    left, right = shapely.STRtree(polygons).query(polygons, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    areas = shapely.area(shapely.intersection(polygons[left], polygons[right]))
    if len(areas) and areas.max() > tolerance_m2:
        worst = int(np.argmax(areas))
        i, j = int(left[worst]), int(right[worst])
        raise GeoDataError(
            layer.path,
            f"overlaps {layer.label(j, spec)} by {areas[worst]:.0f} m² (tolerance {tolerance_m2:g} m²)",
            layer.label(i, spec),
        )
