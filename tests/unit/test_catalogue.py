"""The category catalogue and the assignee registry, checked against the issue and real Makassar data."""

from __future__ import annotations

import csv
import json
import os

import pytest

from keluhan.domain.assignees import ASSIGNEES, KECAMATAN, get_assignee
from keluhan.domain.catalogue import CATEGORIES, get_category
from keluhan.domain.location import Location
from keluhan.domain.routing import decide
from keluhan.rules_provider import default_rules_path, load_rules
from keluhan.settings import SHARED_GEO

REQUIRED_CODES = {
    "jalan_rusak", "drainase", "sampah", "lampu_jalan", "pohon_tumbang", "parkir_liar", "pkl",
    "air_bersih", "rambu_lalu_lintas", "bencana", "banjir", "kebakaran", "fasilitas_umum",
}


def shared_geo(name: str):
    path = SHARED_GEO / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing")
        pytest.skip(f"{path} not available")
    return path


def test_catalogue_has_the_codes_the_issue_requires():
    assert REQUIRED_CODES <= set(CATEGORIES)


@pytest.mark.parametrize("code", sorted(CATEGORIES))
def test_every_category_has_both_names_and_an_sla(code: str):
    category = get_category(code)

    assert category is not None and category.code == code
    assert category.name and category.name_en and category.name != category.name_en
    assert (category.sla_hours is None) != (category.sla_working_days is None)  # exactly one target
    assert category.label == f"{category.name} / {category.name_en}"


def test_emergencies_have_clock_hours_repairs_working_days_and_emergencies_need_no_photo():
    for code in ("kebakaran", "bencana"):
        assert get_category(code).sla_hours <= 6
        assert get_category(code).photo_required is False
    assert get_category("jalan_rusak").photo_required is True
    assert get_category("jalan_rusak").sla_working_days == 7
    assert get_category("pohon_tumbang").sla_working_days == 1
    assert get_category("sampah").sla_working_days < get_category("jalan_rusak").sla_working_days


def test_unknown_category_is_none():
    assert get_category("jalan rusak") is None
    assert get_category("") is None


def test_registry_has_the_agencies_and_external_bodies_of_the_issue():
    expected = {
        "dinas-pu": "skpd", "dlh": "skpd", "dishub": "skpd", "satpol-pp": "skpd", "pdam": "skpd",
        "bpbd": "skpd", "damkar": "skpd", "kecamatan-73.71.04": "skpd",
        "baruga": "external", "bbpjn": "external", "kab-maros": "external", "kab-gowa": "external",
        "kab-takalar": "external", "kab-pangkep": "external", "triage": "triage",
    }

    assert {id: get_assignee(id).kind for id in expected} == expected
    assert get_assignee("kecamatan-73.71.16") is None


def test_external_bodies_show_where_the_report_was_forwarded():
    assert get_assignee("baruga").display == (
        "diteruskan ke Pemprov Sulsel / forwarded to the South Sulawesi provincial government"
    )
    assert get_assignee("kab-gowa").display.startswith("diteruskan ke Pemkab Gowa / forwarded to")
    assert get_assignee("dinas-pu").display.startswith("ditangani Dinas Pekerjaan Umum / handled by")


def test_kecamatan_offices_match_the_kemendagri_code_list():
    with shared_geo("makassar_wilayah_kode.csv").open(encoding="utf-8") as f:
        rows = [row for row in csv.DictReader(f) if row["level"] == "kecamatan"]
    official = {row["kode_kemendagri"]: row["nama"] for row in rows}

    assert dict(KECAMATAN) == official
    for kode, nama in official.items():
        assert ASSIGNEES[f"kecamatan-{kode}"].name == f"Kantor Kecamatan {nama}"


def test_every_neighbouring_regency_in_the_geo_data_is_forwarded_to_its_government():
    geojson = json.loads(shared_geo("makassar_tetangga.geojson").read_text(encoding="utf-8"))
    rules = load_rules(default_rules_path())
    expected = {"73.09": "kab-maros", "73.06": "kab-gowa", "73.05": "kab-takalar", "73.10": "kab-pangkep"}

    seen = {}
    for feature in geojson["features"]:
        props = feature["properties"]
        for by_code in (True, False):
            location = Location(
                kelurahan=None, kode_kelurahan=None, kecamatan=None, kode_kecamatan=None,
                inside_city=False, outside_region=props["nama_kabupaten"],
                outside_region_kode=props["kode_kabupaten"] if by_code else None,
            )
            decision = decide(category="sampah", location=location, rules=rules)
            seen[props["kode_kabupaten"], by_code] = decision.assignee

    assert seen == {(kode, by_code): id for kode, id in expected.items() for by_code in (True, False)}
