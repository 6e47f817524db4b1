"""`keluhan geo import` (check and bundle the geo layers) and `keluhan locate` (where a point is)."""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

from keluhan.cli import CliError, Commands

if TYPE_CHECKING:
    from keluhan.domain.geo import GeoIndex


def register(commands: Commands) -> None:
    geo = commands.add_parser("geo", help="geo data: check and import boundary, neighbour and road files")
    actions = geo.add_subparsers(dest="geo_command", required=True)
    imp = actions.add_parser("import", help="validate the layers and write the bundle the functions load")
    imp.add_argument("--kelurahan", required=True, type=Path, help="kelurahan polygons (GeoJSON, WGS84)")
    imp.add_argument("--neighbours", required=True, type=Path, help="neighbouring regency polygons (GeoJSON)")
    imp.add_argument("--roads", type=Path, help="road lines with name, status[, toll] (GeoJSON)")
    imp.add_argument("--out", required=True, type=Path, help="bundle directory (KELUHAN_GEO_BUNDLE)")
    imp.add_argument("--overlap-tolerance-m2", type=float, default=10.0, help="largest allowed kelurahan overlap")
    imp.set_defaults(func=_import)

    locate = commands.add_parser("locate", help="kelurahan, kecamatan, border and road of a point (JSON)")
    locate.add_argument("lat", nargs="?", type=float)
    locate.add_argument("lon", nargs="?", type=float)
    locate.add_argument("--street", help="street name as the phone's reverse geocoder gives it")
    locate.add_argument("--csv", type=Path, help="rows lat,lon[,street] (a header row is allowed)")
    locate.set_defaults(func=_locate)


def _import(args: argparse.Namespace) -> int:
    from keluhan.domain.geo import GeoDataError
    from keluhan.geodata import GeoFiles, write_bundle

    try:
        manifest = write_bundle(
            args.out, GeoFiles(args.kelurahan, args.neighbours, args.roads), overlap_tolerance_m2=args.overlap_tolerance_m2
        )
    except GeoDataError as exc:
        raise CliError(f"Berkas geo tidak valid / Invalid geo file: {exc}") from exc
    print(json.dumps(manifest, ensure_ascii=False))
    return 0


def _locate(args: argparse.Namespace) -> int:
    if args.csv is not None:
        if args.lat is not None or args.street:
            raise CliError("Pakai --csv atau LAT LON / Use either --csv or LAT LON")
        lats, lons, streets = _read_points(args.csv)
    elif args.lat is None or args.lon is None:
        raise CliError("Koordinat wajib / LAT and LON are required (or --csv FILE)")
    else:
        _check_point(args.lat, args.lon, "argument")
        lats, lons, streets = [args.lat], [args.lon], [args.street]
    index = _index()
    for location in index.locate_many(lats, lons, streets):
        print(json.dumps(location.model_dump(mode="json"), ensure_ascii=False))
    return 0


def _index() -> GeoIndex:
    from keluhan.domain.geo import GeoDataError
    from keluhan.geodata import geo_index_from_settings
    from keluhan.settings import get_settings

    try:
        return geo_index_from_settings(get_settings())
    except GeoDataError as exc:
        raise CliError(f"Data geo tidak bisa dimuat / Cannot load geo data: {exc}") from exc


def _read_points(path: Path) -> tuple[list[float], list[float], list[str | None]]:
    lats: list[float] = []
    lons: list[float] = []
    streets: list[str | None] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for line, row in enumerate(csv.reader(handle), start=1):
                if not row or not "".join(row).strip():
                    continue
                try:
                    lat, lon = float(row[0]), float(row[1])
                except (ValueError, IndexError):
                    if line == 1:
                        continue  # a header row
                    raise CliError(f"{path.name}: baris/line {line}: expected lat,lon[,street]: {row}") from None
                _check_point(lat, lon, f"{path.name}: line {line}")
                lats.append(lat)
                lons.append(lon)
                streets.append(row[2].strip() or None if len(row) > 2 else None)
    except OSError as exc:
        raise CliError(f"Berkas tidak bisa dibaca / Cannot read {path}: {exc}") from exc
    return lats, lons, streets


def _check_point(lat: float, lon: float, where: str) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise CliError(f"Koordinat tidak valid / Invalid coordinates ({where}): lat {lat}, lon {lon}")
