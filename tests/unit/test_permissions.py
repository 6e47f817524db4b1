"""Each function's service account is granted exactly what the code calls (issue 24).

The calls are those the e2e stack recorded at the clients' transport layer (infra/iam/api_calls.json,
kept current by every e2e session: tests/support/api_calls.py); the permissions they need, and those
the granted roles carry, are the cited tables of tests/support/permissions.py; the grants are read
from the Terraform. A new call without a grant, or a grant without a call, fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from keluhan import topology
from keluhan.devstack.api_calls import grpc_method, rest_method
from keluhan.settings import REPO_ROOT
from tests.support import permissions
from tests.support.api_calls import checked_in
from tests.support.permissions import (
    METHODS,
    ROLES,
    Grant,
    covering,
    grants,
    need_of,
    platform_calls,
    uncovered,
)

RECORDED = checked_in()
NAMES = [fn.name for fn in topology.FUNCTIONS]


def calls_of(function: str) -> set[str]:
    return set(RECORDED.get(function, {})) | platform_calls(function)


def test_every_function_was_recorded_and_nothing_else():
    assert sorted(RECORDED) == sorted(NAMES)


def test_every_recorded_method_is_in_the_table():
    unknown = {(fn, method) for fn, methods in RECORDED.items() for method in methods
               if method.startswith("unknown") or method.partition(":")[0] not in METHODS}
    assert not unknown, f"add these methods, with the permissions they need, to {permissions.__name__}"


def test_every_granted_role_is_in_the_table():
    assert {g.role for granted in grants().values() for g in granted} <= set(ROLES)


@pytest.mark.parametrize("function", NAMES)
def test_recorded_calls_are_covered_by_the_roles_terraform_grants(function):
    missing = {method: sorted(uncovered(*need_of(method), grants()[function]))
               for method in sorted(calls_of(function))}
    assert {m: p for m, p in missing.items() if p} == {}, f"{function}: calls without a grant"


@pytest.mark.parametrize("function", NAMES)
def test_every_grant_is_justified_by_a_recorded_call(function):
    used = set().union(*(covering(*need_of(method), grants()[function]) for method in calls_of(function)))
    assert sorted(grants()[function] - used) == [], f"{function}: grants no call needs"


def test_the_two_runtime_holes_of_issue_24_would_be_caught():
    """Without the Firebase Auth viewer role, or get_report's publisher grant (as at 292ae7c)."""
    granted = grants()["get_report"]
    lookup = "identitytoolkit.projects.accounts.lookup"
    publish = "google.pubsub.v1.Publisher.Publish:report-status-changed"
    assert {lookup, publish} <= set(RECORDED["get_report"])
    assert uncovered(*need_of(lookup), granted - {Grant("roles/firebaseauth.viewer", "project")}) == \
        {"firebaseauth.users.get"}
    assert uncovered(*need_of(publish), granted - {Grant("roles/pubsub.publisher", "topic:report-status-changed")}) \
        == {"pubsub.topics.publish"}
    # A publisher grant on another topic is no grant on this one.
    assert uncovered(*need_of(publish), frozenset({Grant("roles/pubsub.publisher", "topic:report-accepted")}))


FIRESTORE_ROLES = ("roles/datastore.viewer", "roles/datastore.user")  # narrowest first


@pytest.mark.parametrize("function", NAMES)
def test_each_account_holds_the_narrowest_firestore_role_its_calls_allow(function):
    """Issue 23: war_room held datastore.user though it only queries; a reader gets the viewer role."""
    firestore = {m for m in calls_of(function) if m.startswith(permissions.FIRESTORE)}
    narrowest = next(role for role in FIRESTORE_ROLES
                     if not set().union(*(uncovered(*need_of(m), frozenset({Grant(role, "project")}))
                                          for m in firestore)))
    assert {g.role for g in grants()[function] if g.role.startswith("roles/datastore.")} == {narrowest}


def test_war_room_only_reads_firestore_and_a_write_would_be_caught():
    assert {m for m in RECORDED["war_room"] if m.startswith(permissions.FIRESTORE)} == {
        permissions.FIRESTORE + "RunQuery", permissions.FIRESTORE + "RunAggregationQuery"}
    viewer = frozenset({Grant("roles/datastore.viewer", "project")})
    assert uncovered(*need_of(permissions.FIRESTORE + "Commit"), viewer) == {
        "datastore.entities.create", "datastore.entities.update", "datastore.entities.delete"}


def test_signing_accounts_hold_only_sign_blob_on_themselves():
    """Issue 23: Token Creator (access and ID tokens, JWTs) was broader than V4 signing needs."""
    signers = {fn.name for fn in topology.FUNCTIONS if fn.signs_urls}
    for function in NAMES:
        own = {g for g in grants()[function] if g.scope == "self"}
        assert own == ({Grant(permissions.custom_role_name("sign_blob"), "self")} if function in signers
                       else set()), function
    assert ROLES[permissions.custom_role_name("sign_blob")][0] == {"iam.serviceAccounts.signBlob"}
    assert "roles/iam.serviceAccountTokenCreator" not in {g.role for gs in grants().values() for g in gs}


def test_every_table_row_cites_its_source():
    for method, need in METHODS.items():
        assert need.source, method
    for role, (carried, source) in ROLES.items():
        assert carried and source.startswith("https://"), role


def test_deploy_doc_lists_what_each_account_may_do_as_generated():
    doc = permissions.DEPLOY_DOC.read_text(encoding="utf-8")
    assert permissions.BEGIN in doc, "docs/deploy.md lost its generated permissions table"
    assert doc == permissions.rendered_doc(doc, RECORDED), \
        "docs/deploy.md is stale: run `.venv/bin/python -m tests.support.permissions`"


# The recorder itself (keluhan.devstack.api_calls): names as the tables expect them.

@pytest.mark.parametrize(("verb", "url", "expected"), [
    ("GET", "http://emu:9199/storage/v1/b/bkt/o/incoming%2Fr1%2Fphoto?generation=3", "storage.objects.get:incoming/"),
    ("GET", "http://emu:9199/download/storage/v1/b/bkt/o/derived/r1/clean.jpg?alt=media", "storage.objects.get:derived/"),
    ("POST", "https://storage.googleapis.com/upload/storage/v1/b/bkt/o?uploadType=media&name=derived%2Fx.jpg",
     "storage.objects.insert:derived/"),
    ("GET", "https://storage.googleapis.com/storage/v1/b/bkt", "storage.buckets.get"),
    ("POST", "http://emu:9099/identitytoolkit.googleapis.com/v1/projects/p/accounts:lookup",
     "identitytoolkit.projects.accounts.lookup"),
    ("POST", "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/a@p.iam.gserviceaccount.com:signBlob",
     "iamcredentials.projects.serviceAccounts.signBlob"),
    ("GET", "https://secretmanager.googleapis.com/v1/projects/p/secrets/s/versions/latest:access",
     "secretmanager.projects.secrets.versions.access"),
    ("POST", "https://fcm.googleapis.com/v1/projects/p/messages:send", "fcm.projects.messages.send"),
    ("POST", "https://translation.googleapis.com/v3/projects/p:translateText",
     "unknown:POST translation.googleapis.com/v3/projects/p:translateText"),
    ("POST", "http://receiver.example/baruga", None),
])
def test_rest_calls_are_named_by_their_api_method(verb, url, expected):
    assert rest_method(verb, url, emulator_hosts=frozenset({"emu:9199", "emu:9099"})) == expected


def test_grpc_calls_are_named_by_their_service_method():
    assert grpc_method(b"/google.firestore.v1.Firestore/Commit") == "google.firestore.v1.Firestore.Commit"


class _Emulator(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = json.dumps({"name": "incoming/r1/photo", "bucket": "bkt", "generation": "7"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_process_with_the_recorder_writes_each_method_once(tmp_path):
    """A real storage client in a fresh process, against a stand-in server named as the emulator."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Emulator)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    script = (
        "from pathlib import Path\n"
        "from keluhan.devstack.api_calls import Recorder, install\n"
        f"install(Recorder(Path({str(tmp_path / 'f.jsonl')!r}), 'verify_photo'))\n"
        "from google.auth.credentials import AnonymousCredentials\n"
        "from google.cloud import storage\n"
        "bucket = storage.Client(project='p', credentials=AnonymousCredentials()).bucket('bkt')\n"
        "for _ in range(3):\n"
        "    bucket.get_blob('incoming/r1/photo')\n"
    )
    try:
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60, cwd=REPO_ROOT,
                       env={**os.environ, "STORAGE_EMULATOR_HOST": f"http://{host}"})
    finally:
        server.shutdown()
    lines = [json.loads(line) for line in (tmp_path / "f.jsonl").read_text().splitlines()]
    gets = [entry for entry in lines if entry["method"] == "storage.objects.get:incoming/"]
    assert len(gets) == 1 and gets[0]["function"] == "verify_photo"


def test_an_e2e_session_fails_on_a_call_the_checked_in_record_lacks(tmp_path, monkeypatch):
    from tests.support.api_calls import UPDATE_ENV, check_session

    monkeypatch.delenv(UPDATE_ENV, raising=False)
    with pytest.raises(AssertionError, match="without the API call recorder"):
        check_session(tmp_path)
    calls = tmp_path / "api-calls"
    calls.mkdir()
    known = next(iter(RECORDED["get_report"]))
    (calls / "get_report.jsonl").write_text(json.dumps({"function": "get_report", "method": known}) + "\n")
    check_session(tmp_path)  # nothing new
    (calls / "get_report.jsonl").write_text(
        json.dumps({"function": "get_report", "method": "google.pubsub.v1.Publisher.Publish:sweep-tick"}) + "\n")
    with pytest.raises(AssertionError, match="sweep-tick"):
        check_session(tmp_path)
