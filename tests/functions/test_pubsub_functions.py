"""Pub/Sub-triggered functions through functions-framework test clients, with fake ports.

Acknowledged = 2xx (permanent errors recorded), retried = 5xx (Pub/Sub redelivers).
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.functions.test_submit_report import GOOD
from tests.support.deps import fake_deps, function_client  # noqa: F401
from tests.support.places import kelurahan_point, require_shared_geo


def push(client, topic: str, data: bytes, attributes: dict | None = None):
    """POST a Pub/Sub push message as a CloudEvent, the way the push endpoint delivers it."""
    headers = {
        "ce-id": "1", "ce-specversion": "1.0",
        "ce-source": f"//pubsub.googleapis.com/projects/demo-keluhan/topics/{topic}",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "Content-Type": "application/json",
    }
    body = {"message": {"data": base64.b64encode(data).decode(), "attributes": attributes or {},
                        "messageId": "1", "publishTime": "2026-11-29T01:00:00Z"}}
    return client.post("/", data=json.dumps(body), headers=headers)


@pytest.fixture
def received_report(fake_deps):  # noqa: F811
    require_shared_geo()
    lat, lon, _ = kelurahan_point("Bontorannu")
    body = {**GOOD, "lat": lat, "lon": lon, "channel": "call_center_112", "street": "Jl. Landak Baru"}
    headers = {"Authorization": "Bearer channel:call_center_112:cc-service"}
    return function_client("submit_report").post("/", json=body, headers=headers).get_json()["report_id"]


def test_enrich_geo_locates_and_publishes(fake_deps, received_report):  # noqa: F811
    client = function_client("enrich_geo", "cloudevent")
    response = push(client, "report-accepted", json.dumps({"report_id": received_report}).encode(),
                    {"report_id": received_report})
    assert response.status_code == 200
    report = fake_deps.reports.docs[received_report]
    assert report["location"]["kelurahan"] == "Bontorannu" and report["status"] == "located"
    assert fake_deps.publish.stage_topics()[-1] == "report-located"


def test_route_report_assigns_by_the_rules(fake_deps, received_report):  # noqa: F811
    enrich = function_client("enrich_geo", "cloudevent")
    push(enrich, "report-accepted", b"{}", {"report_id": received_report})
    response = push(function_client("route_report", "cloudevent"), "report-located", b"{}",
                    {"report_id": received_report})
    assert response.status_code == 200
    report = fake_deps.reports.docs[received_report]
    assert report["assignee"] == "dinas-pu" and report["routing"]["rule"] == "road-kota"


def test_message_that_is_not_json_is_acknowledged_and_recorded(fake_deps):  # noqa: F811
    client = function_client("enrich_geo", "cloudevent")
    response = push(client, "report-accepted", b"\xff not json")
    assert response.status_code == 200
    [record] = fake_deps.dead_letters.records.values()
    assert record["stage"] == "enrich_geo" and "JSON" in record["reason"]


def test_a_message_for_an_unknown_report_is_poison_recorded_with_its_reason_at_once(fake_deps):  # noqa: F811
    # Events are published after their report is written: a report that is not there never will be.
    require_shared_geo()
    client = function_client("enrich_geo", "cloudevent")
    response = push(client, "report-accepted", b"{}", {"report_id": "no-such-report"})
    assert response.status_code == 200
    [record] = fake_deps.dead_letters.records.values()
    assert record["report_id"] == "no-such-report" and "not found" in record["reason"]
    assert fake_deps.reports.get("no-such-report") is None  # nothing created by recording it


def test_bad_data_for_a_known_report_is_recorded_on_the_report(fake_deps, received_report):  # noqa: F811
    client = function_client("route_report", "cloudevent")
    # Routing a report that was never located is bad data: acknowledged, not retried forever.
    response = push(client, "report-located", b"{}", {"report_id": received_report})
    assert response.status_code == 200
    errors = fake_deps.reports.docs[received_report]["errors"]
    assert errors[0]["stage"] == "route_report"
    push(client, "report-located", b"{}", {"report_id": received_report})
    assert len(fake_deps.reports.docs[received_report]["errors"]) == 1  # a redelivery adds nothing


def test_forward_report_delivers_to_the_receiver_and_retries_on_failure(monkeypatch):
    from keluhan import bootstrap
    from keluhan.devstack.receiver import ReceiverClient, RunningReceiver, local_forward_targets
    from tests.support.deps import make_fake_deps
    from tests.support.fakes import FakeClock
    from tests.unit.test_forwarding_usecase import forwarded_report

    with RunningReceiver() as receiver:
        deps = make_fake_deps(forward_targets=local_forward_targets(receiver.url), forward_timeout_s=2)
        monkeypatch.setattr(bootstrap, "get_deps", lambda: deps)
        forwarded_report(deps.reports, FakeClock())
        ReceiverClient(receiver.url).set_mode("fail_times", body="baruga", times=1)
        client = function_client("forward_report", "cloudevent")
        attributes = {"report_id": "r1", "kind": "external", "assignee": "baruga"}
        assert push(client, "report-routed", b"{}", attributes).status_code == 500  # Pub/Sub retries
        assert deps.reports.docs["r1"]["forwarding"]["state"] == "pending"
        assert push(client, "report-routed", b"{}", attributes).status_code == 200
        assert deps.reports.docs["r1"]["forwarding"]["state"] == "acknowledged"
        [record] = ReceiverClient(receiver.url).received("baruga")
        assert record["responses"] == [500, 201]


def test_forward_report_ignores_reports_for_city_skpd(fake_deps):  # noqa: F811
    client = function_client("forward_report", "cloudevent")
    response = push(client, "report-routed", b"{}", {"report_id": "r9", "kind": "skpd", "assignee": "dlh"})
    assert response.status_code == 200
