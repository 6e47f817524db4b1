"""A report: what a client sends, the status machine, and the events between stages."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from keluhan.domain.catalogue import get_category

Channel = Literal["warga", "call_center_112", "sodarata", "smart_rtrw"]
# Channels whose reports come without a camera: their photo verdict is `not_required`.
CHANNELS_WITHOUT_CAMERA: frozenset[str] = frozenset({"call_center_112"})


class Status(StrEnum):
    """The citizen-visible workflow status of a report."""

    RECEIVED = "received"            # accepted for processing, no photo needed
    AWAITING_PHOTO = "awaiting_photo"
    PHOTO_EXPIRED = "photo_expired"
    PHOTO_REJECTED = "photo_rejected"
    IN_MODERATION = "in_moderation"
    VERIFIED = "verified"            # photo accepted, on its way to enrichment
    LOCATED = "located"
    ROUTED = "routed"                # in an SKPD's queue
    FORWARDED = "forwarded"          # handed to an external body (delivery tracked apart)
    TRIAGE = "triage"                # operators' triage queue


# The one transition table: status → statuses it may move to.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.AWAITING_PHOTO: frozenset({Status.VERIFIED, Status.PHOTO_REJECTED,
                                      Status.IN_MODERATION, Status.PHOTO_EXPIRED}),
    Status.IN_MODERATION: frozenset({Status.VERIFIED, Status.PHOTO_REJECTED}),
    Status.RECEIVED: frozenset({Status.LOCATED}),
    Status.VERIFIED: frozenset({Status.LOCATED}),
    Status.LOCATED: frozenset({Status.ROUTED, Status.FORWARDED, Status.TRIAGE}),
    Status.ROUTED: frozenset({Status.ROUTED, Status.FORWARDED, Status.TRIAGE}),
    Status.FORWARDED: frozenset({Status.ROUTED, Status.FORWARDED, Status.TRIAGE}),
    Status.TRIAGE: frozenset({Status.ROUTED, Status.FORWARDED, Status.TRIAGE}),
    Status.PHOTO_REJECTED: frozenset(),
    Status.PHOTO_EXPIRED: frozenset(),
}

STATUS_TEXT: dict[Status, str] = {
    Status.RECEIVED: "Laporan diterima / Report received",
    Status.AWAITING_PHOTO: "Menunggu foto / Waiting for the photo",
    Status.PHOTO_EXPIRED: "Foto tidak diunggah tepat waktu / The photo was not uploaded in time",
    Status.PHOTO_REJECTED: "Foto ditolak / Photo rejected",
    Status.IN_MODERATION: "Sedang diperiksa moderator / Being checked by a moderator",
    Status.VERIFIED: "Foto terverifikasi / Photo verified",
    Status.LOCATED: "Lokasi ditemukan / Location found",
    Status.ROUTED: "Diteruskan ke SKPD / Assigned to a city agency",
    Status.FORWARDED: "Diteruskan ke instansi lain / Forwarded to another authority",
    Status.TRIAGE: "Diperiksa operator / With the operators for triage",
}


def can_transition(current: str, new: str) -> bool:
    return Status(new) in TRANSITIONS.get(Status(current), frozenset())


class InvalidTransition(Exception):
    """A status change the workflow does not allow."""


class SubmitReport(BaseModel):
    """What the app sends to submit_report."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    client_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=2000)
    lat: float = Field(ge=-90, le=90, strict=True)
    lon: float = Field(ge=-180, le=180, strict=True)
    accuracy_m: float = Field(ge=0, le=10_000, strict=True)
    street: str | None = Field(default=None, max_length=200)
    photo_taken_at: AwareDatetime | None = None
    channel: Channel = "warga"
    photo_content_type: Literal["image/jpeg", "image/png", "image/heic"] = "image/jpeg"

    @field_validator("photo_taken_at")
    @classmethod
    def _plausible_time(cls, value: datetime | None) -> datetime | None:
        if value is not None and not (PLAUSIBLE_FROM <= value <= PLAUSIBLE_UNTIL):
            raise ValueError("waktu tidak masuk akal / implausible time")
        return value

    @field_validator("description", "street")
    @classmethod
    def _printable_text(cls, value: str | None, info: ValidationInfo) -> str | None:
        allowed = FREE_TEXT_LAYOUT if info.field_name == "description" else ""
        if value is not None and (bad := forbidden_character(value, allowed=allowed)) is not None:
            raise PydanticCustomError(
                "forbidden_character",
                "berisi karakter kendali atau pembalik arah teks ({char}) / contains a control or "
                "bidi-override character ({char})",
                {"char": f"U+{ord(bad):04X}"},
            )
        return value

    @field_validator("category")
    @classmethod
    def _known_category(cls, code: str) -> str:
        if get_category(code) is None:
            raise ValueError("kategori tidak dikenal / unknown category")
        return code

    def fingerprint(self) -> str:
        """A hash of the body, to tell a retry from a different report under the same key."""
        body = self.model_dump(mode="json")
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    @property
    def needs_photo(self) -> bool:
        """A camera channel and a category that asks for one (nobody photographs a fire first)."""
        return self.channel not in CHANNELS_WITHOUT_CAMERA and get_category(self.category).photo_required


PLAUSIBLE_FROM = datetime(2000, 1, 1, tzinfo=UTC)
PLAUSIBLE_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)


# Control characters (C0, DEL, C1, line and paragraph separators) and the bidi embeddings,
# overrides and isolates that reorder how text displays ("Trojan Source"). The bare marks
# U+200E/U+200F/U+061C stay allowed: they only set the direction of neutral characters
# and RTL keyboards insert them.
_FORBIDDEN_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
FREE_TEXT_LAYOUT = "\n\t"


def forbidden_character(text: str, *, allowed: str = "") -> str | None:
    """The first control or bidi-override character in free text, other than `allowed` ones."""
    return next((m.group() for m in _FORBIDDEN_TEXT.finditer(text) if m.group() not in allowed), None)


def submission_key(reporter_uid: str, client_id: str) -> str:
    """The idempotency key (reporter, client_id) as a document id."""
    return hashlib.sha256(f"{reporter_uid}\x00{client_id}".encode()).hexdigest()


class Event(BaseModel):
    """A past-tense domain event; the adapter publishes it to its topic."""

    model_config = ConfigDict(frozen=True)

    name: Literal["ReportAccepted", "ReportLocated", "ReportRouted"]
    report_id: str
    attributes: dict[str, str] = Field(default_factory=dict)


REPORT_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Firestore's reserved document ids, exactly: `__.*__`. An id that merely starts with `__` is fine.
FIRESTORE_RESERVED_ID = re.compile(r"__.*__")


def valid_report_id(value: object) -> bool:
    """Report ids are server-made URL-safe tokens; anything else never reaches Firestore."""
    return (isinstance(value, str) and REPORT_ID_PATTERN.fullmatch(value) is not None
            and FIRESTORE_RESERVED_ID.fullmatch(value) is None)


def photo_object_name(report_id: str) -> str:
    """The private incoming path of a report's original photo."""
    return f"incoming/{report_id}/photo"


def report_id_from_object(name: str) -> str | None:
    """The report an uploaded original belongs to, from its object name."""
    parts = name.split("/")
    if len(parts) == 3 and parts[0] == "incoming" and parts[2] == "photo" and parts[1]:
        return parts[1]
    return None


def timeline_entry(status: str, at: datetime, by: str, note: str = "") -> dict:
    return {"status": status, "at": at, "by": by, "note": note}
