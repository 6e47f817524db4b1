"""Forwarding use case with fake ports: one key across retries, failures recorded, replay works."""

from __future__ import annotations

import pytest

from keluhan.adapters.forward_http import SendResult
from keluhan.ports import PermanentDeliveryError, TransientDeliveryError
from keluhan.pubsub import Message
from keluhan.usecases.dead_letters import record_dead_letter
from keluhan.usecases.forwarding import DeliveryRetry, forward_report
from tests.support.deps import FakeDeadLetters
from tests.support.fakes import FakeClock, FakeReports, stored

TARGETS = {"baruga": {"url": "http://receiver.test/baruga/requests.json", "format": "open311"}}


def forwarded_report(reports: FakeReports, clock: FakeClock) -> None:
    reports.docs["r1"] = {
        "report_id": "r1", "reporter_ref": "secret-uid", "category": "jalan_rusak",
        "description": "Lubang", "point": {"lat": -5.14, "lon": 119.43, "accuracy_m": 5},
        "received_at": clock(), "status": "forwarded", "status_changed_at": clock(), "timeline": [], "stages": {},
        "location": {"kelurahan": "Karuwisi", "kecamatan": "Panakkukang", "kode_kelurahan": "x",
                     "kode_kecamatan": "73.71.09", "inside_city": True, "road": None},
        "routing": {"assignee": "baruga", "kind": "external", "rule": "road-provinsi",
                    "reason": "a / b", "rules_version": "v"},
        "forwarding": {"assignee": "baruga", "state": "pending", "attempts": 0, "last_error": None,
                       "receiver_ref": None, "idempotency_key": "keluhan:r1:baruga", "updated_at": clock()},
    }


class ScriptedReceiver:
    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.keys = []

    def __call__(self, target, payload, *, idempotency_key, timeout_s):
        self.keys.append(idempotency_key)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return SendResult(receiver_ref=outcome, status_code=201)


@pytest.fixture
def world():
    reports, clock = FakeReports(), FakeClock()
    forwarded_report(reports, clock)
    return reports, clock


def _forward(reports, clock, send):
    return stored(forward_report("r1", reports=reports, targets=TARGETS, send=send, timeout_s=5, clock=clock))


def test_two_failures_then_success_use_one_idempotency_key(world):
    reports, clock = world
    send = ScriptedReceiver(TransientDeliveryError("500"), TransientDeliveryError("500"), "BRG-1")
    for _ in range(2):
        with pytest.raises(DeliveryRetry):
            _forward(reports, clock, send)
        assert reports.docs["r1"]["forwarding"]["state"] == "pending"
    report = _forward(reports, clock, send)
    assert set(send.keys) == {"keluhan:r1:baruga"} and len(send.keys) == 3
    assert report["forwarding"]["state"] == "acknowledged"
    assert report["forwarding"]["attempts"] == 3
    assert report["forwarding"]["receiver_ref"] == "BRG-1"
    assert report["status"] == "forwarded"  # the citizen-visible status stays


def test_acknowledged_delivery_is_not_sent_again(world):
    reports, clock = world
    send = ScriptedReceiver("BRG-1")
    _forward(reports, clock, send)
    _forward(reports, clock, send)
    assert len(send.keys) == 1


def test_permanent_rejection_marks_the_delivery_failed(world):
    from keluhan.ports import PermanentError

    reports, clock = world
    with pytest.raises(PermanentError):
        _forward(reports, clock, ScriptedReceiver(PermanentDeliveryError("400 bad request")))
    assert reports.docs["r1"]["forwarding"]["state"] == "failed"


def test_payload_never_carries_the_reporter_uid(world):
    reports, clock = world
    seen = []

    def send(target, payload, *, idempotency_key, timeout_s):
        seen.append(payload)
        return SendResult("BRG-2", 201)

    _forward(reports, clock, send)
    assert "secret-uid" not in repr(seen)


def test_dead_lettered_forwarding_is_recorded_and_the_delivery_marked_failed(world):
    reports, clock = world
    with pytest.raises(DeliveryRetry):
        _forward(reports, clock, ScriptedReceiver(TransientDeliveryError("receiver 500")))
    message = Message(data=b'{"report_id": "r1"}', attributes={
        "report_id": "r1", "kind": "external",
        "CloudPubSubDeadLetterSourceSubscription": "projects/p/subscriptions/forward_report--report-routed",
        "CloudPubSubDeadLetterSourceDeliveryCount": "5"}, message_id="1", publish_time="",
        topic="report-routed-dead-letter")
    dead_letters = FakeDeadLetters()
    dl_id, record = record_dead_letter(message, dead_letters=dead_letters, reports=reports, clock=clock)
    assert record["stage"] == "forward_report" and record["topic"] == "report-routed"
    assert record["reason"] == "receiver 500"
    assert "CloudPubSubDeadLetterSourceDeliveryCount" not in record["attributes"]
    assert reports.docs["r1"]["forwarding"]["state"] == "failed"
    # The same dead letter delivered twice is stored once.
    record_dead_letter(message, dead_letters=dead_letters, reports=reports, clock=clock)
    assert list(dead_letters.records) == [dl_id]
    # A replay after the receiver recovered delivers it and acknowledges.
    report = _forward(reports, clock, ScriptedReceiver("BRG-9"))
    assert report["forwarding"]["state"] == "acknowledged"
