"""The geolocation rules on the real Makassar data in ../shared/geo (never copied into the repo)."""

import csv
import json
import os

import numpy as np
import pytest
import shapely

from keluhan.domain.geo.naive import naive_answers, same_answers
from keluhan.geodata import load_geo_index
from keluhan.settings import SHARED_GEO


@pytest.fixture(scope="module")
def makassar():
    if not (SHARED_GEO / "makassar_kelurahan.geojson").exists():
        message = f"real geo data missing at {SHARED_GEO}"
        pytest.fail(message) if os.environ.get("CI") == "true" else pytest.skip(message)
    return load_geo_index(kelurahan_path=SHARED_GEO / "makassar_kelurahan.geojson",
                          neighbours_path=SHARED_GEO / "makassar_tetangga.geojson")


@pytest.fixture(scope="module")
def features(makassar):
    data = json.loads((SHARED_GEO / "makassar_kelurahan.geojson").read_text(encoding="utf-8"))
    return [(f["properties"], shapely.geometry.shape(f["geometry"])) for f in data["features"]]


def regency(name):
    data = json.loads((SHARED_GEO / "makassar_tetangga.geojson").read_text(encoding="utf-8"))
    (feature,) = [f for f in data["features"] if f["properties"]["nama_kabupaten"] == name]
    return shapely.geometry.shape(feature["geometry"])


def test_a_representative_point_of_each_of_the_153_kelurahan_resolves_to_itself(makassar, features):
    assert len(features) == 153
    points = [shapely.point_on_surface(geom) for _, geom in features]
    found = makassar.locate_many([p.y for p in points], [p.x for p in points])
    for (props, _), where in zip(features, found, strict=True):
        assert (where.kode_kelurahan, where.kelurahan, where.inside_city, where.snapped) == (
            props["kode_kelurahan"], props["nama_kelurahan"], True, False)
        assert (where.kode_kecamatan, where.kecamatan) == (props["kode_kecamatan"], props["nama_kecamatan"])


def test_kecamatan_codes_are_the_kemendagri_codes(makassar):
    with open(SHARED_GEO / "makassar_wilayah_kode.csv", newline="", encoding="utf-8") as handle:
        official = {r["kode_kemendagri"]: r["nama"] for r in csv.DictReader(handle) if r["level"] == "kecamatan"}
    assert {(a.kode_kecamatan, a.nama_kecamatan) for a in makassar.kelurahan} == set(official.items())


@pytest.mark.parametrize("kelurahan", ["Barrang Caddi", "Barrang Lompo", "Kodingareng", "Lae-Lae", "Untia", "Lakkang"])
def test_every_island_part_resolves_to_its_kelurahan(makassar, features, kelurahan):
    (geom,) = [g for p, g in features if p["nama_kelurahan"] == kelurahan]
    parts = shapely.get_parts(geom)
    points = shapely.point_on_surface(parts)
    found = makassar.locate_many(shapely.get_y(points), shapely.get_x(points))
    assert [w.kelurahan for w in found] == [kelurahan] * len(parts)
    assert all(w.inside_city and not w.snapped for w in found)


def test_the_gazetteer_islands_resolve_to_their_kelurahan_and_ulau_gusung_snaps_to_lae_lae(makassar):
    with open(SHARED_GEO / "makassar_pulau.csv", newline="", encoding="utf-8") as handle:
        islands = list(csv.DictReader(handle))
    for island in islands:
        where = makassar.locate(float(island["lat"]), float(island["lon"]))
        expected = island["kelurahan_menurut_poligon"] or "Lae-Lae"
        assert (where.kelurahan, where.inside_city) == (expected, True), island["nama"]
        assert where.snapped == (not island["kelurahan_menurut_poligon"])


def test_kepulauan_sangkarrang_islands_are_in_their_own_kecamatan(makassar):
    where = makassar.locate(-5.048511, 119.329169)  # Pulau Barrang Lompo, from the gazetteer
    assert (where.kecamatan, where.kode_kecamatan) == ("Kepulauan Sangkarrang", "73.71.15")


def points_just_across(makassar, name, metres):
    """Points `metres` outside the city limit, well inside the named regency (by its own polygon)."""
    city = shapely.union_all(makassar.polygons)
    area = makassar.projection.project(regency(name))
    ring = shapely.get_exterior_ring(max(shapely.get_parts(city), key=shapely.area))
    along = shapely.line_interpolate_point(ring, np.linspace(0, ring.length, 4000))
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    x = (shapely.get_x(along)[:, None] + metres * np.cos(angles)).ravel()
    y = (shapely.get_y(along)[:, None] + metres * np.sin(angles)).ravel()
    candidates = shapely.points(x, y)
    distance = shapely.distance(city, candidates)
    keep = (np.abs(distance - metres) < 1) & shapely.contains(shapely.buffer(area, -5), candidates)
    return makassar.projection.lonlat(x[keep], y[keep])


@pytest.mark.parametrize("name", ["Kabupaten Maros", "Kabupaten Gowa"])
def test_points_just_across_the_land_border_are_in_the_neighbouring_regency(makassar, name):
    lon, lat = points_just_across(makassar, name, metres=30)
    assert len(lon) > 20
    for where in makassar.locate_many(lat, lon):
        assert (where.inside_city, where.snapped, where.outside_region) == (False, False, name)
        assert where.border_distance_m == pytest.approx(30, abs=1)


def test_the_airport_is_in_maros(makassar):
    where = makassar.locate(-5.0617, 119.5540)  # Sultan Hasanuddin terminal
    assert (where.inside_city, where.outside_region, where.outside_region_kode) == (False, "Kabupaten Maros", "73.09")


def test_a_pier_point_just_off_the_coast_of_melayu_baru_snaps_to_it(makassar, features):
    """Like the Soekarno-Hatta passenger pier, 36 m outside the polygons."""
    (melayu_baru,) = [makassar.projection.project(g) for p, g in features if p["nama_kelurahan"] == "Melayu Baru"]
    others = shapely.union_all([g for a, g in zip(makassar.kelurahan, makassar.polygons, strict=True) if a.nama != "Melayu Baru"])
    coast = shapely.difference(shapely.boundary(melayu_baru), shapely.buffer(others, 1))
    along = shapely.line_interpolate_point(coast, np.linspace(0, coast.length, 400))
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    x = (shapely.get_x(along)[:, None] + 36 * np.cos(angles)).ravel()
    y = (shapely.get_y(along)[:, None] + 36 * np.sin(angles)).ravel()
    candidates = shapely.points(x, y)
    keep = (np.abs(shapely.distance(melayu_baru, candidates) - 36) < 0.5) & (shapely.distance(others, candidates) > 45)
    lon, lat = makassar.projection.lonlat(x[keep], y[keep])
    assert len(lon) > 5
    for where in makassar.locate_many(lat, lon):
        assert (where.kelurahan, where.inside_city, where.snapped) == ("Melayu Baru", True, True)
        assert where.snap_distance_m == pytest.approx(36, abs=0.6) and where.outside_region is None


def test_points_at_sea_between_the_city_and_lae_lae_are_outside_with_no_region(makassar, features):
    (lae_lae,) = [g for p, g in features if p["nama_kelurahan"] == "Lae-Lae"]
    mainland = max(shapely.get_parts(shapely.union_all([g for _, g in features])), key=shapely.area)
    island = min(shapely.get_parts(lae_lae), key=lambda part: shapely.distance(part, mainland))
    line = shapely.shortest_line(island, mainland)
    assert line.length > 0.004  # degrees: about 450 m of water, more than twice the snap distance
    points = shapely.line_interpolate_point(line, [0.4, 0.5, 0.6], normalized=True)
    for where in makassar.locate_many(shapely.get_y(points), shapely.get_x(points)):
        assert (where.inside_city, where.kelurahan, where.outside_region, where.snapped) == (False, None, None, False)


def test_a_point_exactly_on_a_shared_border_gets_the_same_answer_every_time(makassar, features):
    first = makassar.kelurahan[0].kode
    neighbour = makassar.kelurahan[makassar.neighbours[0][0]].kode
    (a_props, a), (b_props, b) = [(p, g) for p, g in features if p["kode_kelurahan"] in (first, neighbour)]
    vertex = shapely.get_coordinates(shapely.intersection(shapely.boundary(a), shapely.boundary(b)))[0]
    answers = {makassar.locate(vertex[1], vertex[0]) for _ in range(10)}
    answers |= set(makassar.locate_many([vertex[1]] * 10, [vertex[0]] * 10))
    assert len(answers) == 1
    (where,) = answers
    assert where.kode_kelurahan == min(a_props["kode_kelurahan"], b_props["kode_kelurahan"])
    assert where.border_distance_m == 0 and where.near_border


def test_batch_single_and_naive_agree_on_random_and_near_border_points(makassar):
    rng = np.random.default_rng(11)
    x0, y0, x1, y1 = shapely.total_bounds(makassar.polygons)
    vertices = shapely.get_coordinates(shapely.boundary(makassar.polygons))
    near = vertices[rng.integers(0, len(vertices), 1500)] + rng.normal(0, 60, (1500, 2))
    x = np.r_[rng.uniform(x0, x1, 1500), near[:, 0]]
    y = np.r_[rng.uniform(y0, y1, 1500), near[:, 1]]
    batch = makassar.answers_xy(x, y)
    assert same_answers(batch, naive_answers(makassar, x, y)).all()
    singles = np.array([makassar.answer_one(px, py) for px, py in zip(x.tolist(), y.tolist(), strict=True)], dtype=float)
    assert (singles[:, 0] == batch.kelurahan).all() and (singles[:, 4] == batch.nearest_other).all()
    assert np.allclose(singles[:, 3], batch.border_distance, equal_nan=True)


def test_the_single_path_sea_shortcut_never_hides_a_point_within_reach_or_in_a_regency(makassar):
    """`answer_one` answers "at sea" from one prepared test of the land within reach: points just
    inside the reach of the city, and on every regency's border, get the batch path's answer."""
    city = shapely.union_all(makassar.polygons)
    reach = max(makassar.snap_distance_m, makassar.near_border_m)
    edge = shapely.get_coordinates(shapely.boundary(shapely.buffer(city, reach - 0.05, quad_segs=16)))
    borders = shapely.get_coordinates(shapely.boundary(makassar.region_polygons))
    x, y = np.r_[edge[:, 0], borders[:, 0]], np.r_[edge[:, 1], borders[:, 1]]
    batch = makassar.answers_xy(x, y)
    assert ((batch.kelurahan >= 0) | (batch.region >= 0)).all()  # none of them at sea
    singles = np.array([makassar.answer_one(px, py) for px, py in zip(x.tolist(), y.tolist(), strict=True)], dtype=float)
    assert (singles[:, 0] == batch.kelurahan).all() and (singles[:, 5] == batch.region).all()
    assert np.allclose(singles[:, 3], batch.border_distance, equal_nan=True)
