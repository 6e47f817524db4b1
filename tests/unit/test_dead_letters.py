"""Every path that dead-letters stores the one DeadLetterRecord document `keluhan dlq` reads."""

import base64
from datetime import UTC, datetime

from keluhan.domain.dead_letter import DeadLetterRecord

AT = datetime(2026, 3, 2, 8, tzinfo=UTC)
ATTRIBUTES = {"report_id": "r1", "CloudPubSubDeadLetterSourceDeliveryCount": "5"}


def _all_three():
    common = {"report_id": "r1", "topic": "report-accepted", "reason": "why", "at": AT, "data": b'{"a": 1}',
              "attributes": ATTRIBUTES}
    return (DeadLetterRecord.permanent_error(stage="enrich_geo", fingerprint="f1", **common),
            DeadLetterRecord.given_up_by_broker(stage="enrich_geo", fingerprint="f1", attempts="5", **common),
            DeadLetterRecord.stuck(status="received", stage="enrich_geo", republished=3, **common))


def test_the_three_paths_store_one_shape_that_dlq_list_and_replay_read():
    docs = [letter.to_doc() for letter in _all_three()]
    assert {frozenset(doc) for doc in docs} == {frozenset({
        "report_id", "stage", "topic", "reason", "attempts", "at", "data", "attributes", "permanent",
        "reconciler", "replayed_at", "replays"})}
    for doc in docs:
        assert base64.b64decode(doc["data"]) == b'{"a": 1}'
        assert (doc["replayed_at"], doc["replays"]) == (None, 0)
    permanent, broker, stuck = docs
    assert (permanent["permanent"], broker["permanent"], stuck["permanent"]) == (True, False, False)
    assert (permanent["reconciler"], broker["reconciler"], stuck["reconciler"]) == (False, False, True)
    assert (permanent["attempts"], broker["attempts"], stuck["attempts"]) == (None, "5", "3")


def test_ids_a_redelivery_finds_again_and_replays_carry_no_broker_bookkeeping():
    permanent, broker, stuck = _all_three()
    assert permanent.id == broker.id == "enrich_geo-f1"  # one message, one record, however it failed
    assert stuck.id == "reconcile-r1-received"
    assert permanent.to_doc()["attributes"] == broker.to_doc()["attributes"] == {"report_id": "r1"}
