"""What to tell whom, as data: each event of a report's timeline → audiences → a message template.

The table (`NOTICES`) is read like the routing rules: one row per event, the audiences told of it,
and the words in Indonesian and English. `notices(report, seq)` says which rows the timeline entry
at `seq` triggers; `message_id` makes each (report, timeline position, recipient, channel) one
message, so a redelivered or re-published event adds nothing.

Messages never say who reported: they name the report, its category, place and assignee, and
quote only public notes, contacts redacted (`keluhan.domain.notes`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from keluhan.domain.assignees import TRIAGE_ID, get_assignee
from keluhan.domain.catalogue import get_category
from keluhan.domain.notes import public_note
from keluhan.domain.report import DELIVERY_FAILED, Report, TimelineEntry
from keluhan.domain.workflow import SCHEDULE_TEXT, Action, ScheduleReason, Status

Audience = Literal["reporter", "supporters", "assignee_staff", "assignee_head", "operators", "subscribers"]
Lang = Literal["id", "en"]
MessageChannel = Literal["inbox", "push", "whatsapp"]  # where a message goes (not a report's intake channel)
LANGS: tuple[Lang, ...] = ("id", "en")


@dataclass(frozen=True)
class Notice:
    """One row of the table: an event, who is told, and what (`{…}` filled by `render`)."""

    event: str
    audiences: tuple[Audience, ...]
    title: dict[Lang, str]
    body: dict[Lang, str]
    urgent: bool = False  # pushed even in the recipient's quiet hours


def _notice(event: str, audiences: tuple[Audience, ...], title: tuple[str, str], body: tuple[str, str], *,
            urgent: bool = False) -> Notice:
    return Notice(event, audiences, {"id": title[0], "en": title[1]}, {"id": body[0], "en": body[1]}, urgent)


REPORTER: tuple[Audience, ...] = ("reporter", "supporters")
# The one table. Events are named from the timeline entry (`event_of`).
NOTICES: dict[str, Notice] = {n.event: n for n in (
    _notice("routed", REPORTER,
            ("Laporan diteruskan ke {assignee}", "Report assigned to {assignee}"),
            ("Laporan {report_id} ({category}) sekarang ditangani {assignee}.",
             "Report {report_id} ({category}) is now with {assignee}.")),
    _notice("assigned", ("assignee_staff",),
            ("Laporan baru: {category}", "New report: {category}"),
            ("Laporan {report_id} ({category}, {place}) masuk antrean {assignee}.",
             "Report {report_id} ({category}, {place}) is in {assignee}'s queue.")),
    _notice("forwarded", REPORTER,
            ("Laporan diteruskan ke {assignee}", "Report forwarded to {assignee}"),
            ("Laporan {report_id} bukan kewenangan Kota Makassar dan diteruskan ke {assignee}.",
             "Report {report_id} is not the city's to handle and was forwarded to {assignee}.")),
    _notice("triage", ("operators",),
            ("Laporan perlu triase", "A report needs triage"),
            ("Laporan {report_id} ({category}, {place}) menunggu keputusan operator. {note}",
             "Report {report_id} ({category}, {place}) awaits an operator's decision. {note}")),
    _notice("accepted", REPORTER,
            ("Laporan diterima SKPD", "Report accepted"),
            ("{assignee} menerima laporan {report_id}.", "{assignee} accepted report {report_id}.")),
    _notice("in_progress", REPORTER,
            ("Sedang dikerjakan", "Work in progress"),
            ("{assignee} mulai mengerjakan laporan {report_id}.", "{assignee} started work on report {report_id}.")),
    _notice("resolved", REPORTER,
            ("Selesai dikerjakan", "Fixed"),
            ("{assignee} menyelesaikan laporan {report_id}; foto bukti ada di aplikasi. Konfirmasi atau buka "
             "kembali dalam 7 hari.",
             "{assignee} fixed report {report_id}; the proof photo is in the app. Confirm, or reopen within "
             "7 days.")),
    _notice("rejected", REPORTER,
            ("Laporan ditolak", "Report rejected"),
            ("Laporan {report_id} ditolak: {note} Anda dapat mengajukan keberatan dalam 7 hari.",
             "Report {report_id} was rejected: {note} You may dispute this within 7 days.")),
    _notice("duplicate", REPORTER,
            ("Laporan digabung", "Report merged"),
            ("Laporan {report_id} sama dengan laporan {parent_id}; dukungan Anda dihitung di sana.",
             "Report {report_id} is the same problem as report {parent_id}; your support counts there.")),
    _notice("reopened", ("assignee_staff",),
            ("Laporan dibuka kembali", "Report reopened"),
            ("Pelapor membuka kembali laporan {report_id}: {note}",
             "The reporter reopened report {report_id}: {note}")),
    _notice("disputed", ("operators",),
            ("Keberatan atas penolakan", "A rejection is disputed"),
            ("Pelapor keberatan atas penolakan laporan {report_id}: {note}",
             "The reporter disputes the rejection of report {report_id}: {note}")),
    _notice("closed", REPORTER,
            ("Laporan ditutup", "Report closed"),
            ("Laporan {report_id} ditutup. Terima kasih telah melapor.",
             "Report {report_id} is closed. Thank you for reporting.")),
    _notice("photo_rejected", ("reporter",),
            ("Foto ditolak", "Photo rejected"),
            ("Foto laporan {report_id} ditolak: {note}", "The photo of report {report_id} was rejected: {note}")),
    _notice("staff_reply", ("reporter",),
            ("Balasan petugas", "A reply from staff"),
            ("Petugas membalas di laporan {report_id} ({category}); baca di aplikasi.",
             "Staff replied on report {report_id} ({category}); read it in the app.")),
    _notice("scheduled", REPORTER,
            ("Laporan dijadwalkan", "Report scheduled"),
            ("{assignee} menjadwalkan laporan {report_id} pada {scheduled_for} ({schedule_reason}).",
             "{assignee} scheduled report {report_id} for {scheduled_for} ({schedule_reason}).")),
    _notice("question", ("reporter",),
            ("Pertanyaan dari SKPD", "A question from the agency"),
            ("{assignee} bertanya tentang laporan {report_id}: {note} Jawab dalam aplikasi.",
             "{assignee} asks about report {report_id}: {note} Answer in the app.")),
    _notice("answered", ("assignee_staff",),
            ("Pelapor menjawab", "The reporter answered"),
            ("Pelapor menjawab pertanyaan tentang laporan {report_id}: {note}",
             "The reporter answered the question about report {report_id}: {note}")),
    _notice("closed_unanswered", REPORTER,
            ("Laporan ditutup", "Report closed"),
            ("Laporan {report_id} ditutup karena pertanyaan SKPD tidak dijawab tepat waktu.",
             "Report {report_id} was closed because the agency's question was not answered in time.")),
    _notice("awaiting_validation", ("operators",),
            ("Tindak lanjut perlu divalidasi", "A fix awaits validation"),
            ("Laporan {report_id} ({category}, {place}) diselesaikan {assignee} dan terpilih untuk audit validasi.",
             "Report {report_id} ({category}, {place}) was fixed by {assignee} and sampled for a validation audit.")),
    _notice("validation_refused", ("assignee_staff",),
            ("Tindak lanjut ditolak", "The follow-up was refused"),
            ("Laporan {report_id} kembali dikerjakan. {staff_note}",
             "Report {report_id} is back in work. {staff_note}")),
    _notice("escalated_1", ("assignee_head",),
            ("Laporan melewati target", "A report is past its target"),
            ("Laporan {report_id} ({category}, {place}) di {assignee} melewati target waktu.",
             "Report {report_id} ({category}, {place}) at {assignee} is past its target time."), urgent=True),
    _notice("escalated_2", ("operators",),
            ("Eskalasi ke War Room", "Escalated to the War Room"),
            ("Laporan {report_id} ({category}, {place}) di {assignee} masih melewati target setelah "
             "eskalasi ke kepala SKPD.",
             "Report {report_id} ({category}, {place}) at {assignee} is still past its target after "
             "escalation to the head of the SKPD."), urgent=True),
    _notice("new_in_area", ("subscribers",),
            ("Laporan baru di area Anda", "A new report in your area"),
            ("Laporan {report_id} ({category}, {place}) ditangani {assignee}.",
             "Report {report_id} ({category}, {place}) is with {assignee}.")),
    _notice("delivery_failed", ("operators",),
            ("Pengiriman laporan gagal", "Forwarding failed"),
            ("Laporan {report_id} ({category}, {place}) tidak dapat dikirim ke {assignee}: {internal}",
             "Report {report_id} ({category}, {place}) could not be delivered to {assignee}: {internal}"),
            urgent=True),
    _notice("delivery_handled", REPORTER,
            ("Laporan sedang ditangani operator", "The operators are handling your report"),
            ("Laporan {report_id} belum dapat dikirim ke {assignee}; operator War Room menanganinya.",
             "Report {report_id} could not yet be delivered to {assignee}; the War Room operators are "
             "handling it.")),
)}
# The events that make a report new in its area (the first of them on a timeline tells subscribers).
ARRIVALS = frozenset({"routed", "forwarded"})


def event_of(entry: TimelineEntry) -> str | None:
    """The table's event for one timeline entry (None: nobody is told, e.g. a pipeline step)."""
    if entry.event == "escalation":
        return f"escalated_{entry.level}"
    if entry.event == "staff_reply":
        return "staff_reply"
    if entry.event == DELIVERY_FAILED:
        return DELIVERY_FAILED
    return _move_event(entry.action, entry.status) if entry.action else None


def tells_anyone(action: str, status: str) -> bool:
    """Whether a move (a timeline entry made by `action`, ending in `status`, with no event) has a
    row in the table: what a status change's message says is enough to know, before any read."""
    try:
        event = _move_event(action, status)
    except ValueError:
        return True  # not a move this table knows: read the entry itself
    return event is not None and event in NOTICES


def _move_event(action: str, status: str) -> str | None:
    if action in (Action.ROUTE, Action.REASSIGN):
        return {Status.ROUTED: "routed", Status.FORWARDED: "forwarded", Status.TRIAGE: "triage"}.get(Status(status))
    if action == Action.REJECT:
        return {Status.TRIAGE: "triage", Status.REJECTED: "rejected", Status.DUPLICATE: "duplicate"}.get(Status(status))
    if action == Action.PROOF_ACCEPTED and status == Status.AWAITING_VALIDATION:
        return "awaiting_validation"  # the reporter is told once the audit passes (`validate`)
    return {Action.ACCEPT: "accepted", Action.START: "in_progress", Action.PROOF_ACCEPTED: "resolved",
            Action.REOPEN: "reopened", Action.DISPUTE: "disputed", Action.CONFIRM: "closed",
            Action.AUTO_CLOSE: "closed", Action.SCHEDULE: "scheduled", Action.ASK_REPORTER: "question",
            Action.ANSWER: "answered", Action.CLOSE_UNANSWERED: "closed_unanswered", Action.VALIDATE: "resolved",
            Action.REFUSE_VALIDATION: "validation_refused", Action.VERIFY_PHOTO: "photo_rejected" if status == Status.PHOTO_REJECTED
            else None, Action.DISAPPROVE: "photo_rejected"}.get(Action(action))


def notices(report: Report, seq: int) -> list[Notice]:
    """The rows the timeline entry at `seq` triggers: its event's; for a new SKPD assignment the
    assignee's staff's too; for the report's first routing its area's subscribers' (unless the
    reporter keeps it private); for a failed
    delivery the reporter's word that it is being handled."""
    entry = report.timeline[seq]
    event = event_of(entry)
    if event is None or event not in NOTICES:
        return []
    found = [NOTICES[event]]
    if event == "routed":
        found.append(NOTICES["assigned"])
    if event in ARRIVALS and not report.private and not any(event_of(e) in ARRIVALS for e in report.timeline[:seq]):
        found.append(NOTICES["new_in_area"])  # a private report is in no public list, nor in the area's news
    if event == DELIVERY_FAILED:
        found.append(NOTICES["delivery_handled"])
    return found


def assignee_at(report: Report, seq: int) -> str | None:
    """Who had the report when its timeline entry `seq` was made (a later hand-over does not
    change whom an earlier event concerns)."""
    for entry in reversed(report.timeline[:seq + 1]):
        if entry.assignee is not None:
            return entry.assignee
        if entry.action == Action.REJECT and entry.reason == "not_ours":
            return TRIAGE_ID
    return report.assignee


WHATSAPP_RECIPIENT = "wa:"  # a WhatsApp reporter's id (keluhan.domain.whatsapp.reporter_id)


def channel_of(recipient: str) -> MessageChannel:
    """A WhatsApp reporter hears back on WhatsApp; everyone else in the app's inbox."""
    return "whatsapp" if recipient.startswith(WHATSAPP_RECIPIENT) else "inbox"


def message_id(report_id: str, seq: int, recipient: str, channel: MessageChannel) -> str:
    """One message per (report, timeline position, recipient, channel): the dedupe key."""
    return hashlib.sha256(f"{report_id}\x1f{seq}\x1f{recipient}\x1f{channel}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Message:
    """One message to one recipient on one channel, as the inbox stores it."""

    message_id: str
    recipient: str
    channel: MessageChannel
    report_id: str
    seq: int
    event: str
    lang: Lang
    title: str
    body: str
    created_at: datetime
    report_ids: tuple[str, ...] = ()  # a digest's reports (its report_id is empty)

    def to_doc(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "message_id": self.message_id, "report_id": self.report_id, "seq": self.seq, "event": self.event,
            "lang": self.lang, "title": self.title, "body": self.body, "created_at": self.created_at,
            "read_at": None}
        if self.report_ids:
            doc["report_ids"] = list(self.report_ids)
        return doc


def render(notice: Notice, report: Report, seq: int, *, recipient: str, lang: Lang, channel: MessageChannel,
           now: datetime) -> Message:
    """The notice's words for this report in `lang`: never who reported, only public notes."""
    entry = report.timeline[seq]
    assignee = get_assignee(assignee_at(report, seq) or "")
    category = get_category(report.category)
    location = report.location
    english = lang == "en"
    fields = {
        "report_id": report.report_id,
        "category": ((category.name_en if english else category.name) if category else report.category),
        "assignee": ((assignee.name_en if english else assignee.name) if assignee else report.assignee or ""),
        "place": (f"Kel. {location.kelurahan}" if location and location.kelurahan else "Makassar"),
        "note": public_note(entry.model_dump(by_alias=True, exclude_unset=True)) or "",
        "parent_id": report.parent_id or "",
        "internal": entry.internal_note or "",  # only the operators' rows quote it
        "scheduled_for": (report.schedule.for_date if report.schedule else ""),
        "schedule_reason": _schedule_reason(report, english),
        "staff_note": entry.note if entry.role != "warga" else "",  # staff-only words, for staff notices
    }
    return Message(message_id=message_id(report.report_id, seq, recipient, channel), recipient=recipient,
                   channel=channel, report_id=report.report_id, seq=seq, event=notice.event, lang=lang,
                   title=notice.title[lang].format(**fields), body=" ".join(notice.body[lang].format(**fields).split()),
                   created_at=now)


DIGEST = "digest"
DIGEST_LISTED = 20  # reports named in one digest; the rest are counted
_DIGEST_TITLE: dict[Lang, str] = {"id": "{n} laporan baru di area Anda", "en": "{n} new reports in your area"}
_DIGEST_MORE: dict[Lang, str] = {"id": "dan {n} lainnya.", "en": "and {n} more."}


def digest_message_id(uid: str, day: str, channel: MessageChannel) -> str:
    """One digest per (recipient, WITA day, channel): the dedupe key of the daily job."""
    return message_id(f"{DIGEST}:{day}", 0, uid, channel)


def render_digest(reports: list[Report], *, recipient: str, day: str, lang: Lang, channel: MessageChannel,
                  now: datetime) -> Message:
    """One message naming the day's new reports in the recipient's areas (never who reported)."""
    english = lang == "en"
    lines = []
    for report in reports[:DIGEST_LISTED]:
        category = get_category(report.category)
        name = (category.name_en if english else category.name) if category else report.category
        place = f"Kel. {report.location.kelurahan}" if report.location and report.location.kelurahan else "Makassar"
        lines.append(f"{report.report_id} ({name}, {place})")
    body = "; ".join(lines) + ("" if len(reports) <= DIGEST_LISTED else
                               " " + _DIGEST_MORE[lang].format(n=len(reports) - DIGEST_LISTED))
    return Message(message_id=digest_message_id(recipient, day, channel), recipient=recipient, channel=channel,
                   report_id="", seq=0, event=DIGEST, lang=lang, title=_DIGEST_TITLE[lang].format(n=len(reports)),
                   body=body, created_at=now, report_ids=tuple(r.report_id for r in reports))


def _schedule_reason(report: Report, english: bool) -> str:
    """The schedule's reason in the reader's language (the table's words, never the SKPD's note)."""
    if report.schedule is None or report.schedule.reason not in set(ScheduleReason):
        return ""
    indonesian, _, english_text = SCHEDULE_TEXT[ScheduleReason(report.schedule.reason)].partition(" / ")
    return english_text if english else indonesian
