"""`keluhan photo verify` and `keluhan bench photo`: one JSON object for moderators and benchmarks."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

from PIL import Image

from keluhan.cli import main
from keluhan.devstack.sample_photos import make_jpeg, make_png
from keluhan.domain.photo import WITA

TAKEN = datetime(2025, 5, 1, 9, 57, tzinfo=WITA)
LAT, LON = -5.1477, 119.4127


def run(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out.strip().splitlines()[-1]) if out.strip() else None), err


def verify_args(path, *extra: str, submitted_at: str = "2025-05-01T10:00:00+08:00") -> list[str]:
    return [
        "photo",
        "verify",
        str(path),
        "--lat",
        str(LAT),
        "--lon",
        str(LON),
        "--submitted-at",
        submitted_at,
        *extra,
    ]


def test_fresh_photo_prints_an_accepted_verdict_with_its_facts(tmp_path, capsys):
    path = tmp_path / "lubang.jpg"
    path.write_bytes(make_jpeg(taken_at=TAKEN, lat=LAT, lon=LON, width=640, height=480))
    code, result, _ = run(capsys, *verify_args(path, "--taken-at", "2025-05-01T09:58:00+08:00"))
    assert code == 0
    assert (result["verdict"], result["reasons"]) == ("accepted", [])
    assert result["exif_taken_at"] == TAKEN.isoformat()
    assert result["gps_distance_m"] < 1 and len(result["phash"]) == 16
    assert (result["width"], result["height"]) == (640, 480)


def test_time_without_offset_is_read_as_wita(tmp_path, capsys):
    path = tmp_path / "lubang.jpg"
    path.write_bytes(make_jpeg(taken_at=TAKEN, lat=None, lon=None, width=320, height=240))
    late = (TAKEN + timedelta(days=2)).replace(tzinfo=None).isoformat()
    _, result, _ = run(capsys, *verify_args(path, submitted_at=late))
    assert [r["code"] for r in result["reasons"]] == ["stale"]
    assert "Foto terlalu lama" in result["reasons"][0]["message"]


def test_png_named_jpg_is_rejected_for_its_content_type(tmp_path, capsys):
    path = tmp_path / "foto.jpg"
    path.write_bytes(make_png(taken_at=TAKEN, lat=LAT, lon=LON, width=320, height=240))
    _, result, _ = run(capsys, *verify_args(path))
    assert result["verdict"] == "rejected"
    assert [r["code"] for r in result["reasons"]] == ["content_type_mismatch"]


def test_recent_hash_flags_a_reused_photo(tmp_path, capsys):
    path = tmp_path / "lubang.jpg"
    path.write_bytes(make_jpeg(taken_at=TAKEN, lat=LAT, lon=LON, width=320, height=240))
    _, first, _ = run(capsys, *verify_args(path))
    _, again, _ = run(capsys, *verify_args(path, "--recent-hash", f"LAP-0001:{first['phash']}"))
    assert (again["verdict"], again["reused_of"]) == ("rejected", ["LAP-0001"])


def test_out_dir_receives_metadata_free_derivatives(tmp_path, capsys):
    path = tmp_path / "lubang.jpg"
    path.write_bytes(make_jpeg(taken_at=TAKEN, lat=LAT, lon=LON, width=640, height=480))
    run(capsys, *verify_args(path, "--out-dir", str(tmp_path / "out")))
    for name in ("clean.jpg", "thumbnail.jpg"):
        data = (tmp_path / "out" / name).read_bytes()
        assert dict(Image.open(io.BytesIO(data)).getexif()) == {} and b"Exif" not in data


def test_missing_file_is_a_user_error(tmp_path, capsys):
    code, result, err = run(capsys, *verify_args(tmp_path / "nope.jpg"))
    assert (code, result) == (2, None)
    assert "cannot read" in err


def test_malformed_recent_hash_is_a_user_error(tmp_path, capsys):
    path = tmp_path / "lubang.jpg"
    path.write_bytes(b"")
    code, _, err = run(capsys, *verify_args(path, "--recent-hash", "no-separator"))
    assert code == 2 and "REPORT_ID:PHASH" in err


def test_photo_benchmark_ends_with_one_json_line_comparing_verify_and_decode(capsys):
    code, summary, _ = run(capsys, "bench", "photo", "--runs", "1", "--width", "640", "--height", "480")
    assert code == 0
    assert {"verify_ms", "decode_ms", "ratio", "verify_peak_mib", "decode_peak_mib"} <= summary.keys()
    assert summary["verify_ms"] > 0 and summary["decode_ms"] > 0 and summary["verify_peak_mib"] >= 0
