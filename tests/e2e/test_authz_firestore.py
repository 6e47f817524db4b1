"""The authorization matrix of Firestore: every collection the code uses × every role × get, list
and write, through the Firestore REST API with Auth-emulator ID tokens (the rules apply; the
server client would bypass them). Each allow has a deny twin: a rule loosened to `if true`
fails here. The HTTP functions' side is tests/functions/test_authz_matrix.py.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from keluhan.adapters import firestore_store
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
}


def _base(client) -> str:
    return (f"http://{client.config.firestore.hostport}/v1/projects/{client.config.project}"
            f"/databases/(default)/documents")


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def get(client, token, path: str) -> int:
    return requests.get(f"{_base(client)}/{path}", headers=_headers(token), timeout=10).status_code


def list_(client, token, collection: str, where: dict | None = None) -> int:
    query: dict = {"from": [{"collectionId": collection}], "limit": 1}
    if where:
        query["where"] = {"fieldFilter": {"field": {"fieldPath": where["field"]}, "op": "EQUAL",
                                          "value": {"stringValue": where["value"]}}}
    return requests.post(f"{_base(client)}:runQuery", json={"structuredQuery": query},
                         headers=_headers(token), timeout=10).status_code


def write(client, token, path: str) -> int:
    body = {"fields": {"status": {"stringValue": "closed"}, "assignee": {"stringValue": "dinas-pu"}}}
    return requests.patch(f"{_base(client)}/{path}", json=body, headers=_headers(token), timeout=10).status_code


def anonymous_sign_in(client) -> str:
    """An ID token from Firebase's anonymous provider (accounts:signUp with no email)."""
    url = f"{client.config.auth.url}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=demo"
    response = requests.post(url, json={"returnSecureToken": True}, timeout=10)
    response.raise_for_status()
    return response.json()["idToken"]


@pytest.fixture(scope="module")
def tokens(client) -> dict[str, str | None]:
    tag = uuid.uuid4().hex[:6]
    return {
        "anonymous": None,
        "anonymous sign-in": anonymous_sign_in(client),
        "citizen": client.user(f"warga-{tag}@warga.test")[1],
        "another citizen": client.user(f"warga2-{tag}@warga.test")[1],
        "skpd A": client.user(f"pu-{tag}@dinas-pu.test", {"role": "skpd", "skpd": "dinas-pu"})[1],
        "skpd B": client.user(f"dishub-{tag}@dishub.test", {"role": "skpd", "skpd": "dishub"})[1],
        "operator": client.user(f"op-{tag}@warroom.test", {"role": "operator"})[1],
        "channel service": client.user(f"cc-{tag}@callcenter.test",
                                       {"role": "channel", "channel": "call_center_112"})[1],
    }


@pytest.fixture(scope="module")
def paths(client, tokens) -> dict[str, str]:
    """A document path in each collection; reports/ and staff_reports/ a real report routed to dinas-pu."""
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
    return out


def test_every_collection_the_code_names_is_in_the_matrix():
    named = {v for k, v in vars(firestore_store).items() if k.isupper() and isinstance(v, str)
             and k not in ("OPEN_STATUSES",) and v.islower() and v.replace("_", "").isalnum()}
    assert named == set(READERS)


def test_each_allow_has_a_deny_twin():
    for collection, readers in READERS.items():
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
        got = list_(client, token, collection, where)
        if (got == 200) != allowed or got not in (200, 403):
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
