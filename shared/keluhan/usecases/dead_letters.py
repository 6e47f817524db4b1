"""Messages that kept failing: recorded in dead_letters/{id}, visible and replayable."""

from __future__ import annotations

import base64
from collections.abc import Callable

from keluhan import topology
from keluhan.domain.dead_letter import (
    BROKER_ATTRIBUTE_PREFIX,
    DeadLetterDoc,
    DeadLetterRecord,
    StoredDeadLetter,
)
from keluhan.ports import Clock, DeadLetter, DeadLetters, PermanentError, Publisher, Reports
from keluhan.usecases.forwarding import mark_delivery_failed

DEAD_LETTER_ATTRIBUTE_PREFIX = BROKER_ATTRIBUTE_PREFIX  # the name this module has always exported


def store(letter: DeadLetterRecord, *, dead_letters: DeadLetters) -> bool:
    """Record a dead letter (every path that dead-letters goes through here); False if it was
    already recorded, and is then open again."""
    return dead_letters.add(letter.id, letter.to_doc())


def source_of(message: DeadLetter) -> tuple[str, str]:
    """(stage, original topic) of a dead-lettered message, from its source subscription."""
    name = message.attributes.get("CloudPubSubDeadLetterSourceSubscription", "").rsplit("/", 1)[-1]
    for sub in topology.subscriptions():
        if sub.name == name:
            return sub.function, sub.topic
    return topology.stage_of_topic(message.topic), message.topic.removesuffix(topology.DEAD_LETTER_SUFFIX)


def record_dead_letter(message: DeadLetter, *, dead_letters: DeadLetters, reports: Reports,
                       clock: Clock, publish: Publisher | None = None) -> tuple[str, DeadLetterDoc]:
    """Store the dead letter once (by content, not message id) with report id, stage and reason;
    a forwarding's delivery is marked failed (announced through `publish`)."""
    stage, topic = source_of(message)
    try:
        report_id: str | None = message.report_id()
    except PermanentError:
        report_id = None
    report = reports.get(report_id) if report_id else None
    attempts = message.attributes.get("CloudPubSubDeadLetterSourceDeliveryCount", "?")
    if report_id is None:
        reason = "pesan tanpa report_id / message without a report_id"
    elif report is None:
        reason = "laporan tidak ditemukan / report not found"
    elif stage == "forward_report" and report.forwarding is not None and report.forwarding.last_error:
        reason = report.forwarding.last_error
    else:
        reason = f"gagal diproses {attempts} kali / failed {attempts} delivery attempts"
    letter = DeadLetterRecord.given_up_by_broker(
        stage=stage, fingerprint=message.fingerprint(), report_id=report_id, topic=topic, reason=reason,
        at=clock(), data=message.data, attributes=message.attributes, attempts=attempts)
    store(letter, dead_letters=dead_letters)
    if stage == "forward_report" and report_id and report is not None:
        mark_delivery_failed(report_id, reason, reports=reports, clock=clock,
                             idempotency_key=message.attributes.get("delivery_key"), publish=publish)
    return letter.id, letter.to_doc()


def replay(dead_letter: StoredDeadLetter, *, publish_raw: Callable[[str, bytes, dict[str, str]], None],
           dead_letters: DeadLetters, clock: Clock) -> None:
    """Publish the original message again to its original topic."""
    publish_raw(dead_letter["topic"], base64.b64decode(dead_letter["data"]), dead_letter["attributes"])
    dead_letters.mark_replayed(dead_letter["id"], clock())
