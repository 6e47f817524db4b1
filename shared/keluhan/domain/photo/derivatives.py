"""What SKPD tools and the public see: a re-encoded copy and a thumbnail, with no metadata."""

from __future__ import annotations

import io

from PIL import Image, ImageCms, ImageOps
from pydantic import BaseModel, ConfigDict

from keluhan.domain.photo.policy import PhotoPolicy


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
    """The decoded image as a person sees it: EXIF orientation applied, sRGB, RGB on white.

    Consumes `image`, the decoder's private copy: it is transposed in place (sparing a full
    copy), so read its EXIF first.
    """
    icc_profile = image.info.get("icc_profile")
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except Exception:  # hostile EXIF: show the pixels as stored
        pass
    pixels = image
    if pixels.mode in ("RGBA", "LA", "PA") or "transparency" in pixels.info:
        rgba = pixels.convert("RGBA")
        pixels = Image.new("RGB", rgba.size, "white")
        pixels.paste(rgba, mask=rgba.getchannel("A"))
    elif pixels.mode != "RGB":
        icc_profile = None  # a grey or CMYK profile does not describe the RGB result
        pixels = pixels.convert("RGB")
    pixels = _to_srgb(pixels, icc_profile)
    pixels.info = {}  # nothing from the upload's metadata may travel on
    return pixels


def thumbnail_pixels(pixels: Image.Image, policy: PhotoPolicy) -> Image.Image:
    """A small copy of the displayed pixels (also what the perceptual hash is computed on)."""
    scale = min(1.0, policy.thumbnail_max_side / max(pixels.size))
    size = (max(1, round(pixels.width * scale)), max(1, round(pixels.height * scale)))
    # reducing_gap: a cheap box reduction first, then Lanczos over the last steps only.
    return pixels.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


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
        return (
            ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
            or image
        )
    except (ImageCms.PyCMSError, OSError, ValueError):  # a broken profile: keep the pixels as they are
        return image
