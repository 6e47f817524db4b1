"""Build a GeoIndex from parsed kelurahan, neighbour and road layers and the road-status table."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import shapely

from keluhan.domain.geo.index import Area, GeoIndex
from keluhan.domain.geo.layers import KELURAHAN, GeoDataError, Layer
from keluhan.domain.geo.projection import LocalProjection
from keluhan.domain.geo.roads import RoadLayer, RoadTable
from keluhan.domain.location import Road


def build_geo_index(
    *,
    kelurahan: Layer,
    neighbours: Layer,
    road_table: RoadTable,
    roads: Layer | None = None,
    kecamatan_names: Mapping[str, str] | None = None,
    snap_distance_m: float = 150.0,
    near_border_m: float = 20.0,
    road_snap_m: float = 25.0,
) -> GeoIndex:
    """The index over these layers; cheap checks only (`keluhan geo import` does the rest).

    kecamatan_names: kecamatan code -> name, for a kecamatan the kelurahan properties leave
    unnamed. road_snap_m: how far a point may lie from a road line of the road layer.
    """
    names = kecamatan_names or {}
    areas = [_kelurahan(kelurahan, i, names) for i in range(len(kelurahan.properties))]
    regions = [Area(str(p["kode_kabupaten"]), str(p["nama_kabupaten"])) for p in neighbours.properties]
    kel_order = np.argsort([a.kode for a in areas], kind="stable")
    region_order = np.argsort([a.kode for a in regions], kind="stable")
    projection = LocalProjection.for_bounds(shapely.total_bounds(kelurahan.geometries))
    digests = [kelurahan.digest, neighbours.digest, roads.digest if roads else "", road_table.digest]
    return GeoIndex(
        kelurahan=[areas[i] for i in kel_order],
        polygons=projection.project(kelurahan.geometries[kel_order]),
        regions=[regions[i] for i in region_order],
        region_polygons=projection.project(neighbours.geometries[region_order]),
        projection=projection,
        road_table=road_table,
        road_layer=_road_layer(roads, projection, road_snap_m) if roads else None,
        snap_distance_m=snap_distance_m,
        near_border_m=near_border_m,
        data_version=hashlib.sha256("|".join(digests).encode()).hexdigest()[:12],
    )


def _kelurahan(layer: Layer, i: int, names: Mapping[str, str]) -> Area:
    """A kelurahan with its kecamatan: code from the properties (else the code's prefix), name too."""
    props = layer.properties[i]
    kode = str(props["kode_kelurahan"])
    kode_kecamatan = str(props.get("kode_kecamatan") or kode.rsplit(".", 1)[0])
    nama_kecamatan = props.get("nama_kecamatan") or names.get(kode_kecamatan)
    if not nama_kecamatan:
        raise GeoDataError(layer.path, f"no nama_kecamatan and no code list naming {kode_kecamatan}", layer.label(i, KELURAHAN))
    return Area(kode, str(props["nama_kelurahan"]), kode_kecamatan, str(nama_kecamatan))


def _road_layer(layer: Layer, projection: LocalProjection, snap_m: float) -> RoadLayer:
    roads = [
        Road(name=str(p["name"]), status=p["status"], source="layer", toll=bool(p.get("toll", False)))
        for p in layer.properties
    ]
    return RoadLayer(projection.project(layer.geometries), roads, snap_m)
