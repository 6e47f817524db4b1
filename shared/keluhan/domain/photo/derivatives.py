"""What SKPD tools and the public see: a re-encoded copy and a thumbnail, with no metadata."""

from __future__ import annotations

import io

from keluhan.domain.photo.policy import PhotoPolicy
from PIL import Image, ImageCms, ImageOps
from pydantic import BaseModel, ConfigDict


class PhotoDerivatives(BaseModel):
    """The EXIF-free JPEGs stored for display; the original upload is never shown."""

    model_config = ConfigDict(frozen=True)

    clean_jpeg: bytes
    clean_width: int
    clean_height: int
    thumbnail_jpeg: bytes
    thumbnail_width: int
    thumbnail_height: int


def displayed_pixels(image: Image.Image) -> Image.Image:
    """The loaded image as a person sees it: EXIF orientation applied, sRGB, RGB on white."""
    icc_profile = image.info.get("icc_profile")
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:  # hostile EXIF: show the pixels as stored
        upright = image.copy()
    if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
        rgba = upright.convert("RGBA")
        upright = Image.new("RGB", rgba.size, "white")
        upright.paste(rgba, mask=rgba.getchannel("A"))
    elif upright.mode != "RGB":
        icc_profile = None  # a grey or CMYK profile does not describe the RGB result
        upright = upright.convert("RGB")
    pixels = _to_srgb(upright, icc_profile)
    pixels.info = {}  # nothing from the upload's metadata may travel on
    return pixels


def thumbnail_pixels(pixels: Image.Image, policy: PhotoPolicy) -> Image.Image:
    """A small copy of the displayed pixels (also what the perceptual hash is computed on)."""
    small = pixels.copy()
    small.thumbnail((policy.thumbnail_max_side, policy.thumbnail_max_side), Image.Resampling.LANCZOS)
    return small


def make_derivatives(pixels: Image.Image, thumbnail: Image.Image, policy: PhotoPolicy) -> PhotoDerivatives:
    """Encode the clean copy (already at most clean_max_side) and the thumbnail as JPEGs."""
    return PhotoDerivatives(
        clean_jpeg=_jpeg(pixels, policy.clean_quality),
        clean_width=pixels.width,
        clean_height=pixels.height,
        thumbnail_jpeg=_jpeg(thumbnail, policy.thumbnail_quality),
        thumbnail_width=thumbnail.width,
        thumbnail_height=thumbnail.height,
    )


def _jpeg(image: Image.Image, quality: int) -> bytes:
    # Only pixels are passed on: no exif=, icc_profile=, comment= or xmp= arguments.
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Colours converted from the upload's ICC profile to sRGB, so the profile can be dropped."""
    if not icc_profile:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB") or image
    except (ImageCms.PyCMSError, OSError, ValueError):  # a broken profile: keep the pixels as they are
        return image
