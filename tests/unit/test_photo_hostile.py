"""Hostile uploads: scan bombs, endless decodes, crashing decoders, foreign formats, huge profiles."""

from __future__ import annotations

import os
import signal
import time

import pytest
from PIL import Image, ImageCms

from keluhan.devstack.sample_photos import encode, exif_bytes, make_image, make_scan_bomb
from keluhan.domain.photo import PhotoPolicy
from keluhan.domain.photo.decode import decode_photo
from keluhan.domain.photo.sandbox import ChildFailed, OverBudget, run_in_child
from keluhan.domain.photo.structure import jpeg_scan_count, sniff_format
from tests.unit.test_photo import TAKEN, codes, photo, verify


def progressive(width: int = 800, height: int = 600) -> bytes:
    return encode(make_image(width=width, height=height), "JPEG", quality=85, progressive=True, exif=_exif())


def _exif() -> bytes:
    return exif_bytes(taken_at=TAKEN, lat=None, lon=None)


# Progressive scans


def test_progressive_jpeg_of_repeated_scans_is_rejected_before_decoding():
    bomb = make_scan_bomb(width=2000, height=1500, repeats=1000)  # 30 KiB; 2.5 s to decode here
    start = time.perf_counter()
    result = verify(bomb)
    assert (result.verdict, codes(result)) == ("rejected", ["too_many_scans"])
    assert time.perf_counter() - start < 0.5


def test_ordinary_progressive_jpeg_with_its_ten_scans_is_accepted():
    data = progressive()
    assert jpeg_scan_count(data) == 10
    assert verify(data).verdict == "accepted"


def test_scan_count_skips_segments_by_length_and_stops_at_the_first_image():
    baseline = photo()
    fake_markers = b"\xff\xda" * 100
    app9 = b"\xff\xe9" + (len(fake_markers) + 2).to_bytes(2, "big") + fake_markers  # e.g. an EXIF thumbnail
    assert jpeg_scan_count(baseline) == 1
    assert jpeg_scan_count(baseline[:2] + app9 + baseline[2:]) == 1
    assert jpeg_scan_count(progressive() + progressive()) == 10  # MPO: the second image is not decoded


# A hard budget for whatever the checks miss


def test_decode_beyond_the_cpu_budget_is_stopped_and_rejected():
    bomb = make_scan_bomb(width=2000, height=1500, repeats=4000)  # about 10 s of decoding
    policy = PhotoPolicy(max_jpeg_scans=100_000, decode_cpu_s=1)
    start = time.perf_counter()
    result = verify(bomb, policy=policy)
    assert (result.verdict, codes(result)) == ("rejected", ["too_slow"])
    assert time.perf_counter() - start < 8  # well before the decode's 10 s, even on a busy 2-core machine


def test_child_that_spins_is_killed_by_the_kernel_after_its_cpu_seconds():
    def spin() -> bytes:
        while True:
            pass

    start = time.perf_counter()
    with pytest.raises(OverBudget):
        run_in_child(spin, cpu_s=1, wall_s=10)
    assert time.perf_counter() - start < 8  # the CPU limit, not the 10 s wall deadline, stopped it


def test_child_that_waits_is_killed_at_the_wall_clock_deadline():
    start = time.perf_counter()
    with pytest.raises(OverBudget):
        run_in_child(lambda: time.sleep(30) or b"", cpu_s=5, wall_s=0.3)
    assert time.perf_counter() - start < 10  # not the 30 s sleep


def test_crash_in_the_child_leaves_the_caller_running():
    with pytest.raises(ChildFailed, match="SIGSEGV"):
        run_in_child(lambda: os.kill(os.getpid(), signal.SIGSEGV) or b"", cpu_s=1, wall_s=5)
    with pytest.raises(ChildFailed, match="ValueError: bad"):
        run_in_child(lambda: (_ for _ in ()).throw(ValueError("bad")), cpu_s=1, wall_s=5)
    assert run_in_child(lambda: b"x" * 3_000_000, cpu_s=1, wall_s=5) == b"x" * 3_000_000


# Formats told by their magic bytes, never by trying every parser


def test_unknown_bytes_are_judged_by_magic_bytes_without_trying_any_pillow_parser(monkeypatch):
    def no_parsers(*args, **kwargs):
        raise AssertionError("Pillow was asked to identify unknown bytes")

    monkeypatch.setattr(Image, "open", no_parsers)
    for data in (b"%PDF-1.7\n" + photo(), os.urandom(4096), b"<svg xmlns='http://www.w3.org/2000/svg'/>"):
        assert codes(verify(data)) == ["not_an_image"]
    for data in (encode(make_image(width=64, height=48), "GIF"), encode(make_image(width=64, height=48), "WEBP"),
                 encode(make_image(width=64, height=48), "TIFF")):
        assert codes(verify(data)) == ["unsupported_format"]


@pytest.mark.parametrize("head, name", [
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIF"),
    (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "HEIF"),
    (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "AVIF"),
    (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", None),  # a video
])
def test_iso_media_files_are_heif_only_with_a_heif_brand(head, name):
    assert sniff_format(head + b"\x00" * 64) == name


def test_avif_is_unsupported_rather_than_decoded_by_the_heif_plugin():
    avif_head = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"
    assert codes(verify(avif_head + b"\x00" * 256, declared_content_type="image/heic")) == ["unsupported_format"]


# Colour profiles


def test_oversized_colour_profile_is_dropped_and_an_ordinary_one_kept():
    image = make_image(width=320, height=240)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    huge = srgb + b"\x00" * (PhotoPolicy().max_icc_bytes + 1)
    for profile, kept in ((srgb, True), (huge, False)):
        for fmt in ("JPEG", "PNG"):
            data = encode(image, fmt, icc_profile=profile)
            decoded = decode_photo(data, policy=PhotoPolicy())
            assert ("icc_profile" in decoded.image.info) is kept, fmt
    assert verify(encode(image, "JPEG", icc_profile=huge, exif=_exif())).verdict == "accepted"
