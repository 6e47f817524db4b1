"""What a photo's EXIF says about when and where it was taken."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from PIL import Image

# Makassar's zone: the reading of an EXIF time that carries no OffsetTimeOriginal.
WITA = timezone(timedelta(hours=8), "WITA")

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_MAKE, _MODEL = 0x010F, 0x0110
# (time tag, offset tag): DateTimeOriginal first, DateTimeDigitized as the fallback.
_CAPTURE_TAGS = ((0x9003, 0x9011), (0x9004, 0x9012))
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
_EARTH_RADIUS_M = 6_371_008.8


def read_exif(image: Image.Image) -> Image.Exif:
    """The image's EXIF, empty when there is none or it cannot be parsed."""
    try:
        exif = image.getexif()
        exif.get_ifd(_EXIF_IFD), exif.get_ifd(_GPS_IFD)  # parse the sub-IFDs now, once
        return exif
    except Exception:  # hostile metadata makes Pillow's TIFF parser raise nearly anything
        return Image.Exif()


def capture_time(exif: Image.Exif) -> datetime | None:
    """When the photo was taken, aware: OffsetTimeOriginal when present, else WITA."""
    ifd = exif.get_ifd(_EXIF_IFD)
    for time_tag, offset_tag in _CAPTURE_TAGS:
        taken = _parse_time(ifd.get(time_tag))
        if taken is not None:
            return taken.replace(tzinfo=_parse_offset(ifd.get(offset_tag)))
    return None


def has_camera_exif(exif: Image.Exif) -> bool:
    """Whether the camera's own tags are there: Make, Model and DateTimeOriginal, none blank."""
    original = exif.get_ifd(_EXIF_IFD).get(_CAPTURE_TAGS[0][0])
    return all(_text(value) for value in (exif.get(_MAKE), exif.get(_MODEL))) and _parse_time(original) is not None


def gps_position(exif: Image.Exif) -> tuple[float, float] | None:
    """(lat, lon) from the GPS IFD, None when absent, malformed or the (0, 0) placeholder."""
    gps = exif.get_ifd(_GPS_IFD)
    lat = _degrees(gps.get(2), gps.get(1), negative="S", limit=90)
    lon = _degrees(gps.get(4), gps.get(3), negative="W", limit=180)
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return None
    return lat, lon


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points in metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else None


def _parse_time(value: object) -> datetime | None:
    text = _text(value)
    try:
        taken = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S") if text else None
    except ValueError:  # blank "    :  :  " or a vendor's own format
        return None
    # No camera wrote year 1 or 9999: an implausible year is no capture time (and its offset could
    # not even be converted to UTC or stored).
    return taken if taken is not None and CAPTURE_YEARS[0] <= taken.year <= CAPTURE_YEARS[1] else None


CAPTURE_YEARS = (1990, 2100)


def _parse_offset(value: object) -> timezone:
    match = _OFFSET.fullmatch(_text(value) or "")
    if not match:
        return WITA
    sign, hours, minutes = match.groups()
    offset = timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if sign == "-" else 1)
    return timezone(offset) if abs(offset) <= timedelta(hours=14) else WITA


def _degrees(dms: object, ref: object, *, negative: str, limit: float) -> float | None:
    if not isinstance(dms, Iterable):
        return None
    try:
        degrees, minutes, seconds = (float(part) for part in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(value) or value > limit:
        return None
    value = round(value, 7)  # ~1 cm; drops float noise from the rationals
    return -value if _text(ref) == negative else value
