"""A report: what a client sends, the status machine, and the events between stages."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, Required, Self, TypedDict

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from keluhan.domain.assignees import TRIAGE_ID
from keluhan.domain.catalogue import CATEGORIES, get_category, known_category
from keluhan.domain.forwarding import Delivery
from keluhan.domain.geocell import geohash_of
from keluhan.domain.location import Location
from keluhan.domain.routing import RoutingDecision
from keluhan.domain.sla import ESCALATION_TO, WITA, SlaPolicy, aware
from keluhan.domain.text import (
    FREE_TEXT_LAYOUT,
    FREE_TEXT_SCHEMA_PATTERN,
    TEXT_SCHEMA_PATTERN,
    forbidden_character,
    free_text,
    line_text,
)
from keluhan.domain.workflow import (
    HUMAN_ACTIONS,
    MOVES,
    REJECT_TEXT,
    SCHEDULE_TEXT,
    STATUS_TEXT,
    Action,
    Actor,
    Denied,
    NotAllowedNow,
    RejectReason,
    Role,
    ScheduleReason,
    Status,
    allowed_actions,
    authorise,
    can_transition,
    check_move,
)

__all__ = ["FREE_TEXT_LAYOUT", "FREE_TEXT_SCHEMA_PATTERN", "STATUS_TEXT", "TEXT_SCHEMA_PATTERN", "Status",
           "can_transition", "forbidden_character"]

Channel = Literal["warga", "call_center_112", "sodarata", "smart_rtrw", "whatsapp"]
# Channels whose reports come without a camera: their photo verdict is `not_required`.
CHANNELS_WITHOUT_CAMERA: frozenset[str] = frozenset({"call_center_112"})
# Channels that strip EXIF but whose own server times bound the capture: `photo_taken_at` is the
# server's receipt time of the photo, checked instead of the EXIF time (docs/whatsapp.md).
WITNESSED_CAPTURE_CHANNELS: frozenset[str] = frozenset({"whatsapp"})


class SubmitReport(BaseModel):
    """What the app sends to submit_report."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    client_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
    category: str = Field(min_length=1, max_length=64, json_schema_extra={"enum": [c for c in sorted(CATEGORIES)]})
    description: str = Field(min_length=1, max_length=2000, json_schema_extra={"pattern": FREE_TEXT_SCHEMA_PATTERN})
    lat: float = Field(ge=-90, le=90, strict=True)
    lon: float = Field(ge=-180, le=180, strict=True)
    accuracy_m: float = Field(ge=0, le=10_000, strict=True)
    street: str | None = Field(default=None, max_length=200, json_schema_extra={"pattern": TEXT_SCHEMA_PATTERN})
    photo_taken_at: AwareDatetime | None = Field(default=None, description="With a UTC offset; from 2000 to 2100")
    channel: Channel = "warga"
    photo_content_type: Literal["image/jpeg", "image/png", "image/heic"] = "image/jpeg"
    lang: Literal["id", "en"] = Field(default="id", description="The language the reporter is told in")
    private: bool = Field(default=False, strict=True,
                          description="Keep the report out of every public answer (nearby, Open311, duplicate "
                                      "suggestions); its photo is shown to the assignee's staff only")

    @field_validator("photo_taken_at")
    @classmethod
    def _plausible_time(cls, value: datetime | None) -> datetime | None:
        if value is not None and not (PLAUSIBLE_FROM <= value <= PLAUSIBLE_UNTIL):
            raise ValueError("waktu tidak masuk akal / implausible time")
        return value

    @field_validator("description", "street")
    @classmethod
    def _printable_text(cls, value: str | None, info: ValidationInfo) -> str | None:
        return free_text(value) if info.field_name == "description" else line_text(value)

    @field_validator("category")
    @classmethod
    def _known_category(cls, code: str) -> str:
        return known_category(code)

    def fingerprint(self) -> str:
        """A hash of the body, to tell a retry from a different report under the same key (the
        language the reporter is told in is not the report)."""
        # `private` counts only when asked for, so retries of reports stored before it still match.
        body = self.model_dump(mode="json", exclude={"lang"} | (set() if self.private else {"private"}))
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    @property
    def needs_photo(self) -> bool:
        """A camera channel and a category that asks for one (nobody photographs a fire first)."""
        category = get_category(self.category)  # known: validated above
        return self.channel not in CHANNELS_WITHOUT_CAMERA and category is not None and category.photo_required


PLAUSIBLE_FROM = datetime(2000, 1, 1, tzinfo=UTC)
PLAUSIBLE_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)


def submission_key(reporter_uid: str, client_id: str) -> str:
    """The idempotency key (reporter, client_id) as a document id."""
    return hashlib.sha256(f"{reporter_uid}\x00{client_id}".encode()).hexdigest()


def reporter_key(reporter_uid: str) -> str:
    """The key a reporter's reports are listed by ("my reports"): one-way, never the uid itself."""
    return hashlib.sha256(f"reporter\x00{reporter_uid}".encode()).hexdigest()


# What the OpenAPI document states of a report id; ActOnReport checks the `__…__` rule in a validator.
REPORT_ID_SCHEMA_PATTERN = r"^(?!__.*__$)[A-Za-z0-9_-]+$"
# Besides the table's moves: an operator holds a reporter; the reporter keeps a report private or not;
# `rate` rates a fix closed by the sweep tick (a rating otherwise comes with `confirm`): no status change.
PRIVACY_ACTIONS = ("make_private", "make_public")
HUMAN_ACTION_NAMES = tuple(a.value for a in HUMAN_ACTIONS) + ("hold", "unhold", "rate") + PRIVACY_ACTIONS
RATE = "rate"


class Submission(TypedDict, total=False):
    """submissions/{key}: who submitted which report (never shown to SKPDs), and what was handed out."""

    report_id: Required[str]
    reporter_uid: Required[str]
    client_id: Required[str]
    request_hash: Required[str]
    created_at: Required[datetime]
    upload: dict[str, Any]  # Any: the signed upload as the client receives it (url, method, headers)
    upload_expires_at: datetime
    published_at: datetime
    lang: Literal["id", "en"]  # the language the reporter is told in


class ActOnReport(BaseModel):
    """What the Work app, the Warga app or an operator sends to act_on_report."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    report_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                           json_schema_extra={"pattern": REPORT_ID_SCHEMA_PATTERN})
    action: Literal[HUMAN_ACTION_NAMES]  # type: ignore[valid-type]  # the table's names, computed at import
    expected_status: Status
    reason: RejectReason | ScheduleReason | None = Field(
        default=None, description="reject: a RejectReason; schedule: a ScheduleReason")
    scheduled_for: date | None = Field(default=None, description="schedule: the date (WITA) work is planned for")
    note: str = Field(default="", max_length=1000, json_schema_extra={"pattern": FREE_TEXT_SCHEMA_PATTERN})
    assignee: str | None = Field(default=None, min_length=1, max_length=64)
    parent_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                  json_schema_extra={"pattern": REPORT_ID_SCHEMA_PATTERN})
    photo_content_type: Literal["image/jpeg", "image/png", "image/heic"] = "image/jpeg"
    rating: int | None = Field(default=None, ge=1, le=5, strict=True,
                               description="The reporter's rating of the fix, 1–5 (with `confirm`, or `rate`)")
    rating_text: str = Field(default="", max_length=500, json_schema_extra={"pattern": FREE_TEXT_SCHEMA_PATTERN},
                             description="Optional words with the rating")

    @field_validator("note", "rating_text")
    @classmethod
    def _printable_note(cls, value: str) -> str:
        return free_text(value) or ""

    @field_validator("report_id", "parent_id")
    @classmethod
    def _not_reserved(cls, value: str | None) -> str | None:
        # Firestore refuses `__…__` document ids: a 422 here, not a failed lookup (503) later.
        if value is not None and FIRESTORE_RESERVED_ID.fullmatch(value):
            raise PydanticCustomError("string_pattern_mismatch", "format tidak valid / has an invalid format")
        return value

    @model_validator(mode="after")
    def _what_each_action_needs(self) -> ActOnReport:
        if self.action == Action.REJECT and not isinstance(self.reason, RejectReason):
            raise PydanticCustomError("missing", "reason: wajib untuk reject / required to reject",
                                      {"field": "reason"})
        if self.action == Action.SCHEDULE:
            if not isinstance(self.reason, ScheduleReason):
                raise PydanticCustomError(
                    "missing", "reason: wajib untuk schedule (butuh_anggaran, pekerjaan_besar, menunggu_pihak_lain)"
                               " / required to schedule", {"field": "reason"})
            if self.scheduled_for is None:
                raise PydanticCustomError("missing", "scheduled_for: tanggal wajib diisi / a date is required",
                                          {"field": "scheduled_for"})
        elif self.scheduled_for is not None:
            raise PydanticCustomError("extra_forbidden", "scheduled_for: hanya untuk schedule / only to schedule",
                                      {"field": "scheduled_for"})
        if self.reason == RejectReason.DUPLICATE and not self.parent_id:
            raise PydanticCustomError("missing", "parent_id: wajib untuk duplikat / required for a duplicate",
                                      {"field": "parent_id"})
        if self.action == RATE and self.rating is None:
            raise PydanticCustomError("missing", "rating: wajib untuk rate / required to rate", {"field": "rating"})
        if (self.rating is not None or self.rating_text) and self.action not in (Action.CONFIRM, RATE):
            raise PydanticCustomError("rating_not_allowed", "rating: hanya dengan confirm atau rate / only with "
                                      "confirm or rate", {"field": "rating"})
        if self.action in (Action.REASSIGN, Action.DISPUTE, Action.ASK_REPORTER, Action.ANSWER,
                           Action.REFUSE_VALIDATION) and not self.note:
            raise PydanticCustomError("missing", "note: alasan wajib diisi / a reason is required",
                                      {"field": "note"})
        return self


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


def proof_object_name(report_id: str, attempt: int) -> str:
    """Where an SKPD uploads the n-th proof photo of its fix."""
    return f"resolution/{report_id}/{attempt}"


@dataclass(frozen=True)
class UploadTarget:
    """What an uploaded object is: a report's original photo, or the n-th proof of its fix."""

    report_id: str
    proof_attempt: int | None = None


def upload_target(name: str) -> UploadTarget | None:
    """The report (and proof attempt) an uploaded object belongs to, from its name."""
    parts = name.split("/")
    if len(parts) != 3 or not parts[1]:
        return None
    if parts[0] == "incoming" and parts[2] == "photo":
        return UploadTarget(parts[1])
    if parts[0] == "resolution" and parts[2].isdigit() and len(parts[2]) <= 3:
        return UploadTarget(parts[1], int(parts[2]))
    return None


def report_id_from_object(name: str) -> str | None:
    """The report an uploaded original or proof belongs to, from its object name."""
    target = upload_target(name)
    return target.report_id if target else None


class NotPermitted(Exception):
    """A move the actor may never make on this report (403)."""


class StaleOrIllegal(Exception):
    """A move not possible from the report's current status (409): says what is possible instead."""

    def __init__(self, message: str, *, status: str, allowed: list[str]):
        super().__init__(message)
        self.status = status
        self.allowed = allowed


class InvalidMove(Exception):
    """A move whose parameters are wrong (422): names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class _Part(BaseModel):
    """A part of the stored report: every field it may hold is named; what was stored is what
    `Report.to_doc` gives back (fields never written stay absent)."""

    model_config = ConfigDict(extra="forbid")

    def updated(self, **fields: Any) -> Self:  # Any: values of the named fields, validated here
        """This part with `fields` replaced (and marked as written), validated."""
        kept = {name: getattr(self, name) for name in self.model_fields_set}
        return self.model_validate(kept | fields)


class Point(_Part):
    lat: float
    lon: float
    accuracy_m: float


class Finding(_Part):
    """A photo or proof finding as stored: {code, message}."""

    code: str
    message: str


class PhotoCheck(_Part):
    """What the photo check found on one upload: the part a citizen's photo and an SKPD's proof share."""

    event: str | None = None  # bucket/object#generation of the upload that was checked
    verdict: str | None = None
    reasons: list[Finding] = Field(default_factory=list)
    exif_taken_at: datetime | None = None
    gps_distance_m: float | None = None
    phash: str | None = None
    verified_at: datetime | None = None
    clean_object: str | None = None
    thumbnail_object: str | None = None


class Photo(PhotoCheck):
    """reports/{id}.photo: what was asked for and what the photo check found."""

    required: bool = False
    object: str | None = None
    content_type: str | None = None
    deadline: datetime | None = None


class LocatedStage(_Part):
    at: datetime
    data_version: str


class RoutedStage(_Part):
    at: datetime
    rule: str


class Stages(_Part):
    """When each pipeline stage finished, and with what data."""

    located: LocatedStage | None = None
    routed: RoutedStage | None = None


class TimelineEntry(_Part):
    """One entry of the timeline: a move (from, action, role) or an escalation (event, level, to)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    status: str
    at: datetime
    by: str
    note: str = ""
    from_: str | None = Field(default=None, alias="from")
    action: str | None = None
    role: str | None = None
    reason: str | None = None
    parent_id: str | None = None
    assignee: str | None = None
    event: str | None = None
    level: int | None = None
    to: str | None = None
    internal_note: str | None = None  # staff-only words (e.g. why a reporter is held): never in a public view
    comment_id: str | None = None  # a staff reply (`event: staff_reply`): the comment the reporter is told of


class Routing(_Part):
    """The routing decision in force, and when it was made."""

    assignee: str
    kind: str
    assignee_name: str = ""
    display: str = ""
    rule: str = ""
    rules_version: str = ""
    reason: str = ""
    at: datetime | None = None


class Reassignment(_Part):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    at: datetime
    by: str
    reason: str
    from_: str | None = Field(default=None, alias="from")
    to: str


class Audit(_Part):
    """A validation audit of one accepted proof: the sampling decision (made once, kept) and its outcome."""

    sampled: bool
    rate: float
    draw: float                   # the uniform draw in [0, 1) compared with the rate
    basis: str                    # base | high_reopen_rate | skpd_setting
    decided_at: datetime
    result: str | None = None     # passed | refused
    by: str | None = None
    at: datetime | None = None
    note: str = ""


class Schedule(_Part):
    """The SKPD's honest "not now": the date work is planned for, why, and where it goes back to."""

    for_date: str                 # ISO date (WITA)
    until: datetime               # 00:00 WITA of that date: the sweep puts it back in the queue then
    reason: str
    by: str
    at: datetime
    resume_to: str
    note: str = ""


class Question(_Part):
    """The SKPD's question to the reporter: the SLA clock is paused from `asked_at` to the answer."""

    asked_at: datetime
    by: str
    note: str
    deadline: datetime            # unanswered by then: the sweep closes the report
    resume_to: str
    answered_at: datetime | None = None


class Resolution(PhotoCheck):
    """The n-th claim that the report is fixed and what its proof photo showed."""

    attempt: int
    object: str
    requested_at: datetime | None = None
    deadline: datetime | None = None
    by: str | None = None
    note: str = ""
    audit: Audit | None = None


class Sla(_Part):
    """A city SKPD's clock: started at assignment, its target and next escalation."""

    start_at: datetime
    due_at: datetime
    target_working_days: int | None = None
    target_hours: int | None = None
    next_escalation_at: datetime | None = None
    paused_s: float | None = None  # the reporter's answering time, added to the clock's times


class Rejection(_Part):
    reason: str
    by: str
    at: datetime
    note: str = ""
    parent_id: str | None = None


class Rating(_Part):
    """The reporter's rating of the fix: 1–5 and optional words, on `confirm` or after an auto-close."""

    score: int = Field(ge=1, le=5)
    text: str = ""
    at: datetime
    after: Literal["confirm", "auto_close"] = "confirm"


def support_ref(report_id: str, who: str) -> str:
    """One supporter of one report as a key: a hash, so reports/ never holds a uid (supports/{ref}
    keeps who it stands for, for notifications). `who` is a uid, or `report:<id>` for a duplicate
    sent through a channel, which has no person behind it."""
    return hashlib.sha256(f"support\x00{report_id}\x00{who}".encode()).hexdigest()[:32]


class StageError(_Part):
    """A stage that gave up on the report, and why."""

    stage: str
    reason: str
    at: datetime | None = None


class Stalled(_Part):
    """The reconciler's record of a report stuck in one status since `since`."""

    status: str
    since: datetime
    count: int
    at: datetime
    gave_up: bool = False


class Report(BaseModel):
    """The report aggregate: reports/{report_id} typed, whose methods make every change.

    Each method returns the field changes to write (Firestore update paths); the document shape
    is the one SKPD tools read. Every status change goes through `move`, which checks the
    workflow table and appends the timeline entry in the same change. `to_doc` gives back the
    stored document exactly.
    """

    model_config = ConfigDict(extra="forbid")

    report_id: str
    reporter_ref: str = ""
    channel: str = "warga"
    category: str
    description: str = ""
    point: Point
    street: str | None = None
    photo_taken_at: datetime | None = None
    received_at: datetime
    status: Status
    status_changed_at: datetime
    photo: Photo = Field(default_factory=Photo)
    stages: Stages = Field(default_factory=Stages)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    # When the timeline last grew (a status change, an escalation, a failed delivery): the
    # notification reconciler's window, which status_changed_at alone would miss escalations in.
    timeline_at: datetime | None = None
    assignee: str | None = None
    location: Location | None = None
    routing: Routing | None = None
    forwarding: Delivery | None = None
    reassignments: list[Reassignment] = Field(default_factory=list)
    resolution: Resolution | None = None
    close_by: datetime | None = None
    held: bool = False
    reopened: int = 0
    sla: Sla | None = None
    overdue: bool = False
    escalation_level: int = 0
    rejection: Rejection | None = None
    parent_id: str | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    open311_listing: list[str] = Field(default_factory=list)  # keluhan.domain.open311.listing, kept with every change
    errors: list[StageError] = Field(default_factory=list)
    stalled: Stalled | None = None
    duplicates: list[str] = Field(default_factory=list)
    supporters: int = 0  # len(supporter_refs): the residents who support it ("dukung") or reported a duplicate
    supporter_refs: list[str] = Field(default_factory=list)  # support_ref(report_id, uid), never a uid
    support_seq: int = 0  # changes of supporter_refs so far: the figures' position beside the timeline's
    rating: Rating | None = None
    schedule: Schedule | None = None
    question: Question | None = None
    # Where it is, as nearby queries range over it (keluhan.domain.nearby), written with the report.
    geohash: str = ""
    # The reporter keeps it out of every public answer (nearby, Open311, suggestions); its photo is
    # for the assignee's staff only.
    private: bool = False
    # Whose it is, for "my reports": a one-way hash of the reporter's uid (`reporter_key`); the uid
    # itself stays in submissions/.
    reporter_key: str = ""

    def to_doc(self) -> dict[str, Any]:  # Any: a Firestore document's values are of many types
        """The stored document: every field that was set, in the shape SKPD tools read."""
        return self.model_dump(mode="python", by_alias=True, exclude_unset=True)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Report:  # Any: as to_doc
        return cls.model_validate(doc)

    def changed(self, **fields: Any) -> Report:  # Any: values of the named fields, validated here
        """The typed change set: this report with `fields` replaced, validated as a whole.

        Every method below returns the report as it is to be stored (or None: nothing to change);
        the adapter turns before → after into Firestore field paths in one place
        (`keluhan.adapters.firestore_store.update_paths`).
        """
        kept = {name: getattr(self, name) for name in self.model_fields_set}
        timeline = fields.get("timeline")
        if timeline and len(timeline) > len(self.timeline):
            last = timeline[-1]
            fields["timeline_at"] = last.at if isinstance(last, TimelineEntry) else last["at"]
        return Report.model_validate(kept | fields)

    @classmethod
    def submitted(cls, cmd: SubmitReport, *, report_id: str, reporter_ref: str, actor: Actor,
                  now: datetime, photo_wait: timedelta, held: bool = False) -> Report:
        """A new report: awaiting its photo, received, or held for moderation."""
        photo = Photo(required=cmd.needs_photo)
        if cmd.needs_photo:
            outcome = "photo"
            photo = photo.updated(object=photo_object_name(report_id), content_type=cmd.photo_content_type,
                                  deadline=now + photo_wait, verdict=None)
        else:
            outcome = "held" if held else "no_photo"
            photo = photo.updated(verdict="not_required")
        status = MOVES[Action.SUBMIT].target(outcome)
        check_move(Action.SUBMIT, None, status)
        report = cls(
            report_id=report_id,
            # Who reported stays in submissions/{key}; SKPD tools reading reports see only the key.
            reporter_ref=reporter_ref,
            channel=cmd.channel,
            category=cmd.category,
            description=cmd.description,
            point=Point(lat=cmd.lat, lon=cmd.lon, accuracy_m=cmd.accuracy_m),
            street=cmd.street,
            photo_taken_at=cmd.photo_taken_at,
            received_at=now,
            status=status,
            status_changed_at=now,
            photo=photo,
            stages=Stages(),
            timeline=[_entry(Action.SUBMIT, None, status, actor, now, "")],
            geohash=geohash_of(cmd.lat, cmd.lon),
            private=cmd.private,
            reporter_key=reporter_key(actor.id),
        )
        return report.changed(held=True) if held else report

    def set_private(self, private: bool) -> Report | None:
        """The reporter's choice to keep the report out of public answers (or to show it); None if
        it is already so. No status changes, so no timeline entry."""
        return None if self.private == private and "private" in self.model_fields_set \
            else self.changed(private=private)

    # --- the one way a status changes --------------------------------------------------------
    def move(self, action: Action, outcome: str = "", *, actor: Actor, now: datetime, note: str = "",
             fields: Mapping[str, Any] | None = None, **entry: Any) -> Report:  # Any: as changed
        """One move: the status the table gives for `outcome`, checked from the current status, its
        time and the timeline entry, with `fields` changed in the same change."""
        to = MOVES[action].target(outcome)
        try:
            check_move(action, self.status, to)
        except NotAllowedNow as exc:
            raise StaleOrIllegal(str(exc), status=self.status.value, allowed=[]) from exc
        timeline = [*self.timeline, _entry(action, self.status, to, actor, now, note, **entry)]
        return self.changed(**(fields or {}), status=to, status_changed_at=now, timeline=timeline)

    def act(self, action: Action, outcome: str = "", *, actor: Actor, is_reporter: bool, expected_status: str,
            now: datetime, note: str = "", fields: Mapping[str, Any] | None = None,  # Any: as changed
            **entry: Any) -> Report:  # Any: as changed
        """A person's move: who may (403), then whether it is possible now (409), then the move."""
        self.check_act(action, actor=actor, is_reporter=is_reporter, expected_status=expected_status)
        return self.move(action, outcome, actor=actor, now=now, note=note, fields=fields, **entry)

    def check_act(self, action: Action, *, actor: Actor, is_reporter: bool, expected_status: str) -> None:
        """Raise NotPermitted (403) or StaleOrIllegal (409) unless `actor` may make `action` now."""
        try:
            authorise(action, actor, assignee=self.assignee, is_reporter=is_reporter)
        except Denied as exc:
            raise NotPermitted(str(exc)) from exc
        allowed = allowed_actions(self.status, actor, assignee=self.assignee, is_reporter=is_reporter)
        if expected_status != self.status.value:
            raise StaleOrIllegal(f"status sekarang {self.status.value}, bukan {expected_status} / the "
                                 f"status is now {self.status.value}, not {expected_status}",
                                 status=self.status.value, allowed=allowed)
        if action.value not in allowed:
            raise StaleOrIllegal(f"{action.value} tidak bisa dari status {self.status.value} / "
                                 f"{action.value} is not possible from status {self.status.value}",
                                 status=self.status.value, allowed=allowed)

    # --- the pipeline --------------------------------------------------------------------------
    def locate(self, location: Location, *, now: datetime, note: str) -> Report:
        stages = self.stages.updated(located=LocatedStage(at=now, data_version=location.data_version))
        return self.move(Action.LOCATE, actor=_SYSTEM_GEO, now=now, note=note,
                         fields={"location": location.model_dump(mode="json"), "stages": stages})

    def route(self, decision: RoutingDecision, *, actor: Actor, now: datetime, sla: SlaPolicy | None = None
              ) -> Report:
        """The routing rules' decision: the report goes to its assignee, and the stage is done."""
        routed = self.assign(decision, action=Action.ROUTE, actor=actor, now=now, note=decision.reason, sla=sla)
        return routed.changed(stages=routed.stages.updated(routed=RoutedStage(at=now, rule=decision.rule)))

    def assign(self, decision: RoutingDecision, *, action: Action, actor: Actor, now: datetime,
               note: str, sla: SlaPolicy | None = None) -> Report:
        """Put the report with the decided assignee: SKPD queue, external body (with a fresh
        tracked delivery), or triage. A city SKPD's clock starts now; nobody else has one."""
        fields: dict[str, Any] = {"routing": Routing(**decision.model_dump(mode="json"), at=now),  # Any: as changed
                                  "assignee": decision.assignee, "overdue": False, "escalation_level": 0,
                                  "sla": None}
        category = get_category(self.category)
        if decision.kind == "skpd" and sla is not None and category is not None:
            fields["sla"] = sla.assignment(category, now)
        if decision.kind == "external":
            fields["forwarding"] = Delivery.start(report_id=self.report_id, assignee=decision.assignee, now=now,
                                                  assignment=len(self.reassignments)).model_dump()
        return self.move(action, decision.kind, actor=actor, now=now, note=note, fields=fields,
                         assignee=decision.assignee)

    def reassign(self, decision: RoutingDecision, *, actor: Actor, reason: str, now: datetime,
                 expected_status: str | None = None, sla: SlaPolicy | None = None) -> Report | None:
        """Hand the report to the decided assignee, with who and why kept; None if it already has it.
        A person's reassignment (`expected_status` given) is checked like every person's move."""
        if decision.assignee == self.assignee:
            return None
        if expected_status is not None:
            self.check_act(Action.REASSIGN, actor=actor, is_reporter=False, expected_status=expected_status)
        entry = Reassignment(at=now, by=actor.label, reason=reason, from_=self.assignee, to=decision.assignee)
        assigned = self.assign(decision, action=Action.REASSIGN, actor=actor, now=now, note=reason, sla=sla)
        return assigned.changed(reassignments=[*self.reassignments, entry])

    def photo_verdict(self, check: PhotoCheck, *, now: datetime, note: str) -> Report:
        """The photo check's verdict on the awaited upload; a held reporter's accepted photo goes to
        moderation, and why stays with staff (the reporter and the public see only "in moderation")."""
        held = check.verdict == "accepted" and self.held
        photo = self.photo.updated(**{name: getattr(check, name) for name in check.model_fields_set})
        return self.move(Action.VERIFY_PHOTO, "held" if held else str(check.verdict), actor=_SYSTEM_PHOTO,
                         now=now, note=note, fields={"photo": photo},
                         internal_note=HELD_NOTE if held else None)

    def photo_due(self, now: datetime) -> bool:
        """Awaiting a photo whose upload window has passed."""
        deadline = self.photo.deadline
        return self.status == Status.AWAITING_PHOTO and deadline is not None and aware(deadline) <= now

    def expire_photo(self, *, now: datetime) -> Report:
        return self.move(Action.EXPIRE_PHOTO, actor=_SYSTEM_SWEEP, now=now,
                         fields={"photo": self.photo.updated(verdict="expired")})

    # --- handling ------------------------------------------------------------------------------
    def reject(self, reason: RejectReason, *, actor: Actor, is_reporter: bool, expected_status: str,
               now: datetime, note: str, parent_id: str | None) -> Report:
        fields: dict[str, Any] = {  # Any: as changed
            "rejection": Rejection(reason=reason.value, by=actor.label, at=now, note=note, parent_id=parent_id)}
        if reason == RejectReason.NOT_OURS:
            # Back with the operators; the SKPD no longer sees it, and its clock stops.
            fields["assignee"] = TRIAGE_ID
        if reason == RejectReason.DUPLICATE:
            fields["parent_id"] = parent_id
        text = REJECT_TEXT[reason] + (f" — {note}" if note else "")
        return self.act(Action.REJECT, reason.value, actor=actor, is_reporter=is_reporter,
                        expected_status=expected_status, now=now, note=text, fields=fields,
                        reason=reason.value, parent_id=parent_id)

    def request_proof(self, *, actor: Actor, is_reporter: bool, expected_status: str, now: datetime,
                      note: str, proof_wait: timedelta) -> Report:
        """`resolve`: the SKPD says it is fixed; a proof photo upload is now awaited."""
        attempt = (self.resolution.attempt if self.resolution else 0) + 1
        resolution = Resolution(attempt=attempt, object=proof_object_name(self.report_id, attempt),
                                requested_at=now, deadline=now + proof_wait, by=actor.label, note=note,
                                verdict=None, reasons=[])
        return self.act(Action.RESOLVE, actor=actor, is_reporter=is_reporter, expected_status=expected_status,
                        now=now, note=note, fields={"resolution": resolution})

    def awaits_proof(self, attempt: int) -> bool:
        """Resolving, and the proof awaited is this attempt's."""
        return self.status == Status.RESOLVING and self.resolution is not None and self.resolution.attempt == attempt

    def proof_verdict(self, check: PhotoCheck, *, now: datetime, note: str, reopen_window: timedelta,
                      audit: Audit | None = None) -> Report:
        """The proof check's verdict: accepted resolves the report (the reporter's window opens), or,
        when sampled for a validation audit, holds it at awaiting_validation; anything else sends it
        back to work with the reasons. The audit decision is kept on the resolution either way."""
        assert self.resolution is not None  # only a report awaiting a proof gets a verdict
        resolution = self.resolution.updated(**{name: getattr(check, name) for name in check.model_fields_set})
        if check.verdict == "accepted":
            if audit is not None:
                resolution = resolution.updated(audit=audit)
            if audit is not None and audit.sampled:
                return self.move(Action.PROOF_ACCEPTED, "sampled", actor=_SYSTEM_PHOTO, now=now,
                                 note=f"{note}; {AUDIT_NOTE}", fields={"resolution": resolution})
            return self.move(Action.PROOF_ACCEPTED, "not_sampled", actor=_SYSTEM_PHOTO, now=now, note=note,
                             fields={"resolution": resolution, "resolved_at": now, "close_by": now + reopen_window})
        return self.move(Action.PROOF_REJECTED, actor=_SYSTEM_PHOTO, now=now, note=note,
                         fields={"resolution": resolution})

    def proof_missing(self, *, now: datetime) -> Report | None:
        """No proof arrived in time: back to work (the sweep tick)."""
        deadline = self.resolution.deadline if self.resolution else None
        if self.status != Status.RESOLVING or self.resolution is None or deadline is None or aware(deadline) > now:
            return None
        return self.move(Action.PROOF_REJECTED, actor=_SYSTEM_SWEEP, now=now,
                         note="Bukti penyelesaian tidak diunggah tepat waktu / No proof of the fix was "
                              "uploaded in time", fields={"resolution": self.resolution.updated(verdict="expired")})

    # --- honest states and validation audits (issue 21) -----------------------------------------
    def pass_audit(self, *, actor: Actor, is_reporter: bool, expected_status: str, now: datetime, note: str,
                 reopen_window: timedelta) -> Report:
        """An audit passed: resolved, and the reporter's confirmation window starts now."""
        self.check_act(Action.VALIDATE, actor=actor, is_reporter=is_reporter, expected_status=expected_status)
        return self.move(Action.VALIDATE, actor=actor, now=now, note=note or VALIDATED_NOTE, fields={
            "resolution": self._audited("passed", actor=actor, now=now, note=note),
            "resolved_at": now, "close_by": now + reopen_window})

    def refuse_audit(self, *, actor: Actor, is_reporter: bool, expected_status: str, now: datetime,
                          note: str) -> Report:
        """"Tindak lanjut ditolak": the fix is not accepted, back to work with the reason."""
        self.check_act(Action.REFUSE_VALIDATION, actor=actor, is_reporter=is_reporter,
                       expected_status=expected_status)
        return self.move(Action.REFUSE_VALIDATION, actor=actor, now=now, note=f"{REFUSED_NOTE}: {note}",
                         fields={"resolution": self._audited("refused", actor=actor, now=now, note=note)})

    def _audited(self, result: str, *, actor: Actor, now: datetime, note: str) -> Resolution | None:
        if self.resolution is None or self.resolution.audit is None:
            return self.resolution
        audit = self.resolution.audit.updated(result=result, by=actor.label, at=now, note=note)
        return self.resolution.updated(audit=audit)

    def schedule_for(self, reason: ScheduleReason, day: date, *, actor: Actor, is_reporter: bool,
                     expected_status: str, now: datetime, note: str, max_ahead: timedelta) -> Report:
        """The SKPD names a date (after today, WITA) and a reason; the report leaves the queue and the
        overdue list until 00:00 WITA of that date, then goes back to the status it left."""
        self.check_act(Action.SCHEDULE, actor=actor, is_reporter=is_reporter, expected_status=expected_status)
        today = now.astimezone(WITA).date()
        if not today < day <= today + max_ahead:
            raise InvalidMove("scheduled_for", f"tanggal harus setelah hari ini dan paling lambat "
                                               f"{(today + max_ahead).isoformat()} / the date must be after today "
                                               f"and no later than {(today + max_ahead).isoformat()}")
        resume_to = self.schedule.resume_to if self.status == Status.SCHEDULED and self.schedule else \
            self.status.value
        schedule = Schedule(for_date=day.isoformat(), until=datetime.combine(day, time(0), tzinfo=WITA),
                            reason=reason.value, by=actor.label, at=now, resume_to=resume_to, note=note)
        text = f"Dijadwalkan {day.isoformat()} / Scheduled for {day.isoformat()}: {SCHEDULE_TEXT[reason]}" + \
            (f" — {note}" if note else "")
        return self.move(Action.SCHEDULE, actor=actor, now=now, note=text, fields={"schedule": schedule},
                         reason=reason.value)

    def resume_due(self, *, now: datetime) -> Report | None:
        """The scheduled date has come: back in the SKPD's queue, in the status it left (the sweep)."""
        schedule = self.schedule
        if self.status != Status.SCHEDULED or schedule is None or aware(schedule.until) > now:
            return None
        return self.move(Action.RESUME, schedule.resume_to, actor=_SYSTEM_SWEEP, now=now,
                         note=f"Tanggal jadwal {schedule.for_date} tiba / The scheduled date {schedule.for_date} "
                              "has come")

    def ask_reporter(self, *, actor: Actor, is_reporter: bool, expected_status: str, now: datetime, note: str,
                     answer_window: timedelta) -> Report:
        """The SKPD asks the reporter a question: the SLA clock pauses until the answer."""
        self.check_act(Action.ASK_REPORTER, actor=actor, is_reporter=is_reporter, expected_status=expected_status)
        if self.channel != "warga":  # a Call Center 112 caller or an intake channel has no app to answer in
            raise InvalidMove("action", f"pelapor kanal {self.channel} tidak dapat menjawab di aplikasi / the "
                                        f"reporter of a {self.channel} report cannot answer in the app")
        question = Question(asked_at=now, by=actor.label, note=note, deadline=now + answer_window,
                            resume_to=self.status.value)
        return self.move(Action.ASK_REPORTER, actor=actor, now=now, note=note, fields={"question": question})

    def answer(self, *, actor: Actor, is_reporter: bool, expected_status: str, now: datetime, note: str) -> Report:
        """The reporter answers: back to where the report was, its SLA times later by exactly the wait."""
        self.check_act(Action.ANSWER, actor=actor, is_reporter=is_reporter, expected_status=expected_status)
        assert self.question is not None  # set by ask_reporter, the only way into awaiting_reporter
        waited = now - aware(self.question.asked_at)
        fields: dict[str, Any] = {"question": self.question.updated(answered_at=now)}  # Any: as changed
        if self.sla is not None:
            fields["sla"] = self.sla.updated(
                due_at=aware(self.sla.due_at) + waited,
                next_escalation_at=(aware(self.sla.next_escalation_at) + waited
                                    if self.sla.next_escalation_at else None),
                paused_s=(self.sla.paused_s or 0) + waited.total_seconds())
        return self.move(Action.ANSWER, self.question.resume_to, actor=actor, now=now, note=note, fields=fields)

    def close_unanswered(self, *, now: datetime) -> Report | None:
        """No answer within the window: closed with that reason (the sweep)."""
        question = self.question
        if self.status != Status.AWAITING_REPORTER or question is None or aware(question.deadline) > now:
            return None
        return self.move(Action.CLOSE_UNANSWERED, actor=_SYSTEM_SWEEP, now=now, note=UNANSWERED_NOTE,
                         fields={"closed_at": now}, reason="no_answer")

    def confirm(self, *, actor: Actor, is_reporter: bool, expected_status: str, now: datetime,
                note: str, rating: Rating | None = None) -> Report:
        """The reporter agrees the fix is done: closed, with their rating when they gave one."""
        fields: dict[str, Any] = {"closed_at": now}  # Any: as changed
        if rating is not None:
            fields["rating"] = rating
        return self.act(Action.CONFIRM, actor=actor, is_reporter=is_reporter, expected_status=expected_status,
                        now=now, note=note, fields=fields)

    def reopen(self, *, actor: Actor, is_reporter: bool, expected_status: str, now: datetime,
               note: str) -> Report:
        if self.status == Status.RESOLVED and self.close_by and now > aware(self.close_by):
            raise StaleOrIllegal("batas waktu membuka kembali sudah lewat / the window to reopen has passed",
                                 status=self.status.value, allowed=[Action.CONFIRM.value])
        return self.act(Action.REOPEN, actor=actor, is_reporter=is_reporter, expected_status=expected_status,
                        now=now, note=note, fields={"reopened": self.reopened + 1})

    def dispute(self, *, actor: Actor, is_reporter: bool, expected_status: str, now: datetime, note: str,
                window: timedelta) -> Report:
        """The reporter contests a rejection (not a problem, or a duplicate) within `window` of it: the
        report goes back to the operators' triage, who reassign it or confirm the rejection."""
        rejected_at = self.rejection.at if self.rejection else self.status_changed_at
        if self.status in (Status.REJECTED, Status.DUPLICATE) and now > aware(rejected_at) + window:
            raise StaleOrIllegal("batas waktu keberatan sudah lewat / the window to dispute has passed",
                                 status=self.status.value, allowed=[])
        return self.act(Action.DISPUTE, actor=actor, is_reporter=is_reporter, expected_status=expected_status,
                        now=now, note=note, fields={"assignee": TRIAGE_ID})

    def escalate(self, *, now: datetime, sla: SlaPolicy) -> Report | None:
        """Past its target and still open: flagged overdue, escalated one level (once per level)
        with a timeline entry that changes no status."""
        due = self.sla.next_escalation_at if self.sla else None
        category = get_category(self.category)
        if (self.sla is None or self.status not in OPEN or due is None or aware(due) > now or category is None
                or self.escalation_level >= max(ESCALATION_TO)):
            return None
        level = self.escalation_level + 1
        entry = TimelineEntry(status=self.status.value, at=now, by="sweep_reports", event="escalation", level=level,
                              to=ESCALATION_TO[level],
                              note=f"Melewati target, dieskalasi ke {ESCALATION_TO[level]} / Past its target, "
                                   f"escalated (level {level})")
        next_at = sla.escalation_at(category, aware(self.sla.start_at), level + 1)
        if next_at is not None and self.sla.paused_s:  # the reporter's answering time is not the SKPD's
            next_at += timedelta(seconds=self.sla.paused_s)
        return self.changed(overdue=True, escalation_level=level, timeline=[*self.timeline, entry],
                            sla=self.sla.updated(next_escalation_at=next_at))

    def auto_close(self, *, now: datetime) -> Report | None:
        """Closed by the sweep tick once the reporter's window has passed without a dispute."""
        if self.status != Status.RESOLVED or self.close_by is None or aware(self.close_by) > now:
            return None
        return self.move(Action.AUTO_CLOSE, actor=_SYSTEM_SWEEP, now=now,
                         note="Ditutup otomatis, pelapor tidak membantah / Closed automatically, "
                              "the reporter did not dispute the fix", fields={"closed_at": now})

    def supported_by(self, duplicate_id: str, refs: Sequence[str] | None = None) -> Report | None:
        """A report rejected as a duplicate of this one: its reporter and supporters (`refs`, made
        for this report) support this one now, each once; with no person behind the duplicate
        (`refs` None: a channel's report) it still counts as one supporter. None when nothing
        changes (a retry)."""
        wanted = list(refs) if refs is not None else [support_ref(self.report_id, f"report:{duplicate_id}")]
        duplicates = self.duplicates if duplicate_id in self.duplicates else [*self.duplicates, duplicate_id]
        supporters = [*self.supporter_refs, *(r for r in dict.fromkeys(wanted) if r not in self.supporter_refs)]
        if duplicates == self.duplicates and supporters == self.supporter_refs:
            return None
        return self.changed(duplicates=duplicates, supporter_refs=supporters, supporters=len(supporters),
                            support_seq=self.support_seq + 1)

    def supported(self, ref: str) -> Report | None:
        """One more supporter ("dukung"); None if `ref` supports it already (idempotent)."""
        if ref in self.supporter_refs:
            return None
        refs = [*self.supporter_refs, ref]
        return self.changed(supporter_refs=refs, supporters=len(refs), support_seq=self.support_seq + 1)

    def unsupported(self, ref: str) -> Report | None:
        """A supporter withdraws; None if `ref` does not support it (idempotent)."""
        if ref not in self.supporter_refs:
            return None
        refs = [r for r in self.supporter_refs if r != ref]
        return self.changed(supporter_refs=refs, supporters=len(refs), support_seq=self.support_seq + 1)

    def supporters_moved(self) -> Report | None:
        """A duplicate's supporters now support its parent: none are left here (counted once)."""
        if not self.supporter_refs and not self.supporters:
            return None
        return self.changed(supporter_refs=[], supporters=0, support_seq=self.support_seq + 1)

    def rate(self, rating: Rating, *, actor: Actor, is_reporter: bool, window: timedelta) -> Report:
        """The reporter rates a fix closed by the sweep tick, within the reopen window of the close,
        once: a timeline entry that changes no status (so the figures hear of it)."""
        if actor.role != Role.WARGA or not is_reporter:
            raise NotPermitted("hanya pelapor / only the reporter")
        closed = next((e for e in reversed(self.timeline) if e.action), None)
        reason = None
        if self.status != Status.CLOSED or closed is None or closed.action != Action.AUTO_CLOSE.value:
            reason = "hanya laporan yang ditutup otomatis / only a report closed automatically"
        elif self.rating is not None:
            reason = "sudah dinilai / already rated"
        elif self.closed_at is not None and rating.at > aware(self.closed_at) + window:
            reason = "batas waktu menilai sudah lewat / the window to rate has passed"
        if reason is not None:
            raise StaleOrIllegal(f"{reason}", status=self.status.value, allowed=[])
        entry = TimelineEntry(status=self.status.value, at=rating.at, by=actor.label, event="rated",
                              note=f"Dinilai {rating.score}/5 / Rated {rating.score}/5")
        return self.changed(rating=rating.updated(after="auto_close"), timeline=[*self.timeline, entry])

    def staff_replied(self, comment_id: str, *, actor: Actor, now: datetime) -> Report | None:
        """A staff reply in the thread: a timeline entry that changes no status, so the reporter is
        told (keluhan.domain.notify); once per comment."""
        if any(e.comment_id == comment_id for e in self.timeline):
            return None
        entry = TimelineEntry(status=self.status.value, at=now, by=actor.label, event="staff_reply",
                              comment_id=comment_id, note="Balasan dari petugas / A reply from staff")
        return self.changed(timeline=[*self.timeline, entry])

    def stall(self, record: Stalled, error: StageError | None = None) -> Report:
        """The reconciler's count of a stage that did not move on (and the error when it gives up)."""
        if error is None:
            return self.changed(stalled=record)
        return self.changed(stalled=record, errors=[*self.errors, error])

    def failed_at(self, error: StageError) -> Report | None:
        """A stage gave up on the report: the error is kept (once: a redelivered bad message adds nothing)."""
        if any(e.stage == error.stage and e.reason == error.reason for e in self.errors):
            return None
        return self.changed(errors=[*self.errors, error])

    def _delivery_failure_told(self) -> bool:
        """This assignment's delivery has failed before (a redelivered or replayed send failing
        again tells nobody twice)."""
        for entry in reversed(self.timeline):
            if entry.event == DELIVERY_FAILED:
                return True
            if entry.action in (Action.ROUTE, Action.REASSIGN):
                return False
        return False

    def delivery(self, forwarding: Delivery) -> Report:
        """The tracked delivery to an external body, one step further; given up on for good, with
        a timeline entry (no status change, once per assignment) that tells the operators and the
        reporter."""
        # Any: the changed fields' values, validated by changed(); the delivery is stored whole, defaults included
        fields: dict[str, Any] = {"forwarding": forwarding.model_dump()}
        if forwarding.state == "failed" and not self._delivery_failure_told():
            at = forwarding.updated_at or self.status_changed_at
            fields["timeline"] = [*self.timeline, TimelineEntry(
                status=self.status.value, at=aware(at), by="forward_report", event=DELIVERY_FAILED,
                to=forwarding.assignee, internal_note=forwarding.last_error or None,
                note="Pengiriman gagal, operator menanganinya / Delivery failed, the operators are handling it")]
        return self.changed(**fields)


DELIVERY_FAILED = "delivery_failed"  # the timeline event of a forwarding given up on
# Open in a city SKPD's hands: what counts as backlog, can be overdue and escalates.
OPEN = frozenset({Status.ROUTED, Status.ACCEPTED, Status.IN_PROGRESS, Status.RESOLVING, Status.REOPENED})
HELD_NOTE = "pelapor ditahan untuk moderasi / reporter held for moderation"
AUDIT_NOTE = "dipilih untuk audit validasi / sampled for a validation audit"
VALIDATED_NOTE = "Tindak lanjut divalidasi / The follow-up was validated"
REFUSED_NOTE = "Tindak lanjut ditolak / The follow-up was refused"
UNANSWERED_NOTE = ("Ditutup, pelapor tidak menjawab pertanyaan SKPD tepat waktu / Closed, the reporter did not "
                   "answer the agency's question in time")
_SYSTEM_GEO = Actor(Role.SYSTEM, "enrich_geo")
_SYSTEM_PHOTO = Actor(Role.SYSTEM, "verify_photo")
_SYSTEM_SWEEP = Actor(Role.SYSTEM, "sweep_reports")


def _entry(action: Action, source: Status | None, to: Status, actor: Actor, now: datetime, note: str,
           **extra: str | None) -> TimelineEntry:
    entry = {"status": to.value, "at": now, "by": actor.label, "note": note,
             "from": source.value if source else None, "action": action.value, "role": actor.role.value}
    return TimelineEntry.model_validate(entry | {k: v for k, v in extra.items() if v is not None})


