"""The geo files: where they are (from settings), reading them into the process's GeoIndex, bundling them."""

from __future__ import annotations

import csv
import functools
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TypedDict

from keluhan.domain.geo import GeoIndex, RoadTable, build_geo_index
from keluhan.domain.geo.layers import (
    KELURAHAN,
    ROADS,
    TETANGGA,
    GeoDataError,
    Layer,
    LayerSpec,
    check_layer,
    parse_layer,
)
from keluhan.settings import Settings

BUNDLE_KELURAHAN, BUNDLE_TETANGGA, BUNDLE_ROADS, MANIFEST = (
    "kelurahan.geojson", "tetangga.geojson", "roads.geojson", "manifest.json",
)


class Manifest(TypedDict):
    """What `keluhan geo import` wrote: the data version, when, and the source of each layer."""

    data_version: str
    imported_at: str
    kelurahan: int
    regions: list[str]
    roads: int
    sources: dict[str, dict[str, str]]


class FeatureCollection(TypedDict):
    """A GeoJSON FeatureCollection as the War Room map draws it."""

    type: str
    features: list[dict[str, object]]


@dataclass(frozen=True)
class GeoFiles:
    """The layer files one index is built from."""

    kelurahan: Path
    neighbours: Path
    roads: Path | None = None


def geo_files(settings: Settings) -> GeoFiles:
    """The imported bundle when `geo_bundle` is set, else the files in the geo directory."""
    if settings.geo_bundle:
        bundle = Path(settings.geo_bundle)
        roads = bundle / BUNDLE_ROADS
        return GeoFiles(bundle / BUNDLE_KELURAHAN, bundle / BUNDLE_TETANGGA, roads if roads.exists() else None)
    geo_dir = settings.resolved_geo_dir()
    roads = Path(settings.geo_roads_file) if settings.geo_roads_file else geo_dir / BUNDLE_ROADS
    return GeoFiles(
        geo_dir / "makassar_kelurahan.geojson",
        geo_dir / "makassar_tetangga.geojson",
        roads if settings.geo_roads_file or roads.exists() else None,
    )


def packaged_road_table() -> Path:
    """The project's own table of national and provincial roads (keluhan/data/road_status.csv)."""
    return Path(str(resources.files("keluhan") / "data" / "road_status.csv"))


def read_layer(path: Path | str, spec: LayerSpec) -> Layer:
    """Read and parse one GeoJSON layer; GeoDataError names the file when it cannot be read."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise GeoDataError(path, f"cannot read GeoJSON: {exc}") from exc
    return parse_layer(raw, spec, path=path)


def read_road_table(path: Path | str) -> RoadTable:
    """Read the road-status table (name,status,toll,aliases,source,...)."""
    path = Path(path)
    return RoadTable.from_csv_text(path.read_bytes().decode("utf-8"), name=path.name)


def read_kecamatan_names(path: Path | str) -> dict[str, str]:
    """Kecamatan code -> name from a Kemendagri code list (level,kode_kemendagri,kode_induk,nama)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["kode_kemendagri"]: row["nama"] for row in csv.DictReader(handle) if row["level"] == "kecamatan"}


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

    kecamatan_codes_path: optional Kemendagri code list naming a kecamatan that the kelurahan
    properties leave out. road_table_path: defaults to the packaged table.
    """
    kelurahan = read_layer(kelurahan_path, KELURAHAN)
    neighbours = read_layer(neighbours_path, TETANGGA)
    roads = read_layer(roads_path, ROADS) if roads_path else None
    names = read_kecamatan_names(kecamatan_codes_path) if kecamatan_codes_path else None
    return build_geo_index(
        kelurahan=kelurahan,
        neighbours=neighbours,
        roads=roads,
        road_table=read_road_table(road_table_path or packaged_road_table()),
        kecamatan_names=names,
        snap_distance_m=snap_distance_m,
        near_border_m=near_border_m,
        road_snap_m=road_snap_m,
    )


def geo_index_from_settings(settings: Settings) -> GeoIndex:
    """The GeoIndex for these settings, built once per process on first use."""
    files = geo_files(settings)
    return _cached_index(files, settings.geo_snap_distance_m, settings.geo_near_border_m, settings.geo_road_snap_m)


@functools.cache
def _cached_index(files: GeoFiles, snap_m: float, near_border_m: float, road_snap_m: float) -> GeoIndex:
    return load_geo_index(
        kelurahan_path=files.kelurahan,
        neighbours_path=files.neighbours,
        roads_path=files.roads,
        snap_distance_m=snap_m,
        near_border_m=near_border_m,
        road_snap_m=road_snap_m,
    )


def write_bundle(out: Path, files: GeoFiles, *, overlap_tolerance_m2: float = 10.0) -> Manifest:
    """Check every layer fully (GeoDataError on the first problem), then write the bundle and its manifest."""
    layers = [(read_layer(files.kelurahan, KELURAHAN), KELURAHAN, BUNDLE_KELURAHAN),
              (read_layer(files.neighbours, TETANGGA), TETANGGA, BUNDLE_TETANGGA)]
    if files.roads:
        layers.append((read_layer(files.roads, ROADS), ROADS, BUNDLE_ROADS))
    for layer, spec, _ in layers:
        check_layer(layer, spec, overlap_tolerance_m2=overlap_tolerance_m2)
    out.mkdir(parents=True, exist_ok=True)
    (out / BUNDLE_ROADS).unlink(missing_ok=True)  # a re-import without roads must not keep old ones
    for layer, _, name in layers:
        shutil.copyfile(layer.path, out / name)
    written = GeoFiles(out / BUNDLE_KELURAHAN, out / BUNDLE_TETANGGA, out / BUNDLE_ROADS if files.roads else None)
    index = load_geo_index(kelurahan_path=written.kelurahan, neighbours_path=written.neighbours, roads_path=written.roads)
    manifest: Manifest = {
        "data_version": index.data_version,
        "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "kelurahan": len(index.kelurahan),
        "regions": [region.nama for region in index.regions],
        "roads": len(index.road_layer.roads) if index.road_layer else 0,
        "sources": {name: {"file": str(layer.path), "sha256": layer.digest} for layer, _, name in layers},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


@functools.cache
def kelurahan_outlines(kelurahan_file: str, tolerance_deg: float = 0.0001) -> FeatureCollection:
    """The kelurahan boundaries as a small GeoJSON for the War Room map (simplified, 5 decimals)."""
    from shapely.geometry import mapping, shape

    raw = json.loads(Path(kelurahan_file).read_text(encoding="utf-8"))
    features: list[dict[str, object]] = []
    for feature in raw["features"]:
        props = feature["properties"]
        geometry = shape(feature["geometry"]).simplify(tolerance_deg, preserve_topology=True)
        rounded = json.loads(json.dumps(mapping(geometry)), parse_float=lambda x: round(float(x), 5))
        features.append({"type": "Feature", "geometry": rounded,
                         "properties": {"kode_kelurahan": props["kode_kelurahan"],
                                        "kelurahan": props["nama_kelurahan"],
                                        "kecamatan": props["nama_kecamatan"]}})
    return {"type": "FeatureCollection", "features": features}
