"""What each reader sees of a report: the reporter their own, staff an allow-listed view."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator

from keluhan.domain.catalogue import get_category
from keluhan.domain.notes import public_note, public_routing_reason, redact_contacts
from keluhan.domain.report import STATUS_TEXT, Report, Status
from keluhan.domain.stored import ReportDoc
from keluhan.domain.workflow import Actor, allowed_actions


def reporter_view(report: ReportDoc, *, client_id: str | None,
                  proof_url: str | None = None) -> dict[str, object]:
    location = report.get("location") or {}
    routing = report.get("routing") or {}
    forwarding = report.get("forwarding") or {}
    photo = report.get("photo") or {}
    resolution = report.get("resolution") or {}
    rejection = report.get("rejection") or {}
    status = Status(report["status"])
    return {
        "report_id": report["report_id"],
        "client_id": client_id,
        "status": status.value,
        "status_text": STATUS_TEXT[status],
        "category": report["category"],
        "description": report["description"],
        "received_at": report["received_at"],
        "point": report["point"],
        "photo": {"required": photo.get("required"), "verdict": photo.get("verdict"),
                  "reasons": photo.get("reasons", [])},
        "kelurahan": location.get("kelurahan"),
        "kecamatan": location.get("kecamatan"),
        "assignee": routing.get("assignee"),
        "assignee_name": routing.get("assignee_name"),
        "reason": public_routing_reason(routing),
        "delivery": {"state": forwarding.get("state"), "receiver_ref": forwarding.get("receiver_ref")}
        if forwarding else None,
        "resolution": {"verdict": resolution.get("verdict"), "reasons": resolution.get("reasons", []),
                       "proof_url": proof_url} if resolution else None,
        "rejection": {"reason": rejection.get("reason"), "note": rejection.get("note"),
                      "parent_id": rejection.get("parent_id")} if rejection else None,
        "close_by": report.get("close_by"),
        "timeline": [_public_entry(t) for t in report.get("timeline", [])],
        "supporters": report.get("supporters", 0),
        "rating": {k: rating[k] for k in ("score", "text", "at") if k in rating}
        if (rating := report.get("rating")) else None,
        **_honest_states(report),
    }


def _honest_states(report: ReportDoc) -> dict[str, object]:
    """What the reporter sees of a schedule (the date and why) and of a question (to answer it)."""
    out: dict[str, object] = {}
    schedule, question = report.get("schedule") or {}, report.get("question") or {}
    if schedule:
        out["schedule"] = {"for_date": schedule.get("for_date"), "reason": schedule.get("reason")}
    if question:
        out["question"] = {"note": redact_contacts(str(question.get("note") or "")),
                           "asked_at": question.get("asked_at"), "deadline": question.get("deadline"),
                           "answered_at": question.get("answered_at")}
    return out


def _public_entry(entry: Mapping[str, object]) -> dict[str, object]:
    out = {"status": entry["status"], "at": entry["at"], "note": public_note(entry)}
    for key in ("action", "reason", "parent_id"):
        if entry.get(key):
            out[key] = entry[key]
    return out


STAFF_FIELDS = ("report_id", "channel", "category", "description", "point", "street", "received_at",
                "status", "status_changed_at", "assignee", "location", "routing", "timeline", "resolution",
                "rejection", "parent_id", "supporters", "close_by", "reopened", "rating", "schedule", "question",
                "private")


TIMELINE_FIELDS = ("status", "at", "by", "note", "internal_note", "from", "action", "role", "reason", "parent_id",
                   "event")


def _staff_entry(entry: Mapping[str, object]) -> dict[str, object]:
    out = {k: entry[k] for k in TIMELINE_FIELDS if k in entry}
    if str(out.get("by", "")).startswith("operator:"):
        out["by"] = "operator"  # the War Room acts as one; which operator stays in Firestore
    return out


def staff_view(report: ReportDoc) -> dict[str, object]:
    """SKPD staff and operators: the report's work fields, never who reported, internal errors,
    an operator's uid or the original photo's path."""
    view = {k: report[k] for k in STAFF_FIELDS if k in report}
    view["timeline"] = [_staff_entry(t) for t in report.get("timeline", [])]
    photo = report.get("photo") or {}
    view["photo"] = {k: photo.get(k) for k in ("required", "verdict", "clean_object", "thumbnail_object")}
    if view.get("resolution"):
        view["resolution"] = {k: v for k, v in view["resolution"].items() if k not in ("phash", "event")}
    return view


def work_item(report: Report, actor: Actor) -> dict[str, object]:
    """One report of an SKPD's queue on the `work` page: what it is, where, when it is due, and
    the moves this officer may make now (from the transition table)."""
    category = get_category(report.category)
    location = report.location
    return {
        "report_id": report.report_id,
        "category": report.category,
        "category_name": f"{category.name} / {category.name_en}" if category else report.category,
        "description": report.description,
        "street": report.street,
        "status": report.status.value,
        "status_text": STATUS_TEXT[report.status],
        "kelurahan": location.kelurahan if location else None,
        "kecamatan": location.kecamatan if location else None,
        "received_at": report.received_at,
        "status_changed_at": report.status_changed_at,
        "due_at": report.sla.due_at if report.sla else None,
        "overdue": report.overdue,
        "escalation_level": report.escalation_level,
        "supporters": report.supporters,
        "allowed_actions": allowed_actions(report.status, actor, assignee=report.assignee, is_reporter=False),
    }


def by_due_time(items: list[dict[str, object]]) -> list[dict[str, object]]:
    """Soonest due first (a report without a due time last), then the oldest received."""
    def key(item: Mapping[str, object]) -> tuple[bool, datetime, datetime, str]:
        due = item["due_at"]
        return (due is None, _utc(due), _utc(item["received_at"]), str(item["report_id"]))
    return sorted(items, key=key)


def _utc(value: object) -> datetime:
    if not isinstance(value, datetime):
        return datetime.max.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- What the HTTP functions answer, as models: the OpenAPI document (keluhan.openapi) is built
# from them, and the functions validate every answer through them before it is sent. Fields a
# view leaves out stay out (dumped with exclude_unset); nothing here renames a key of the dicts above.

class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Point(_Answer):
    lat: float
    lon: float
    accuracy_m: float | None = None


class PhotoReason(BaseModel):
    """One finding of the photo checks (keluhan.domain.photo.reasons.Reason), as stored."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str = Field(description="Indonesian / English")


class PhotoState(_Answer):
    """The reporter's photo: whether one is needed, and the checks' verdict once it arrived."""

    required: bool | None = None
    verdict: str | None = None
    reasons: list[PhotoReason] = []


class DeliveryState(_Answer):
    """A report forwarded to an external body: the delivery state and the receiver's reference."""

    state: str | None = None
    receiver_ref: str | None = None


class ResolutionState(_Answer):
    verdict: str | None = None
    reasons: list[PhotoReason] = Field(default=[], description="The proof photo's findings")
    proof_url: str | None = Field(default=None, description="Signed GET link of the proof photo's EXIF-free copy")


class RejectionState(_Answer):
    reason: str | None = None
    note: str | None = None
    parent_id: str | None = None


class PublicTimelineEntry(_Answer):
    status: str
    at: datetime
    note: str | None = ""
    action: str | None = None
    reason: str | None = None
    parent_id: str | None = None


class RatingState(_Answer):
    """The reporter's rating of the fix."""

    score: int
    text: str = ""
    at: datetime
    after: str | None = None


class ScheduleState(_Answer):
    for_date: str | None = Field(default=None, description="ISO date (WITA)")
    reason: str | None = Field(default=None, description="butuh_anggaran, pekerjaan_besar, menunggu_pihak_lain")


class QuestionState(_Answer):
    note: str
    asked_at: datetime | None = None
    deadline: datetime | None = Field(default=None, description="Unanswered by then, the report is closed")
    answered_at: datetime | None = None


class ReporterView(_Answer):
    """The reporter's own report (get_report; act_on_report for a citizen's move)."""

    report_id: str
    client_id: str | None
    status: Status
    status_text: str = Field(description="Status in Indonesian / English")
    category: str
    description: str
    received_at: datetime
    point: Point
    photo: PhotoState
    kelurahan: str | None
    kecamatan: str | None
    assignee: str | None
    assignee_name: str | None
    reason: str | None
    delivery: DeliveryState | None
    resolution: ResolutionState | None
    rejection: RejectionState | None
    close_by: datetime | None
    timeline: list[PublicTimelineEntry]
    supporters: int = Field(default=0, description="How many residents support it (\"dukung\")")
    rating: RatingState | None = None
    schedule: ScheduleState | None = Field(default=None, description="When the agency scheduled the work")
    question: QuestionState | None = Field(default=None, description="The agency's question (answer: `answer`)")


class StaffPhoto(_Answer):
    required: bool | None = None
    verdict: str | None = None
    clean_object: str | None = None
    thumbnail_object: str | None = None


class StaffTimelineEntry(_Answer):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    status: str
    at: datetime
    by: str | None = None
    note: str | None = None
    from_: str | None = Field(default=None, alias="from")
    action: str | None = None
    role: str | None = None
    reason: str | None = None
    parent_id: str | None = None
    event: str | None = None


class StaffView(_Answer):
    """What SKPD staff and operators see of a report (STAFF_FIELDS); absent fields stay absent."""

    report_id: str
    channel: str | None = None
    category: str | None = None
    description: str | None = None
    point: Point | None = None
    street: str | None = None
    received_at: datetime | None = None
    status: Status
    status_changed_at: datetime | None = None
    assignee: str | None = None
    location: dict[str, object] | None = None
    routing: dict[str, object] | None = None
    timeline: list[StaffTimelineEntry] = []
    resolution: dict[str, object] | None = None
    rejection: dict[str, object] | None = None
    parent_id: str | None = None
    supporters: int | None = None
    close_by: datetime | None = None
    reopened: int | None = None
    rating: RatingState | None = None
    schedule: dict[str, object] | None = None
    question: dict[str, object] | None = None
    private: bool | None = Field(default=None, description="The reporter keeps it out of public answers")
    photo: StaffPhoto


class UploadTicket(_Answer):
    """A signed PUT URL for one photo: send exactly these headers, at most max_bytes, before expires_at."""

    method: Literal["PUT"]
    url: str
    headers: dict[str, str]
    expires_at: str = Field(json_schema_extra={"format": "date-time"})
    max_bytes: int


class SubmittedPhoto(_Answer):
    required: bool | None
    verdict: str | None


class PublicPoint(_Answer):
    lat: float
    lon: float


class PublicReport(_Answer):
    """What anyone sees of a report (keluhan.domain.nearby.public_view): never who reported; the
    point rounded to ~110 m for categories that show a home or a person, whose description and
    photo are withheld too."""

    report_id: str
    category: str
    category_name: str | None
    status: Status
    status_text: str
    public_status: Literal["open", "closed"]
    description: str | None
    kelurahan: str | None
    kecamatan: str | None
    point: PublicPoint
    distance_m: float = Field(description="From the asked point to the point shown")
    supporters: int
    received_at: datetime
    thumbnail_url: str | None = Field(description="Signed GET link of the EXIF-free thumbnail, valid 15 minutes")


class SubmitReportAnswer(_Answer):
    """submit_report: 201 for a new report, 200 for a retry with the same client_id."""

    report_id: str
    status: Status
    status_text: str
    photo: SubmittedPhoto
    upload: UploadTicket | None = Field(description="Where to PUT the photo, when one is required")
    possible_duplicates: list[PublicReport] = Field(
        default=[], description="Open reports of the same category nearby and recent, nearest first (at "
                                "most 5): the app may offer to support one; the report is stored anyway")


class NearbyAnswer(_Answer):
    """nearby_reports: open public reports near the point, nearest first."""

    reports: list[PublicReport]
    reads: int = Field(description="Firestore documents read for this answer (bounded by the read cap)")
    truncated: bool = Field(description="The read cap was reached: more reports may lie in the circle")


class MyReportsAnswer(_Answer):
    """list_my_reports: a page of the caller's own reports, newest first."""

    reports: list[ReporterView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


class ActOnReportAnswer(_Answer):
    """act_on_report: the report after the move (the staff view, or a citizen's own view)."""

    report: StaffView | ReporterView
    upload: UploadTicket | None = Field(description="Where to PUT the proof photo, after `resolve`")


Figure = int | float | str | None  # counts, median/p90 bucket edges ("> 1440" when open-ended), sla_met


class FigureRow(_Answer):
    model_config = ConfigDict(extra="allow")

    key: str
    name: str


class KelurahanFigures(_Answer):
    open: int
    received: int
    overdue: int


class OverdueRow(_Answer):
    report_id: str
    category: str
    status: str
    assignee: str | None
    kelurahan: str | None
    kecamatan: str | None
    due_at: datetime | None
    escalation_level: int
    supporters: int = 0


class WarRoomStats(_Answer):
    """war_room /stats.json: the city's figures, per SKPD, kecamatan, channel and kelurahan, and overdue reports."""

    generated_at: str = Field(json_schema_extra={"format": "date-time"})
    month: str
    city: dict[str, Figure]
    by_skpd: list[FigureRow]
    by_kecamatan: list[FigureRow]
    by_channel: list[FigureRow] = Field(default_factory=list, description="Per intake channel: warga (the app), "
                                        "whatsapp, call_center_112, …")
    by_category: list[FigureRow] = Field(default=[], description="Per category (satisfaction among them)")
    by_kelurahan: dict[str, KelurahanFigures]
    overdue: list[OverdueRow]
    resolved_this_week: int


class WarRoomConfig(_Answer):
    sign_in_url: str | None = Field(description="Local Auth emulator sign-in endpoint; null when deployed")


class FeatureCollection(BaseModel):
    """GeoJSON FeatureCollection of the kelurahan outlines."""

    model_config = ConfigDict(extra="allow")

    type: Literal["FeatureCollection"]
    features: list[dict[str, object]]


PhotoKind = Literal["photo", "thumbnail", "proof", "proof_thumbnail"]


class PhotoLink(_Answer):
    """One signed read link of an EXIF-free derivative (never the reporter's original)."""

    kind: PhotoKind = Field(description="photo, thumbnail (the complaint's), proof, proof_thumbnail (the "
                                        "accepted proof of the fix)")
    url: str = Field(description="V4 signed GET URL of the object")
    expires_at: datetime = Field(description="When the link stops working (at most 15 minutes ahead)")


class PhotoLinks(RootModel[list[PhotoLink]]):
    """photo_links: the report's photo links, for its SKPD's staff and operators."""


class WorkItem(_Answer):
    """One report of an SKPD's queue (work /queue.json): due_at and overdue as the sweep keeps them."""

    report_id: str
    category: str
    category_name: str = Field(description="Indonesian / English")
    description: str
    street: str | None
    status: Status
    status_text: str
    kelurahan: str | None
    kecamatan: str | None
    received_at: datetime
    status_changed_at: datetime
    due_at: datetime | None = Field(description="When the SKPD's handling target runs out (sla.due_at)")
    overdue: bool = Field(description="Past its target and escalated by the sweep (as the War Room counts it)")
    escalation_level: int
    supporters: int = Field(description="Citizens who reported the same problem (duplicates linked to it)")
    allowed_actions: list[str] = Field(description="The moves this officer may make now (act_on_report actions)")


class WorkQueue(_Answer):
    """work /queue.json: the open reports of the caller's SKPD, soonest due first."""

    skpd: str
    generated_at: datetime
    reports: list[WorkItem]
    truncated: bool = Field(description="More open reports exist than the queue lists")


class WorkReport(_Answer):
    """work /report.json: one report of the caller's SKPD, its staff view and what may be done now."""

    item: WorkItem
    report: StaffView
    photos: list[PhotoLink] = Field(description="Signed read links of the EXIF-free photos (as photo_links)")


class MyReportsQuery(BaseModel):
    """list_my_reports' query: optional statuses (comma list), a page size, the previous page's cursor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: list[Status] = Field(default_factory=list, max_length=10)
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)

    @field_validator("status", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("cursor")
    @classmethod
    def _readable_cursor(cls, value: str | None) -> str | None:
        if value is not None:
            from keluhan.domain.open311 import decode_cursor

            decode_cursor(value)
        return value


class DeviceAnswer(_Answer):
    """A registered push device (never its token: the caller has it)."""

    device_id: str
    platform: Literal["android", "ios", "web"]
    lang: Literal["id", "en"] | None
    registered_at: datetime
    max_devices: int = Field(description="Devices kept per user; registering more forgets the oldest")


class UnregisterAnswer(_Answer):
    removed: bool = Field(description="False when the token was not registered for this user")
