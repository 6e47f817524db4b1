"""`keluhan geo import` checks and bundles the layers; `keluhan locate` reads them through settings."""

import json

import pytest

from keluhan.cli import main
from keluhan.domain.geo import GeoDataError
from keluhan.geodata import GeoFiles, geo_index_from_settings, write_bundle
from keluhan.settings import REPO_ROOT, Settings, get_settings

FIXTURES = REPO_ROOT / "fixtures" / "geo"
TOWN = GeoFiles(FIXTURES / "town_kelurahan.geojson", FIXTURES / "town_tetangga.geojson", FIXTURES / "town_roads.geojson")


@pytest.fixture
def bundle(tmp_path):
    out = tmp_path / "bundle"
    return out, write_bundle(out, TOWN)


def test_an_imported_bundle_is_what_the_functions_load_through_settings(bundle):
    out, manifest = bundle
    assert (manifest["kelurahan"], manifest["roads"], manifest["regions"]) == (3, 3, ["Kabupaten Barat"])
    index = geo_index_from_settings(Settings(geo_bundle=str(out)))
    assert index.data_version == manifest["data_version"]
    assert geo_index_from_settings(Settings(geo_bundle=str(out))) is index  # built once per process
    assert index.locate(0.005, 100.005).kelurahan == "Alfa"


@pytest.mark.parametrize(
    ("kelurahan", "roads", "problem"),
    [
        ("bad_swapped.geojson", None, r"bad_swapped.geojson: feature #0 \(99.01.01.1001 Alfa\): coordinates outside WGS84"),
        ("bad_overlap.geojson", None, r"feature #0 \(99.01.01.1001 Alfa\): overlaps #1 \(99.01.01.1003 Delta\) by \d+ m²"),
        ("bad_missing_name.geojson", None, r"feature #0 \(99.01.01.1001\): missing required properties \['nama_kelurahan'\]"),
        ("bad_bowtie.geojson", None, r"bad_bowtie.geojson: feature #0 .*invalid geometry: Self-intersection"),
        ("town_kelurahan.geojson", "bad_road_status.geojson", r"bad_road_status.geojson: feature #0 \(Jl. Salah\): status 'tol'"),
        ("town_tetangga.geojson", None, r"missing required properties \['kode_kelurahan', 'nama_kelurahan'\]"),
    ],
)
def test_a_bad_file_is_rejected_naming_the_file_feature_and_problem(tmp_path, kelurahan, roads, problem):
    files = GeoFiles(FIXTURES / kelurahan, TOWN.neighbours, FIXTURES / roads if roads else None)
    with pytest.raises(GeoDataError, match=problem):
        write_bundle(tmp_path / "out", files)
    assert not (tmp_path / "out").exists()


def test_geo_import_command_reports_a_bad_file_and_exits_2(tmp_path, capsys):
    code = main(["geo", "import", "--kelurahan", str(FIXTURES / "bad_overlap.geojson"),
                 "--neighbours", str(TOWN.neighbours), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "Invalid geo file: bad_overlap.geojson: feature #0" in capsys.readouterr().err


def test_geo_import_command_writes_the_bundle_and_prints_its_manifest(tmp_path, capsys):
    code = main(["geo", "import", "--kelurahan", str(TOWN.kelurahan), "--neighbours", str(TOWN.neighbours),
                 "--roads", str(TOWN.roads), "--out", str(tmp_path / "out")])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "out" / "manifest.json").read_text())


@pytest.fixture
def town_settings(bundle, monkeypatch):
    monkeypatch.setenv("KELUHAN_GEO_BUNDLE", str(bundle[0]))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_locate_prints_one_json_object_with_the_required_keys(town_settings, capsys):
    assert main(["locate", "0.005", "100.005", "--street", "Jl. Lain"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    where = json.loads(line)
    assert {"kelurahan", "kode_kelurahan", "kecamatan", "kode_kecamatan", "inside_city", "snapped",
            "border_distance_m", "near_border", "outside_region", "road"} <= where.keys()
    assert where["road"] == {"name": "Jl. Poros Contoh", "status": "nasional", "source": "layer", "toll": False}


def test_locate_csv_prints_one_object_per_row_and_allows_a_header(town_settings, tmp_path, capsys):
    rows = tmp_path / "points.csv"
    rows.write_text("lat,lon,street\n0.005,100.005,\n0.005,100.031,Jl. Pulau\n0.005,99.9995\n", encoding="utf-8")
    assert main(["locate", "--csv", str(rows)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["kelurahan"] for line in lines] == ["Alfa", "Gamma", None]
    assert lines[1]["road"]["name"] == "Jl. Pulau" and lines[2]["outside_region"] == "Kabupaten Barat"


def test_locate_refuses_a_bad_row_naming_the_line(town_settings, tmp_path, capsys):
    rows = tmp_path / "points.csv"
    rows.write_text("0.005,100.005\nabc,100\n", encoding="utf-8")
    assert main(["locate", "--csv", str(rows)]) == 2
    assert "line 2" in capsys.readouterr().err


def test_locate_refuses_coordinates_out_of_range(town_settings, capsys):
    assert main(["locate", "--", "-95", "100"]) == 2
    assert "Invalid coordinates" in capsys.readouterr().err
