"""The authorization matrix of Firestore: every collection the code or the rules name × every role × get, list
and write, through the Firestore REST API with Auth-emulator ID tokens (the rules apply; the
server client would bypass them). Each allow has a deny twin: a rule loosened to `if true`
fails here. The HTTP functions' side is tests/functions/test_authz_matrix.py.
The inbox's one client write (`read_at`) and its deny twins are tests/e2e/test_inbox_rules.py.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from keluhan.adapters import firestore_store, whatsapp_store
from keluhan.domain.notify import Message
from keluhan.domain.push import Device, device_id
from keluhan.domain.subscriptions import AreaSubscription
from tests.e2e.test_pipeline import report_body
from tests.support.places import kelurahan_point

ROLES = ("anonymous", "anonymous sign-in", "citizen", "another citizen", "skpd A", "skpd B", "operator",
         "channel service")
OPERATOR_ONLY = {"operator"}
# (collection) → roles allowed to get and list; nobody writes from a client.
READERS: dict[str, set[str]] = {
    firestore_store.REPORTS: OPERATOR_ONLY,
    firestore_store.STAFF_REPORTS: {"operator", "skpd A"},  # the report is assigned to skpd A (dinas-pu)
    firestore_store.ROUTING_RULES: OPERATOR_ONLY,
    firestore_store.DEAD_LETTERS: OPERATOR_ONLY,
    firestore_store.STATS: OPERATOR_ONLY,
    firestore_store.SUBMISSIONS: set(),
    firestore_store.PHOTO_HASHES: set(),
    firestore_store.HOLDS: set(),
    firestore_store.STATS_REPORTS: set(),
    firestore_store.QUOTAS: set(),
    firestore_store.OPEN311_KEYS: set(),  # hashes of GeoReport api keys and their channels
    firestore_store.REVOCATIONS: set(),  # when each user's role last changed (the rules read it)
    firestore_store.STAFF: set(),  # staff/{uid}: who works where, for notify (users grant|revoke)
    # Notifications (issue 18): per user, the owner being the uid in the path ("citizen" here).
    firestore_store.INBOX: {"citizen"},  # inbox/{uid}/messages/{id}; the owner may also set read_at (test_inbox_rules)
    firestore_store.PREFERENCES: {"citizen"},  # preferences/{uid}: read by id only (LISTERS)
    firestore_store.SUBSCRIPTIONS: {"citizen"},  # subscriptions/{uid}/areas/{id}: changed only through the function
    firestore_store.DIGESTS: set(),  # digests/{uid}_{day}: the reports of a subscriber's daily digest, server only
    firestore_store.DEVICES: set(),  # devices/{uid}/tokens/{id}: push tokens, server only
    firestore_store.NOTIFICATIONS: set(),  # which timeline positions notify has told, server only
    firestore_store.SENDS: set(),  # sends/{message_id}: each push's delivery (recipient uids), server only
    # WhatsApp (issue 19): server only.
    whatsapp_store.WA_USERS: set(),  # wa_users/{number_hash}: conversations, the only place a number is kept
    whatsapp_store.WA_SENDS: set(),  # wa_sends/{message_id}: notices sent on WhatsApp
    # Issue 20: whom a supporter ref stands for (uids) and the comment threads, server only.
    firestore_store.SUPPORTS: set(),
    firestore_store.COMMENTS: set(),
}
# Where who may list differs from who may get: preferences/{uid} is one document, read by its id.
LISTERS: dict[str, set[str]] = READERS | {"preferences": set()}
# Collections kept under a user's document: (top-level collection) → its subcollection.
SUBCOLLECTIONS = {firestore_store.INBOX: "messages", "subscriptions": "areas", "devices": "tokens"}
RULES = Path(__file__).resolve().parents[2] / "firestore.rules"


def _base(client) -> str:
    return (f"http://{client.config.firestore.hostport}/v1/projects/{client.config.project}"
            f"/databases/(default)/documents")


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def get(client, token, path: str) -> int:
    return requests.get(f"{_base(client)}/{path}", headers=_headers(token), timeout=10).status_code


def list_(client, token, collection: str, where: dict | None = None, *, parent: str = "") -> int:
    """A query on `collection` (under the document `parent`, e.g. inbox/{uid}, when given)."""
    query: dict = {"from": [{"collectionId": collection}], "limit": 1}
    if where:
        query["where"] = {"fieldFilter": {"field": {"fieldPath": where["field"]}, "op": "EQUAL",
                                          "value": {"stringValue": where["value"]}}}
    at = f"{_base(client)}/{parent}" if parent else _base(client)
    return requests.post(f"{at}:runQuery", json={"structuredQuery": query},
                         headers=_headers(token), timeout=10).status_code


def list_at(client, token, path: str, where: dict | None = None) -> int:
    """A query on the collection holding the document `path` (a top-level one or a subcollection)."""
    parent, _, rest = path.rpartition("/")[0].rpartition("/")
    return list_(client, token, rest, where, parent=parent)


def write(client, token, path: str) -> int:
    body = {"fields": {"status": {"stringValue": "closed"}, "assignee": {"stringValue": "dinas-pu"}}}
    return requests.patch(f"{_base(client)}/{path}", json=body, headers=_headers(token), timeout=10).status_code


def inbox_message(report_id: str, message_id: str, recipient: str = "") -> dict[str, object]:
    """An inbox message as the notify function stores it (server side: the rules are bypassed)."""
    return Message(message_id=message_id, recipient=recipient, channel="inbox", report_id=report_id, seq=1,
                   event="routed", lang="id", title="Laporan Anda diteruskan",
                   body="Laporan Anda diteruskan ke Dinas Pekerjaan Umum.", created_at=datetime.now(UTC)).to_doc()


def seed_user_documents(db, uid: str, report_id: str) -> dict[str, str]:
    """One document of each per-user notification collection of `uid`, written with admin access
    (as the functions write them): (collection) → its path."""
    tag = uuid.uuid4().hex[:8]
    docs = {
        firestore_store.INBOX: (f"inbox/{uid}/messages/msg-{tag}", inbox_message(report_id, f"msg-{tag}", uid)),
        "preferences": (f"preferences/{uid}", {"lang": "id", "quiet_hours": {"start": "21:00", "end": "06:00"},
                                                "muted_reports": []}),
        "subscriptions": (f"subscriptions/{uid}/areas/area-{tag}", AreaSubscription(
            subscription_id=f"area-{tag}", uid=uid, kind="kelurahan", kelurahan_id="73.71.01.1001",
            kelurahan="Bontorannu", keys=["kel:73.71.01.1001"], created_at=datetime.now(UTC)).to_doc()),
        "devices": (f"devices/{uid}/tokens/{device_id(f'fcm-{tag}')}", Device(
            device_id=device_id(f"fcm-{tag}"), token=f"fcm-{tag}", platform="android", lang="id",
            registered_at=datetime.now(UTC)).model_dump()),
        "notifications": (f"notifications/probe-{tag}", {"seqs": [1], "at": datetime.now(UTC)}),
        firestore_store.SENDS: (f"sends/send-{tag}", {"recipient": uid, "channel": "push", "state": "pending",
                                                     "report_id": report_id}),
    }
    for path, data in docs.values():
        db.document(path).set(data)
    return {collection: path for collection, (path, _) in docs.items()}


def anonymous_sign_in(client) -> str:
    """An ID token from Firebase's anonymous provider (accounts:signUp with no email)."""
    url = f"{client.config.auth.url}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=demo"
    response = requests.post(url, json={"returnSecureToken": True}, timeout=10)
    response.raise_for_status()
    return response.json()["idToken"]


@pytest.fixture(scope="module")
def citizen(client) -> tuple[str, str]:
    """The "citizen" role's (uid, ID token): the owner of the matrix's per-user documents."""
    return client.user(f"warga-{uuid.uuid4().hex[:6]}@warga.test")


@pytest.fixture(scope="module")
def tokens(client, citizen) -> dict[str, str | None]:
    tag = uuid.uuid4().hex[:6]
    return {
        "anonymous": None,
        "anonymous sign-in": anonymous_sign_in(client),
        "citizen": citizen[1],
        "another citizen": client.user(f"warga2-{tag}@warga.test")[1],
        "skpd A": client.user(f"pu-{tag}@dinas-pu.test", {"role": "skpd", "skpd": "dinas-pu"})[1],
        "skpd B": client.user(f"dishub-{tag}@dishub.test", {"role": "skpd", "skpd": "dishub"})[1],
        "operator": client.user(f"op-{tag}@warroom.test", {"role": "operator"})[1],
        "channel service": client.user(f"cc-{tag}@callcenter.test",
                                       {"role": "channel", "channel": "call_center_112"})[1],
    }


@pytest.fixture(scope="module")
def paths(client, tokens, citizen) -> dict[str, str]:
    """A document path in each collection; reports/ and staff_reports/ a real report routed to dinas-pu,
    the per-user collections documents of the "citizen" role's account, as the server writes them."""
    lat, lon, _ = kelurahan_point("Bontorannu")
    submitted = client.submit(tokens["channel service"],
                              report_body(lat, lon, street="Jl. Landak Baru", channel="call_center_112"))
    assert submitted.status_code == 201, submitted.text
    report = client.wait_report(submitted.json()["report_id"])
    assert report["assignee"] == "dinas-pu"
    out = {c: f"{c}/authz-probe-{uuid.uuid4().hex[:8]}" for c in READERS}
    out[firestore_store.REPORTS] = f"reports/{report['report_id']}"
    out[firestore_store.STAFF_REPORTS] = f"staff_reports/{report['report_id']}"
    out[firestore_store.SUBMISSIONS] = f"submissions/{report['reporter_ref']}"
    out |= seed_user_documents(client.db, citizen[0], report["report_id"])
    return out


def rules_collections() -> set[str]:
    """Every collection a `match` of firestore.rules names (the literal segments of its path)."""
    named: set[str] = set()
    for path in re.findall(r"match\s+(/\S+)\s*\{", RULES.read_text()):
        named |= {part for part in path.strip("/").split("/") if part and not part.startswith("{")}
    return named - {"databases", "documents"}


def test_every_collection_the_code_names_is_in_the_matrix():
    named = {v for k, v in vars(firestore_store).items() if k.isupper() and isinstance(v, str)
             and k not in ("OPEN_STATUSES",) and v.islower() and v.replace("_", "").isalnum()}
    in_matrix = set(READERS) | set(SUBCOLLECTIONS.values())
    assert named <= in_matrix, sorted(named - in_matrix)
    # A row is for a collection the code or the rules name (the rules may come first: issue 18).
    assert set(READERS) <= named | rules_collections(), sorted(set(READERS) - named - rules_collections())


def test_every_collection_the_rules_name_is_in_the_matrix():
    assert rules_collections() <= set(READERS) | set(SUBCOLLECTIONS.values())
    for collection, sub in SUBCOLLECTIONS.items():  # the matrix's probe is where the rules match
        assert re.search(rf"match /{collection}/\{{\w+\}}/{sub}/\{{\w+\}}", RULES.read_text()), collection


def test_each_allow_has_a_deny_twin():
    for matrix in (READERS, LISTERS):
        for collection, readers in matrix.items():
            assert set(ROLES) - readers - {"anonymous"}, f"{collection}: no signed-in role is denied"


@pytest.mark.parametrize("collection", list(READERS))
def test_each_role_reads_and_writes_each_collection_as_the_matrix_says(client, tokens, paths, collection):
    wrong = []
    for role in ROLES:
        token = tokens[role]
        allowed = role in READERS[collection]
        got = get(client, token, paths[collection])
        if (got in (200, 404)) != allowed or got not in (200, 403, 404):
            wrong.append((role, "get", got))
        where = ({"field": "assignee", "value": "dinas-pu"}
                 if collection in (firestore_store.REPORTS, firestore_store.STAFF_REPORTS) else None)
        got = list_at(client, token, paths[collection], where)
        if (got == 200) != (role in LISTERS[collection]) or got not in (200, 403):
            wrong.append((role, "list", got))
        got = write(client, token, paths[collection])
        if got != 403:
            wrong.append((role, "write", got))
    assert wrong == [], wrong


def test_skpd_staff_list_only_their_own_queue(client, tokens):
    assert list_(client, tokens["skpd A"], "staff_reports") == 403  # unfiltered: other SKPDs' reports
    assert list_(client, tokens["skpd A"], "staff_reports", {"field": "assignee", "value": "dishub"}) == 403
    assert list_(client, tokens["skpd B"], "staff_reports", {"field": "assignee", "value": "dishub"}) == 200
    assert list_(client, tokens["skpd A"], "reports", {"field": "assignee", "value": "dinas-pu"}) == 403


def test_staff_read_an_allow_listed_view_kept_with_every_change(client, tokens, paths):
    """staff_reports/{id} is staff_view of reports/{id}, as of the report's latest change."""
    from keluhan.domain.views import staff_view

    db = client.db
    report_id = paths[firestore_store.REPORTS].split("/", 1)[1]
    report = db.collection("reports").document(report_id).get().to_dict()
    view = db.collection("staff_reports").document(report_id).get().to_dict()
    assert view == staff_view(report)
    assert report["reporter_ref"] and "reporter_ref" not in view and "errors" not in view
    assert "object" not in view["photo"] and "forwarding" not in view
    assert requests.get(f"{_base(client)}/{paths[firestore_store.STAFF_REPORTS]}",
                        headers=_headers(tokens["skpd A"]), timeout=10).status_code == 200


def test_reports_hold_no_reporter_uid_and_no_upload_url(client, tokens):
    """What SKPD staff can read on reports/: never who reported nor a signed URL."""
    uid, token = client.sign_in(f"pelapor-{uuid.uuid4().hex[:6]}@warga.test")
    lat, lon, _ = kelurahan_point("Bontorannu")
    submitted = client.submit(token, report_body(lat, lon, street="Jl. Landak Baru"))
    assert submitted.status_code == 201, submitted.text
    body = submitted.json()
    report = client.report(body["report_id"])
    assert uid not in repr(report)
    assert body["upload"]["url"] not in repr(report) and "X-Goog-Signature" not in repr(report)
