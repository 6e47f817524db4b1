"""The obvious way, as a reference: per point, shapely calls over every unprepared polygon."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely

from keluhan.domain.geo.index import Answers, GeoIndex


def naive_answers(index: GeoIndex, x: np.ndarray, y: np.ndarray) -> Answers:
    """The same full answer as GeoIndex.answers_xy, with no index, no preparation, no batching."""
    polygons = shapely.from_wkb(shapely.to_wkb(index.polygons))  # fresh, unprepared copies
    regions = shapely.from_wkb(shapely.to_wkb(index.region_polygons))
    ans = Answers.empty(len(x))
    for i, (px, py) in enumerate(zip(x.tolist(), y.tolist(), strict=True)):
        point = shapely.Point(px, py)
        distance = shapely.distance(polygons, point)
        inside = np.flatnonzero(shapely.intersects(polygons, point))
        if len(inside):
            _fill_kelurahan(ans, i, int(inside[0]), distance, snapped=False)
            continue
        region = np.flatnonzero(shapely.intersects(regions, point))
        nearest = int(np.argmin(distance))  # argmin: the first, i.e. the smallest kode, on ties
        if len(region):
            ans.region[i] = region[0]
            if distance[nearest] <= max(index.snap_distance_m, index.near_border_m):
                ans.border_distance[i], ans.nearest_other[i] = distance[nearest], nearest
        elif distance[nearest] <= index.snap_distance_m:
            _fill_kelurahan(ans, i, nearest, distance, snapped=True)
    return ans


def _fill_kelurahan(ans: Answers, i: int, k: int, distance: np.ndarray, *, snapped: bool) -> None:
    ans.kelurahan[i], ans.snapped[i] = k, snapped
    if snapped:
        ans.snap_distance[i] = distance[k]
    others = distance.copy()
    others[k] = np.inf
    if len(others) > 1:
        j = int(np.argmin(others))
        ans.border_distance[i], ans.nearest_other[i] = others[j], j


def same_answers(a: Answers, b: Answers, *, tolerance_m: float = 1e-6) -> npt.NDArray[np.bool_]:
    """Per point: do two answers agree (distances within the tolerance; equidistant ties either way)?"""

    def close(u: np.ndarray, v: np.ndarray) -> npt.NDArray[np.bool_]:
        same: npt.NDArray[np.bool_] = (np.isnan(u) & np.isnan(v)) | (np.abs(u - v) <= tolerance_m)
        return same

    agree: npt.NDArray[np.bool_] = (
        (a.kelurahan == b.kelurahan)
        & (a.snapped == b.snapped)
        & (a.region == b.region)
        & close(a.snap_distance, b.snap_distance)
        & close(a.border_distance, b.border_distance)
        & ((a.nearest_other == b.nearest_other) | close(a.border_distance, b.border_distance))
    )
    return agree
