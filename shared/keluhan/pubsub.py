"""Pub/Sub push delivery into functions: decoding, and mapping errors to ack or retry.

Permanent errors (bad data) are recorded and acknowledged; anything else propagates, the
function answers 500 and Pub/Sub redelivers until the dead-letter topic takes the message.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cloudevents.http import CloudEvent

from keluhan.domain.dead_letter import DeadLetterRecord
from keluhan.domain.report import StageError, report_id_from_object, valid_report_id
from keluhan.logs import log_context
from keluhan.ports import Clock, DeadLetters, PermanentError, Reports
from keluhan.usecases.dead_letters import store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One pushed Pub/Sub message; on a dead-letter topic, the `ports.DeadLetter` the use case reads."""

    data: bytes
    attributes: dict[str, str]
    message_id: str
    publish_time: str
    topic: str

    def json(self) -> dict[str, object]:
        try:
            body = json.loads(self.data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PermanentError("data bukan JSON / message data is not JSON") from exc
        if not isinstance(body, dict):
            raise PermanentError("data bukan objek JSON / message data is not a JSON object")
        return body

    def report_id(self) -> str:
        """From our events' attributes, or a storage notification's object name."""
        report_id = (self.attributes.get("report_id")
                     or report_id_from_object(self.attributes.get("objectId", ""))
                     or self.json().get("report_id"))
        if not isinstance(report_id, str) or not valid_report_id(report_id):
            raise PermanentError("report_id tidak ada / message has no valid report_id")
        return report_id

    def seq(self) -> int:
        """A status change's timeline position (`report-status-changed`), from its attributes or body."""
        seq = self.attributes.get("seq", self.json().get("seq") if "seq" not in self.attributes else None)
        try:
            value = int(str(seq))
        except ValueError as exc:
            raise PermanentError("seq tidak ada / message has no valid seq") from exc
        if value < 0:
            raise PermanentError("seq tidak ada / message has no valid seq")
        return value

    def move(self) -> tuple[str, str] | None:
        """A status change's (action, resulting status), from the attributes its publisher sets
        (`keluhan.usecases.events.publish_status_changed`); None if it names none."""
        action, to = self.attributes.get("action"), self.attributes.get("to")
        return (action, to) if action and to else None

    def fingerprint(self) -> str:
        """A domain key for this message's content, independent of the Pub/Sub message id."""
        stable = {k: v for k, v in self.attributes.items() if not k.startswith("CloudPubSubDeadLetter")}
        blob = json.dumps([self.topic, stable, base64.b64encode(self.data).decode()], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]


def decode(cloud_event: CloudEvent) -> Message:
    """A CloudEvent from a Pub/Sub push (functions-framework converts the push envelope)."""
    data = cloud_event.data or {}
    message = data.get("message", {})
    raw = message.get("data") or ""
    try:
        body = base64.b64decode(raw, validate=True) if raw else b""
    except ValueError:
        body = raw.encode() if isinstance(raw, str) else b""
    source = cloud_event["source"] if "source" in cloud_event.get_attributes() else ""
    topic = source.rsplit("/topics/", 1)[1] if "/topics/" in source else ""
    return Message(
        data=body,
        attributes=dict(message.get("attributes") or {}),
        message_id=str(message.get("messageId") or message.get("message_id") or ""),
        publish_time=str(message.get("publishTime") or message.get("publish_time") or ""),
        topic=topic,
    )


@contextlib.contextmanager
def stage_errors(stage: str, message: Message, *, reports: Reports, dead_letters: DeadLetters,
                 clock: Clock) -> Iterator[None]:
    """Acknowledge permanent errors after recording them where an operator will see them.

    Every record logged inside carries the stage and the message's report id.
    """
    try:
        with log_context(stage=stage, report_id=_report_id_or_none(message)):
            try:
                yield
            except PermanentError:
                raise
            except Exception as exc:
                log.warning("%s: failed, Pub/Sub will redeliver: %r", stage, exc)
                raise
    except PermanentError as exc:
        reason = str(exc)
        report_id = _report_id_or_none(message)
        log.warning("%s: permanent error, acknowledged: %s", stage, reason,
                    extra={"stage": stage, "report_id": report_id})
        now = clock()

        if report_id:
            error = StageError(stage=stage, reason=reason, at=now)
            reports.mutate(report_id, lambda report: report.failed_at(error))
        # Also where operators look for what went wrong, whether or not the report exists.
        store(DeadLetterRecord.permanent_error(
            stage=stage, fingerprint=message.fingerprint(), report_id=report_id, topic=message.topic,
            reason=reason, at=now, data=message.data, attributes=message.attributes), dead_letters=dead_letters)


def _report_id_or_none(message: Message) -> str | None:
    try:
        return message.report_id()
    except PermanentError:
        return None
