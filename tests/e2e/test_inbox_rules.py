"""Issue 18's in-app inbox under firestore.rules, through the Firestore REST API with Auth-emulator
ID tokens (the server client would bypass the rules): `inbox/{uid}/messages/{message_id}` is read
and listed by its owner only, who may change only `read_at`, to a timestamp; no client creates or
deletes a message. Every allow has its deny twin next to it. Preferences and area subscriptions
are read by their owner only and written by nobody; push tokens and send tracking by no client.
The collection × role matrix of the same paths is tests/e2e/test_authz_firestore.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import requests

from tests.e2e.test_authz_firestore import (
    _base,
    _headers,
    anonymous_sign_in,
    get,
    inbox_message,
    list_,
    seed_user_documents,
)

NOW = {"timestampValue": "2026-12-05T12:30:00Z"}


def patch(client, token, path: str, fields: dict, mask: list[str] | None = None, *, exists: bool = True) -> int:
    """An update of the document (only the `mask` fields when given; it must exist when `exists`)."""
    params: list[tuple[str, str]] = [("updateMask.fieldPaths", f) for f in mask or []]
    if exists:
        params.append(("currentDocument.exists", "true"))
    return requests.patch(f"{_base(client)}/{path}", params=params, json={"fields": fields},
                          headers=_headers(token), timeout=10).status_code


def create(client, token, path: str, fields: dict) -> int:
    parent, _, doc_id = path.rpartition("/")
    return requests.post(f"{_base(client)}/{parent}", params={"documentId": doc_id}, json={"fields": fields},
                         headers=_headers(token), timeout=10).status_code


def delete(client, token, path: str) -> int:
    return requests.delete(f"{_base(client)}/{path}", headers=_headers(token), timeout=10).status_code


def query(client, token, parent: str, collection: str, *, all_descendants: bool = False) -> requests.Response:
    at = f"{_base(client)}/{parent}" if parent else _base(client)
    structured = {"from": [{"collectionId": collection, "allDescendants": all_descendants}]}
    return requests.post(f"{at}:runQuery", json={"structuredQuery": structured}, headers=_headers(token),
                         timeout=10)


@pytest.fixture(scope="module")
def people(client) -> dict[str, tuple[str, str | None]]:
    """(uid, ID token) of each caller; the staff accounts have verified e-mails and current roles."""
    tag = uuid.uuid4().hex[:6]
    return {
        "owner": client.user(f"pemilik-{tag}@warga.test"),
        "another citizen": client.user(f"tetangga-{tag}@warga.test"),
        "skpd": client.user(f"pu-{tag}@dinas-pu.test", {"role": "skpd", "skpd": "dinas-pu"}),
        "operator": client.user(f"op-{tag}@warroom.test", {"role": "operator"}),
        "anonymous sign-in": ("", anonymous_sign_in(client)),
        "unauthenticated": ("", None),
    }


def others(people, *, but: str = "owner") -> dict[str, str | None]:
    return {role: token for role, (_, token) in people.items() if role != but}


@pytest.fixture
def message(client, people) -> str:
    """A fresh unread message in the owner's inbox, written as the notify function writes it."""
    uid = people["owner"][0]
    message_id = f"msg-{uuid.uuid4().hex[:10]}"
    path = f"inbox/{uid}/messages/{message_id}"
    client.db.document(path).set(inbox_message(f"rpt-{uuid.uuid4().hex[:6]}", message_id, uid))
    return path


def stored(client, path: str) -> dict | None:
    return client.db.document(path).get().to_dict()


def test_the_owner_reads_their_message_nobody_else_does(client, people, message):
    owner = people["owner"][1]
    answer = requests.get(f"{_base(client)}/{message}", headers=_headers(owner), timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["fields"]["message_id"]["stringValue"] == message.rsplit("/", 1)[1]
    assert {role: get(client, token, message) for role, token in others(people).items()} == {
        role: 403 for role in others(people)}


def test_staff_read_their_own_inbox_not_anyone_elses(client, people):
    """The inbox ignores roles: staff are told of assignments in their own inbox and read it as
    its owner; their role opens no one else's."""
    for role in ("skpd", "operator"):
        uid, token = people[role]
        own = f"inbox/{uid}/messages/msg-{uuid.uuid4().hex[:8]}"
        client.db.document(own).set(inbox_message("rpt-staff", own.rsplit("/", 1)[1], uid))
        assert get(client, token, own) == 200
        assert list_(client, token, "messages", parent=f"inbox/{uid}") == 200
        assert get(client, people["owner"][1], own) == 403
        assert list_(client, people["owner"][1], "messages", parent=f"inbox/{uid}") == 403


def test_the_owner_lists_their_inbox_nobody_else_does(client, people, message):
    uid, owner = people["owner"]
    answer = query(client, owner, f"inbox/{uid}", "messages")
    assert answer.status_code == 200, answer.text
    names = {row["document"]["name"].rsplit("/", 1)[1] for row in answer.json() if "document" in row}
    assert message.rsplit("/", 1)[1] in names
    assert {role: list_(client, token, "messages", parent=f"inbox/{uid}") for role, token in others(people).items()} \
        == {role: 403 for role in others(people)}
    # Across inboxes: a collection-group query matches no rule, the owner's included.
    assert query(client, owner, "", "messages", all_descendants=True).status_code == 403
    assert query(client, owner, "", "inbox").status_code == 403  # the inbox/{uid} parents
    assert get(client, owner, f"inbox/{uid}") == 403


def test_the_owner_marks_a_message_read(client, people, message):
    before = stored(client, message)
    assert before is not None and before["read_at"] is None
    assert patch(client, people["owner"][1], message, {"read_at": NOW}, ["read_at"]) == 200
    after = stored(client, message)
    assert after is not None and after["read_at"] == datetime(2026, 12, 5, 12, 30, tzinfo=UTC)
    assert {k: v for k, v in after.items() if k != "read_at"} == {k: v for k, v in before.items() if k != "read_at"}


@pytest.mark.parametrize(("fields", "mask"), [
    ({"title": {"stringValue": "Laporan Anda selesai"}}, ["title"]),
    ({"body": {"stringValue": "diubah"}}, ["body"]),
    ({"report_id": {"stringValue": "rpt-lain"}}, ["report_id"]),
    ({"event": {"stringValue": "closed"}}, ["event"]),
    ({"seq": {"integerValue": "7"}}, ["seq"]),
    ({"read_at": NOW, "title": {"stringValue": "diubah"}}, ["read_at", "title"]),  # read_at and more
    ({"read_at": NOW, "pinned": {"booleanValue": True}}, ["read_at", "pinned"]),  # a new field
    ({"read_at": NOW}, ["read_at", "created_at"]),  # read_at and removing created_at
    ({"read_at": NOW}, None),  # the whole document replaced by read_at alone
    ({"read_at": {"stringValue": "2026-12-05T12:30:00Z"}}, ["read_at"]),  # not a timestamp
    ({"read_at": {"integerValue": "1764937800"}}, ["read_at"]),
    ({"read_at": {"booleanValue": True}}, ["read_at"]),
    ({"read_at": {"nullValue": None}}, ["read_at"]),
], ids=["title", "body", "report_id", "event", "seq", "read_at+title", "read_at+new field", "read_at+removal",
        "no mask", "string", "integer", "boolean", "null"])
def test_the_owner_changes_nothing_but_read_at_to_a_timestamp(client, people, message, fields, mask):
    """Refused on an unread message and on one already read (where read_at is a timestamp before)."""
    for read_at in (None, datetime(2026, 12, 5, 8, 0, tzinfo=UTC)):
        client.db.document(message).update({"read_at": read_at})
        before = stored(client, message)
        assert patch(client, people["owner"][1], message, fields, mask) == 403, read_at
        assert stored(client, message) == before


def test_nobody_else_marks_the_owners_message_read(client, people, message):
    before = stored(client, message)
    assert {role: patch(client, token, message, {"read_at": NOW}, ["read_at"])
            for role, token in others(people).items()} == {role: 403 for role in others(people)}
    assert stored(client, message) == before


def test_no_client_creates_or_deletes_a_message(client, people, message):
    uid, owner = people["owner"]
    fresh = f"inbox/{uid}/messages/msg-{uuid.uuid4().hex[:10]}"
    fields = {"message_id": {"stringValue": fresh.rsplit("/", 1)[1]}, "report_id": {"stringValue": "rpt-palsu"},
              "seq": {"integerValue": "3"}, "event": {"stringValue": "resolved"}, "title": {"stringValue": "Selesai"},
              "body": {"stringValue": "Laporan Anda selesai."}, "lang": {"stringValue": "id"},
              "created_at": NOW, "read_at": {"nullValue": None}}
    for token in (owner, people["operator"][1], people["another citizen"][1]):
        assert create(client, token, fresh, fields) == 403
        assert patch(client, token, fresh, {"read_at": NOW}, ["read_at"], exists=False) == 403  # an upsert
    assert stored(client, fresh) is None
    for token in (owner, people["operator"][1], people["skpd"][1]):
        assert delete(client, token, message) == 403
    assert stored(client, message) is not None
    assert patch(client, owner, message, {"read_at": NOW}, ["read_at"]) == 200  # the one write there is


def test_preferences_and_subscriptions_are_read_by_their_owner_only(client, people):
    uid, owner = people["owner"]
    docs = seed_user_documents(client.db, uid, "rpt-prefs")
    for collection in ("preferences", "subscriptions"):
        assert get(client, owner, docs[collection]) == 200
        assert {role: get(client, token, docs[collection]) for role, token in others(people).items()} == {
            role: 403 for role in others(people)}
        before = stored(client, docs[collection])
        for token in (owner, people["operator"][1]):
            assert patch(client, token, docs[collection], {"lang": {"stringValue": "en"}}, ["lang"]) == 403
            assert delete(client, token, docs[collection]) == 403
        assert stored(client, docs[collection]) == before
    assert list_(client, owner, "areas", parent=f"subscriptions/{uid}") == 200
    assert list_(client, people["another citizen"][1], "areas", parent=f"subscriptions/{uid}") == 403
    assert list_(client, owner, "preferences") == 403  # one's own is read by its id
    assert create(client, owner, f"subscriptions/{uid}/areas/area-{uuid.uuid4().hex[:6]}",
                  {"kind": {"stringValue": "kelurahan"}, "kelurahan": {"stringValue": "Bontorannu"}}) == 403
    newcomer_uid, newcomer = people["another citizen"]
    assert create(client, newcomer, f"preferences/{newcomer_uid}", {"lang": {"stringValue": "en"}}) == 403


def test_no_client_reads_push_tokens_or_send_tracking(client, people):
    uid, owner = people["owner"]
    docs = seed_user_documents(client.db, uid, "rpt-devices")
    callers = {role: token for role, (_, token) in people.items()}
    for collection in ("devices", "notifications"):
        assert {role: get(client, token, docs[collection]) for role, token in callers.items()} == {
            role: 403 for role in callers}
        assert patch(client, owner, docs[collection], {"lang": {"stringValue": "en"}}, ["lang"]) == 403
        assert delete(client, owner, docs[collection]) == 403
        assert stored(client, docs[collection]) is not None
    assert list_(client, owner, "tokens", parent=f"devices/{uid}") == 403
    # The index of a user's tokens (FirestoreDevices) is the server's too.
    assert {role: get(client, token, f"devices/{uid}") for role, token in callers.items()} == {
        role: 403 for role in callers}
    assert list_(client, people["operator"][1], "notifications") == 403
    assert create(client, owner, f"devices/{uid}/tokens/token-{uuid.uuid4().hex[:6]}",
                  {"token": {"stringValue": "fcm-palsu"}}) == 403
