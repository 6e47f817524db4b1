"""The photo-arrival use case with fake ports: dedupe on bucket/object#generation, verdict → status."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from keluhan.devstack.sample_photos import make_jpeg
from keluhan.domain.photo import PhotoPolicy
from keluhan.domain.report import SubmitReport
from keluhan.domain.workflow import Actor, Role
from keluhan.usecases.photo import object_from_notification, verify_uploaded_photo
from keluhan.usecases.submission import PhotoUploadPolicy, submit_report
from tests.support.fakes import FakeClock, FakePhotoIndex, FakePhotoStore, FakePublisher, FakeReports, stored

LAT, LON = -5.162247, 119.40421


@pytest.fixture
def world():
    return FakeReports(), FakePhotoStore(), FakePhotoIndex(), FakePublisher(), FakeClock()


def submitted(world, report_id: str, taken_offset=timedelta(minutes=-2)) -> dict:
    reports, photos, _, publish, clock = world
    cmd = SubmitReport(client_id=f"client-{report_id}", category="jalan_rusak", description="Lubang",
                       lat=LAT, lon=LON, accuracy_m=5, photo_taken_at=clock() + taken_offset)
    policy = PhotoUploadPolicy(url_ttl=timedelta(minutes=15), wait=timedelta(hours=24), max_bytes=10**7)
    return submit_report(cmd, actor=Actor(Role.WARGA, "u1"), reports=reports, publish=publish,
                         photos=photos, clock=clock, new_id=lambda: report_id, policy=policy).report


def notification(report_id: str, generation: int = 1):
    attributes = {"eventType": "OBJECT_FINALIZE", "bucketId": "b", "objectId": f"incoming/{report_id}/photo",
                  "objectGeneration": str(generation), "payloadFormat": "JSON_API_V1"}
    data = json.dumps({"kind": "storage#object", "bucket": "b", "name": f"incoming/{report_id}/photo",
                       "generation": str(generation), "contentType": "image/jpeg"}).encode()
    return object_from_notification(attributes, data)


def arrive(world, report_id: str, photo: bytes, generation: int = 1):
    reports, photos, index, publish, clock = world
    photos.objects[f"incoming/{report_id}/photo"] = photo
    return stored(verify_uploaded_photo(notification(report_id, generation), bucket="b", reports=reports, photos=photos,
                                 photo_index=index, publish=publish, clock=clock, policy=PhotoPolicy()))


def test_fresh_photo_verifies_the_report_and_publishes_acceptance(world):
    reports, photos, _, publish, clock = world
    submitted(world, "r1")
    report = arrive(world, "r1", make_jpeg(taken_at=clock() - timedelta(minutes=2), lat=LAT, lon=LON, seed=1))
    assert report["status"] == "verified" and report["photo"]["verdict"] == "accepted"
    assert report["photo"]["event"] == "b/incoming/r1/photo#1"
    assert publish.stage_topics() == ["report-accepted"]
    clean = photos.objects[report["photo"]["clean_object"]]
    assert b"Exif" not in clean[:4096]


def test_same_generation_twice_is_verified_once_and_republished(world):
    reports, _, _, publish, clock = world
    submitted(world, "r1")
    photo = make_jpeg(taken_at=clock() - timedelta(minutes=2), lat=LAT, lon=LON, seed=1)
    first = arrive(world, "r1", photo)
    again = arrive(world, "r1", photo)
    assert again == first
    assert publish.stage_topics() == ["report-accepted", "report-accepted"]


def test_stale_photo_rejects_the_report_and_publishes_nothing(world):
    _, _, _, publish, clock = world
    submitted(world, "r1", taken_offset=timedelta(days=-7))
    report = arrive(world, "r1", make_jpeg(taken_at=clock() - timedelta(days=7), lat=LAT, lon=LON, seed=1))
    assert report["status"] == "photo_rejected"
    assert "stale" in [r["code"] for r in report["photo"]["reasons"]]
    assert publish.stage_topics() == [] and "clean_object" not in report["photo"]
    assert publish.status_changes()[-1] == ("awaiting_photo", "photo_rejected")


def test_same_photo_under_another_report_is_rejected_as_reused(world):
    _, _, _, _, clock = world
    photo = make_jpeg(taken_at=clock() - timedelta(minutes=2), lat=LAT, lon=LON, seed=5)
    submitted(world, "r1")
    arrive(world, "r1", photo)
    submitted(world, "r2")
    report = arrive(world, "r2", photo)
    assert report["photo"]["verdict"] == "rejected"
    assert "reused" in [r["code"] for r in report["photo"]["reasons"]]


def test_photo_after_the_deadline_expires_the_report(world):
    _, _, _, publish, clock = world
    submitted(world, "r1")
    clock.advance(hours=25)
    report = arrive(world, "r1", make_jpeg(taken_at=clock(), lat=LAT, lon=LON, seed=1))
    assert report["status"] == "photo_expired" and publish.stage_topics() == []
    assert publish.status_changes()[-1] == ("awaiting_photo", "photo_expired")


def test_oversized_upload_is_rejected_as_too_large_without_reading_it(world):
    submitted(world, "r1")
    report = arrive(world, "r1", b"\xff\xd8" + b"0" * (PhotoPolicy().max_bytes + 1))
    assert report["status"] == "photo_rejected"
    assert [r["code"] for r in report["photo"]["reasons"]] == ["too_large"]


def test_derivatives_are_named_per_generation(world):
    _, photos, _, _, clock = world
    submitted(world, "r1")
    report = arrive(world, "r1", make_jpeg(taken_at=clock(), lat=LAT, lon=LON, seed=2), generation=7)
    assert report["photo"]["clean_object"] == "derived/r1/7/photo.jpg"
    assert report["photo"]["thumbnail_object"] in photos.objects


def test_other_storage_events_are_ignored():
    assert object_from_notification({"eventType": "OBJECT_DELETE"}, b"{}") is None


def test_sweep_expires_only_reports_whose_photo_is_overdue(world):
    from keluhan.usecases.sweep import sweep

    reports, _, _, publish, clock = world

    def expire_overdue_reports(**kw):
        return sweep(publish=publish, **kw)["photo_expired"]

    submitted(world, "late")
    clock.advance(hours=20)
    submitted(world, "recent")
    clock.advance(hours=5)
    assert expire_overdue_reports(reports=reports, clock=clock) == 1
    assert reports.docs["late"]["status"] == "photo_expired"
    assert reports.docs["late"]["timeline"][-1]["status"] == "photo_expired"
    assert reports.docs["recent"]["status"] == "awaiting_photo"
    assert expire_overdue_reports(reports=reports, clock=clock) == 0
