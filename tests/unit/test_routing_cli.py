"""`keluhan route`: one JSON decision from the geo index and the rules fixture."""

from __future__ import annotations

import json
import os
import sys
import types

import pytest

from keluhan.cli import main
from keluhan.domain.location import Location, Road
from keluhan.settings import SHARED_GEO


class FakeIndex:
    """Says every point is on Jl. Hertasning (provincial) in Kel. Tidung, and records calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, float, str | None]] = []

    def locate(self, lat: float, lon: float, street: str | None = None) -> Location:
        self.calls.append((lat, lon, street))
        return Location(
            kelurahan="Tidung", kode_kelurahan="73.71.13.1001", kecamatan="Rappocini",
            kode_kecamatan="73.71.13", inside_city=True,
            road=Road(name="Hertasning", status="provinsi", source="street_name"),
        )


@pytest.fixture
def fake_index(monkeypatch) -> FakeIndex:
    index = FakeIndex()
    module = types.ModuleType("keluhan.geodata")
    module.geo_index_from_settings = lambda settings: index
    monkeypatch.setitem(sys.modules, "keluhan.geodata", module)
    return index


def test_route_prints_the_decision_and_the_location_used(fake_index, capsys):
    code = main(["route", "--category", "jalan_rusak", "--lat", "-5.163", "--lon", "119.447",
                 "--street", "Jl. Hertasning"])

    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert fake_index.calls == [(-5.163, 119.447, "Jl. Hertasning")]
    assert (out["assignee"], out["kind"], out["rule"]) == ("baruga", "external", "road-provinsi")
    assert "jalan provinsi Hertasning" in out["reason"]
    assert out["rules_version"]
    assert out["location"]["kode_kecamatan"] == "73.71.13"


def test_route_uses_the_rules_file_given(fake_index, capsys, tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"version": "local-9", "rules": [
        {"id": "all-to-dlh", "priority": 1, "assignee": "dlh", "reason": "Uji / Test"},
    ]}), encoding="utf-8")

    main(["route", "--category", "jalan_rusak", "--lat", "-5.16", "--lon", "119.44", "--rules", str(rules)])

    out = json.loads(capsys.readouterr().out)
    assert (out["assignee"], out["rule"], out["rules_version"]) == ("dlh", "all-to-dlh", "local-9")


def test_route_rejects_an_unknown_category(fake_index, capsys):
    code = main(["route", "--category", "potholes", "--lat", "-5.16", "--lon", "119.44"])

    assert code == 2
    assert "unknown category 'potholes'" in capsys.readouterr().err
    assert fake_index.calls == []


def test_route_rejects_a_broken_rules_file(fake_index, capsys, tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text("{}", encoding="utf-8")

    code = main(["route", "--category", "sampah", "--lat", "-5.16", "--lon", "119.44", "--rules", str(rules)])

    assert code == 2
    assert "rules.json" in capsys.readouterr().err


# With the real geo index and ../shared/geo: known Makassar points, routed by the fixture.
REAL_POINTS = [
    # category, lat, lon, street, expected assignee
    ("jalan_rusak", -5.1600, 119.4470, "Jl. Hertasning", "baruga"),
    ("jalan_rusak", -5.1440, 119.4300, "Jl. A.P. Pettarani", "bbpjn"),
    ("sampah", -5.1350, 119.4100, None, "kecamatan-73.71.04"),  # Ujung Pandang, near Fort Rotterdam
    ("sampah", -5.2010, 119.4850, None, "kab-gowa"),  # Samata
    ("kebakaran", -5.0600, 119.5540, None, "kab-maros"),  # Sultan Hasanuddin airport
    ("jalan_rusak", -5.1300, 119.3600, None, "triage"),  # Makassar Strait, west of Lae-Lae
]


@pytest.mark.parametrize(("category", "lat", "lon", "street", "assignee"), REAL_POINTS)
def test_route_with_the_real_geo_index(category, lat, lon, street, assignee, capsys):
    if not (SHARED_GEO / "makassar_kelurahan.geojson").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SHARED_GEO} is missing")
        pytest.skip("../shared/geo not available")
    pytest.importorskip("keluhan.geodata", reason="geo index not written yet")
    argv = ["route", "--category", category, "--lat", str(lat), "--lon", str(lon)]

    assert main(argv + (["--street", street] if street else [])) == 0

    assert json.loads(capsys.readouterr().out)["assignee"] == assignee
