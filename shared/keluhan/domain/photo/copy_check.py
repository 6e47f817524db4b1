"""Is a proof photo made from the complaint photo? Local features, then structure on the aligned pair.

A copy, however edited (cropped, rescaled, recompressed, recoloured, part of it erased or
painted over), keeps most of the complaint photo's pixels where they were relative to each
other: ORB keypoints of the two match, and one homography (found with RANSAC) maps most
matches onto each other within a pixel or two. A new photo of the same street after the work
matches only where the scene stands still, never all of it to a pixel: the camera moved, the
light changed, the sensor's noise is new. So after alignment the copy is structurally the
same image over most of the overlap (SSIM of small windows near 1), the new photo is not.

Pure: decoded 8-bit arrays in, a finding out (OpenCV and NumPy only, no I/O); `derivative_is_copy`
decodes the two JPEGs this system encoded itself, in memory.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Literal

import cv2
import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from keluhan.domain.photo.reasons import REASONS, Reason

Check = Literal["local_features", "aligned_structure"]


class CopyPolicy(BaseModel):
    """Thresholds of the edited-copy check; measured by `keluhan bench proof` (docs/photo.md)."""

    model_config = ConfigDict(frozen=True)

    # Both images are compared on grey pixels with this long side.
    work_side: int = Field(default=640, ge=128, le=2048)
    max_features: int = Field(default=2000, ge=100)
    ratio: float = Field(default=0.8, gt=0, lt=1)  # Lowe's ratio test on the two nearest matches
    ransac_px: float = Field(default=3.0, gt=0)  # reprojection error of a RANSAC inlier
    # Fewer inliers than this: the photos share nothing, no structure is measured.
    min_inliers: int = Field(default=15, ge=4)
    # Local features decide alone on an exact pixel copy: this many inliers whose median
    # reprojection error is at most `exact_px` (a re-shot scene is off by parallax, 0.8 px and more).
    exact_inliers: int = Field(default=100, ge=4)
    exact_px: float = Field(default=0.15, gt=0)
    # A window is the same picture when its contrast-structure SSIM against the aligned
    # complaint photo is this high (the luminance term is left out: a recolour changes it).
    window_ssim: float = Field(default=0.8, gt=0, le=1)
    # Share of the textured overlap made of such windows at or above which the pair is a copy.
    same_area: float = Field(default=0.4, gt=0, le=1)
    ecc_iterations: int = Field(default=30, ge=0)  # refinement of the alignment (0: none)


class CopyFinding(BaseModel):
    """What the comparison measured, and which check, if any, found the proof to be a copy."""

    model_config = ConfigDict(frozen=True)

    derived: bool
    decided_by: Check | None = None
    inliers: int = 0
    matches: int = 0
    reprojection_px: float | None = None  # median over the inliers
    same_area: float = 0.0  # share of the textured overlap structurally equal to the complaint photo
    mirrored: bool = False


def derivative_is_copy(complaint_jpeg: bytes, proof_jpeg: bytes, policy: CopyPolicy) -> CopyFinding:
    """Compare two EXIF-free copies this system encoded itself (trusted bytes, at most 2048 px)."""
    return compare_to_complaint(_decoded(complaint_jpeg, policy), _decoded(proof_jpeg, policy), policy)


def edited_copy_reason(finding: CopyFinding) -> Reason:
    """The `edited_copy` finding, saying which check decided and what it measured."""
    if finding.decided_by == "local_features":
        detail = (f"pencocokan fitur lokal (ORB + RANSAC): {finding.inliers} titik cocok, selisih median "
                  f"{finding.reprojection_px} px / local-feature match (ORB + RANSAC): {finding.inliers} "
                  f"inliers, median error {finding.reprojection_px} px")
    else:
        share = round(100 * finding.same_area)
        detail = (f"struktur sama (SSIM) setelah disejajarkan pada {share}% area / aligned structure (SSIM): "
                  f"{share} % of the overlap is the same picture")
    if finding.mirrored:
        detail += " (dicerminkan / mirrored)"
    return Reason(code="edited_copy", message=f"{REASONS['edited_copy'][1]} [{detail}]")


def _decoded(jpeg: bytes, policy: CopyPolicy) -> np.ndarray:
    with Image.open(io.BytesIO(jpeg)) as image:
        image.draft("L", (policy.work_side, policy.work_side))  # libjpeg's DCT scaling: a cheap decode
        return grey_for_comparison(np.asarray(image.convert("L")), policy)


def grey_for_comparison(rgb: np.ndarray, policy: CopyPolicy) -> np.ndarray:
    """A uint8 grey image with at most the policy's long side (the form both photos are compared in)."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    scale = policy.work_side / max(grey.shape[:2])
    if scale < 1:
        size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(grey, dtype=np.uint8)


def compare_to_complaint(complaint: np.ndarray, proof: np.ndarray, policy: CopyPolicy) -> CopyFinding:
    """Whether `proof` (RGB or grey, uint8) is the complaint photo or an edit of it.

    A mirrored copy is checked too: ORB descriptors are not mirror-invariant.
    """
    original = grey_for_comparison(complaint, policy)
    candidate = grey_for_comparison(proof, policy)
    orb = cv2.ORB.create(nfeatures=policy.max_features)
    keys_a, desc_a = orb.detectAndCompute(original, None)
    best = CopyFinding(derived=False)
    for mirrored in (False, True):
        image = np.ascontiguousarray(candidate[:, ::-1]) if mirrored else candidate
        finding = _compare(original, keys_a, desc_a, image, orb, policy, mirrored=mirrored)
        if finding.derived:
            return finding
        if (finding.inliers, finding.same_area) > (best.inliers, best.same_area):
            best = finding
    return best


def _compare(original: np.ndarray, keys_a: Sequence[cv2.KeyPoint], desc_a: np.ndarray | None,
             candidate: np.ndarray, orb: cv2.ORB, policy: CopyPolicy, *, mirrored: bool) -> CopyFinding:
    keys_b, desc_b = orb.detectAndCompute(candidate, None)
    if desc_a is None or desc_b is None or len(desc_a) < 2 or len(desc_b) < 2:
        return CopyFinding(derived=False, mirrored=mirrored)
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(desc_b, desc_a, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < policy.ratio * p[1].distance]
    if len(good) < policy.min_inliers:
        return CopyFinding(derived=False, matches=len(good), mirrored=mirrored)
    source = np.array([keys_b[m.queryIdx].pt for m in good], dtype=np.float32).reshape(-1, 1, 2)
    target = np.array([keys_a[m.trainIdx].pt for m in good], dtype=np.float32).reshape(-1, 1, 2)
    homography, mask = cv2.findHomography(source, target, cv2.RANSAC, policy.ransac_px)
    inliers = int(mask.sum()) if mask is not None else 0
    if homography is None or inliers < policy.min_inliers:
        return CopyFinding(derived=False, inliers=inliers, matches=len(good), mirrored=mirrored)
    inlying = mask.ravel().astype(bool)
    errors = np.linalg.norm(cv2.perspectiveTransform(source[inlying], homography) - target[inlying], axis=2)
    base = {"inliers": inliers, "matches": len(good), "mirrored": mirrored,
            "reprojection_px": round(float(np.median(errors)), 3)}
    if inliers >= policy.exact_inliers and base["reprojection_px"] <= policy.exact_px:
        return CopyFinding(derived=True, decided_by="local_features", **base)
    same = _same_area(original, candidate, homography, policy)
    return CopyFinding(derived=same >= policy.same_area, decided_by="aligned_structure"
                       if same >= policy.same_area else None, same_area=round(same, 3), **base)


def _same_area(original: np.ndarray, candidate: np.ndarray, homography: np.ndarray, policy: CopyPolicy) -> float:
    """Share of the textured overlap where the aligned pair is structurally one picture.

    The sharper image is blurred and warped onto the frame of the smaller-scale one (comparing
    a downscaled copy with its source at the source's resolution would count lost detail as a
    difference). When the features' alignment alone does not show a copy, it is refined with
    ECC (a partial edit or a rescale leaves the homography a pixel or two off) and measured again.
    """
    scale = float(np.sqrt(abs(np.linalg.det(homography[:2, :2]))))  # candidate pixel -> original pixels
    if scale > 1:  # the candidate is the smaller one: bring the original onto it
        reference, moving, warp = candidate, original, np.linalg.inv(homography)
    else:
        reference, moving, warp, scale = original, candidate, homography, 1 / scale
    moving_f: np.ndarray = moving.astype(np.float32)
    if scale > 1.2:
        moving_f = cv2.GaussianBlur(moving_f, (0, 0), 0.5 * scale)
    reference_f = reference.astype(np.float32)
    same = _measure(reference_f, moving_f, warp, policy)
    if same >= policy.same_area or policy.ecc_iterations == 0:
        return same
    try:
        # ECC's warp maps the reference's coordinates into the moving image's: the inverse.
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, policy.ecc_iterations, 1e-5)
        start = np.linalg.inv(warp / warp[2, 2]).astype(np.float32)
        # No mask (None): OpenCV's stubs type only the masked form of the call with a filter size.
        _, refined = cv2.findTransformECC(reference_f, moving_f, start, cv2.MOTION_HOMOGRAPHY, criteria,  # type: ignore[call-overload]
                                          None, 5)
    except cv2.error:  # no convergence: the features' alignment stands
        return same
    return max(same, _measure(reference_f, moving_f, np.linalg.inv(refined), policy))


def _measure(reference: np.ndarray, moving: np.ndarray, warp: np.ndarray, policy: CopyPolicy) -> float:
    height, width = reference.shape
    warped = cv2.warpPerspective(moving, warp, (width, height), flags=cv2.INTER_LINEAR)
    footprint = cv2.warpPerspective(np.full(moving.shape, 255, np.uint8), warp, (width, height),
                                    flags=cv2.INTER_NEAREST)
    inside = cv2.erode(footprint, np.ones((9, 9), np.uint8)) > 0  # no window straddling the border
    structure, spread = _contrast_structure(reference, warped)
    # Flat windows (sky, a plain wall) are alike in any two photos: only textured ones count.
    textured = inside & (spread > 4.0)
    counted = int(textured.sum())
    if counted < 0.02 * height * width:
        return 0.0
    return float((structure[textured] >= policy.window_ssim).sum()) / counted


def _contrast_structure(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SSIM's contrast-structure term per pixel over 7x7 Gaussian windows, and a's local spread."""
    c2 = (0.03 * 255) ** 2  # Wang et al. 2004's constant

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (7, 7), 1.5)

    mu_a, mu_b = blur(a), blur(b)
    var_a = np.maximum(blur(a * a) - mu_a * mu_a, 0)
    var_b = np.maximum(blur(b * b) - mu_b * mu_b, 0)
    cov = blur(a * b) - mu_a * mu_b
    return (2 * cov + c2) / (var_a + var_b + c2), np.sqrt(var_a)
