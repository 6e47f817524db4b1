"""Opening an untrusted upload safely: limits before decoding, one reduced full-data decode."""

from __future__ import annotations

import functools
import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from keluhan.domain.photo.policy import ImageFormat, PhotoPolicy
from keluhan.domain.photo.reasons import ReasonCode
from keluhan.domain.photo.structure import jpeg_scan_count, sniff_format

CONTENT_TYPES: dict[str, ImageFormat] = {
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/pjpeg": "JPEG",
    "image/png": "PNG",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
# The sniffed names we accept. They are Pillow's, but a JPEG with an MPF index (a depth map,
# say) opens as MPO, so the format is the sniffed one, not the opened image's.
_FORMATS: dict[str, ImageFormat] = {"JPEG": "JPEG", "PNG": "PNG", "HEIF": "HEIF"}
# What Pillow raises on malformed or truncated data.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError)


class Unreadable(Exception):
    """The upload cannot be verified as a photo; `code` says why."""

    def __init__(self, code: ReasonCode):
        super().__init__(code)
        self.code: ReasonCode = code


@dataclass(frozen=True)
class DecodedPhoto:
    """An upload that decoded completely: its format, original size and the opened image."""

    format: ImageFormat
    width: int
    height: int
    image: Image.Image  # loaded, at most `max_side` on its long side, EXIF still in .info


def content_type_matches(declared: str | None, photo_format: ImageFormat) -> bool:
    """Whether a declared content type (if any) names the format the bytes really have."""
    media_type = (declared or "").split(";")[0].strip().lower()
    return not media_type or CONTENT_TYPES.get(media_type) == photo_format


def decode_photo(data: bytes, *, policy: PhotoPolicy) -> DecodedPhoto:
    """Open and fully decode an upload within the policy's limits, or raise Unreadable."""
    if not data:
        raise Unreadable("not_an_image")
    if len(data) > policy.max_bytes:
        raise Unreadable("too_large")
    image, photo_format = _open(data, policy)
    if len(image.info.get("icc_profile") or b"") > policy.max_icc_bytes:
        del image.info["icc_profile"]  # colours then read as sRGB; see PhotoPolicy.max_icc_bytes
    width, height = image.size
    limit = policy.max_pixels
    if photo_format != "JPEG":  # decoded at full size: see PhotoPolicy.max_pixels_full_decode
        limit = min(limit, policy.max_pixels_full_decode)
    if width * height > limit or not width or not height:
        raise Unreadable("too_many_pixels")
    _decode(image, policy.clean_max_side)
    return DecodedPhoto(format=photo_format, width=width, height=height, image=image)


def _open(data: bytes, policy: PhotoPolicy) -> tuple[Image.Image, ImageFormat]:
    """Read the header only, with the one parser the magic bytes name; that parser's format."""
    sniffed = sniff_format(data)
    if sniffed is None:
        raise Unreadable("not_an_image")
    photo_format = _FORMATS.get(sniffed)
    if photo_format not in policy.allowed_formats or (photo_format == "HEIF" and not _heif_registered()):
        raise Unreadable("unsupported_format")
    if photo_format == "JPEG" and jpeg_scan_count(data) > policy.max_jpeg_scans:
        raise Unreadable("too_many_scans")
    try:
        return Image.open(io.BytesIO(data), formats=[photo_format]), photo_format
    except Image.DecompressionBombError:
        raise Unreadable("too_many_pixels") from None
    except (UnidentifiedImageError, *_DECODE_ERRORS):
        raise Unreadable("not_an_image") from None


def _decode(image: Image.Image, max_side: int) -> None:
    """Decode every byte of the image, ending at most `max_side` on its long side.

    A JPEG is decoded straight at the finest DCT scale (1, 1/2, 1/4, 1/8) that fits, so its
    long side ends between max_side/2 and max_side with no resampling pass. At a reduced
    scale libjpeg still entropy-decodes all of the data, so a truncated or corrupt file fails
    here just as in a full decode, at a fraction of the time and memory.
    """
    width, height = image.size
    scale = next((s for s in (1, 2, 4, 8) if -(-max(width, height) // s) <= max_side), 8)
    if scale > 1:
        image.draft("RGB", (max(1, width // scale), max(1, height // scale)))
    try:
        image.load()
    except Image.DecompressionBombError:
        raise Unreadable("too_many_pixels") from None
    except _DECODE_ERRORS:
        raise Unreadable("truncated") from None
    if max(image.size) > max_side:  # formats without DCT scaling, or a JPEG wider than 8 x max_side
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)


@functools.cache
def _heif_registered() -> bool:
    """Register pillow-heif's HEIC/HEIF opener with Pillow once, on first use."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        return False
    register_heif_opener()
    return True
