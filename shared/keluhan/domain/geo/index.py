"""Point to kelurahan, kecamatan, border distance, neighbouring regency and snapping, in batches."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import numpy.typing as npt
import shapely

from keluhan.domain.geo.projection import Geometries, Geometry, LocalProjection
from keluhan.domain.geo.roads import RoadLayer, RoadTable, choose_road
from keluhan.domain.location import Location, Road

_NONE = np.iinfo(np.int64).max  # "no label yet" while taking minima
_SLACK_M = 1e-6  # the anchor may be the very nearest point: keep rounding from excluding it


@dataclass(frozen=True)
class Area:
    """A kelurahan (with its kecamatan) or a neighbouring regency."""

    kode: str
    nama: str
    kode_kecamatan: str | None = None
    nama_kecamatan: str | None = None


class LocationFields(TypedDict):
    """Where a kelurahan is, as Location names it (all None outside the city)."""

    kelurahan: str | None
    kode_kelurahan: str | None
    kecamatan: str | None
    kode_kecamatan: str | None


# One row of Answers: kelurahan, snapped, snap distance, border distance, nearest other, region.
AnswerRow = tuple[int, bool, float, float, int, int]


@dataclass(frozen=True)
class Answers:
    """The full answer for n points as columns; -1 or NaN where it does not apply."""

    kelurahan: np.ndarray  # index into GeoIndex.kelurahan (own or snapped-to), -1 outside
    snapped: np.ndarray
    snap_distance: np.ndarray
    border_distance: np.ndarray  # to the nearest kelurahan other than `kelurahan`
    nearest_other: np.ndarray
    region: np.ndarray  # index into GeoIndex.regions, -1 in the city or at sea

    @classmethod
    def empty(cls, n: int) -> Answers:
        return cls(np.full(n, -1), np.zeros(n, bool), np.full(n, np.nan), np.full(n, np.nan),
                   np.full(n, -1), np.full(n, -1))


def group_min(n: int, group: np.ndarray, value: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group 0..n-1: the smallest value and, among equal values, the smallest label (-1 if none)."""
    best = np.full(n, np.inf)
    np.minimum.at(best, group, value)
    tie = value <= best[group]
    who = np.full(n, _NONE)
    np.minimum.at(who, group[tie], label[tie])
    return best, np.where(who == _NONE, -1, who)


def _min_label(values: np.ndarray, labels: np.ndarray) -> tuple[float, int]:
    """The smallest value and the smallest label among those with it (a few of each: plain Python
    beats numpy's per-call overhead here)."""
    best, label = min(zip(values.tolist(), labels.tolist(), strict=True))
    return float(best), int(label)


def _expand(ptr: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For CSR rows `keys`: (position in keys, column index) of every entry."""
    counts = ptr[keys + 1] - ptr[keys]
    group = np.repeat(np.arange(len(keys)), counts)
    starts = np.repeat(ptr[keys] - np.cumsum(counts) + counts, counts)
    return group, starts + np.arange(len(group))


class GeoIndex:
    """Kelurahan polygons (sorted by kode: on a shared border the smaller kode wins), regencies, roads.

    All geometry is held in a local metric plane (`projection`); inputs are lon/lat degrees.
    """

    def __init__(
        self,
        *,
        kelurahan: list[Area],
        polygons: Geometries,
        regions: list[Area],
        region_polygons: Geometries,
        projection: LocalProjection,
        road_table: RoadTable,
        road_layer: RoadLayer | None = None,
        snap_distance_m: float = 150.0,
        near_border_m: float = 20.0,
        data_version: str = "",
    ) -> None:
        self.kelurahan, self.regions, self.projection = kelurahan, regions, projection
        self.polygons, self.region_polygons = polygons, region_polygons
        self.road_table, self.road_layer = road_table, road_layer
        self.snap_distance_m, self.near_border_m = snap_distance_m, near_border_m
        self.data_version = data_version
        self._reach = max(snap_distance_m, near_border_m)
        self._parts = shapely.get_parts(polygons)
        self._part_owner = np.repeat(np.arange(len(polygons)), shapely.get_num_geometries(polygons))
        self._region_parts = shapely.get_parts(region_polygons)
        self._region_owner = np.repeat(np.arange(len(region_polygons)), shapely.get_num_geometries(region_polygons))
        shapely.prepare(self._parts)
        shapely.prepare(region_polygons)
        shapely.prepare(self._region_parts)
        self._tree = shapely.STRtree(self._parts)
        self._region_tree = shapely.STRtree(self._region_parts)
        self._near_land = self._land_within_reach()
        self._build_borders()
        self._anchor = self._anchors()
        self._locations = [self._location_fields(k) for k in range(len(kelurahan))]
        self._nowhere = LocationFields(kelurahan=None, kode_kelurahan=None, kecamatan=None, kode_kecamatan=None)

    def _build_borders(self) -> None:
        """Split every ring into edges: shared ones give each pair of neighbours their common line,
        the rest (coast, city limit) each kelurahan's outer edge."""
        rings = shapely.get_rings(self._parts)
        coords, ring = shapely.get_coordinates(rings, return_index=True)
        same = ring[:-1] == ring[1:]
        edges = np.hstack([coords[:-1][same], coords[1:][same]])
        ring_part = np.repeat(np.arange(len(self._parts)), shapely.get_num_interior_rings(self._parts) + 1)
        owner = self._part_owner[ring_part][ring[:-1][same]]
        flip = (edges[:, 0] > edges[:, 2]) | ((edges[:, 0] == edges[:, 2]) & (edges[:, 1] > edges[:, 3]))
        edges[flip] = edges[flip][:, [2, 3, 0, 1]]
        unique, inverse = np.unique(edges, axis=0, return_inverse=True)
        owners: list[set[int]] = [set() for _ in range(len(unique))]
        for edge, k in zip(inverse.ravel().tolist(), owner.tolist(), strict=True):
            owners[edge].add(k)
        between: dict[tuple[int, int], list[int]] = defaultdict(list)
        outer: dict[int, list[int]] = defaultdict(list)
        for edge, who in enumerate(owners):
            if len(who) == 1:
                outer[next(iter(who))].append(edge)
            for a in who:
                for b in who - {a}:
                    between[(a, b)].append(edge)

        def lines(ids: list[int]) -> Geometry:
            return shapely.line_merge(shapely.multilinestrings(unique[ids].reshape(-1, 2, 2)))

        pairs = sorted(between)
        self._nb_dst = np.array([b for _, b in pairs], dtype=np.int64)
        self._nb_line = np.array([lines(between[p]) for p in pairs], dtype=np.object_)
        self._nb_ptr = np.searchsorted(np.array([a for a, _ in pairs], dtype=np.int64), np.arange(len(self.polygons) + 1))
        self._outer = np.array([lines(outer[k]) if outer.get(k) else None for k in range(len(self.polygons))], dtype=np.object_)
        self.neighbours = {k: self._nb_dst[self._nb_ptr[k]:self._nb_ptr[k + 1]].tolist() for k in range(len(self.polygons))}

    def _anchors(self) -> np.ndarray:
        """For each kelurahan a point of another one (on a shared border, else the nearest island's
        shore): its distance bounds the search for the nearest other kelurahan."""
        anchors = np.empty((len(self.polygons), 2))
        for k in range(len(self.polygons)):
            if self._nb_ptr[k + 1] > self._nb_ptr[k]:
                anchors[k] = shapely.get_coordinates(self._nb_line[self._nb_ptr[k]])[0]
                continue
            d = shapely.distance(self.polygons[k], self.polygons)
            d[k] = np.inf
            j = int(np.argmin(d)) if np.isfinite(d).any() else k  # a lone kelurahan has no other
            anchors[k] = shapely.get_coordinates(shapely.shortest_line(self.polygons[k], self.polygons[j]))[-1]
        return anchors

    def _land_within_reach(self) -> Geometry:
        """A superset of every place within reach of a kelurahan or inside a regency: a point outside
        it is at sea, which one prepared test tells before the region and distance queries."""
        parts = self._parts
        city = shapely.coverage_union_all(parts) if shapely.coverage_is_valid(parts) else shapely.union_all(parts)
        # Well beyond the reach: a buffer's arcs are chords (within 1.2 % of the radius at 8 a quadrant).
        grown = 1.1 * self._reach + 5.0
        regions = shapely.buffer(self.region_polygons, 1.0)  # their borders included, whatever the noding
        land = shapely.union_all(np.r_[shapely.buffer(city, grown), regions])
        shapely.prepare(land)
        return land

    # -- the batch path -------------------------------------------------------------------

    def answers_xy(self, x: np.ndarray, y: np.ndarray) -> Answers:
        """The full answer for points already in the metric plane."""
        n = len(x)
        points = shapely.points(x, y)
        ans = Answers.empty(n)
        pi, part = self._tree.query(points, predicate="intersects")
        _, ans.kelurahan[:] = group_min(n, pi, np.zeros(len(pi)), self._part_owner[part])
        inside = np.flatnonzero(ans.kelurahan >= 0)
        if len(inside):
            ans.border_distance[inside], ans.nearest_other[inside] = self._nearest_other(
                points[inside], ans.kelurahan[inside], inside=True
            )
        outside = np.flatnonzero(ans.kelurahan < 0)
        if len(outside):
            self._outside(points[outside], x[outside], y[outside], outside, ans)
        return ans

    def _nearest_other(self, points: np.ndarray, kel: np.ndarray, *, inside: bool) -> tuple[np.ndarray, np.ndarray]:
        """Distance to, and index of, the nearest kelurahan other than `kel` for each point."""
        n = len(points)
        group, pair = _expand(self._nb_ptr, kel)
        best, who = group_min(n, group, shapely.distance(points[group], self._nb_line[pair]), self._nb_dst[pair])
        # From inside, another kelurahan is nearer than the shared borders only across the outside
        # (water, a regency): only when the point's own outer edge is at least as near. Those, and
        # points outside their kelurahan, search every polygon within the bound found so far.
        check = np.arange(n)
        if inside:
            outer = self._outer[kel]
            has = ~shapely.is_missing(outer)
            to_outer = np.full(n, np.inf)
            to_outer[has] = shapely.distance(points[has], outer[has])
            check = np.flatnonzero(to_outer <= best)
        if len(check):
            ax, ay = self._anchor[kel[check]].T
            bound = np.hypot(shapely.get_x(points[check]) - ax, shapely.get_y(points[check]) - ay) + _SLACK_M
            pi, part = self._tree.query(points[check], predicate="dwithin", distance=np.minimum(best[check], bound))
            owner = self._part_owner[part]
            keep = owner != kel[check][pi]
            pi, part, owner = pi[keep], part[keep], owner[keep]
            d = shapely.distance(points[check][pi], self._parts[part])
            best, who = group_min(n, np.r_[np.arange(n), check[pi]], np.r_[best, d], np.r_[who, owner])
        return np.where(np.isinf(best), np.nan, best), who

    def _outside(self, points: Geometries, x: np.ndarray, y: np.ndarray, where: np.ndarray, ans: Answers) -> None:
        """Outside every polygon: a neighbouring regency, else snap within the distance, else sea."""
        region = np.full(len(points), -1)
        for r, polygon in enumerate(self.region_polygons):  # sorted by kode: the smaller wins
            todo = np.flatnonzero(region < 0)
            region[todo[shapely.intersects_xy(polygon, x[todo], y[todo])]] = r
        pi, part = self._tree.query(points, predicate="dwithin", distance=self._reach)
        d = shapely.distance(points[pi], self._parts[part])
        near_d, near = group_min(len(points), pi, d, self._part_owner[part])
        near_d = np.where(np.isinf(near_d), np.nan, near_d)
        snap = np.flatnonzero((region < 0) & (near_d <= self.snap_distance_m))
        report = np.flatnonzero(region >= 0)  # distance to the city, when within reach
        ans.region[where] = region
        ans.border_distance[where[report]], ans.nearest_other[where[report]] = near_d[report], near[report]
        if len(snap):
            ws = where[snap]
            ans.kelurahan[ws], ans.snapped[ws], ans.snap_distance[ws] = near[snap], True, near_d[snap]
            ans.border_distance[ws], ans.nearest_other[ws] = self._nearest_other(points[snap], near[snap], inside=False)

    # -- the single-point path: the same rules without the array overhead ----------------------

    def answer_one(self, x: float, y: float) -> AnswerRow:
        """One row of Answers (kelurahan, snapped, snap, border, nearest other, region) for one point.

        The trees are asked with a one-point array: shapely's path for a scalar costs more than the
        query itself."""
        one = shapely.points(np.array([[x, y]]))
        parts = self._tree.query(one, predicate="intersects")[1]
        if len(parts):
            k = int(self._part_owner[parts].min())
            return (k, False, np.nan, *self._nearest_other_one(one, x, y, k, inside=True), -1)
        if not shapely.intersects_xy(self._near_land, x, y):
            return (-1, False, np.nan, np.nan, -1, -1)
        regions = self._region_tree.query(one, predicate="intersects")[1]
        region = int(self._region_owner[regions].min()) if len(regions) else -1
        parts = self._tree.query(one, predicate="dwithin", distance=self._reach)[1]
        if not len(parts):
            return (-1, False, np.nan, np.nan, -1, region)
        d, near = _min_label(shapely.distance(one[0], self._parts[parts]), self._part_owner[parts])
        if region >= 0:
            return (-1, False, np.nan, d, near, region)
        if d <= self.snap_distance_m:
            return (near, True, d, *self._nearest_other_one(one, x, y, near, inside=False), -1)
        return (-1, False, np.nan, np.nan, -1, -1)

    def _nearest_other_one(self, one: Geometries, x: float, y: float, k: int, *, inside: bool) -> tuple[float, int]:
        point = one[0]
        lo, hi = self._nb_ptr[k], self._nb_ptr[k + 1]
        best, who = math.inf, -1
        if hi > lo:
            best, who = _min_label(shapely.distance(point, self._nb_line[lo:hi]), self._nb_dst[lo:hi])
        outer = self._outer[k]
        if not inside or (math.inf if outer is None else float(shapely.distance(point, outer))) <= best:
            ax, ay = self._anchor[k].tolist()
            bound = min(best, math.hypot(x - ax, y - ay) + _SLACK_M)
            parts = self._tree.query(one, predicate="dwithin", distance=bound)[1]
            owners = self._part_owner[parts]
            keep = owners != k
            if keep.any():
                d, j = _min_label(shapely.distance(point, self._parts[parts[keep]]), owners[keep])
                if d < best or (d == best and j < who):
                    best, who = d, j
        return (math.nan if math.isinf(best) else best), who

    # -- the public interface ---------------------------------------------------------------

    def locate(self, lat: float, lon: float, street: str | None = None) -> Location:
        """Where one point is, and whose road."""
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise ValueError("lat and lon must be finite numbers")
        x, y = self.projection.xy_one(lon, lat)
        layer = self.road_layer.roads[k] if self.road_layer and (k := self.road_layer.nearest_one(x, y)) >= 0 else None
        return self._location(self.answer_one(x, y), choose_road(layer, street, self.road_table))

    def locate_many(
        self, lats: npt.ArrayLike, lons: npt.ArrayLike, streets: Sequence[str | None] | None = None
    ) -> list[Location]:
        """Where each point is (the batch path); `streets` parallel to the points, items may be None."""
        lat = np.asarray(lats, dtype=float)
        lon = np.asarray(lons, dtype=float)
        if lat.shape != lon.shape or lat.ndim != 1 or not (np.isfinite(lat).all() and np.isfinite(lon).all()):
            raise ValueError("lats and lons must be equal-length sequences of finite numbers")
        x, y = self.projection.xy(lon, lat)
        ans = self.answers_xy(x, y)
        roads = self._roads(x, y, streets)
        rows = zip(*(column.tolist() for column in (ans.kelurahan, ans.snapped, ans.snap_distance,
                                                      ans.border_distance, ans.nearest_other, ans.region)), strict=True)
        return [self._location(row, road) for row, road in zip(rows, roads, strict=True)]

    def _roads(self, x: np.ndarray, y: np.ndarray, streets: Sequence[str | None] | None) -> list[Road | None]:
        """Layer match within the snap distance beats the street name."""
        n = len(x)
        if streets is not None and len(streets) != n:
            raise ValueError("streets must be parallel to the points")
        layer_roads = self.road_layer.roads if self.road_layer else []
        found = self.road_layer.nearest(shapely.points(x, y)) if self.road_layer else np.full(n, -1)
        return [
            choose_road(layer_roads[k] if k >= 0 else None, streets[i] if streets else None, self.road_table)
            for i, k in enumerate(found.tolist())
        ]

    def _location_fields(self, k: int) -> LocationFields:
        area = self.kelurahan[k]
        return {"kelurahan": area.nama, "kode_kelurahan": area.kode,
                "kecamatan": area.nama_kecamatan, "kode_kecamatan": area.kode_kecamatan}

    def _location(self, row: AnswerRow, road: Road | None) -> Location:
        k, snapped, snap, border, other, region = row
        fields = self._locations[k] if k >= 0 else self._nowhere
        return Location(
            **fields,
            inside_city=k >= 0,
            snapped=snapped,
            snap_distance_m=round(snap, 1) if snapped else None,
            border_distance_m=None if math.isnan(border) else round(border, 1),
            near_border=border <= self.near_border_m,
            nearest_other_kelurahan=self.kelurahan[other].nama if other >= 0 else None,
            outside_region=self.regions[region].nama if region >= 0 else None,
            outside_region_kode=self.regions[region].kode if region >= 0 else None,
            road=road,
            data_version=self.data_version,
        )
