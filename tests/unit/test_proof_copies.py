"""Proof photos that are hard to fake (issue 21): an edit of the complaint photo, or a file with no
camera EXIF, is refused, and the finding says which check decided."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import imagehash
import numpy as np
import piexif
import pytest
from PIL import Image

from keluhan.devstack.proof_set import EDITS, crop, edited_copy_jpeg, photograph_jpeg, photographs
from keluhan.devstack.sample_photos import encode, exif_bytes, make_image
from keluhan.domain.photo import PhotoPolicy
from keluhan.domain.photo.copy_check import CopyPolicy, compare_to_complaint
from keluhan.domain.photo.exif import has_camera_exif, read_exif
from keluhan.usecases.photo import object_from_notification, verify_uploaded_photo
from keluhan.usecases.pipeline import locate_report, route_report
from tests.unit.test_handling import LAT, LON, PU, FixedLocator, World, stored

POLICY = CopyPolicy()
WHEN = datetime(2026, 12, 5, 9, 30)


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    return photographs()


@pytest.mark.parametrize("edit", ["erase_35", "paint_over_25", "crop_70_centre", "hue_shift", "recompress_q25",
                                  "rescale_50_q70", "rotate_4", "mirror", "crop_erase_hue_q50"])
def test_an_edit_of_a_real_photograph_is_found_to_be_a_copy(photos, edit):
    street = photos["motorcycle_left"]
    finding = compare_to_complaint(street, EDITS[edit](street, np.random.default_rng(3)), POLICY)
    assert finding.derived and finding.decided_by in ("local_features", "aligned_structure"), finding


def test_an_exact_pixel_edit_is_decided_by_local_features_and_a_rescale_by_aligned_structure(photos):
    street = photos["motorcycle_left"]
    erased = compare_to_complaint(street, EDITS["erase_35"](street, np.random.default_rng(1)), POLICY)
    assert erased.decided_by == "local_features" and erased.reprojection_px is not None
    assert erased.reprojection_px <= POLICY.exact_px
    rescaled = compare_to_complaint(street, EDITS["rescale_50_q70"](street, np.random.default_rng(1)), POLICY)
    assert rescaled.decided_by == "aligned_structure" and rescaled.same_area >= POLICY.same_area


def test_the_same_street_seen_from_another_place_is_no_copy(photos):
    """The stereo rig's other camera: hundreds of matching features, but not one picture."""
    left, right = photos["motorcycle_left"], photos["motorcycle_right"]
    for complaint, proof in ((left, right), (right, left), (crop(left, 0.7), crop(right, 0.7))):
        finding = compare_to_complaint(complaint, proof, POLICY)
        assert finding.inliers >= POLICY.min_inliers and not finding.derived, finding
        assert finding.same_area < POLICY.same_area


def test_other_photographs_of_the_same_kind_of_surface_are_no_copies(photos):
    for a, b in (("grass", "gravel"), ("brick", "gravel"), ("astronaut", "coffee")):
        assert not compare_to_complaint(photos[a], photos[b], POLICY).derived
    h, w = photos["gravel"].shape[:2]
    assert not compare_to_complaint(photos["gravel"][:, : w // 2], photos["gravel"][:, w - w // 2:], POLICY).derived


def test_an_edited_copy_escapes_the_phash_but_not_the_copy_check():
    complaint = photograph_jpeg("motorcycle_left", exif=exif_bytes(taken_at=WHEN, lat=LAT, lon=LON))
    proof = edited_copy_jpeg(complaint, exif=exif_bytes(taken_at=WHEN, lat=LAT, lon=LON))
    hashes = [imagehash.phash(Image.open(io.BytesIO(b)).convert("RGB").resize((320, 240))) for b in (complaint, proof)]
    assert hashes[0] - hashes[1] > PhotoPolicy().reuse_max_distance  # today's check alone lets it through
    pixels = [np.asarray(Image.open(io.BytesIO(b)).convert("RGB")) for b in (complaint, proof)]
    assert compare_to_complaint(pixels[0], pixels[1], POLICY).derived
    other = np.asarray(Image.open(io.BytesIO(photograph_jpeg("motorcycle_right", exif=b""))))
    assert not compare_to_complaint(pixels[0], other, POLICY).derived


def _exif_without(tag_ifd: str, tag: int) -> bytes:
    loaded = piexif.load(exif_bytes(taken_at=WHEN, lat=LAT, lon=LON))
    del loaded[tag_ifd][tag]
    return piexif.dump(loaded)


@pytest.mark.parametrize("exif, expected", [
    (exif_bytes(taken_at=WHEN, lat=LAT, lon=LON), True),
    (_exif_without("0th", piexif.ImageIFD.Make), False),
    (_exif_without("0th", piexif.ImageIFD.Model), False),
    (_exif_without("Exif", piexif.ExifIFD.DateTimeOriginal), False),
    (b"", False),
])
def test_camera_exif_is_make_model_and_the_original_capture_time(exif, expected):
    data = encode(make_image(width=64, height=48), "JPEG", **({"exif": exif} if exif else {}))
    assert has_camera_exif(read_exif(Image.open(io.BytesIO(data)))) is expected


def _proof(world: World, report_id: str, data: bytes) -> dict:
    return _upload(world, f"resolution/{report_id}/1", data)


def _upload(world: World, name: str, data: bytes) -> dict:
    world.photos.objects[name] = data
    attributes = {"eventType": "OBJECT_FINALIZE", "bucketId": "b", "objectId": name, "objectGeneration": "1"}
    return stored(verify_uploaded_photo(object_from_notification(attributes, b""), bucket="b", reports=world.reports,
                                        photos=world.photos, photo_index=world.index, publish=world.publish,
                                        clock=world.clock, policy=PhotoPolicy(), reopen_window=timedelta(days=7)))


def _resolving(world: World, complaint: bytes | None = None) -> str:
    if complaint is None:
        report_id = world.routed()
    else:  # the complaint photo is a real photograph: World.routed with its own upload
        report_id = world.submit()
        _upload(world, f"incoming/{report_id}/photo", complaint)
        locate_report(report_id, reports=world.reports, geo=FixedLocator(), publish=world.publish, clock=world.clock)
        route_report(report_id, reports=world.reports, decide=world.decide, publish=world.publish, clock=world.clock)
        world.clock.advance(hours=1)
    for action in ("accept", "start", "resolve"):
        world.act(report_id, action, PU)
    world.clock.advance(minutes=30)
    return report_id


def test_an_edited_copy_of_the_complaint_photo_is_refused_saying_which_check_decided():
    world = World()
    complaint = photograph_jpeg("motorcycle_left", exif=exif_bytes(taken_at=world.clock() - timedelta(minutes=1),
                                                                     lat=LAT, lon=LON))
    report_id = _resolving(world, complaint)
    assert world.reports.docs[report_id]["photo"]["verdict"] == "accepted"
    taken = world.clock() - timedelta(minutes=1)
    report = _proof(world, report_id, edited_copy_jpeg(complaint, exif=exif_bytes(taken_at=taken, lat=LAT, lon=LON)))
    assert report["status"] == "in_progress" and report["resolution"]["verdict"] == "rejected"
    reasons = {r["code"]: r["message"] for r in report["resolution"]["reasons"]}
    assert list(reasons) == ["edited_copy"]  # fresh, on the spot, camera EXIF: only the copy check refuses it
    assert "ORB + RANSAC" in reasons["edited_copy"] or "SSIM" in reasons["edited_copy"]
    assert "suntingan foto laporan" in report["timeline"][-1]["note"]
    assert report["resolution"].get("clean_object") is None  # nothing of a refused proof is kept for display
    assert not any(key.endswith(".proof") for key in world.index.docs)


def test_a_genuine_after_photo_still_resolves():
    """(The stereo pair's other view is within 8 bits of pHash of this one: today's reuse check
    already refuses a re-shot from a hand's breadth away, so the "after" here is a gravel surface.)"""
    world = World()
    exif = exif_bytes(taken_at=world.clock() - timedelta(minutes=1), lat=LAT, lon=LON)
    report_id = _resolving(world, photograph_jpeg("motorcycle_left", exif=exif))
    taken = world.clock() - timedelta(minutes=1)
    report = _proof(world, report_id, photograph_jpeg("gravel",
                                                      exif=exif_bytes(taken_at=taken, lat=LAT, lon=LON)))
    assert report["status"] == "resolved", report["resolution"]


def test_a_proof_without_camera_exif_is_refused():
    world = World()
    report_id = _resolving(world)
    taken = world.clock() - timedelta(minutes=1)
    loaded = piexif.load(exif_bytes(taken_at=taken, lat=LAT, lon=LON))
    del loaded["0th"][piexif.ImageIFD.Make], loaded["0th"][piexif.ImageIFD.Model]
    data = encode(make_image(seed=4343), "JPEG", exif=piexif.dump(loaded), quality=85)
    report = _proof(world, report_id, data)
    assert report["status"] == "in_progress"
    assert [r["code"] for r in report["resolution"]["reasons"]] == ["no_camera_exif"]
