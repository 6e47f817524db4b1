"""Issue 23, low findings in the domain and the logs: capture years bounded, trace ids hex only."""

from __future__ import annotations

import io

import flask
from PIL import Image

from keluhan.devstack.sample_photos import make_jpeg
from keluhan.domain.photo.exif import capture_time, read_exif
from keluhan.logs import _trace_id


def _with_capture(text: str, offset: str) -> Image.Image:
    image = Image.open(io.BytesIO(make_jpeg(taken_at=None, lat=None, lon=None, width=64, height=48)))
    exif = image.getexif()
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003], ifd[0x9011] = text, offset
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return Image.open(io.BytesIO(out.getvalue()))


def test_a_capture_year_of_0001_at_plus_14_is_no_capture_time_not_a_crash():
    for text, offset in (("0001:01:01 00:00:00", "+14:00"), ("9999:12:31 23:59:59", "-12:00")):
        taken = capture_time(read_exif(_with_capture(text, offset)))
        assert taken is None
    taken = capture_time(read_exif(_with_capture("2026:11:30 10:00:00", "+08:00")))
    assert taken is not None and taken.year == 2026


def test_trace_ids_are_hex_only():
    app = flask.Flask(__name__)
    for header, expected in (("105445aa7843bc8bf206b12000100000/1;o=1", "105445aa7843bc8bf206b12000100000"),
                             ("٣٤٥ab/1", None), ("abcXYZ/1", None), ("a" * 40 + "/1", None)):
        with app.test_request_context(headers={"X-Cloud-Trace-Context": header}):
            assert _trace_id() == expected, header


def _submit(reports, publish, clock):
    from datetime import timedelta

    from keluhan.domain.report import SubmitReport
    from keluhan.domain.workflow import Actor, Role
    from keluhan.usecases.submission import PhotoUploadPolicy, submit_report
    from tests.support.fakes import FakePhotoStore

    cmd = SubmitReport(client_id="client-0001", category="kebakaran", description="Api di pasar", lat=-5.14,
                       lon=119.41, accuracy_m=5)  # no photo needed: ReportAccepted at once
    policy = PhotoUploadPolicy(url_ttl=timedelta(minutes=15), wait=timedelta(hours=24), max_bytes=10**7)
    return submit_report(cmd, actor=Actor(Role.WARGA, "siti"), reports=reports, publish=publish,
                         photos=FakePhotoStore(), clock=clock, new_id=lambda: "r-retry", policy=policy)


def test_a_retry_with_the_same_client_id_publishes_again_only_if_the_first_publish_failed():
    import pytest

    from tests.support.fakes import FakeClock, FakePublisher, FakeReports

    reports, publish, clock = FakeReports(), FakePublisher(), FakeClock()
    publish.fail_next = 1  # the first attempt stores the report, then its publish fails
    with pytest.raises(ConnectionError):
        _submit(reports, publish, clock)
    _submit(reports, publish, clock)  # the client's retry completes the announcement
    announced = list(publish.messages)
    assert [t for t, _, _ in announced] == ["report-status-changed", "report-accepted"]
    for _ in range(20):
        assert _submit(reports, publish, clock).report.report_id == "r-retry"
    assert publish.messages == announced  # 20 more retries: nothing published again


def test_jpeg_scans_are_counted_past_stray_bytes_as_libjpeg_reads_them():
    from keluhan.domain.photo.structure import jpeg_scan_count

    data = make_jpeg(taken_at=None, lat=None, lon=None, width=64, height=48, progressive=True)
    scans = jpeg_scan_count(data)
    assert scans > 1
    app0_end = 4 + int.from_bytes(data[4:6], "big")  # SOI, then APP0 and its length
    stray = data[:app0_end] + b"\x00\x13\x37" + data[app0_end:]
    Image.open(io.BytesIO(stray)).load()  # libjpeg skips the stray bytes and decodes every scan
    assert jpeg_scan_count(stray) == scans


def test_a_resolved_reports_proof_link_is_signed_once_not_per_read():
    from datetime import UTC, datetime, timedelta

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage
    from google.oauth2 import service_account

    from keluhan.adapters.photo_store import GcsPhotoStore

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    signer = service_account.Credentials.from_service_account_info(
        {"type": "service_account", "client_email": "photos@demo-keluhan.iam.gserviceaccount.com",
         "private_key": pem, "token_uri": "https://oauth2.googleapis.com/token", "project_id": "demo-keluhan"})
    signed = []
    sign_bytes = signer.sign_bytes
    signer.sign_bytes = lambda message: signed.append(message) or sign_bytes(message)
    now = [datetime(2026, 12, 5, 9, tzinfo=UTC)]
    store = GcsPhotoStore(storage.Client(project="demo-keluhan", credentials=AnonymousCredentials()), "b",
                          signing_credentials=signer, clock=lambda: now[0])
    name = "derived/r1/resolution/1/7/photo.jpg"
    first = store.download_url(name, expires_at=now[0] + timedelta(hours=1))
    for minutes in (1, 10, 29):  # 100 reads in the first half hour: the same link
        now[0] = datetime(2026, 12, 5, 9, minutes, tzinfo=UTC)
        assert store.download_url(name, expires_at=now[0] + timedelta(hours=1)) == first
    assert len(signed) == 1
    now[0] = datetime(2026, 12, 5, 9, 31, tzinfo=UTC)  # less than half an hour left: a fresh link
    store.download_url(name, expires_at=now[0] + timedelta(hours=1))
    assert len(signed) == 2
