"""The whatsapp function through functions-framework's test client: Meta's handshake, the
signature checked before anything is read, signed deliveries parsed by pywa into the conversation."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from itertools import count

import pytest

from keluhan import bootstrap
from keluhan.adapters.whatsapp_cloud import cloud_client
from keluhan.domain.quota import Limits
from keluhan.domain.whatsapp import number_hash
from keluhan.usecases.submission import PhotoUploadPolicy, QuotaPolicy
from keluhan.usecases.whatsapp import WhatsAppPorts
from tests.support.deps import function_client, make_fake_deps
from tests.support.fakes import FakeClock, FakeWaUsers, FakeWhatsAppApi
from tests.unit.test_whatsapp import locate

SECRET = "app-secret-for-tests"
NUMBER = "6281234567890"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch):
    deps = make_fake_deps(whatsapp_app_secret=SECRET, whatsapp_verify_token="verify-me",
                          whatsapp_phone_id="1062000000000001")
    from keluhan.adapters.whatsapp_cloud import CloudApi

    deps.__dict__["whatsapp_cloud"] = CloudApi(cloud_client(phone_id="1", token="t", api_url="http://127.0.0.1:9"),
                                               template="keluhan_status_update", app_secret=SECRET)
    api, users, ids = FakeWhatsAppApi(), FakeWaUsers(), count(1)
    deps.__dict__["whatsapp_ports"] = WhatsAppPorts(
        users=users, api=api, reports=deps.reports, publish=deps.publish, photos=deps.photos, holds=deps.holds,
        clock=FakeClock(), new_id=lambda: f"LAP{next(ids):04d}",
        upload_policy=PhotoUploadPolicy(url_ttl=timedelta(minutes=15), wait=timedelta(hours=24), max_bytes=10**7),
        quota=QuotaPolicy(citizen=Limits(5, 10), service=Limits(5, 10)), locate=locate,
        max_media_bytes=5 * 2**20, keep_for=timedelta(days=1))
    monkeypatch.setattr(bootstrap, "get_deps", lambda: deps)
    return deps, api, users


def delivery(message: dict, *, at: int = 1_796_000_000) -> bytes:
    body = {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "62411", "phone_number_id": "1"},
        "contacts": [{"profile": {"name": "Warga"}, "wa_id": NUMBER, "user_id": "ID.abc"}],
        "messages": [{"from": NUMBER, "timestamp": str(at), **message}]}}]}]}
    return json.dumps(body).encode()


def post(raw: bytes, signature: str | None = "good"):
    headers = {"Content-Type": "application/json"}
    if signature == "good":
        signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return function_client("whatsapp").post("/", data=raw, headers=headers)


def text(message_id: str, body: str, **kw) -> bytes:
    return delivery({"id": message_id, "type": "text", "text": {"body": body}}, **kw)


def test_the_handshake_echoes_the_challenge_only_for_our_verify_token(world):
    client = function_client("whatsapp")
    ok = client.get("/?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=12345")
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "12345"
    wrong = client.get("/?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=12345")
    assert wrong.status_code == 403 and wrong.get_json()["error"]["field"] == "hub.verify_token"


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "md5=abc", "sha256="])
def test_a_missing_or_forged_signature_is_refused_and_nothing_is_stored(world, signature):
    deps, api, users = world
    answer = post(text("wamid.1", "halo"), signature)
    assert answer.status_code == 403 and answer.get_json()["error"]["field"] == "X-Hub-Signature-256"
    assert users.records == {} and api.sent == [] and deps.reports.docs == {}


def test_a_body_altered_after_signing_is_refused(world):
    deps, api, users = world
    raw = text("wamid.1", "halo")
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    answer = post(raw.replace(b"halo", b"HALO"), signature)
    assert answer.status_code == 403 and users.records == {}


def test_a_signed_delivery_starts_the_conversation_under_the_hash_of_the_number(world):
    deps, api, users = world
    answer = post(text("wamid.1", "halo"))
    assert answer.status_code == 200
    assert list(users.records) == [number_hash(NUMBER)]
    assert [kind for _, _, kind, _ in api.sent] == ["text", "category_list"]


def test_the_same_webhook_delivered_twice_makes_one_report(world):
    deps, api, users = world
    for n, raw in enumerate([
        text("wamid.1", "halo"),
        delivery({"id": "wamid.2", "type": "interactive", "context": {"from": "62411", "id": "wamid.list"},
                  "interactive": {"type": "list_reply", "list_reply": {"id": "cat:bencana", "title": "Bencana"}}}),
        delivery({"id": "wamid.3", "type": "location", "location": {"latitude": -5.16, "longitude": 119.42}}),
        text("wamid.4", "Pohon tumbang menutup jalan"),
    ]):
        assert post(raw).status_code == 200, n
    confirm = text("wamid.5", "ya")
    assert post(confirm).status_code == 200
    assert post(confirm).status_code == 200
    assert len(deps.reports.docs) == 1
    (doc,) = deps.reports.docs.values()
    assert doc["channel"] == "whatsapp" and NUMBER not in json.dumps(doc, default=str)


def test_a_signed_delivery_of_another_shape_is_acknowledged_and_ignored(world):
    deps, api, users = world
    assert post(b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "statuses"}]}]}') \
        .get_json() == {"ok": True, "messages": 0}
    assert post(b"not json").get_json()["ignored"] is True
    assert users.records == {}
