"""Street names: normalisation, the city's road table, and the layer beating the name."""

import pytest

from keluhan.domain.geo import RoadTable, normalize_street_name
from keluhan.domain.geo.roads import choose_road, display_street_name
from keluhan.domain.location import Road
from keluhan.geodata import packaged_road_table, read_road_table


@pytest.fixture(scope="module")
def table():
    return read_road_table(packaged_road_table())


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("Jl. Dr. Sam Ratulangi", "Jalan Doktor Sam Ratulangi"),
        ("JL. DR SAM RATULANGI", "jalan dokter sam ratulangi"),
        ("Jl. A.P. Pettarani", "Jalan Andi Pangeran Pettarani"),
        ("Jl. AP Pettarani", "Jl. A. P. Pettarani"),
        ("Jln. Jend. Sudirman", "Jalan Jenderal Sudirman"),
        ("Jl. G. Bawakaraeng", "Jalan Gunung Bawakaraeng"),
        ("Jl.Masjid   Raya", "jalan masjid raya"),
        ("Jl. Perintis Kemerdekaan Km. 10", "Jalan Perintis Kemerdekaan"),
        ("Jl. Perintis Kemerdekaan KM12,5", "Jalan Perintis Kemerdekaan"),
        ("Jl. Urip Sumoharjo No. 20", "Jalan Urip Sumoharjo"),
        ("Jl. Sultan Alauddin No.259, Gn. Sari, Kec. Rappocini, Kota Makassar", "Jalan Sultan Alauddin"),
        ("Jl. Tol Reformasi (Tol Ujung Pandang seksi 1-2)", "Jalan Tol Reformasi"),
        ("Jalan Pa'Baeng-Baeng", "jl pabaeng baeng"),
    ],
)
def test_spelling_variants_of_a_street_normalise_to_the_same_key(variant, canonical):
    assert normalize_street_name(variant) == normalize_street_name(canonical)


def test_normalised_key_drops_the_road_prefix_and_expands_titles():
    assert normalize_street_name("Jl. Dr. Sam Ratulangi No. 5") == "dokter sam ratulangi"


@pytest.mark.parametrize(
    ("side_street", "main_road"),
    [
        ("Jl. Sultan Alauddin II", "Jl. Sultan Alauddin"),
        ("Jl. Sultan Alauddin 2", "Jl. Sultan Alauddin"),
        ("Jl. Sultan Alauddin Lr. 5", "Jl. Sultan Alauddin"),
        ("Jl. Perintis Kemerdekaan VII", "Jl. Perintis Kemerdekaan"),
        ("Jl. Ratulangi Lorong 2", "Jl. Ratulangi"),
        ("Lorong 3", None),
        ("Gg. Pettarani", "Jl. Pettarani"),
    ],
)
def test_numbered_side_streets_are_not_the_main_road(table, side_street, main_road):
    road = table.road_for_street(side_street)
    assert (road.name, road.status, road.source) == (side_street, "kota", "street_name")
    if main_road:
        assert table.road_for_street(main_road).status != "kota"


@pytest.mark.parametrize(
    ("street", "name", "status", "toll"),
    [
        ("Ratulangi", "Jl. Dr. Sam Ratulangi", "provinsi", False),
        ("Jalan Doktor Sam Ratulangi No. 7", "Jl. Dr. Sam Ratulangi", "provinsi", False),
        ("Jalan Andi Pangerang Pettarani", "Jl. A.P. Pettarani", "nasional", False),
        ("jl. perintis kemerdekaan km 9", "Jl. Perintis Kemerdekaan", "nasional", False),
        ("Jl. Jenderal Sudirman", "Jl. Jend. Sudirman", "provinsi", False),
        ("Jl. Gunung Bawakaraeng", "Jl. Gunung Bawakaraeng", "nasional", False),
        ("Jalan Tol Reformasi", "Jl. Tol Reformasi", "nasional", True),
        ("Tol Layang Pettarani", "Tol Layang A.P. Pettarani", "nasional", True),
        ("Jl. Hertasning", "Jl. Hertasning", "provinsi", False),
    ],
)
def test_listed_roads_are_found_by_name_or_alias(table, street, name, status, toll):
    assert table.road_for_street(street) == Road(name=name, status=status, source="street_name", toll=toll)


def test_an_unlisted_street_is_jalan_kota_under_its_own_name(table):
    road = table.road_for_street("Jl. Landak Baru No. 3, Makassar")
    assert road == Road(name="Jl. Landak Baru No. 3", status="kota", source="street_name")


@pytest.mark.parametrize("placeholder", ["Unnamed Road", "  ", "-", "Jalan Tanpa Nama"])
def test_a_street_name_with_no_name_in_it_is_jalan_kota_by_default(table, placeholder):
    assert display_street_name(placeholder) is None
    assert table.road_for_street(placeholder) == Road(name=None, status="kota", source="default")


def test_no_layer_match_and_no_street_means_the_road_is_unknown(table):
    assert choose_road(None, None, table) is None


def test_a_layer_match_beats_the_street_name(table):
    layer = Road(name="Jl. Contoh", status="kota", source="layer")
    assert choose_road(layer, "Jl. Dr. Sam Ratulangi", table) is layer


def test_every_table_road_is_nasional_or_provinsi_and_only_nasional_roads_are_toll(table):
    assert len(table.entries) == 23
    assert {e.status for e in table.entries} == {"nasional", "provinsi"}
    assert all(e.status == "nasional" for e in table.entries if e.toll)
    assert all(e.source for e in table.entries)


def test_a_name_claimed_by_two_roads_is_rejected():
    text = "name,status,toll,aliases,source\nJl. Satu,nasional,false,Dua,x\nJl. Dua,provinsi,false,,y\n"
    with pytest.raises(ValueError, match="also a name of"):
        RoadTable.from_csv_text(text, name="roads.csv")


def test_a_toll_road_that_is_not_nasional_is_rejected():
    with pytest.raises(ValueError, match="roads.csv: line 2"):
        RoadTable.from_csv_text("name,status,toll,aliases,source\nTol X,provinsi,true,,x\n", name="roads.csv")
