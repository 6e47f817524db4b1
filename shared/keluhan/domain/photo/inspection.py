"""The pixel work on an upload (decode, EXIF, pHash, derivatives), done in a budgeted child."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import imagehash

from keluhan.domain.photo.decode import Unreadable, decode_photo
from keluhan.domain.photo.derivatives import (
    PhotoDerivatives,
    displayed_pixels,
    make_derivatives,
    thumbnail_pixels,
)
from keluhan.domain.photo.exif import capture_time, gps_position, has_camera_exif, read_exif
from keluhan.domain.photo.policy import ImageFormat, PhotoPolicy
from keluhan.domain.photo.sandbox import OverBudget, run_in_child


@dataclass(frozen=True)
class Inspection:
    """What the pixels of an upload that decoded say; the verdict is the caller's."""

    format: ImageFormat
    width: int
    height: int
    exif_taken_at: datetime | None
    exif_gps: tuple[float, float] | None
    camera_exif: bool  # Make, Model and DateTimeOriginal: what a camera writes, an editor often drops
    phash: str
    derivatives: PhotoDerivatives


def inspect_photo(data: bytes, *, policy: PhotoPolicy) -> Inspection:
    """Decode and inspect an upload in a child under the policy's CPU and time budget.

    Raises Unreadable for bytes that are not a photo we can verify, `too_slow` included.
    """
    _import_lazy_modules()
    try:
        answer = run_in_child(lambda: _answer(data, policy), cpu_s=policy.decode_cpu_s,
                              wall_s=policy.decode_wall_s)
    except OverBudget:
        raise Unreadable("too_slow") from None
    return _from_answer(answer)


def inspect_here(data: bytes, policy: PhotoPolicy) -> Inspection:
    """The same work in this process, with no budget."""
    photo = decode_photo(data, policy=policy)
    exif = read_exif(photo.image)  # before displayed_pixels, which consumes the image
    pixels = displayed_pixels(photo.image)
    thumbnail = thumbnail_pixels(pixels, policy)
    return Inspection(
        format=photo.format,
        width=photo.width,
        height=photo.height,
        exif_taken_at=capture_time(exif),
        exif_gps=gps_position(exif),
        camera_exif=has_camera_exif(exif),
        phash=str(imagehash.phash(thumbnail)),
        derivatives=make_derivatives(pixels, thumbnail, policy),
    )


@functools.cache
def _import_lazy_modules() -> None:
    """Import in the parent what the work imports on first use, or every child pays for it."""
    import scipy.fftpack  # noqa: F401  (imagehash.phash)
    from PIL import Image, ImageCms  # noqa: F401

    Image.init()  # every plugin's codec registration


# The child's answer: a 4-byte header length, a JSON header, then the two JPEGs. Plain data,
# not pickle: the child has parsed hostile bytes and is not trusted to send code.
def _answer(data: bytes, policy: PhotoPolicy) -> bytes:
    try:
        found = inspect_here(data, policy)
    except Unreadable as unreadable:
        return _frame({"unreadable": unreadable.code})
    d = found.derivatives
    head = {
        "format": found.format,
        "width": found.width,
        "height": found.height,
        "exif_taken_at": found.exif_taken_at.isoformat() if found.exif_taken_at else None,
        "exif_gps": found.exif_gps,
        "camera_exif": found.camera_exif,
        "phash": found.phash,
        "clean": [len(d.clean_jpeg), d.clean_width, d.clean_height],
        "thumbnail": [len(d.thumbnail_jpeg), d.thumbnail_width, d.thumbnail_height],
    }
    return _frame(head, d.clean_jpeg, d.thumbnail_jpeg)


def _frame(head: Mapping[str, object], *blobs: bytes) -> bytes:
    encoded = json.dumps(head).encode()
    return b"".join([len(encoded).to_bytes(4, "big"), encoded, *blobs])


def _from_answer(answer: bytes) -> Inspection:
    size = int.from_bytes(answer[:4], "big")
    head = json.loads(answer[4:4 + size])
    if "unreadable" in head:
        raise Unreadable(head["unreadable"])
    (clean_len, clean_w, clean_h), (thumb_len, thumb_w, thumb_h) = head["clean"], head["thumbnail"]
    blobs = answer[4 + size:]
    if len(blobs) != clean_len + thumb_len:
        raise ValueError("incomplete answer from the photo child")
    taken_at = head["exif_taken_at"]
    return Inspection(
        format=head["format"],
        width=head["width"],
        height=head["height"],
        exif_taken_at=datetime.fromisoformat(taken_at) if taken_at else None,
        exif_gps=tuple(head["exif_gps"]) if head["exif_gps"] else None,
        camera_exif=bool(head["camera_exif"]),
        phash=head["phash"],
        derivatives=PhotoDerivatives(
            clean_jpeg=blobs[:clean_len], clean_width=clean_w, clean_height=clean_h,
            thumbnail_jpeg=blobs[clean_len:], thumbnail_width=thumb_w, thumbnail_height=thumb_h,
        ),
    )
