"""Issue 23, low findings in the domain and the logs: capture years bounded, trace ids hex only."""

from __future__ import annotations

import io

import flask
from PIL import Image

from keluhan.devstack.sample_photos import make_jpeg
from keluhan.domain.photo.exif import capture_time, read_exif
from keluhan.logs import _trace_id


def _with_capture(text: str, offset: str) -> Image.Image:
    image = Image.open(io.BytesIO(make_jpeg(taken_at=None, lat=None, lon=None, width=64, height=48)))
    exif = image.getexif()
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003], ifd[0x9011] = text, offset
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return Image.open(io.BytesIO(out.getvalue()))


def test_a_capture_year_of_0001_at_plus_14_is_no_capture_time_not_a_crash():
    for text, offset in (("0001:01:01 00:00:00", "+14:00"), ("9999:12:31 23:59:59", "-12:00")):
        taken = capture_time(read_exif(_with_capture(text, offset)))
        assert taken is None
    taken = capture_time(read_exif(_with_capture("2026:11:30 10:00:00", "+08:00")))
    assert taken is not None and taken.year == 2026


def test_trace_ids_are_hex_only():
    app = flask.Flask(__name__)
    for header, expected in (("105445aa7843bc8bf206b12000100000/1;o=1", "105445aa7843bc8bf206b12000100000"),
                             ("٣٤٥ab/1", None), ("abcXYZ/1", None), ("a" * 40 + "/1", None)):
        with app.test_request_context(headers={"X-Cloud-Trace-Context": header}):
            assert _trace_id() == expected, header
