"""Issue 21 on the emulators: staff see their report's photos through signed links, and a proof
made from the complaint photo itself is refused, saying why."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import requests
from PIL import Image

from keluhan.devstack.proof_set import edited_copy_jpeg, photograph_jpeg
from keluhan.devstack.sample_photos import exif_bytes
from tests.e2e.test_handling import act, dishub, operator, pu, routed_pothole, step  # noqa: F401
from tests.e2e.test_pipeline import report_body, submit_with_photo
from tests.support.places import kelurahan_point


def links(client, token, report_id) -> requests.Response:
    return client.http.get(client.function_url("photo_links"), params={"report_id": report_id},
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_dinas_pu_staff_get_working_photo_links_and_other_skpd_and_citizens_do_not(
        client, citizen, pu, dishub, operator):  # noqa: F811
    report_id, _ = routed_pothole(client, citizen[1])
    response = links(client, pu, report_id)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [link["kind"] for link in answer] == ["photo", "thumbnail"]
    assert "incoming/" not in response.text  # the reporter's original never leaves the bucket
    for link in answer:
        expires = datetime.fromisoformat(link["expires_at"])
        assert datetime.now(UTC) < expires <= datetime.now(UTC) + timedelta(minutes=15)
        served = requests.get(link["url"], timeout=30)  # the signed URL itself, as a phone would fetch it
        assert served.status_code == 200, served.text[:200]
        image = Image.open(io.BytesIO(served.content))
        assert image.format == "JPEG" and not image.getexif()  # the EXIF-free copy
    assert max(Image.open(io.BytesIO(requests.get(answer[1]["url"], timeout=30).content)).size) <= 320

    assert links(client, operator[1], report_id).status_code == 200
    other = links(client, dishub, report_id)
    assert other.status_code == 403 and other.json()["error"]["field"] == "report_id"
    assert links(client, citizen[1], report_id).status_code == 404  # citizens read get_report


def test_an_edited_copy_of_the_complaint_photo_is_refused_as_proof_with_its_reason(client, citizen, pu):  # noqa: F811
    lat, lon, _ = kelurahan_point("Bontorannu")
    taken = datetime.now(UTC) - timedelta(minutes=1)
    complaint = photograph_jpeg("motorcycle_left", exif=exif_bytes(taken_at=taken, lat=lat, lon=lon))
    body = report_body(lat, lon, street="Jl. Landak Baru", taken_at=taken)
    report_id = submit_with_photo(client, citizen[1], body, complaint)
    report = client.wait_report(report_id)
    assert report["status"] == "routed" and report["assignee"] == "dinas-pu", report
    act(client, pu, report_id, "accept", "routed")
    act(client, pu, report_id, "start", "accepted")
    upload = act(client, pu, report_id, "resolve", "in_progress", note="Sudah ditambal / Patched")["upload"]
    step(client, report_id, "resolving", "resolve", "skpd:dinas-pu")

    # Fresh camera EXIF, GPS on the spot: only the pixels give it away (cropped, erased, recoloured).
    fake = edited_copy_jpeg(complaint, exif=exif_bytes(taken_at=datetime.now(UTC), lat=lat, lon=lon))
    assert client.upload_photo(upload, fake).status_code in (200, 201)
    report = client.wait_report(report_id, lambda r: r["status"] in ("resolved", "in_progress"), timeout_s=60)
    assert report["status"] == "in_progress", report["resolution"]
    step(client, report_id, "in_progress", "proof_rejected", "verify_photo")
    reasons = {r["code"]: r["message"] for r in report["resolution"]["reasons"]}
    assert list(reasons) == ["edited_copy"], reasons
    assert "ORB + RANSAC" in reasons["edited_copy"] or "SSIM" in reasons["edited_copy"]
    view = client.get_report(citizen[1], report_id).json()  # the reporter is told why
    assert "suntingan foto laporan" in view["timeline"][-1]["note"]
    assert [link["kind"] for link in links(client, pu, report_id).json()] == ["photo", "thumbnail"]
