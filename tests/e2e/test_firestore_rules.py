"""Firestore security rules, enforced by the emulator for client requests (REST with ID tokens)."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.test_pipeline import report_body
from tests.support.places import kelurahan_point


def read(client, token: str | None, path: str) -> int:
    url = (f"http://{client.config.firestore.hostport}/v1/projects/{client.config.project}"
           f"/databases/(default)/documents/{path}")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(url, headers=headers, timeout=10).status_code


def write(client, token: str, path: str) -> int:
    url = (f"http://{client.config.firestore.hostport}/v1/projects/{client.config.project}"
           f"/databases/(default)/documents/{path}")
    body = {"fields": {"status": {"stringValue": "resolved"}}}
    return requests.patch(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


@pytest.fixture(scope="module")
def routed_report(client):
    _, token = client.user(f"pemilik-{uuid.uuid4().hex[:6]}@callcenter.test",
                           {"role": "channel", "channel": "call_center_112"})
    lat, lon, _ = kelurahan_point("Bontorannu")
    response = client.submit(token, report_body(lat, lon, street="Jl. Landak Baru", channel="call_center_112"))
    report = client.wait_report(response.json()["report_id"])
    assert report["assignee"] == "dinas-pu"
    return report, token


def test_citizens_read_their_report_through_get_report_only(client, routed_report):
    report, owner = routed_report
    _, stranger = client.sign_in("orang-lain@warga.test")
    assert client.get_report(owner, report["report_id"]).status_code == 200
    assert client.get_report(stranger, report["report_id"]).status_code == 404
    for token in (owner, stranger, None):
        assert read(client, token, f"reports/{report['report_id']}") == 403
    assert read(client, owner, f"submissions/{report['reporter_ref']}") == 403


def test_skpd_staff_read_only_their_own_queue(client, routed_report):
    report, _ = routed_report
    pu = client.user("staf@dinas-pu.test", {"role": "skpd", "skpd": "dinas-pu"})[1]
    dlh = client.user("staf@dlh.test", {"role": "skpd", "skpd": "dlh"})[1]
    assert read(client, pu, f"staff_reports/{report['report_id']}") == 200  # the allow-listed view
    assert read(client, pu, f"reports/{report['report_id']}") == 403  # the whole report: operators only
    assert read(client, dlh, f"staff_reports/{report['report_id']}") == 403
    assert read(client, pu, f"submissions/{report['reporter_ref']}") == 403  # who reported stays hidden
    unroled = client.user("tanpa-peran@dinas-pu.test", {"skpd": "dinas-pu"})[1]  # no role: a citizen
    assert read(client, unroled, f"staff_reports/{report['report_id']}") == 403


def test_nobody_writes_reports_from_a_client(client, routed_report):
    report, owner = routed_report
    operator = client.user("operator@warroom.test", {"role": "operator"})[1]
    for token in (owner, operator):
        assert write(client, token, f"reports/{report['report_id']}") == 403


def test_operators_read_dead_letters_and_rules_citizens_do_not(client, routed_report):
    _, owner = routed_report
    operator = client.user("operator2@warroom.test", {"role": "operator"})[1]
    assert read(client, operator, "routing_rules/current") == 200
    assert read(client, owner, "routing_rules/current") == 403
    assert read(client, owner, "submissions/anything") == 403


def test_staff_roles_need_a_verified_email_in_rules_functions_and_grants(client, routed_report):
    """Issue 23: a claim on an account whose e-mail nobody verified is a citizen's everywhere, and
    `keluhan users grant` refuses to give it a staff role."""
    from keluhan.adapters.users import FirebaseUsers, UnverifiedEmail

    report, _ = routed_report
    tag = uuid.uuid4().hex[:6]
    skpd = client.user(f"staff-{tag}@dinas-pu.test", {"role": "skpd", "skpd": "dinas-pu"}, verified=False)[1]
    operator = client.user(f"op-{tag}@warroom.test", {"role": "operator"}, verified=False)[1]
    assert read(client, skpd, f"staff_reports/{report['report_id']}") == 403
    assert read(client, operator, f"reports/{report['report_id']}") == 403
    answer = client.act(skpd, {"report_id": report["report_id"], "action": "accept", "expected_status": "routed"})
    assert answer.status_code in (403, 404), answer.text
    users = FirebaseUsers(client.config.project)
    client.sign_in(f"pre-{tag}@dinas-pu.test")  # someone registers the address first
    with pytest.raises(UnverifiedEmail):
        users.set_role(f"pre-{tag}@dinas-pu.test", {"role": "skpd", "skpd": "dinas-pu"})
    assert users.set_role(f"pre-{tag}@dinas-pu.test", {})["claims"] == {}  # a citizen role is fine


def test_a_demoted_skpd_token_reads_nothing_through_the_rules(client, routed_report):
    """Issue 23: the rules cannot ask Auth about revocation; `keluhan users revoke` records the role
    change (revocations/{uid}) and the rules refuse tokens from an earlier sign-in."""
    import time

    from google.cloud import firestore

    from keluhan.adapters.firestore_store import FirestoreRevocations
    from keluhan.adapters.users import FirebaseUsers

    report, _ = routed_report
    path = f"staff_reports/{report['report_id']}"
    email = f"demoted-{uuid.uuid4().hex[:6]}@dinas-pu.test"
    client.user(email, verified=True)
    users = FirebaseUsers(client.config.project,
                          revocations=FirestoreRevocations(firestore.Client(project=client.config.project)))
    users.set_role(email, {"role": "skpd", "skpd": "dinas-pu"})
    deadline = time.monotonic() + 5  # a sign-in counts from the second after the grant
    while True:
        staff = client.sign_in(email)[1]
        if read(client, staff, path) == 200:
            break
        assert time.monotonic() < deadline, "a fresh sign-in after the grant never read its queue"
        time.sleep(0.2)
    users.set_role(email, {})  # demoted: the token above still carries role skpd until it expires
    assert read(client, staff, path) == 403
