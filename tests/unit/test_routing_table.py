"""Every category × road status × place, routed by the rules fixture, against a hand-written table."""

from __future__ import annotations

import functools

import pytest

from keluhan.domain.catalogue import CATEGORIES
from keluhan.domain.location import Location, Road
from keluhan.domain.routing import RuleSet, decide
from keluhan.rules_provider import default_rules_path, load_rules

ROADS = ("nasional", "provinsi", "kota", "none")

# (assignee, kind, text the reason must mention) — written by hand from the issue and
# docs/routing.md, never derived from the rules file.
PU = ("dinas-pu", "skpd", "Dinas Pekerjaan Umum")
BBPJN = ("bbpjn", "external", "BBPJN Sulsel")
BARUGA = ("baruga", "external", "Pemprov Sulsel")
DISHUB = ("dishub", "skpd", "Dinas Perhubungan")
SATPOL = ("satpol-pp", "skpd", "Satpol PP")
DLH = ("dlh", "skpd", "Dinas Lingkungan Hidup")
PDAM = ("pdam", "skpd", "Perumda Air Minum")
BPBD = ("bpbd", "skpd", "BPBD")
DAMKAR = ("damkar", "skpd", "Pemadam Kebakaran")
KEC_RAPPOCINI = ("kecamatan-73.71.13", "skpd", "Kecamatan Rappocini")
OPERATOR = ("triage", "triage", "operator")


def everywhere(expected: tuple[str, str, str]) -> dict[str, tuple[str, str, str]]:
    return {road: expected for road in ROADS}


BY_ROAD_OWNER = {"nasional": BBPJN, "provinsi": BARUGA, "kota": PU, "none": PU}

IN_CITY = {
    "jalan_rusak": BY_ROAD_OWNER,
    "trotoar": BY_ROAD_OWNER,
    "drainase": everywhere(PU),
    "lampu_jalan": everywhere(PU),
    "banjir": everywhere(BPBD),
    "bencana": everywhere(BPBD),
    "kebakaran": everywhere(DAMKAR),
    "sampah": everywhere(KEC_RAPPOCINI),
    "fasilitas_umum": everywhere(KEC_RAPPOCINI),
    "lampu_lalu_lintas": everywhere(DISHUB),
    "rambu_lalu_lintas": everywhere(DISHUB),
    "parkir_liar": everywhere(DISHUB),
    "pkl": everywhere(SATPOL),
    "bangunan_liar": everywhere(SATPOL),
    "reklame_liar": everywhere(SATPOL),
    "pohon_tumbang": everywhere(DLH),
    "taman": everywhere(DLH),
    "air_bersih": everywhere(PDAM),
    "lainnya": everywhere(OPERATOR),
}

# Outside the city every category and road goes to the regency (its name in the reason);
# at sea it waits for an operator.
OUTSIDE = {
    "gowa": ("kab-gowa", "external", "Gowa"),
    "maros": ("kab-maros", "external", "Maros"),
    "takalar": ("kab-takalar", "external", "Takalar"),
    "pangkep": ("kab-pangkep", "external", "Pangkajene"),
    "at_sea": ("triage", "triage", "laut"),
}
PLACES = ("in_city", *OUTSIDE)

_ROAD_NAMES = {"nasional": "Urip Sumoharjo", "provinsi": "Hertasning", "kota": "Pettarani II"}


def make_location(place: str, road_status: str) -> Location:
    road = (
        None
        if road_status == "none"
        else Road(name=_ROAD_NAMES[road_status], status=road_status, source="street_name")
    )
    if place == "in_city":
        return Location(
            kelurahan="Tidung", kode_kelurahan="73.71.13.1001",
            kecamatan="Rappocini", kode_kecamatan="73.71.13",
            inside_city=True, road=road,
        )
    region = {
        "gowa": ("Gowa", "73.06"),
        "maros": ("Maros", "73.09"),
        "takalar": ("Takalar", "73.05"),
        "pangkep": ("Pangkajene dan Kepulauan", "73.10"),
        "at_sea": (None, None),
    }[place]
    return Location(
        kelurahan=None, kode_kelurahan=None, kecamatan=None, kode_kecamatan=None,
        inside_city=False, outside_region=region[0], outside_region_kode=region[1], road=road,
    )


@functools.cache
def fixture_rules() -> RuleSet:
    return load_rules(default_rules_path())


def test_the_table_covers_every_category_in_the_catalogue():
    assert set(IN_CITY) == set(CATEGORIES)


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("road_status", ROADS)
@pytest.mark.parametrize("category", sorted(IN_CITY))
def test_routing_table(category: str, road_status: str, place: str):
    expected = IN_CITY[category][road_status] if place == "in_city" else OUTSIDE[place]
    assignee, kind, mentioned = expected

    decision = decide(
        category=category, location=make_location(place, road_status), rules=fixture_rules()
    )

    assert (decision.assignee, decision.kind) == (assignee, kind)
    assert mentioned in decision.reason
    assert " / " in decision.reason, "reason reads Indonesian / English"
    assert decision.rules_version == fixture_rules().version


@pytest.mark.parametrize(
    ("road_status", "indonesian", "english"),
    [
        ("nasional", "jalan nasional Urip Sumoharjo", "national road Urip Sumoharjo"),
        ("provinsi", "jalan provinsi Hertasning", "provincial road Hertasning"),
        ("kota", "jalan kota Pettarani II", "city road Pettarani II"),
        ("none", "jalan tidak diketahui", "unknown road"),
    ],
)
def test_pothole_reason_names_the_road_and_its_status_in_both_languages(
    road_status: str, indonesian: str, english: str
):
    decision = decide(
        category="jalan_rusak", location=make_location("in_city", road_status), rules=fixture_rules()
    )

    assert indonesian in decision.reason
    assert english in decision.reason
    assert "Kec. Rappocini" in decision.reason


def test_pothole_on_provincial_road_is_forwarded_to_baruga():
    decision = decide(
        category="jalan_rusak", location=make_location("in_city", "provinsi"), rules=fixture_rules()
    )

    assert decision.assignee == "baruga"
    assert decision.rule == "road-provinsi"
    assert decision.display == (
        "diteruskan ke Pemprov Sulsel / forwarded to the South Sulawesi provincial government"
    )


def test_pothole_on_national_toll_road_goes_to_bbpjn_and_says_toll():
    location = make_location("in_city", "none").model_copy(
        update={"road": Road(name="Tol Reformasi", status="nasional", source="street_name", toll=True)}
    )

    decision = decide(category="jalan_rusak", location=location, rules=fixture_rules())

    assert decision.assignee == "bbpjn"
    assert "jalan tol nasional Tol Reformasi" in decision.reason
    assert "national toll road" in decision.reason


@pytest.mark.parametrize(
    ("kode", "assignee", "name"),
    [
        ("73.71.04", "kecamatan-73.71.04", "Kecamatan Ujung Pandang"),
        ("73.71.15", "kecamatan-73.71.15", "Kecamatan Kepulauan Sangkarrang"),
    ],
)
def test_rubbish_goes_to_the_kecamatan_office_of_the_place(kode: str, assignee: str, name: str):
    location = Location(
        kelurahan=None, kode_kelurahan=None, kecamatan=name.removeprefix("Kecamatan "),
        kode_kecamatan=kode, inside_city=True,
    )

    decision = decide(category="sampah", location=location, rules=fixture_rules())

    assert decision.assignee == assignee
    assert decision.assignee_name == f"Kantor {name}"


def test_regency_is_recognised_by_name_when_the_geo_layer_gives_no_code():
    location = make_location("gowa", "none").model_copy(
        update={"outside_region": "Kabupaten Gowa", "outside_region_kode": None}
    )

    assert decide(category="sampah", location=location, rules=fixture_rules()).assignee == "kab-gowa"


def test_point_outside_city_in_an_unlisted_regency_waits_for_triage():
    location = make_location("gowa", "none").model_copy(
        update={"outside_region": "Jeneponto", "outside_region_kode": "73.04"}
    )

    decision = decide(category="jalan_rusak", location=location, rules=fixture_rules())

    assert (decision.assignee, decision.rule) == ("triage", "triage:no-match")
    assert "Jalan rusak di Jeneponto" in decision.reason


def test_report_without_location_waits_for_triage():
    decision = decide(category="jalan_rusak", location=None, rules=fixture_rules())

    assert (decision.assignee, decision.kind, decision.rule) == ("triage", "triage", "triage:no-location")
    assert "tidak dapat ditentukan" in decision.reason
    assert "could not be determined" in decision.reason


def test_report_at_sea_names_the_sea_in_both_languages():
    decision = decide(category="sampah", location=make_location("at_sea", "none"), rules=fixture_rules())

    assert decision.rule == "triage:at-sea"
    assert "di laut" in decision.reason
    assert "at sea" in decision.reason
