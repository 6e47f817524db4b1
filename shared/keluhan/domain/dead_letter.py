"""A dead letter: a message no stage could process, kept in dead_letters/{id} until replayed.

Three paths write one: a stage that meets bad data (`permanent`), the broker giving up after its
delivery attempts (the *-dead-letter topics), and the reconciler giving up on a stuck report
(`reconciler`). Each stores the same document, which `keluhan dlq list|replay` reads.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NotRequired, TypedDict

# Pub/Sub's own bookkeeping on a dead-lettered message; a replay must not carry it.
BROKER_ATTRIBUTE_PREFIX = "CloudPubSubDeadLetter"


class DeadLetterDoc(TypedDict):
    """A dead_letters/{id} document as stored (`DeadLetterRecord.to_doc`, then replays and failures)."""

    report_id: str | None
    stage: str
    topic: str
    reason: str
    attempts: str | None
    at: datetime
    data: str
    """The message's bytes, base64."""
    attributes: dict[str, str]
    permanent: bool
    reconciler: bool
    replayed_at: datetime | None
    replays: int
    failures: NotRequired[int]
    """How often it was dead-lettered again after a replay."""


class StoredDeadLetter(DeadLetterDoc):
    """A dead letter as the DeadLetters port lists it: the document and its id."""

    id: str


@dataclass(frozen=True)
class DeadLetterRecord:
    """One dead letter: which report and stage, why, and the message to publish again on replay."""

    id: str
    report_id: str | None
    stage: str
    topic: str
    """The topic the message is replayed to (the stage's own topic, never a dead-letter topic)."""
    reason: str
    at: datetime
    data: bytes
    attributes: Mapping[str, str] = field(default_factory=dict)
    attempts: str | None = None
    """Deliveries (or re-publications) before it was given up on ("?" if the broker did not say);
    None for a permanent error, recorded on whichever delivery met it."""
    permanent: bool = False
    reconciler: bool = False

    @classmethod
    def permanent_error(cls, *, stage: str, fingerprint: str, report_id: str | None, topic: str, reason: str,
                        at: datetime, data: bytes, attributes: Mapping[str, str]) -> DeadLetterRecord:
        """Bad data a stage acknowledged at once: one record per stage and message content."""
        return cls(id=f"{stage}-{fingerprint}", report_id=report_id, stage=stage, topic=topic, reason=reason,
                   at=at, data=data, attributes=without_broker_attributes(attributes), permanent=True)

    @classmethod
    def given_up_by_broker(cls, *, stage: str, fingerprint: str, report_id: str | None, topic: str,
                           reason: str, at: datetime, data: bytes, attributes: Mapping[str, str],
                           attempts: str) -> DeadLetterRecord:
        """A message Pub/Sub stopped redelivering: keyed like a permanent error of the same stage."""
        return cls(id=f"{stage}-{fingerprint}", report_id=report_id, stage=stage, topic=topic, reason=reason,
                   at=at, data=data, attributes=without_broker_attributes(attributes), attempts=attempts)

    @classmethod
    def stuck(cls, *, report_id: str, status: str, stage: str, topic: str, reason: str, at: datetime,
              data: bytes, attributes: Mapping[str, str], republished: int) -> DeadLetterRecord:
        """A report the reconciler re-published `republished` times without it moving from `status`."""
        return cls(id=f"reconcile-{report_id}-{status}", report_id=report_id, stage=stage, topic=topic,
                   reason=reason, at=at, data=data, attributes=dict(attributes), attempts=str(republished),
                   reconciler=True)

    def to_doc(self) -> DeadLetterDoc:
        """The dead_letters/{id} document: open (never replayed) when first stored."""
        return {
            "report_id": self.report_id, "stage": self.stage, "topic": self.topic, "reason": self.reason,
            "attempts": self.attempts, "at": self.at,
            "data": base64.b64encode(self.data).decode(), "attributes": dict(self.attributes),
            "permanent": self.permanent, "reconciler": self.reconciler,
            "replayed_at": None, "replays": 0,
        }


def without_broker_attributes(attributes: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in attributes.items() if not k.startswith(BROKER_ATTRIBUTE_PREFIX)}
