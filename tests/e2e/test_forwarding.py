"""Forwarding on the emulators: Pub/Sub redelivery, one Idempotency-Key, dead letters and replay."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import requests
from google.cloud.firestore import FieldFilter
from PIL import Image

from keluhan.cli import main as keluhan
from keluhan.devstack.client import wait_for
from keluhan.devstack.receiver import ReceiverClient
from tests.e2e.test_pipeline import fresh_photo, report_body, submit_with_photo
from tests.support.places import kelurahan_point


@pytest.fixture
def receiver(client):
    receiver = ReceiverClient(client.config.receiver.url)
    yield receiver
    receiver.set_mode("accept")


def provincial_pothole(client, caller, *, with_photo: bool = False) -> str:
    """With a citizen's photo, or (no photo) from Call Center 112."""
    _, token = caller
    lat, lon, _ = kelurahan_point("Karuwisi")
    if with_photo:
        taken = datetime.now(UTC) - timedelta(minutes=1)
        body = report_body(lat, lon, street="Jl. Hertasning", taken_at=taken)
        return submit_with_photo(client, token, body, fresh_photo(lat, lon, seed=31, taken_at=taken))
    response = client.submit(token, report_body(lat, lon, street="Jl. Hertasning", channel="call_center_112"))
    assert response.status_code == 201, response.text
    return response.json()["report_id"]


def records_for(receiver, report_id):
    return [r for r in receiver.received("baruga") if r["key"].startswith(f"keluhan:{report_id}:")]


def test_pothole_on_provincial_road_reaches_baruga_once_despite_two_failures(client, citizen, receiver):
    receiver.set_mode("fail_times", body="baruga", times=2)
    report_id = provincial_pothole(client, citizen, with_photo=True)
    report = client.wait_report(report_id, lambda r: (r.get("forwarding") or {}).get("state") == "acknowledged",
                                timeout_s=90)
    assert report["status"] == "forwarded"
    assert report["routing"]["assignee"] == "baruga"
    assert report["forwarding"]["attempts"] >= 3
    assert report["forwarding"]["receiver_ref"]
    [record] = records_for(receiver, report_id)  # one distinct Idempotency-Key
    assert record["responses"][:2] == [500, 500] and record["responses"][2] in (200, 201)
    assert record["reference"] == report["forwarding"]["receiver_ref"]
    assert record["payload"]["service_request_id"] == report_id
    # Only the EXIF-free copy leaves the city.
    media_url = record["payload"]["media_url"]
    assert report["photo"]["clean_object"] in media_url and "incoming/" not in media_url
    assert report["photo"]["clean_object"].startswith(f"derived/{report_id}/")
    shared = Image.open(io.BytesIO(requests.get(media_url, timeout=10).content))
    assert shared.format == "JPEG" and not shared.getexif()


def test_receiver_that_always_fails_ends_in_dead_letters_and_replay_delivers_once(client, call_center,
                                                                                  receiver, capsys):
    receiver.set_mode("fail", body="baruga")
    report_id = provincial_pothole(client, call_center)

    def dead_letter():
        docs = client.db.collection("dead_letters").where(filter=FieldFilter("report_id", "==", report_id)).get()
        return docs[0] if docs else None

    dead = wait_for(dead_letter, timeout_s=120, what="dead letter")
    assert dead.get("stage") == "forward_report"
    report = client.wait_report(report_id, lambda r: r["forwarding"]["state"] == "failed", timeout_s=30)
    assert "500" in report["forwarding"]["last_error"]

    assert keluhan(["dlq", "list"]) == 0
    assert dead.id in capsys.readouterr().out

    receiver.set_mode("accept", body="baruga")
    assert keluhan(["dlq", "replay", dead.id]) == 0
    report = client.wait_report(report_id, lambda r: r["forwarding"]["state"] == "acknowledged", timeout_s=60)
    [record] = records_for(receiver, report_id)
    assert record["responses"].count(201) == 1
    assert record["reference"] == report["forwarding"]["receiver_ref"]
    assert client.db.collection("dead_letters").document(dead.id).get().get("replayed_at") is not None
