"""A local metric plane for the city: lon/lat degrees to metres east/north of the centre."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

_A = 6378137.0  # WGS84 semi-major axis
_E2 = 6.69437999014e-3  # WGS84 first eccentricity squared


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
    def for_bounds(cls, bounds) -> LocalProjection:
        """The projection centred on lon/lat bounds (minx, miny, maxx, maxy)."""
        lon0, lat0 = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
        s = math.sin(math.radians(lat0))
        n = _A / math.sqrt(1 - _E2 * s * s)  # prime-vertical radius
        m = _A * (1 - _E2) / (1 - _E2 * s * s) ** 1.5  # meridional radius
        return cls(lon0, lat0, math.radians(1) * n * math.cos(math.radians(lat0)), math.radians(1) * m)

    def xy(self, lon, lat):
        """Metres east and north of the centre (scalars or arrays)."""
        return (np.subtract(lon, self.lon0) * self.kx, np.subtract(lat, self.lat0) * self.ky)

    def lonlat(self, x, y):
        """The inverse of xy."""
        return (np.add(np.divide(x, self.kx), self.lon0), np.add(np.divide(y, self.ky), self.lat0))

    def project(self, geometries):
        """Geometries from lon/lat to this plane."""
        return shapely.transform(geometries, lambda c: np.column_stack(self.xy(c[:, 0], c[:, 1])))

    def unproject(self, geometries):
        """Geometries from this plane back to lon/lat."""
        return shapely.transform(geometries, lambda c: np.column_stack(self.lonlat(c[:, 0], c[:, 1])))
