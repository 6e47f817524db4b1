"""The thresholds photo verification applies; one frozen value passed in by the adapter."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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

    # Capture time must lie in [received_at - max_age, received_at + future_tolerance]:
    # a citizen who was offline for a few hours is not punished, last week's photo is.
    max_age: timedelta = timedelta(hours=24)
    future_tolerance: timedelta = timedelta(minutes=5)
    # EXIF capture time versus the time the app declares.
    taken_at_tolerance: timedelta = timedelta(minutes=10)

    gps_max_distance_m: float = Field(default=300.0, gt=0)
    # Hamming distance on the 64-bit pHash at or under which two photos are the same picture.
    reuse_max_distance: int = Field(default=8, ge=0, le=64)

    clean_max_side: int = Field(default=2048, ge=64)
    clean_quality: int = Field(default=85, ge=30, le=95)
    thumbnail_max_side: int = Field(default=320, ge=32)
    thumbnail_quality: int = Field(default=75, ge=30, le=95)
