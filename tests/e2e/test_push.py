"""Issue 18, push, on the real emulators: the reporter registers a device through notification_settings,
chooses English, and the stand-in FCM endpoint receives one push per status change (routed, accepted,
in progress, resolved, closed) to that token, in English; a token FCM answers UNREGISTERED for is
removed from devices/{uid}/tokens and never pushed again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import requests
from google.cloud.firestore import FieldFilter

from keluhan.devstack.client import wait_for
from keluhan.devstack.fcm import FcmClient
from keluhan.domain.push import device_id
from tests.e2e.test_handling import PU_CLAIMS, act, resolve_with_proof, step
from tests.e2e.test_notify import told
from tests.e2e.test_pipeline import fresh_photo, report_body, submit_with_photo
from tests.support.places import kelurahan_point

JOURNEY = ["routed", "accepted", "in_progress", "resolved", "closed"]


def settings(client, token: str, path: str, body: dict | None = None) -> requests.Response:
    url = client.function_url("notification_settings").rstrip("/") + path
    headers = {"Authorization": f"Bearer {token}"}
    if body is None:
        return requests.get(url, headers=headers, timeout=30)
    return requests.post(url, json=body, headers=headers, timeout=30)


def test_the_reporters_phone_gets_a_push_per_status_change_in_english_and_a_dead_token_goes(client):
    tag = uuid.uuid4().hex[:8]
    fcm = FcmClient(client.config.fcm.url)
    phone, old_phone = f"fcm-phone-{tag}-0000000001", f"fcm-old-phone-{tag}-000001"
    uid, token = client.sign_in(f"warga.push.{tag}@example.com")
    _, pu = client.user(f"pu.push.{tag}@dinas-pu.makassar.test", PU_CLAIMS)
    for device in (phone, old_phone):
        registered = settings(client, token, "/devices", {"token": device, "platform": "android"})
        assert registered.status_code == 201, registered.text
    fcm.answer(old_phone, "unregistered")  # the app was uninstalled from the old phone
    chosen = settings(client, token, "/preferences", {"lang": "en", "quiet_hours": None})  # any hour, in English
    assert chosen.status_code == 200 and chosen.json()["lang"] == "en", chosen.text
    assert settings(client, token, "/preferences").json() == chosen.json()

    lat, lon, _ = kelurahan_point("Bontorannu")
    taken = datetime.now(UTC) - timedelta(minutes=1)
    body = report_body(lat, lon, street="Jl. Landak Baru", taken_at=taken)  # submitted in Indonesian
    report_id = submit_with_photo(client, token, body, fresh_photo(lat, lon, seed=uuid.uuid4().int,
                                                                   taken_at=taken))
    client.wait_report(report_id, lambda r: r["status"] == "routed")
    act(client, pu, report_id, "accept", "routed")
    act(client, pu, report_id, "start", "accepted")
    assert resolve_with_proof(client, pu, report_id)["status"] == "resolved"
    act(client, token, report_id, "confirm", "resolved")
    step(client, report_id, "closed", "confirm", "reporter")

    told(client, uid, report_id, JOURNEY)
    pushes = wait_for(lambda: (found := fcm.pushes(phone)) and len(found) >= len(JOURNEY) and found,
                      timeout_s=60, what=f"{len(JOURNEY)} pushes to the phone")
    # One push per change; they may arrive in any order (one Pub/Sub message each), and say their place.
    messages = sorted((p["message"] for p in pushes), key=lambda m: int(m["data"]["seq"]))
    assert [m["data"]["event"] for m in messages] == JOURNEY
    assert all(m["data"]["report_id"] == report_id for m in messages)
    assert messages[0]["notification"]["title"].startswith("Report assigned to")
    assert messages[-1]["notification"]["title"] == "Report closed"
    assert len({m["android"]["collapse_key"] for m in messages}) == len(JOURNEY)  # one message id each
    for message in messages:  # nobody's identity in a push
        assert uid not in str(message) and "Laporan uji end-to-end" not in str(message)

    assert fcm.pushes(old_phone) == []
    tokens = client.db.collection("devices").document(uid).collection("tokens")
    assert [d.id for d in tokens.stream()] == [device_id(phone)]  # UNREGISTERED: removed
    assert client.db.document(f"devices/{uid}").get().to_dict() == {"ids": [device_id(phone)]}  # and unindexed
    sends = [d.to_dict() for d in client.db.collection("sends").where(
        filter=FieldFilter("report_id", "==", report_id)).where(filter=FieldFilter("recipient", "==", uid)).stream()]
    assert sorted(s["event"] for s in sends) == sorted(JOURNEY)
    assert {s["state"] for s in sends} == {"sent"}  # (the area's subscribers with a phone have theirs)


def test_registering_needs_a_signed_in_person_and_names_a_bad_field(client, call_center):
    _, token = client.sign_in(f"warga.push.bad.{uuid.uuid4().hex[:8]}@example.com")
    assert settings(client, "not-a-token", "/devices", {"token": "x" * 20, "platform": "ios"}).status_code == 401
    bad = settings(client, token, "/devices", {"token": "fcm-token-0000000001", "platform": "nokia"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "platform"
    service = settings(client, call_center[1], "/devices", {"token": "fcm-token-0000000001", "platform": "ios"})
    assert service.status_code == 403


def test_a_stored_token_that_is_not_a_device_is_skipped_and_the_phone_still_hears(client):
    """A hand-written or older document under devices/{uid}/tokens must not hold back the messages:
    notify skips it (logged) instead of failing every delivery of the report's changes."""
    tag = uuid.uuid4().hex[:8]
    fcm = FcmClient(client.config.fcm.url)
    phone = f"fcm-phone-{tag}-0000000002"
    uid, token = client.sign_in(f"warga.push.stray.{tag}@example.com")
    assert settings(client, token, "/devices", {"token": phone, "platform": "android"}).status_code == 201
    assert settings(client, token, "/preferences", {"quiet_hours": None}).status_code == 200
    client.db.document(f"devices/{uid}/tokens/stray-{tag}").set({"token": f"fcm-stray-{tag}", "platform": "android"})
    lat, lon, _ = kelurahan_point("Bontorannu")
    taken = datetime.now(UTC) - timedelta(minutes=1)
    report_id = submit_with_photo(client, token, report_body(lat, lon, street="Jl. Landak Baru", taken_at=taken),
                                  fresh_photo(lat, lon, seed=uuid.uuid4().int, taken_at=taken))
    client.wait_report(report_id, lambda r: r["status"] == "routed")
    told(client, uid, report_id, ["routed"])
    pushes = wait_for(lambda: fcm.pushes(phone), timeout_s=60, what="the routed push to the phone")
    assert [p["message"]["data"]["event"] for p in pushes] == ["routed"]
    assert fcm.pushes(f"fcm-stray-{tag}") == []
