"""Generated test photos: photo-like content with the EXIF a phone camera writes."""

from __future__ import annotations

import functools
import io
import struct
import zlib
from datetime import datetime
from fractions import Fraction

import numpy as np
import piexif
from PIL import Image

from keluhan.domain.photo import WITA


def make_image(*, width: int = 1600, height: int = 1200, seed: int = 0) -> Image.Image:
    """An RGB scene with smooth shapes, edges and sensor-like noise; seeds differ to a pHash.

    A new image each call, from pixels kept for the last few (width, height, seed): making them
    takes ~0.1 s at the default size, and test worlds ask for the same seeds again and again."""
    return Image.frombytes("RGB", (width, height), _scene(width, height, seed))


@functools.lru_cache(maxsize=32)
def _scene(width: int, height: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    # Low-frequency structure decides the pHash: an upscaled random 6x5 grid per channel.
    coarse = rng.integers(20, 236, size=(5, 6, 3), dtype=np.uint8)
    scene = Image.fromarray(coarse, "RGB").resize((width, height), Image.Resampling.BICUBIC)
    pixels = np.asarray(scene, dtype=np.int16).copy()
    # Mid-frequency detail: stripes and blocks, like kerbs, walls and puddles.
    ys, xs = np.ogrid[:height, :width]
    stripes = (np.sin(xs / rng.uniform(6, 40) + ys / rng.uniform(9, 60)) * 24).astype(np.int16)
    pixels += stripes[..., None]
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = (
            int(rng.integers(1 + width // 20, 2 + width // 4)),
            int(rng.integers(1 + height // 20, 2 + height // 4)),
        )
        pixels[y0 : y0 + h, x0 : x0 + w] += rng.integers(-50, 50, size=3, dtype=np.int16)
    # Fine noise so the JPEG entropy data is as dense as a real photo's.
    pixels += rng.normal(0, 7, size=pixels.shape).astype(np.int16)
    return np.clip(pixels, 0, 255).astype(np.uint8).tobytes()


def exif_bytes(
    *,
    taken_at: datetime | None,
    lat: float | None,
    lon: float | None,
    orientation: int = 1,
    with_offset: bool = True,
) -> bytes:
    """EXIF as a phone writes it: device, capture time with its UTC offset, GPS position."""
    zeroth = {
        piexif.ImageIFD.Make: b"Keluhan Test",
        piexif.ImageIFD.Model: b"Phone X1 (device id 1234)",
        piexif.ImageIFD.Orientation: orientation,
    }
    exif: dict[int, object] = {}
    if taken_at is not None:
        local = taken_at if taken_at.tzinfo else taken_at.replace(tzinfo=WITA)
        exif[piexif.ExifIFD.DateTimeOriginal] = local.strftime("%Y:%m:%d %H:%M:%S").encode()
        if with_offset:
            offset = local.strftime("%z")  # "+0800"; EXIF wants "+08:00"
            exif[piexif.ExifIFD.OffsetTimeOriginal] = f"{offset[:3]}:{offset[3:]}".encode()
    gps: dict[int, object] = {}
    if lat is not None and lon is not None:
        gps = {
            piexif.GPSIFD.GPSLatitudeRef: b"S" if lat < 0 else b"N",
            piexif.GPSIFD.GPSLatitude: _dms(abs(lat)),
            piexif.GPSIFD.GPSLongitudeRef: b"W" if lon < 0 else b"E",
            piexif.GPSIFD.GPSLongitude: _dms(abs(lon)),
        }
    dumped: bytes = piexif.dump({"0th": zeroth, "Exif": exif, "GPS": gps})
    return dumped


def make_jpeg(
    *,
    taken_at: datetime | None,
    lat: float | None,
    lon: float | None,
    width: int = 1600,
    height: int = 1200,
    seed: int = 0,
    quality: int = 85,
    orientation: int = 1,
    with_offset: bool = True,
    progressive: bool = False,
) -> bytes:
    """A camera-like JPEG; a naive `taken_at` is read as WITA, None leaves the tag out."""
    exif = exif_bytes(taken_at=taken_at, lat=lat, lon=lon, orientation=orientation, with_offset=with_offset)
    return encode(
        make_image(width=width, height=height, seed=seed),
        "JPEG",
        exif=exif,
        quality=quality,
        progressive=progressive,
    )


def make_png(
    *,
    taken_at: datetime | None = None,
    lat: float | None = None,
    lon: float | None = None,
    width: int = 800,
    height: int = 600,
    seed: int = 0,
) -> bytes:
    """A PNG with the same content and, when given, an eXIf chunk."""
    exif = exif_bytes(taken_at=taken_at, lat=lat, lon=lon)
    return encode(make_image(width=width, height=height, seed=seed), "PNG", exif=exif)


def make_png_bomb(*, width: int, height: int) -> bytes:
    """A valid all-black greyscale PNG: tens of megapixels in a few dozen kilobytes."""
    row = b"\x00" * (width + 1)  # filter byte, then the pixels
    compressor = zlib.compressobj(9)
    idat = [compressor.compress(row * 256) for _ in range(height // 256)]
    idat += [compressor.compress(row * (height % 256)), compressor.flush()]
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(idat))
        + _chunk(b"IEND", b"")
    )


def make_scan_bomb(*, width: int, height: int, repeats: int) -> bytes:
    """A valid progressive JPEG whose last scan is repeated: each copy, a few dozen bytes, makes
    the decoder pass over every block of the image again."""
    data = encode(Image.new("RGB", (width, height), (120, 130, 140)), "JPEG", quality=90, progressive=True)
    last_scan, end = data.rindex(b"\xff\xda"), data.rindex(b"\xff\xd9")
    return data[:end] + data[last_scan:end] * repeats + data[end:]


def encode(image: Image.Image, format: str, **params: object) -> bytes:
    """The image saved to bytes."""
    if format.upper() == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    out = io.BytesIO()
    image.save(out, format=format, **params)
    return out.getvalue()


def _dms(value: float) -> tuple[tuple[int, int], ...]:
    """Degrees as EXIF degree/minute/second rationals (seconds to 1/1000)."""
    seconds = Fraction(round(value * 3600 * 1000), 1000)
    degrees, rest = divmod(seconds, 3600)
    minutes, rest = divmod(rest, 60)
    return ((int(degrees), 1), (int(minutes), 1), (rest.numerator, rest.denominator))


def _chunk(kind: bytes, payload: bytes) -> bytes:
    """A PNG chunk: length, type, payload, CRC."""
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
