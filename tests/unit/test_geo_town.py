"""The geolocation rules on a synthetic town (fixtures/geo): every rule, with distances by construction.

Alfa [100.00-100.01] and Beta [100.01-100.02] E x [0-0.01] N share a border; Gamma is a two-part
island 0.01 deg east of Beta; Kabupaten Barat lies west of Alfa and overlaps it by 0.001 deg.
"""

import numpy as np
import pytest
import shapely

from keluhan.domain.geo import GeoDataError
from keluhan.domain.geo.naive import naive_answers, same_answers
from keluhan.domain.location import Road
from keluhan.geodata import load_geo_index
from keluhan.settings import REPO_ROOT

FIXTURES = REPO_ROOT / "fixtures" / "geo"


@pytest.fixture(scope="module")
def town():
    return load_geo_index(
        kelurahan_path=FIXTURES / "town_kelurahan.geojson",
        neighbours_path=FIXTURES / "town_tetangga.geojson",
        roads_path=FIXTURES / "town_roads.geojson",
    )


def metres_east(town, degrees):
    return degrees * town.projection.kx


def test_a_point_in_a_kelurahan_gets_its_names_codes_and_the_distance_to_the_neighbour(town):
    where = town.locate(0.005, 100.005)
    assert (where.kelurahan, where.kode_kelurahan, where.kecamatan, where.kode_kecamatan) == (
        "Alfa", "99.01.01.1001", "Kecamatan Satu", "99.01.01")
    assert where.inside_city and not where.snapped and where.outside_region is None
    assert where.border_distance_m == pytest.approx(metres_east(town, 0.005), abs=0.1)
    assert where.nearest_other_kelurahan == "Beta" and not where.near_border
    assert where.data_version == town.data_version != ""


def test_a_point_on_a_shared_border_always_goes_to_the_smaller_kode(town):
    answers = {town.locate(0.005, 100.01) for _ in range(5)} | set(town.locate_many([0.005] * 3, [100.01] * 3))
    assert len(answers) == 1
    (where,) = answers
    assert where.kelurahan == "Alfa" and where.border_distance_m == 0 and where.near_border


def test_a_point_ten_metres_from_the_border_is_near_the_border(town):
    where = town.locate(0.005, 100.01 + 10 / town.projection.kx)
    assert where.kelurahan == "Beta" and where.near_border
    assert where.border_distance_m == pytest.approx(10, abs=0.1)


def test_every_part_of_an_island_kelurahan_resolves_to_it(town):
    for lat, lon in [(0.005, 100.031), (0.0085, 100.0305)]:
        where = town.locate(lat, lon)
        assert (where.kelurahan, where.kecamatan, where.inside_city) == ("Gamma", "Kecamatan Dua", True)
        assert where.nearest_other_kelurahan == "Beta"
    assert town.locate(0.005, 100.0301).border_distance_m == pytest.approx(metres_east(town, 0.0101), abs=0.1)


def test_inside_the_town_the_kelurahan_layer_beats_an_overlapping_regency(town):
    where = town.locate(0.005, 100.0005)
    assert where.kelurahan == "Alfa" and where.outside_region is None


def test_a_point_just_across_the_land_border_is_in_the_regency_not_snapped(town):
    where = town.locate(0.005, 100.0 - 50 / town.projection.kx)
    assert not where.inside_city and not where.snapped and where.kelurahan is None
    assert (where.outside_region, where.outside_region_kode) == ("Kabupaten Barat", "99.02")
    assert where.border_distance_m == pytest.approx(50, abs=0.1) and where.nearest_other_kelurahan == "Alfa"


def test_a_point_off_the_coast_within_the_snap_distance_snaps_to_the_nearest_kelurahan(town):
    lat = 0.01 + 50 / town.projection.ky
    where = town.locate(lat, 100.015)
    assert (where.kelurahan, where.inside_city, where.snapped) == ("Beta", True, True)
    assert where.snap_distance_m == pytest.approx(50, abs=0.1)
    to_alfa = np.hypot(metres_east(town, 0.005), 50)
    assert where.nearest_other_kelurahan == "Alfa" and where.border_distance_m == pytest.approx(to_alfa, abs=0.1)


def test_a_point_at_sea_beyond_the_snap_distance_is_outside_with_no_region(town):
    where = town.locate(0.01 + 500 / town.projection.ky, 100.015)
    assert not where.inside_city and where.kelurahan is None and where.outside_region is None
    assert where.border_distance_m is None and not where.snapped


def test_the_snap_distance_is_configurable():
    tight = load_geo_index(kelurahan_path=FIXTURES / "town_kelurahan.geojson",
                           neighbours_path=FIXTURES / "town_tetangga.geojson", snap_distance_m=30)
    assert not tight.locate(0.01 + 50 / tight.projection.ky, 100.015).inside_city


def test_a_point_on_a_road_line_takes_the_layer_road_over_the_street_name(town):
    assert town.locate(0.003, 100.015, street="Jl. Dr. Sam Ratulangi").road == Road(
        name="Jl. Lorong Contoh", status="kota", source="layer")


def test_where_a_toll_road_runs_above_a_street_the_street_wins(town):
    assert town.locate(0.005, 100.005).road == Road(name="Jl. Poros Contoh", status="nasional", source="layer")


def test_a_point_snaps_to_a_road_within_the_road_snap_distance_only(town):
    near = 0.005 + 22 / town.projection.ky
    assert town.locate(near, 100.012).road.name == "Jl. Poros Contoh"
    far = town.locate(0.008, 100.012, street="Ratulangi").road
    assert (far.name, far.status, far.source) == ("Jl. Dr. Sam Ratulangi", "provinsi", "street_name")
    assert town.locate(0.008, 100.012).road is None


def test_batch_single_and_naive_give_the_same_full_answer_everywhere(town):
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = shapely.total_bounds(town.polygons)
    x, y = rng.uniform(x0 - 400, x1 + 400, 3000), rng.uniform(y0 - 400, y1 + 400, 3000)
    batch = town.answers_xy(x, y)
    assert same_answers(batch, naive_answers(town, x, y)).all()
    singles = [town.answer_one(px, py) for px, py in zip(x.tolist(), y.tolist(), strict=True)]
    assert [tuple(col) for col in zip(*singles, strict=True)][0] == tuple(batch.kelurahan.tolist())
    lon, lat = town.projection.lonlat(x, y)
    assert town.locate_many(lat[:50], lon[:50]) == [town.locate(a, b) for a, b in zip(lat[:50], lon[:50], strict=True)]
    assert {"inside", "snapped", "region", "sea"} == {
        "snapped" if s else "inside" if k >= 0 else "region" if r >= 0 else "sea"
        for k, s, r in zip(batch.kelurahan, batch.snapped, batch.region, strict=True)}


def test_non_finite_coordinates_are_refused(town):
    with pytest.raises(ValueError):
        town.locate(float("nan"), 100.0)
    with pytest.raises(ValueError):
        town.locate_many([0.0, 0.0], [100.0])


def test_the_data_version_is_a_content_hash_of_the_loaded_files(town):
    without_roads = load_geo_index(kelurahan_path=FIXTURES / "town_kelurahan.geojson",
                                   neighbours_path=FIXTURES / "town_tetangga.geojson")
    again = load_geo_index(kelurahan_path=FIXTURES / "town_kelurahan.geojson",
                           neighbours_path=FIXTURES / "town_tetangga.geojson")
    assert without_roads.data_version == again.data_version != town.data_version


def test_a_missing_file_is_a_geo_data_error_naming_it(tmp_path):
    with pytest.raises(GeoDataError, match="nothing.geojson"):
        load_geo_index(kelurahan_path=tmp_path / "nothing.geojson", neighbours_path=FIXTURES / "town_tetangga.geojson")
