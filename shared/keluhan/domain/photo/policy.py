"""The thresholds photo verification applies; one frozen value passed in by the adapter."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from keluhan.domain.photo.copy_check import CopyPolicy
from keluhan.domain.photo.hash_bands import MAX_DISTANCE

ImageFormat = Literal["JPEG", "PNG", "HEIF"]


class PhotoPolicy(BaseModel):
    """Limits for a citizen's photo: bytes, pixels, freshness, place, reuse, derivative sizes."""

    model_config = ConfigDict(frozen=True)

    max_bytes: int = Field(default=15 * 2**20, gt=0)
    # Checked from the header, before any pixel is decoded: stops decompression bombs.
    max_pixels: int = Field(default=40_000_000, gt=0)
    # PNG and HEIF cannot be decoded at a reduced scale as JPEG can, so their decode costs
    # 3-4 bytes per pixel at full size; 25 MP still admits a 24 MP iPhone HEIC.
    max_pixels_full_decode: int = Field(default=25_000_000, gt=0)
    allowed_formats: frozenset[ImageFormat] = frozenset({"JPEG", "PNG", "HEIF"})
    # Every scan of a progressive JPEG is a pass over all its blocks: repeated scans make a
    # small file cost seconds. Pillow and libjpeg write 10 (6 for grey), mozjpeg about as many.
    max_jpeg_scans: int = Field(default=32, ge=1)
    # Whatever the checks miss, the pixel work runs in a child the kernel stops after this
    # much CPU (whole seconds: RLIMIT_CPU) and that is killed after this much wall clock.
    # A 40 MP progressive q95 JPEG of noise decodes in 0.85 s here.
    decode_cpu_s: int = Field(default=3, ge=1)
    decode_wall_s: float = Field(default=10.0, gt=0)
    # Colour profiles larger than this are dropped (colours then taken as sRGB): phones embed
    # 0.5-4 KiB, and a profile is parsed and applied by LittleCMS on every pixel.
    max_icc_bytes: int = Field(default=256 * 1024, ge=0)

    # Capture time must lie in [received_at - max_age, received_at + future_tolerance]:
    # a citizen who was offline for a few hours is not punished, last week's photo is.
    max_age: timedelta = timedelta(hours=24)
    future_tolerance: timedelta = timedelta(minutes=5)
    # EXIF capture time versus the time the app declares.
    taken_at_tolerance: timedelta = timedelta(minutes=10)

    gps_max_distance_m: float = Field(default=300.0, gt=0)
    # Hamming distance on the 64-bit pHash at or under which two photos are the same picture;
    # the banded hash index finds every stored photo up to hash_bands.MAX_DISTANCE (9).
    reuse_max_distance: int = Field(default=8, ge=0, le=MAX_DISTANCE)
    # A proof photo made from the complaint photo (an edit, not only a pHash match): copy_check.py.
    copy_check: CopyPolicy = CopyPolicy()

    clean_max_side: int = Field(default=2048, ge=64)
    clean_quality: int = Field(default=85, ge=30, le=95)
    thumbnail_max_side: int = Field(default=320, ge=32)
    thumbnail_quality: int = Field(default=75, ge=30, le=95)
