"""Build a GeoIndex from the boundary, neighbour and road files handed in."""

from __future__ import annotations

import csv
import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import shapely

from keluhan.domain.geo.index import Area, GeoIndex
from keluhan.domain.geo.layers import KELURAHAN, ROADS, TETANGGA, GeoDataError, Layer, read_layer
from keluhan.domain.geo.projection import LocalProjection
from keluhan.domain.geo.roads import RoadLayer, RoadTable
from keluhan.domain.location import Road


def packaged_road_table() -> Path:
    """The project's own table of national and provincial roads (keluhan/data/road_status.csv)."""
    return Path(str(resources.files("keluhan") / "data" / "road_status.csv"))


def load_geo_index(
    *,
    kelurahan_path: Path | str,
    neighbours_path: Path | str,
    roads_path: Path | str | None = None,
    kecamatan_codes_path: Path | str | None = None,
    road_table_path: Path | str | None = None,
    snap_distance_m: float = 150.0,
    near_border_m: float = 20.0,
    road_snap_m: float = 25.0,
) -> GeoIndex:
    """Read the layers and build the index; cheap checks only (`keluhan geo import` does the rest).

    kecamatan_codes_path: optional Kemendagri code list (level,kode_kemendagri,kode_induk,nama)
    naming a kecamatan that the kelurahan properties leave out. road_table_path: defaults to the
    packaged table. road_snap_m: how far a point may lie from a road line of the road layer.
    """
    table_path = Path(road_table_path) if road_table_path else packaged_road_table()
    kel_layer = read_layer(kelurahan_path, KELURAHAN)
    region_layer = read_layer(neighbours_path, TETANGGA)
    road_layer = read_layer(roads_path, ROADS) if roads_path else None
    names = _kecamatan_names(Path(kecamatan_codes_path)) if kecamatan_codes_path else {}
    kelurahan = [_kelurahan(kel_layer, i, names) for i in range(len(kel_layer.properties))]
    regions = [Area(str(p["kode_kabupaten"]), str(p["nama_kabupaten"])) for p in region_layer.properties]
    kel_order = np.argsort([a.kode for a in kelurahan], kind="stable")
    region_order = np.argsort([a.kode for a in regions], kind="stable")
    projection = LocalProjection.for_bounds(shapely.total_bounds(kel_layer.geometries))
    digests = [kel_layer.digest, region_layer.digest, road_layer.digest if road_layer else "",
               hashlib.sha256(table_path.read_bytes()).hexdigest()]
    return GeoIndex(
        kelurahan=[kelurahan[i] for i in kel_order],
        polygons=projection.project(kel_layer.geometries[kel_order]),
        regions=[regions[i] for i in region_order],
        region_polygons=projection.project(region_layer.geometries[region_order]),
        projection=projection,
        road_table=RoadTable.from_csv(table_path),
        road_layer=_road_layer(road_layer, projection, road_snap_m) if road_layer else None,
        snap_distance_m=snap_distance_m,
        near_border_m=near_border_m,
        data_version=hashlib.sha256("|".join(digests).encode()).hexdigest()[:12],
    )


def _kelurahan(layer: Layer, i: int, names: dict[str, str]) -> Area:
    """A kelurahan with its kecamatan: code from the properties (else the code's prefix), name too."""
    props = layer.properties[i]
    kode = str(props["kode_kelurahan"])
    kode_kecamatan = str(props.get("kode_kecamatan") or kode.rsplit(".", 1)[0])
    nama_kecamatan = props.get("nama_kecamatan") or names.get(kode_kecamatan)
    if not nama_kecamatan:
        raise GeoDataError(layer.path, f"no nama_kecamatan and no code list naming {kode_kecamatan}", layer.label(i, KELURAHAN))
    return Area(kode, str(props["nama_kelurahan"]), kode_kecamatan, str(nama_kecamatan))


def _kecamatan_names(path: Path) -> dict[str, str]:
    """Kecamatan code -> name from a Kemendagri code list."""
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["kode_kemendagri"]: row["nama"] for row in csv.DictReader(handle) if row["level"] == "kecamatan"}


def _road_layer(layer: Layer, projection: LocalProjection, snap_m: float) -> RoadLayer:
    roads = [
        Road(name=str(p["name"]), status=p["status"], source="layer", toll=bool(p.get("toll", False)))
        for p in layer.properties
    ]
    return RoadLayer(projection.project(layer.geometries), roads, snap_m)
