"""A local metric plane for the city: lon/lat degrees to metres east/north of the centre."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

_A = 6378137.0  # WGS84 semi-major axis
_E2 = 6.69437999014e-3  # WGS84 first eccentricity squared

Floats = npt.NDArray[np.float64]
# Arrays of shapely geometries: shapely ships no type information, so the items stay untyped objects.
Geometries = npt.NDArray[np.object_]
Geometry = Any  # Any: one shapely geometry, untyped for the same reason


@dataclass(frozen=True)
class LocalProjection:
    """Equirectangular about the centre with the WGS84 radii there.

    Over Makassar's 0.26° of latitude the scale varies by under 0.05 %: 1 cm in 20 m,
    far below the 10 m accuracy of the boundaries; no pyproj needed.
    """

    lon0: float
    lat0: float
    kx: float  # metres per degree of longitude
    ky: float  # metres per degree of latitude

    @classmethod
    def for_bounds(cls, bounds: npt.ArrayLike) -> LocalProjection:
        """The projection centred on lon/lat bounds (minx, miny, maxx, maxy)."""
        minx, miny, maxx, maxy = np.asarray(bounds, dtype=np.float64).tolist()
        lon0, lat0 = (minx + maxx) / 2, (miny + maxy) / 2
        s = math.sin(math.radians(lat0))
        n = _A / math.sqrt(1 - _E2 * s * s)  # prime-vertical radius
        m = _A * (1 - _E2) / (1 - _E2 * s * s) ** 1.5  # meridional radius
        return cls(lon0, lat0, math.radians(1) * n * math.cos(math.radians(lat0)), math.radians(1) * m)

    def xy(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
        """Metres east and north of the centre (of arrays; numpy gives scalars for scalars)."""
        return ((np.asarray(lon, dtype=np.float64) - self.lon0) * self.kx,
                (np.asarray(lat, dtype=np.float64) - self.lat0) * self.ky)

    def xy_one(self, lon: float, lat: float) -> tuple[float, float]:
        """Metres east and north of the centre for one point."""
        return (lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky

    def lonlat(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[Floats, Floats]:
        """The inverse of xy."""
        return (np.asarray(x, dtype=np.float64) / self.kx + self.lon0,
                np.asarray(y, dtype=np.float64) / self.ky + self.lat0)

    def project(self, geometries: Geometries) -> Geometries:
        """Geometries from lon/lat to this plane."""
        projected: Geometries = shapely.transform(geometries, lambda c: np.column_stack(self.xy(c[:, 0], c[:, 1])))
        return projected

    def unproject(self, geometries: Geometries) -> Geometries:
        """Geometries from this plane back to lon/lat."""
        lonlat: Geometries = shapely.transform(geometries, lambda c: np.column_stack(self.lonlat(c[:, 0], c[:, 1])))
        return lonlat
