"""The edited-copy test set: real photographs, edits of them, and genuine other photos.

The photographs are those scikit-image ships in its wheel (skimage.data: a street-side
motorcycle taken by a stereo rig from two places, an astronaut, a cup of coffee, a cat, a
rocket on its pad, a cameraman, brick, grass and gravel surfaces). Positives are edits a
dishonest officer could make of the complaint photo: crops, rescales, recompression, colour
changes, a region erased by inpainting or painted over with a patch of the same photo,
a small rotation, a mirror image, and combinations. Negatives are photos that share the
scene type or even the scene but not the pixels: the stereo pair's other view (the camera
moved), the other half of the same photo, and every other photograph of the set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

Edit = Callable[[np.ndarray, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class Pair:
    name: str
    derived: bool  # the truth: is `proof` made from `complaint`?
    complaint: np.ndarray  # RGB uint8
    proof: np.ndarray


def photographs() -> dict[str, np.ndarray]:
    """The real photographs, RGB uint8 (the stereo pair as motorcycle_left/right)."""
    from skimage import data  # the bench's own dependency (pyproject's dev extra), not the domain's

    def rgb(image: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.dstack([image] * 3) if image.ndim == 2 else image[..., :3])

    left, right, _ = data.stereo_motorcycle()  # type: ignore[no-untyped-call]  # skimage leaves it unannotated
    photos = {name: rgb(getattr(data, name)()) for name in
              ("astronaut", "coffee", "chelsea", "rocket", "camera", "brick", "grass", "gravel")}
    return {"motorcycle_left": rgb(left), "motorcycle_right": rgb(right), **photos}


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, encoded = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else None
    assert decoded is not None
    return np.ascontiguousarray(decoded[..., ::-1])


def crop(image: np.ndarray, share: float, at: tuple[float, float] = (0.5, 0.5)) -> np.ndarray:
    h, w = image.shape[:2]
    ch, cw = round(h * share), round(w * share)
    y, x = round((h - ch) * at[0]), round((w - cw) * at[1])
    return np.ascontiguousarray(image[y:y + ch, x:x + cw])


def rescale(image: np.ndarray, factor: float) -> np.ndarray:
    h, w = image.shape[:2]
    return cv2.resize(image, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_AREA)


def _region(image: np.ndarray, share: float, rng: np.random.Generator) -> tuple[int, int, int, int]:
    h, w = image.shape[:2]
    rh, rw = round(h * share ** 0.5), round(w * share ** 0.5)
    y, x = int(rng.integers(0, h - rh + 1)), int(rng.integers(0, w - rw + 1))
    return y, x, rh, rw


def erase(image: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """A region inpainted away (what "remove the cars" tools do)."""
    y, x, rh, rw = _region(image, share, rng)
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[y:y + rh, x:x + rw] = 255
    inpainted: np.ndarray = cv2.inpaint(image[..., ::-1], mask, 5, cv2.INPAINT_TELEA)
    return np.ascontiguousarray(inpainted[..., ::-1])


def paint_over(image: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """A region covered with a patch cloned from elsewhere in the photo (a "filled" pothole)."""
    y, x, rh, rw = _region(image, share, rng)
    sy, sx, _, _ = _region(image, share, rng)
    out = image.copy()
    out[y:y + rh, x:x + rw] = cv2.GaussianBlur(image[sy:sy + rh, sx:sx + rw], (5, 5), 0)
    return out


def recolour(image: np.ndarray, how: str) -> np.ndarray:
    if how == "grey":
        return np.dstack([cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)] * 3)
    if how == "hue":
        hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
        hsv[..., 0] = (hsv[..., 0].astype(np.int16) + 25) % 180
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    if how == "contrast":
        return cv2.convertScaleAbs(image, alpha=1.35, beta=-35)
    if how == "gamma":
        table = np.array([255 * (i / 255) ** 0.6 for i in range(256)], np.uint8)
        return cv2.LUT(image, table)
    if how == "warm":
        warm: np.ndarray = np.clip(image.astype(np.int16) + np.array([30, 5, -30]), 0, 255).astype(np.uint8)
        return warm
    raise ValueError(how)


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.12)  # zoomed in: no black corners
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR)


EDITS: dict[str, Edit] = {
    "recompress_q25": lambda im, r: jpeg(im, 25),
    "rescale_50_q70": lambda im, r: jpeg(rescale(im, 0.5), 70),
    "rescale_150": lambda im, r: rescale(im, 1.5),
    "crop_70_centre": lambda im, r: crop(im, 0.7),
    "crop_50_corner": lambda im, r: crop(im, 0.5, (0.0, 1.0)),
    "grey": lambda im, r: recolour(im, "grey"),
    "hue_shift": lambda im, r: recolour(im, "hue"),
    "contrast": lambda im, r: recolour(im, "contrast"),
    "gamma": lambda im, r: recolour(im, "gamma"),
    "warm_q60": lambda im, r: jpeg(recolour(im, "warm"), 60),
    "erase_15": lambda im, r: erase(im, 0.15, r),
    "erase_35": lambda im, r: erase(im, 0.35, r),
    "paint_over_25": lambda im, r: paint_over(im, 0.25, r),
    "rotate_4": lambda im, r: rotate(im, 4),
    "mirror": lambda im, r: np.ascontiguousarray(im[:, ::-1]),
    "crop_erase_hue_q50": lambda im, r: jpeg(recolour(erase(crop(im, 0.75, (0.3, 0.6)), 0.2, r), "hue"), 50),
    "rescale_40_contrast_q40": lambda im, r: jpeg(recolour(rescale(im, 0.4), "contrast"), 40),
}


def pairs(seed: int = 21) -> Iterator[Pair]:
    """Every positive (an edit of a photograph) and every negative (a genuinely other photo)."""
    rng = np.random.default_rng(seed)
    photos = photographs()
    for name, photo in photos.items():
        for edit_name, edit in EDITS.items():
            yield Pair(f"{name}/{edit_name}", True, photo, edit(photo, rng))
    left, right = photos["motorcycle_left"], photos["motorcycle_right"]
    # The same street from another place: the stereo rig's other camera, whole and cropped alike.
    yield Pair("stereo/right_view", False, left, right)
    yield Pair("stereo/left_view", False, right, left)
    for share, at in ((0.7, (0.5, 0.5)), (0.6, (0.0, 0.0)), (0.6, (1.0, 1.0)), (0.8, (0.5, 0.2))):
        yield Pair(f"stereo/crop_{share}_{at}", False, crop(left, share, at), jpeg(crop(right, share, at), 80))
    yield Pair("stereo/right_view_rescaled_q60", False, left, jpeg(rescale(right, 0.6), 60))
    # The other half of the same photo: same light, camera and scene type, no shared pixels.
    for name, photo in photos.items():
        h, w = photo.shape[:2]
        yield Pair(f"{name}/other_half_lr", False, photo[:, : w // 2], photo[:, w - w // 2:])
        yield Pair(f"{name}/other_half_tb", False, photo[: h // 2], photo[h - h // 2:])
    names = sorted(photos)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if {a, b} != {"motorcycle_left", "motorcycle_right"}:
                yield Pair(f"{a}~{b}", False, photos[a], photos[b])


def edited_copy_jpeg(jpeg: bytes, *, exif: bytes, seed: int = 0) -> bytes:
    """A dishonest proof made from a complaint JPEG: cropped, a fifth of it inpainted away, hue
    shifted, saved again with a camera's fresh EXIF (`exif`, e.g. sample_photos.exif_bytes)."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as opened:
        pixels = np.asarray(opened.convert("RGB"))
    edited = recolour(erase(crop(pixels, 0.8, (0.4, 0.6)), 0.2, np.random.default_rng(seed)), "hue")
    out = io.BytesIO()
    Image.fromarray(edited).save(out, "JPEG", quality=88, exif=exif)
    return out.getvalue()


def photograph_jpeg(name: str, *, exif: bytes, quality: int = 90) -> bytes:
    """One of the real photographs as a camera JPEG with the given EXIF (tests and e2e)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(photographs()[name]).save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()
