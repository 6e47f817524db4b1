"""The walking pipeline on the real emulators: HTTP submit → photo → locate → route (→ forward)."""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from google.cloud.firestore import FieldFilter

from keluhan.devstack.client import wait_for
from keluhan.devstack.sample_photos import make_jpeg
from keluhan.domain.report import submission_key
from tests.support.places import SUNGGUMINASA, kelurahan_point

WITA = timedelta(hours=8)


def report_body(lat, lon, *, category="jalan_rusak", street=None, channel="warga", taken_at=None, **extra):
    body = {
        "client_id": f"e2e-{uuid.uuid4().hex[:16]}",
        "category": category,
        "description": "Laporan uji end-to-end",
        "lat": lat,
        "lon": lon,
        "accuracy_m": 6,
        "channel": channel,
        **extra,
    }
    if street:
        body["street"] = street
    if taken_at:
        body["photo_taken_at"] = taken_at.isoformat()
    return body


def submit_with_photo(client, token, body, photo: bytes) -> str:
    response = client.submit(token, body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "awaiting_photo"
    put = client.upload_photo(created["upload"], photo)
    assert put.status_code in (200, 201), put.text
    return created["report_id"]


def fresh_photo(lat, lon, *, seed, taken_at=None):
    return make_jpeg(taken_at=taken_at or datetime.now(UTC), lat=lat, lon=lon, seed=seed)


def test_report_with_photo_is_verified_located_and_routed(client, citizen):
    uid, token = citizen
    lat, lon, props = kelurahan_point("Bontorannu")
    taken = datetime.now(UTC) - timedelta(minutes=2)
    body = report_body(lat, lon, street="Jl. Landak Baru", taken_at=taken)
    report_id = submit_with_photo(client, token, body, fresh_photo(lat, lon, seed=11, taken_at=taken))

    report = client.wait_report(report_id)
    assert report["status"] == "routed", report
    assert uid not in repr(report)  # SKPD tools read reports/{id}; who reported is kept apart
    assert client.db.collection("submissions").document(report["reporter_ref"]).get().get("reporter_uid") == uid
    assert report["photo"]["verdict"] == "accepted"
    assert report["photo"]["event"].startswith(f"{client.config.bucket}/incoming/{report_id}/photo#")
    assert report["location"]["kelurahan"] == "Bontorannu"
    assert report["location"]["kode_kecamatan"] == props["kode_kecamatan"]
    assert report["point"] == {"lat": lat, "lon": lon, "accuracy_m": 6}
    assert report["stages"]["located"]["data_version"]
    assert report["routing"]["assignee"] == "dinas-pu"
    assert report["routing"]["rule"] == "road-kota"
    assert [t["status"] for t in report["timeline"]] == ["awaiting_photo", "verified", "located", "routed"]


def test_stale_photo_is_rejected_with_its_reason_and_not_routed(client, citizen):
    _, token = citizen
    lat, lon, _ = kelurahan_point("Mamajang Dalam")
    week_ago = datetime.now(UTC) - timedelta(days=7)
    body = report_body(lat, lon, taken_at=week_ago)
    report_id = submit_with_photo(client, token, body, fresh_photo(lat, lon, seed=12, taken_at=week_ago))

    report = client.wait_report(report_id)
    assert report["status"] == "photo_rejected"
    assert report["photo"]["verdict"] == "rejected"
    assert "stale" in [r["code"] for r in report["photo"]["reasons"]]
    assert "located" not in report["stages"] and "routing" not in report
    view = client.get_report(token, report_id).json()
    assert view["status"] == "photo_rejected" and " / " in view["photo"]["reasons"][0]["message"]


@pytest.mark.parametrize(("where", "street", "assignee", "kind", "rule"), [
    ("Bontorannu", "Jl. Landak Baru", "dinas-pu", "skpd", "road-kota"),
    ("Bontorannu", "Jl. Hertasning", "baruga", "external", "road-provinsi"),
    ("Bontorannu", "Jalan A.P. Pettarani", "bbpjn", "external", "road-nasional"),
    ("gowa", None, "kab-gowa", "external", "regency-gowa"),
])
def test_reports_end_with_the_right_assignee_and_the_rule_that_decided(client, call_center, where, street,
                                                                        assignee, kind, rule):
    _, token = call_center
    lat, lon = SUNGGUMINASA if where == "gowa" else kelurahan_point(where)[:2]
    response = client.submit(token, report_body(lat, lon, street=street, channel="call_center_112"))
    assert response.status_code == 201, response.text
    report = client.wait_report(response.json()["report_id"])
    assert report["routing"]["assignee"] == assignee
    assert report["routing"]["kind"] == kind
    assert report["routing"]["rule"] == rule
    assert report["routing"]["rules_version"]
    assert " / " in report["routing"]["reason"]
    if where == "gowa":
        assert report["location"]["inside_city"] is False
        assert "Gowa" in report["location"]["outside_region"]


def test_sampah_goes_to_the_kecamatan_office(client, call_center):
    _, token = call_center
    lat, lon, props = kelurahan_point("Bontorannu")
    response = client.submit(token, report_body(lat, lon, category="sampah", channel="call_center_112"))
    report = client.wait_report(response.json()["report_id"])
    assert report["routing"]["assignee"] == f"kecamatan-{props['kode_kecamatan']}"


def test_no_token_is_401_and_a_forged_unsigned_token_is_refused(client):
    lat, lon, _ = kelurahan_point("Bontorannu")
    body = report_body(lat, lon)
    assert client.submit(None, body).status_code == 401
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
    now = int(datetime.now(UTC).timestamp())
    claims = {"iss": f"https://securetoken.google.com/{client.config.project}", "aud": client.config.project,
              "auth_time": now, "user_id": "attacker", "sub": "attacker", "iat": now, "exp": now + 3600,
              "firebase": {"sign_in_provider": "password", "identities": {}}}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    forged = f"{header.decode()}.{payload.decode()}."
    response = client.submit(forged, body)
    assert response.status_code == 401
    assert response.json()["error"]["field"] == "Authorization"


def test_duplicate_submission_and_redelivered_events_change_nothing_twice(client, call_center, stack):
    uid, token = call_center
    lat, lon, _ = kelurahan_point("Bontorannu")
    body = report_body(lat, lon, street="Jl. Landak Baru", channel="call_center_112")
    first = client.submit(token, body)
    again = client.submit(token, body)
    assert (first.status_code, again.status_code) == (201, 200)
    report_id = first.json()["report_id"]
    assert again.json()["report_id"] == report_id
    before = client.wait_report(report_id)
    ref = submission_key(uid, body["client_id"])
    assert client.db.collection("reports").where(filter=FieldFilter("reporter_ref", "==", ref)).count().get()[0][0].value == 1

    # Redeliver the stage events, as Pub/Sub may (with new message ids), and watch what comes out.
    with watch_topic(client, "report-routed") as routed_events:
        publish = _publisher(client)
        for topic in ("report-accepted", "report-located"):
            publish(topic, {"report_id": report_id}, {"report_id": report_id})
        # Each redelivered stage re-publishes its event downstream instead of redoing the work.
        wait_for(lambda: len(routed_events(report_id)) >= 2, timeout_s=60, what="re-published report-routed")
    after = client.report(report_id)
    assert after["timeline"] == before["timeline"]
    assert after["stages"] == before["stages"]
    assert after["routing"] == before["routing"]


def test_failed_first_publish_still_ends_routed(client, call_center, stack, monkeypatch):
    """The first publish fails after the report is stored; the app's retry re-publishes."""
    from keluhan import bootstrap
    from tests.support.deps import function_client

    uid, token = call_center
    real = bootstrap.get_deps()
    failures = []

    def failing_once(topic, data, attributes):
        if not failures:
            failures.append(topic)
            raise ConnectionError("injected: publish failed")
        real.publish(topic, data, attributes)

    deps = bootstrap.Deps(**{**{f: getattr(real, f) for f in bootstrap.Deps.__dataclass_fields__},
                             "publish": failing_once})
    monkeypatch.setattr(bootstrap, "get_deps", lambda: deps)
    lat, lon, _ = kelurahan_point("Bontorannu")
    body = report_body(lat, lon, channel="call_center_112")
    test_client = function_client("submit_report")
    first = test_client.post("/", json=body, headers={"Authorization": f"Bearer {token}"})
    assert first.status_code == 503 and failures == ["report-status-changed"]
    ref = submission_key(uid, body["client_id"])
    stored = client.db.collection("reports").where(filter=FieldFilter("reporter_ref", "==", ref)).get()
    assert len(stored) == 1 and stored[0].get("status") == "received"

    retry = client.submit(token, body)  # the app retries over HTTP against the running function
    assert retry.status_code == 200
    report = client.wait_report(retry.json()["report_id"])
    assert report["status"] == "routed"


def test_poison_message_ends_in_dead_letters(client, stack):
    report_id = f"missing-{uuid.uuid4().hex[:12]}"
    _publisher(client)("report-accepted", {"report_id": report_id}, {"report_id": report_id})

    def recorded():
        docs = client.db.collection("dead_letters").where(filter=FieldFilter("report_id", "==", report_id)).get()
        return docs[0].to_dict() if docs else None

    dead = wait_for(recorded, timeout_s=90, what="dead letter")
    assert dead["stage"] == "enrich_geo"
    assert dead["topic"] == "report-accepted"
    assert "not found" in dead["reason"]


@contextlib.contextmanager
def watch_topic(client, topic: str):
    """A pull subscription on `topic` for the test; yields report_id → messages seen so far."""
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    name = subscriber.subscription_path(client.config.project, f"e2e-watch-{uuid.uuid4().hex[:8]}")
    subscriber.create_subscription(name=name, topic=subscriber.topic_path(client.config.project, topic))
    seen: dict[str, list] = {}

    def messages_for(report_id: str) -> list:
        response = subscriber.pull(subscription=name, max_messages=50, timeout=5)
        if response.received_messages:
            subscriber.acknowledge(subscription=name, ack_ids=[m.ack_id for m in response.received_messages])
        for received in response.received_messages:
            seen.setdefault(received.message.attributes.get("report_id"), []).append(received.message)
        return seen.get(report_id, [])

    try:
        yield messages_for
    finally:
        subscriber.delete_subscription(subscription=name)


def _publisher(client):
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()

    def publish(topic, data, attributes, *, wait: bool = True):
        """Publish; with wait=False the future, so that many messages go out in batches."""
        path = publisher.topic_path(client.config.project, topic)
        future = publisher.publish(path, json.dumps(data).encode(), **attributes)
        if not wait:
            return future
        future.result(timeout=20)
        return None

    return publish


def test_report_whose_photo_never_arrives_is_expired_by_the_sweep(client, citizen):
    _, token = citizen
    lat, lon, _ = kelurahan_point("Bontorannu")
    response = client.submit(token, report_body(lat, lon, taken_at=datetime.now(UTC)))
    report_id = response.json()["report_id"]
    # Let the wait run out (as 24 hours would), then the scheduler's tick arrives.
    client.db.collection("reports").document(report_id).update(
        {"photo.deadline": datetime.now(UTC) - timedelta(minutes=1)})
    _publisher(client)("sweep-tick", {}, {})
    report = client.wait_report(report_id, lambda r: r["status"] == "photo_expired", timeout_s=30)
    assert report["photo"]["verdict"] == "expired"
    view = client.get_report(token, report_id).json()
    assert view["status"] == "photo_expired" and " / " in view["status_text"]
