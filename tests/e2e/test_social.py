"""#20 on the emulators: duplicates while reporting, nearby, "my reports", a private report absent
from every public answer, Open311's area filter and media_url."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from tests.e2e.test_pipeline import fresh_photo, report_body, submit_with_photo
from tests.support.places import kelurahan_point

M_PER_DEG = 111_320.0
# Kelurahan no other e2e test reports in, and a category of its own: suggestions here are ours.
PLACE = "Mattoangin"
CATEGORY = "lampu_jalan"


def headers(token):
    return {"Authorization": f"Bearer {token}"}


def settled_report(client, token, *, lat, lon, category=CATEGORY, **extra) -> str:
    taken = datetime.now(UTC) - timedelta(minutes=1)
    body = report_body(lat, lon, category=category, taken_at=taken, **extra)
    report_id = submit_with_photo(client, token, body, fresh_photo(lat, lon, seed=uuid.uuid4().int,
                                                                   taken_at=taken))
    report = client.wait_report(report_id)
    assert report["status"] in ("routed", "forwarded", "triage"), report
    assert report["photo"]["verdict"] == "accepted" and report["geohash"]
    return report_id


def nearby(client, token, lat, lon, **params):
    response = client.http.get(client.function_url("nearby_reports"), headers=headers(token), timeout=30,
                               params={"lat": lat, "lon": lon, "radius_m": 300, **params})
    assert response.status_code == 200, response.text
    return response.json()


def open311(client, path, **params):
    response = client.http.get(client.function_url("open311") + path, params=params, timeout=30)
    return response


@pytest.fixture(scope="module")
def first(client, citizen):
    lat, lon, _ = kelurahan_point(PLACE)
    return settled_report(client, citizen[1], lat=lat, lon=lon), lat, lon


def test_a_second_resident_40_m_away_gets_the_first_report_suggested(client, first):
    report_id, lat, lon = first
    _, other = client.sign_in(f"tetangga.{uuid.uuid4().hex[:8]}@example.com")
    response = client.submit(other, report_body(lat + 40 / M_PER_DEG, lon, category=CATEGORY))
    assert response.status_code == 201, response.text  # suggested, never blocked
    body = response.json()
    assert body["report_id"] != report_id and client.report(body["report_id"]) is not None
    suggested = {s["report_id"]: s for s in body["possible_duplicates"]}
    assert report_id in suggested, body["possible_duplicates"]
    assert 30 <= suggested[report_id]["distance_m"] <= 50
    assert suggested[report_id]["thumbnail_url"]


def test_nearby_shows_the_report_with_an_exif_free_thumbnail_link(client, citizen, first):
    report_id, lat, lon = first
    _, other = client.sign_in(f"pejalan.{uuid.uuid4().hex[:8]}@example.com")
    found = nearby(client, other, lat, lon, category=CATEGORY)
    [shown] = [r for r in found["reports"] if r["report_id"] == report_id]
    assert found["reads"] >= 1 and shown["distance_m"] < 1 and shown["public_status"] == "open"
    assert citizen[0] not in str(found)
    thumbnail = client.http.get(shown["thumbnail_url"], timeout=30)
    assert thumbnail.status_code == 200
    image = Image.open(io.BytesIO(thumbnail.content))
    assert image.format == "JPEG" and not image.getexif()
    # Open311 shows the same thumbnail as media_url, and finds the report by its area
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    listed = {r["service_request_id"]: r for r in open311(client, "requests.json", bbox=box).json()}
    assert listed[report_id]["media_url"]
    circle = open311(client, "requests.json", lat=lat, long=lon, radius=100).json()
    assert report_id in {r["service_request_id"] for r in circle}


def test_list_my_reports_pages_newest_first(client):
    _, token = client.sign_in(f"pelapor.{uuid.uuid4().hex[:8]}@example.com")
    lat, lon, _ = kelurahan_point("Karuwisi")
    ids = []
    for n in range(3):
        response = client.submit(token, report_body(lat + n / M_PER_DEG, lon, category="sampah"))
        assert response.status_code == 201, response.text
        ids.append(response.json()["report_id"])
    url = client.function_url("list_my_reports")
    page1 = client.http.get(url, params={"limit": 2}, headers=headers(token), timeout=30).json()
    assert [r["report_id"] for r in page1["reports"]] == [ids[2], ids[1]] and page1["next_cursor"]
    page2 = client.http.get(url, params={"limit": 2, "cursor": page1["next_cursor"]}, headers=headers(token),
                            timeout=30).json()
    assert [r["report_id"] for r in page2["reports"]] == [ids[0]] and page2["next_cursor"] is None
    waiting = client.http.get(url, params={"status": "awaiting_photo"}, headers=headers(token), timeout=30).json()
    assert len(waiting["reports"]) == 3
    assert client.http.get(url, params={"status": "closed"}, headers=headers(token), timeout=30).json()["reports"] == []


def test_a_private_report_is_absent_from_every_public_answer(client, first):
    _, token = client.sign_in(f"rahasia.{uuid.uuid4().hex[:8]}@example.com")
    _, lat, lon = first
    lat += 20 / M_PER_DEG
    report_id = settled_report(client, token, lat=lat, lon=lon)
    assert report_id in str(nearby(client, token, lat, lon))
    moved = client.act(token, {"report_id": report_id, "action": "make_private",
                               "expected_status": client.report(report_id)["status"]})
    assert moved.status_code == 200, moved.text
    assert client.report(report_id)["private"] is True and client.report(report_id)["open311_listing"] == []
    _, other = client.sign_in(f"tetangga2.{uuid.uuid4().hex[:8]}@example.com")
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    answers = [str(nearby(client, other, lat, lon)), str(nearby(client, other, lat, lon, category=CATEGORY)),
               open311(client, "requests.json").text, open311(client, "requests.json", bbox=box).text,
               open311(client, "requests.json", service_request_id=report_id).text,
               open311(client, "requests.json", updated_after="2026-01-01T00:00:00Z").text,
               client.submit(other, report_body(lat, lon, category=CATEGORY)).text]
    assert not [a for a in answers if report_id in a]
    assert open311(client, f"requests/{report_id}.json").status_code == 404
    # still the reporter's own, and still in the assignee's queue with its photo
    mine = client.http.get(client.function_url("list_my_reports"), headers=headers(token), timeout=30).json()
    assert [r["report_id"] for r in mine["reports"]] == [report_id]
    staff = client.db.collection("staff_reports").document(report_id).get().to_dict()
    assert staff["private"] is True and staff["photo"]["thumbnail_object"]
