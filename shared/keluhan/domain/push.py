"""Push notifications: device tokens, a user's notification preferences, and the send record of one
message on an external channel (pending → sent | failed, with attempts).

Pure: the quiet-hours arithmetic (WITA), the bounds per user, and what one attempt's outcome does
to a send. The notify use case decides what to send; adapters store and deliver.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from keluhan.domain.notify import Lang, Message, message_id
from keluhan.domain.report import REPORT_ID_SCHEMA_PATTERN, valid_report_id

WITA = timezone(timedelta(hours=8), "WITA")
Platform = Literal["android", "ios", "web"]
SendState = Literal["pending", "sent", "failed"]
ExternalChannel = Literal["push"]

MAX_DEVICES = 10  # per user: registering an 11th forgets the one registered longest ago
MAX_MUTED = 100  # muted reports per user
MAX_ATTEMPTS = 5  # attempts of one send before it is failed for good
LEASE = timedelta(seconds=60)  # an attempt in flight; past it, the reconciler may try again
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
# FCM registration tokens are ~150-200 characters of [A-Za-z0-9_:-]; APNs-through-FCM and web alike.
TOKEN_PATTERN = r"^[A-Za-z0-9_:\-.]+$"


class RegisterDevice(BaseModel):
    """What the app sends to register a push token."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=16, max_length=4096, pattern=TOKEN_PATTERN,
                       description="The FCM registration token of this app install")
    platform: Platform
    lang: Lang | None = Field(default=None, description="The language this device shows; "
                                                        "absent: the user's language")


class UnregisterDevice(BaseModel):
    """What the app sends when it signs out or the user turns push off."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=16, max_length=4096, pattern=TOKEN_PATTERN)


class Device(BaseModel):
    """devices/{uid}/tokens/{device_id}: one registered app install."""

    device_id: str
    token: str
    platform: Platform
    lang: Lang | None = None
    registered_at: datetime


def device_id(token: str) -> str:
    """The document id of a token: the same token registers once, however often it is sent."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


class QuietHours(BaseModel):
    """A daily window, WITA, in which non-urgent pushes wait (the inbox still gets them)."""

    model_config = ConfigDict(extra="forbid")

    start: str = Field(pattern=HHMM, description="HH:MM WITA")
    end: str = Field(pattern=HHMM, description="HH:MM WITA; before start: the window spans midnight")


DEFAULT_QUIET_HOURS = QuietHours(start="21:00", end="06:00")


class Preferences(BaseModel):
    """preferences/{uid}: as stored and as shown to its owner."""

    lang: Lang | None = Field(default=None, description="The language messages are written in; "
                                                        "absent: the one of the submission or staff entry")
    quiet_hours: QuietHours | None = Field(default=DEFAULT_QUIET_HOURS,
                                           description="null: pushes at any hour")
    muted_reports: list[str] = Field(default_factory=list, max_length=MAX_MUTED,
                                     description="Reports that send no push (their messages stay in the inbox)")


class SetPreferences(BaseModel):
    """A change of preferences: only the fields sent change (`quiet_hours: null` turns them off)."""

    model_config = ConfigDict(extra="forbid")

    lang: Lang | None = None
    quiet_hours: QuietHours | None = None
    mute: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                             json_schema_extra={"pattern": REPORT_ID_SCHEMA_PATTERN},
                             description="A report id to mute")
    unmute: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                               json_schema_extra={"pattern": REPORT_ID_SCHEMA_PATTERN},
                               description="A report id to hear of again")

    @field_validator("mute", "unmute")
    @classmethod
    def _report_id(cls, value: str | None) -> str | None:
        if value is not None and not valid_report_id(value):
            raise ValueError("bukan id laporan / not a report id")
        return value

    def apply(self, prefs: Preferences) -> Preferences:
        changed = prefs.model_copy(deep=True)
        if "lang" in self.model_fields_set:
            changed.lang = self.lang
        if "quiet_hours" in self.model_fields_set:
            changed.quiet_hours = self.quiet_hours
        if self.mute and self.mute not in changed.muted_reports:
            changed.muted_reports = [*changed.muted_reports, self.mute][-MAX_MUTED:]
        if self.unmute:
            changed.muted_reports = [r for r in changed.muted_reports if r != self.unmute]
        return changed


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def quiet_until(now: datetime, quiet: QuietHours | None) -> datetime | None:
    """When the quiet hours holding `now` end (UTC), or None when `now` is outside them."""
    if quiet is None or quiet.start == quiet.end:
        return None
    local = now.astimezone(WITA)
    at, start, end = local.hour * 60 + local.minute, _minutes(quiet.start), _minutes(quiet.end)
    inside = start <= at < end if start < end else (at >= start or at < end)
    if not inside:
        return None
    ends = local.replace(hour=end // 60, minute=end % 60, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(UTC)


@dataclass(frozen=True)
class PushSend:
    """One message on one external channel to one recipient (`message_id` carries the channel):
    its words in both languages (each device shows its own), and its delivery state."""

    message_id: str
    channel: ExternalChannel
    recipient: str
    report_id: str
    seq: int
    event: str
    lang: Lang  # the recipient's language, for a device that named none
    texts: dict[Lang, tuple[str, str]]  # lang -> (title, body)
    created_at: datetime
    next_at: datetime  # when an attempt is due: now, after the quiet hours, or after a backoff
    state: SendState = "pending"
    attempts: int = 0
    done: tuple[str, ...] = ()  # device ids tried for good (reached, unregistered, refused): never again
    reached: tuple[str, ...] = ()  # device ids that took it
    last_error: str | None = None
    sent_at: datetime | None = None
    held: bool = False  # waited for the quiet hours to end

    def to_doc(self) -> dict[str, object]:
        return {"message_id": self.message_id, "channel": self.channel, "recipient": self.recipient,
                "report_id": self.report_id, "seq": self.seq, "event": self.event, "lang": self.lang,
                "texts": {lang: {"title": t, "body": b} for lang, (t, b) in self.texts.items()},
                "created_at": self.created_at, "next_at": self.next_at, "state": self.state,
                "attempts": self.attempts, "done": list(self.done), "reached": list(self.reached),
                "last_error": self.last_error,
                "sent_at": self.sent_at, "held": self.held}

    @classmethod
    def from_doc(cls, doc: dict[str, object]) -> PushSend:
        texts = doc["texts"]
        assert isinstance(texts, dict)
        return cls(message_id=str(doc["message_id"]), channel="push", recipient=str(doc["recipient"]),
                   report_id=str(doc["report_id"]), seq=int(str(doc["seq"])), event=str(doc["event"]),
                   lang="en" if doc.get("lang") == "en" else "id",
                   texts={("en" if k == "en" else "id"): (str(v["title"]), str(v["body"])) for k, v in texts.items()},
                   created_at=_time(doc["created_at"]), next_at=_time(doc["next_at"]),
                   state=_state(doc.get("state")), attempts=int(str(doc.get("attempts") or 0)),
                   done=_ids(doc.get("done")), reached=_ids(doc.get("reached")),
                   last_error=None if doc.get("last_error") is None else str(doc["last_error"]),
                   sent_at=None if doc.get("sent_at") is None else _time(doc["sent_at"]),
                   held=bool(doc.get("held")))

    def words(self, lang: Lang | None) -> tuple[str, str]:
        """(title, body) in a device's language, else the recipient's."""
        return self.texts[lang or self.lang]


def _time(value: object) -> datetime:
    assert isinstance(value, datetime)
    return value


def _ids(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


def _state(value: object) -> SendState:
    if value == "sent" or value == "failed":
        return value
    return "pending"


def new_send(inbox_copy: Message, other: Message, *, urgent: bool, quiet: QuietHours | None,
             now: datetime) -> PushSend:
    """The push of a message (`inbox_copy` in the recipient's language, `other` the other one),
    due now, or when the recipient's quiet hours end unless it is urgent."""
    held = None if urgent else quiet_until(now, quiet)
    texts: dict[Lang, tuple[str, str]] = {inbox_copy.lang: (inbox_copy.title, inbox_copy.body),
                                          other.lang: (other.title, other.body)}
    return PushSend(message_id=message_id(inbox_copy.report_id, inbox_copy.seq, inbox_copy.recipient, "push"),
                    channel="push", recipient=inbox_copy.recipient, report_id=inbox_copy.report_id,
                    seq=inbox_copy.seq, event=inbox_copy.event, lang=inbox_copy.lang, texts=texts,
                    created_at=now, next_at=held or now, held=held is not None)


def backoff(attempts: int) -> timedelta:
    """The wait before attempt `attempts + 1` of a send that failed for a passing reason."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


@dataclass
class Attempt:
    """What one attempt at a send achieved, device by device."""

    reached: list[str] = field(default_factory=list)  # device ids that took it
    dropped: list[str] = field(default_factory=list)  # unregistered: removed, never tried again
    permanent: list[str] = field(default_factory=list)  # refused for good (a bad request)
    transient: list[str] = field(default_factory=list)  # worth another try
    errors: list[str] = field(default_factory=list)


def claim(send: PushSend, now: datetime) -> PushSend:
    """The send with one more attempt in flight: nobody else tries it until the lease ends."""
    return replace(send, attempts=send.attempts + 1, next_at=now + LEASE)


def after_attempt(send: PushSend, attempt: Attempt, *, left: int, now: datetime) -> PushSend:
    """The send after an attempt; `left`: devices still to try after it (the transient ones).

    Sent once no device is left to try and one took it; failed when none took it (every token
    unregistered or refused), or after MAX_ATTEMPTS; else pending again after a backoff."""
    done = tuple(dict.fromkeys([*send.done, *attempt.reached, *attempt.dropped, *attempt.permanent]))
    reached = tuple(dict.fromkeys([*send.reached, *attempt.reached]))
    error = "; ".join(attempt.errors)[:500] or send.last_error
    changed = replace(send, done=done, reached=reached, last_error=error)
    if left == 0:
        if reached:
            return replace(changed, state="sent", sent_at=now)
        return replace(changed, state="failed", last_error=error or "no registered device")
    if send.attempts >= MAX_ATTEMPTS:
        return replace(changed, state="failed")
    return replace(changed, state="pending", next_at=now + backoff(send.attempts))
