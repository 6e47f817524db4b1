"""Geohash cells: the one each report is stored with, and the cells that cover a circle.

Firestore cannot query by distance. Each report carries `geohash` (precision 9, ~5 m cells,
written with the report); a circle is covered by the cells of one coarser precision that
intersect its bounding box, and each cell is one range query on that field (`geohash >= cell`,
`< cell + "~"`), served by a composite index like any other range.
"""

from __future__ import annotations

import math

import pygeohash

from keluhan.domain.photo.exif import distance_m

STORED_PRECISION = 9  # ~4.8 m × 4.8 m: finer than any query needs, coarse enough to reveal no more than the point
# Coarsest first is wrong (reads far more than the circle); finest first with a cap on the number
# of range queries: 75 m needs 1–4 cells of precision 7 (~153 m), 1 km 6–20 of precision 6 (~1.2 × 0.6 km).
COVER_PRECISIONS = (8, 7, 6, 5)
MAX_CELLS = 24
PREFIX_END = "~"  # sorts after every geohash character: [cell, cell + "~") holds the cell's hashes
_M_PER_DEG_LAT = 111_320.0


def degrees_of(metres: float, *, lat: float) -> tuple[float, float]:
    """`metres` as (degrees of latitude, degrees of longitude) at latitude `lat` (a sphere: ample for
    boxes and offsets of a few km)."""
    return metres / _M_PER_DEG_LAT, metres / (_M_PER_DEG_LAT * max(math.cos(math.radians(lat)), 0.01))


def geohash_of(lat: float, lon: float) -> str:
    """The geohash a report at (lat, lon) is stored with."""
    return str(pygeohash.encode(lat, lon, precision=STORED_PRECISION))


def cover(lat: float, lon: float, radius_m: float) -> list[str]:
    """Geohash cells whose union holds the circle, nearest cell first: the finest precision that
    needs at most MAX_CELLS of them."""
    dlat, dlon = degrees_of(radius_m, lat=lat)
    box = pygeohash.BoundingBox(min_lat=max(lat - dlat, -90.0), min_lon=max(lon - dlon, -180.0),
                                max_lat=min(lat + dlat, 90.0), max_lon=min(lon + dlon, 180.0))
    cells: list[str] = []
    for precision in COVER_PRECISIONS:
        cells = list(pygeohash.geohashes_in_box(box, precision=precision))
        if len(cells) <= MAX_CELLS:
            break

    def apart(cell: str) -> float:
        b = pygeohash.get_bounding_box(cell)
        nearest = (min(max(lat, b.min_lat), b.max_lat), min(max(lon, b.min_lon), b.max_lon))
        return distance_m((lat, lon), nearest)

    return sorted(cells, key=lambda c: (apart(c), c))
