"""Photo verification: a real image, fresh, at the reported place, not reused, and private."""

from __future__ import annotations

import functools
import io
import random
import struct
import zlib
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image, ImageCms

from keluhan.devstack.sample_photos import encode, exif_bytes, make_image, make_jpeg, make_png, make_png_bomb
from keluhan.domain.photo import WITA, PhotoPolicy, PhotoVerification, verify_photo

RECEIVED = datetime(2025, 5, 1, 10, 0, tzinfo=WITA)
KAREBOSI = (-5.1477, 119.4127)  # Lapangan Karebosi, the reported point
TAKEN = RECEIVED - timedelta(minutes=3)


@functools.cache
def photo(
    *, taken_at: datetime | None = TAKEN, at: tuple[float, float] | None = KAREBOSI, seed: int = 0, **kw
) -> bytes:
    """A phone-like 800 x 600 JPEG, taken at `taken_at` and `at` unless those are None."""
    lat, lon = at if at else (None, None)
    return make_jpeg(taken_at=taken_at, lat=lat, lon=lon, seed=seed, width=800, height=600, **kw)


def verify(data: bytes, recent_hashes=(), **overrides) -> PhotoVerification:
    args = dict(
        declared_content_type="image/jpeg",
        lat=KAREBOSI[0],
        lon=KAREBOSI[1],
        received_at=RECEIVED,
        taken_at=TAKEN,
        reuse_candidates=lambda phash: recent_hashes,
        policy=PhotoPolicy(),
    )
    return verify_photo(data, **(args | overrides))


def codes(result: PhotoVerification) -> list[str]:
    return [r.code for r in result.reasons]


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / 111_195, point[1]


# Freshness


def test_fresh_photo_at_the_reported_point_is_accepted_with_its_facts():
    result = verify(photo())
    assert (result.verdict, result.reasons) == ("accepted", [])
    assert result.exif_taken_at == TAKEN
    assert result.exif_gps == pytest.approx(KAREBOSI, abs=1e-6)
    assert result.gps_distance_m == pytest.approx(0, abs=1)
    assert (result.format, result.width, result.height) == ("JPEG", 800, 600)
    assert len(result.phash) == 16


def test_photo_taken_last_week_is_rejected_as_stale():
    last_week = RECEIVED - timedelta(days=7)
    result = verify(photo(taken_at=last_week), taken_at=last_week)
    assert result.verdict == "rejected"
    assert codes(result) == ["stale"]
    assert "terlalu lama" in result.reasons[0].message and "too old" in result.reasons[0].message


def test_old_photo_is_stale_even_when_the_app_declares_a_fresh_time():
    result = verify(photo(taken_at=RECEIVED - timedelta(days=3)), taken_at=TAKEN)
    assert result.verdict == "rejected"
    assert set(codes(result)) == {"stale", "taken_at_mismatch"}


def test_citizen_who_was_offline_for_hours_is_not_punished():
    hours_ago = RECEIVED - timedelta(hours=20)
    assert verify(photo(taken_at=hours_ago), taken_at=hours_ago).verdict == "accepted"


def test_freshness_window_is_configurable():
    hours_ago = RECEIVED - timedelta(hours=3)
    result = verify(
        photo(taken_at=hours_ago), taken_at=hours_ago, policy=PhotoPolicy(max_age=timedelta(hours=2))
    )
    assert codes(result) == ["stale"]


def test_photo_from_the_future_is_rejected():
    later = RECEIVED + timedelta(hours=1)
    result = verify(photo(taken_at=later), taken_at=later)
    assert (result.verdict, codes(result)) == ("rejected", ["future"])


def test_a_few_minutes_of_clock_skew_into_the_future_is_tolerated():
    skewed = RECEIVED + timedelta(minutes=2)
    assert verify(photo(taken_at=skewed), taken_at=skewed).verdict == "accepted"


def test_exif_time_far_from_the_declared_time_is_rejected():
    result = verify(photo(taken_at=RECEIVED - timedelta(hours=2)), taken_at=TAKEN)
    assert (result.verdict, codes(result)) == ("rejected", ["taken_at_mismatch"])


def test_photo_without_capture_time_needs_moderation_and_still_gets_derivatives():
    result = verify(photo(taken_at=None))
    assert (result.verdict, codes(result)) == ("needs_moderation", ["no_capture_time"])
    assert result.exif_taken_at is None
    assert result.derivatives is not None


def test_photo_without_capture_time_and_a_stale_declared_time_is_rejected():
    result = verify(photo(taken_at=None), taken_at=RECEIVED - timedelta(days=2))
    assert result.verdict == "rejected"
    assert set(codes(result)) == {"no_capture_time", "stale"}


def test_exif_time_without_offset_is_read_as_wita():
    naive = datetime(2025, 5, 1, 9, 57)
    result = verify(photo(taken_at=naive, with_offset=False))
    assert result.exif_taken_at == naive.replace(tzinfo=WITA)
    assert result.exif_taken_at.utcoffset() == timedelta(hours=8)


def test_exif_offset_of_another_zone_is_honoured():
    wib = timezone(timedelta(hours=7))
    result = verify(photo(taken_at=TAKEN.astimezone(wib)))
    assert result.exif_taken_at == TAKEN
    assert result.exif_taken_at.utcoffset() == timedelta(hours=7)
    assert result.verdict == "accepted"


def test_naive_received_time_is_a_programming_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(photo(), received_at=RECEIVED.replace(tzinfo=None))


# Place


def test_photo_taken_near_the_reported_point_is_accepted_with_its_distance():
    result = verify(photo(at=north_of(KAREBOSI, 120)))
    assert result.verdict == "accepted"
    assert result.gps_distance_m == pytest.approx(120, abs=2)


def test_photo_taken_across_town_is_rejected_as_elsewhere():
    result = verify(photo(at=north_of(KAREBOSI, 2_000)))
    assert (result.verdict, codes(result)) == ("rejected", ["elsewhere"])
    assert result.gps_distance_m == pytest.approx(2_000, abs=10)


def test_photo_without_gps_is_judged_on_the_rest():
    result = verify(photo(at=None))
    assert (result.verdict, result.exif_gps, result.gps_distance_m) == ("accepted", None, None)


def test_gps_distance_limit_is_configurable():
    result = verify(photo(at=north_of(KAREBOSI, 120)), policy=PhotoPolicy(gps_max_distance_m=50))
    assert codes(result) == ["elsewhere"]


# Safe decoding


def test_zero_bytes_is_not_an_image():
    assert codes(verify(b"")) == ["not_an_image"]


def test_text_is_not_an_image():
    assert codes(verify(b"<html><script>alert(1)</script></html>")) == ["not_an_image"]


def test_image_of_another_format_is_unsupported():
    gif = encode(make_image(width=64, height=48), "GIF")
    assert codes(verify(gif, declared_content_type="image/gif")) == ["unsupported_format"]


def test_format_left_out_of_the_policy_is_unsupported():
    png = make_png(taken_at=TAKEN)
    result = verify(png, declared_content_type="image/png", policy=PhotoPolicy(allowed_formats={"JPEG"}))
    assert codes(result) == ["unsupported_format"]


def test_oversized_file_is_rejected_before_decoding():
    padded = photo() + b"\0" * PhotoPolicy().max_bytes
    assert codes(verify(padded)) == ["too_large"]


def test_decompression_bomb_is_rejected_from_its_header():
    bomb = make_png_bomb(width=10_000, height=5_000)  # 50 MP of zeros in ~50 kB
    assert len(bomb) < 100_000
    assert codes(verify(bomb, declared_content_type="image/png")) == ["too_many_pixels"]


def test_formats_decoded_at_full_size_have_a_lower_pixel_limit():
    policy = PhotoPolicy(max_pixels=1_000_000, max_pixels_full_decode=100_000)
    png = make_png(taken_at=TAKEN, width=400, height=300)
    assert codes(verify(png, declared_content_type="image/png", policy=policy)) == ["too_many_pixels"]
    assert verify(photo(), policy=policy).verdict == "accepted"  # an 800 x 600 JPEG


def test_header_claiming_a_gigapixel_is_rejected():
    small = make_png_bomb(width=300, height=200)
    ihdr = struct.pack(">IIBBBBB", 40_000, 30_000, 8, 0, 0, 0, 0)
    huge = (
        small[:8]
        + struct.pack(">I", 13)
        + b"IHDR"
        + ihdr
        + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
        + small[33:]
    )
    assert codes(verify(huge, declared_content_type="image/png")) == ["too_many_pixels"]


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
@pytest.mark.parametrize("keep", [0.6, 0.99])
def test_truncated_jpeg_is_rejected(progressive, keep):
    data = photo(progressive=progressive)
    assert codes(verify(data[: int(len(data) * keep)])) == ["truncated"]


def test_truncated_png_is_rejected():
    data = make_png(taken_at=TAKEN)
    assert codes(verify(data[: len(data) // 2], declared_content_type="image/png")) == ["truncated"]


def test_png_declared_as_jpeg_is_rejected_for_its_lying_content_type():
    result = verify(
        make_png(taken_at=TAKEN, lat=KAREBOSI[0], lon=KAREBOSI[1]), declared_content_type="image/jpeg"
    )
    assert (result.verdict, codes(result), result.format) == ("rejected", ["content_type_mismatch"], "PNG")


def test_content_type_parameters_and_aliases_are_understood():
    assert verify(photo(), declared_content_type="image/JPG; charset=binary").verdict == "accepted"


def test_png_with_fresh_exif_is_accepted():
    result = verify(
        make_png(taken_at=TAKEN, lat=KAREBOSI[0], lon=KAREBOSI[1]), declared_content_type="image/png"
    )
    assert (result.verdict, result.format, result.exif_taken_at) == ("accepted", "PNG", TAKEN)


def test_heic_photo_is_verified_like_a_jpeg():
    pytest.importorskip("pillow_heif")
    exif = exif_bytes(taken_at=TAKEN, lat=KAREBOSI[0], lon=KAREBOSI[1])
    heic = encode(make_image(width=320, height=240), "HEIF", exif=exif)
    result = verify(heic, declared_content_type="image/heic")
    assert (result.verdict, result.format, result.exif_taken_at) == ("accepted", "HEIF", TAKEN)


def test_polyglot_with_a_foreign_header_is_not_an_image():
    assert codes(verify(b"%PDF-1.7\n" + photo())) == ["not_an_image"]


def test_payload_appended_to_a_jpeg_never_reaches_the_derivatives():
    payload = b"PK\x03\x04<?php system($_GET['c']); ?>"
    result = verify(photo() + payload)
    assert result.verdict == "accepted"
    assert b"system(" not in result.derivatives.clean_jpeg + result.derivatives.thumbnail_jpeg


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow warns about the corrupt EXIF it skips
def test_damaged_bytes_never_raise():
    rng = random.Random(5)
    data = bytearray(photo())
    for _ in range(60):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(0, 4000)] = rng.randrange(256)
        assert verify(bytes(damaged)).verdict in ("accepted", "rejected", "needs_moderation")
    for size in (1, 3, 16, 200):
        assert verify(rng.randbytes(size)).verdict == "rejected"


# Reuse


def test_same_photo_resized_and_recompressed_under_another_report_is_reused():
    original = verify(photo(seed=3))
    copy = Image.open(io.BytesIO(photo(seed=3))).resize((560, 420), Image.Resampling.BILINEAR)
    recompressed = encode(copy, "JPEG", quality=55, exif=exif_bytes(taken_at=TAKEN, lat=None, lon=None))
    result = verify(recompressed, recent_hashes=[("r-other", "0" * 16), ("r-first", original.phash)])
    assert (result.verdict, codes(result), result.reused_of) == ("rejected", ["reused"], ["r-first"])


def test_different_photo_is_not_reused():
    others = [(f"r-{seed}", verify(photo(seed=seed)).phash) for seed in (1, 2, 3, 4)]
    result = verify(photo(seed=0), recent_hashes=others)
    assert (result.verdict, result.reused_of) == ("accepted", [])


def test_damaged_stored_hash_is_ignored():
    result = verify(photo(), recent_hashes=[("r-bad", "not-hex"), ("r-empty", "")])
    assert result.verdict == "accepted"


# Privacy and derivatives


def _assert_no_metadata(jpeg: bytes) -> None:
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)
    for marker in (b"Exif", b"GPS", b"Keluhan Test", b"Phone X1", b"http://ns.adobe.com/xap", b"ICC_PROFILE"):
        assert marker not in jpeg


def test_no_metadata_survives_in_any_derivative():
    exif = exif_bytes(taken_at=TAKEN, lat=KAREBOSI[0], lon=KAREBOSI[1])
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://ns.adobe.com/xap/1.0/"/></x:xmpmeta>'
    )
    data = encode(make_image(), "JPEG", exif=exif, icc_profile=icc, xmp=xmp, comment=b"Phone X1 serial 42")
    result = verify(data)
    assert result.verdict == "accepted"
    _assert_no_metadata(result.derivatives.clean_jpeg)
    _assert_no_metadata(result.derivatives.thumbnail_jpeg)


def test_png_derivatives_are_metadata_free_jpegs():
    result = verify(
        make_png(taken_at=TAKEN, lat=KAREBOSI[0], lon=KAREBOSI[1]), declared_content_type="image/png"
    )
    _assert_no_metadata(result.derivatives.clean_jpeg)
    _assert_no_metadata(result.derivatives.thumbnail_jpeg)


def test_rejected_photo_gets_no_derivatives():
    assert verify(photo(at=north_of(KAREBOSI, 5_000))).derivatives is None


def test_stored_record_leaves_the_derivative_bytes_out():
    record = verify(photo()).model_dump(mode="json")
    assert "derivatives" not in record
    assert record["verdict"] == "accepted" and record["exif_taken_at"] == TAKEN.isoformat()


def test_orientation_is_applied_to_the_derivatives():
    image = make_image(width=800, height=600)
    image.paste((255, 0, 0), (0, 0, 100, 100))  # red corner, top-left as stored
    exif = exif_bytes(taken_at=TAKEN, lat=None, lon=None, orientation=6)  # rotate 90° clockwise to view
    result = verify(encode(image, "JPEG", exif=exif, quality=90))
    derivatives = result.derivatives
    assert (derivatives.clean_width, derivatives.clean_height) == (600, 800)
    clean = Image.open(io.BytesIO(derivatives.clean_jpeg)).convert("RGB")
    red, green, blue = clean.getpixel((600 - 30, 30))  # now top-right
    assert red > 200 and green < 60 and blue < 60


def test_derivatives_respect_the_size_limits():
    policy = PhotoPolicy(clean_max_side=500, thumbnail_max_side=100)
    derivatives = verify(photo(), policy=policy).derivatives  # 800 x 600, decoded at 1/2
    assert max(derivatives.clean_width, derivatives.clean_height) == 400
    assert max(derivatives.thumbnail_width, derivatives.thumbnail_height) == 100
    clean = Image.open(io.BytesIO(derivatives.clean_jpeg))
    assert clean.size == (derivatives.clean_width, derivatives.clean_height)


def test_large_png_is_scaled_to_the_clean_limit():
    png = make_png(taken_at=TAKEN, width=1200, height=800)
    derivatives = verify(
        png, declared_content_type="image/png", policy=PhotoPolicy(clean_max_side=600)
    ).derivatives
    assert (derivatives.clean_width, derivatives.clean_height) == (600, 400)


def test_transparent_png_is_flattened_on_white():
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    png = encode(image, "PNG", exif=exif_bytes(taken_at=TAKEN, lat=None, lon=None))
    result = verify(png, declared_content_type="image/png")
    clean = Image.open(io.BytesIO(result.derivatives.clean_jpeg)).convert("RGB")
    assert min(clean.getpixel((100, 50))) > 245


def test_cmyk_jpeg_becomes_an_rgb_copy():
    cmyk = make_image(width=400, height=300).convert("CMYK")
    result = verify(encode(cmyk, "JPEG", exif=exif_bytes(taken_at=TAKEN, lat=None, lon=None)))
    assert result.verdict == "accepted"
    assert Image.open(io.BytesIO(result.derivatives.clean_jpeg)).mode == "RGB"
