"""Paths that call Google APIs no other e2e test reaches, so that the stack records every call the
code can make (infra/iam/api_calls.json, checked against Terraform's grants in
tests/unit/test_permissions.py): reading a report whose photo wait ran out, an operator's approval,
the reconciler's re-publish of located and forwarded reports and its look for a lost proof upload.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.e2e.test_forwarding import provincial_pothole
from tests.e2e.test_pipeline import _publisher, report_body
from tests.support.places import kelurahan_point

LONG_AGO = timedelta(minutes=30)  # past every reconciler threshold (2 and 10 minutes)


def _submitted(client, token) -> str:
    lat, lon, _ = kelurahan_point("Bontorannu")
    response = client.submit(token, report_body(lat, lon, street=f"Jl. Uji {uuid.uuid4().hex[:6]}",
                                                 taken_at=datetime.now(UTC)))
    assert response.status_code == 201, response.text
    return response.json()["report_id"]


def test_reading_a_report_whose_photo_wait_ran_out_expires_it_and_announces_it(client, citizen):
    _, token = citizen
    report_id = _submitted(client, token)
    client.db.collection("reports").document(report_id).update(
        {"photo.deadline": datetime.now(UTC) - timedelta(minutes=1)})
    view = client.get_report(token, report_id)  # get_report expires it and publishes the change
    assert view.status_code == 200 and view.json()["status"] == "photo_expired"
    report = client.wait_report(report_id, lambda r: r["status"] == "photo_expired", timeout_s=30)
    assert report["timeline"][-1]["status"] == "photo_expired"


def test_an_operator_approving_a_moderated_report_sends_it_on(client, citizen):
    _, token = citizen
    _, operator = client.user("operator.granted@warroom.makassar.test", {"role": "operator"})
    report_id = _submitted(client, token)
    client.db.collection("reports").document(report_id).update({"status": "in_moderation"})
    response = client.act(operator, {"report_id": report_id, "action": "approve",
                                     "expected_status": "in_moderation"})
    assert response.status_code == 200, response.text
    # report-accepted went out: geo enrichment moves it past verified.
    report = client.wait_report(report_id, lambda r: r["status"] not in ("in_moderation", "verified"),
                                timeout_s=60)
    assert report["status"] in ("located", "routed", "forwarded", "triage"), report["status"]


def test_the_reconciler_republishes_stuck_stages_and_looks_for_a_lost_proof(client, citizen, call_center):
    _, token = citizen
    now = datetime.now(UTC)
    reports = client.db.collection("reports")
    located = _submitted(client, token)
    reports.document(located).update({"status": "located", "status_changed_at": now - LONG_AGO})
    resolving = _submitted(client, token)
    reports.document(resolving).update({
        "status": "resolving", "status_changed_at": now - LONG_AGO,
        "resolution": {"attempt": 1, "object": f"resolution/{resolving}/1", "deadline": now + LONG_AGO}})
    forwarded = provincial_pothole(client, call_center)
    client.wait_report(forwarded, lambda r: (r.get("forwarding") or {}).get("state") == "acknowledged",
                       timeout_s=60)
    # As if forward_report died after sending and before the receiver's acknowledgement was stored.
    reports.document(forwarded).update({"forwarding.state": "sent", "forwarding.updated_at": now - LONG_AGO})

    _publisher(client)("sweep-tick", {}, {})
    for report_id, stage in ((located, "located"), (forwarded, "forwarded/sent")):
        report = client.wait_report(report_id, lambda r, s=stage: (r.get("stalled") or {}).get("status") == s,
                                    timeout_s=60)
        assert report["stalled"]["count"] >= 1
    # The proof never came: the reconciler looked for it in the bucket and found nothing to send.
    assert client.report(resolving)["status"] == "resolving"
