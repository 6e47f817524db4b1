"""Where the geo files are (from settings), the process's GeoIndex, and writing an imported bundle."""

from __future__ import annotations

import functools
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from keluhan.domain.geo import GeoIndex, load_geo_index
from keluhan.domain.geo.layers import KELURAHAN, ROADS, TETANGGA, check_layer, read_layer
from keluhan.settings import Settings

BUNDLE_KELURAHAN, BUNDLE_TETANGGA, BUNDLE_ROADS, MANIFEST = (
    "kelurahan.geojson", "tetangga.geojson", "roads.geojson", "manifest.json",
)


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


def write_bundle(out: Path, files: GeoFiles, *, overlap_tolerance_m2: float = 10.0) -> dict:
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
    manifest = {
        "data_version": index.data_version,
        "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "kelurahan": len(index.kelurahan),
        "regions": [region.nama for region in index.regions],
        "roads": len(index.road_layer.roads) if index.road_layer else 0,
        "sources": {name: {"file": str(layer.path), "sha256": layer.digest} for layer, _, name in layers},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest
