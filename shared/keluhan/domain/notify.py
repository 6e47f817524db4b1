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
from keluhan.domain.report import Report, TimelineEntry
from keluhan.domain.workflow import Action, Status

Audience = Literal["reporter", "supporters", "assignee_staff", "assignee_head", "operators"]
Lang = Literal["id", "en"]
MessageChannel = Literal["inbox", "push"]  # where a message goes (not a report's intake channel)
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
)}


def event_of(entry: TimelineEntry) -> str | None:
    """The table's event for one timeline entry (None: nobody is told, e.g. a pipeline step)."""
    if entry.event == "escalation":
        return f"escalated_{entry.level}"
    action, status = entry.action, entry.status
    if action in (Action.ROUTE, Action.REASSIGN):
        return {Status.ROUTED: "routed", Status.FORWARDED: "forwarded", Status.TRIAGE: "triage"}.get(Status(status))
    if action == Action.REJECT:
        return {Status.TRIAGE: "triage", Status.REJECTED: "rejected", Status.DUPLICATE: "duplicate"}.get(Status(status))
    return {Action.ACCEPT: "accepted", Action.START: "in_progress", Action.PROOF_ACCEPTED: "resolved",
            Action.REOPEN: "reopened", Action.DISPUTE: "disputed", Action.CONFIRM: "closed",
            Action.AUTO_CLOSE: "closed", Action.VERIFY_PHOTO: "photo_rejected" if status == Status.PHOTO_REJECTED
            else None, Action.DISAPPROVE: "photo_rejected"}.get(Action(action)) if action else None


def notices(report: Report, seq: int) -> list[Notice]:
    """The rows the timeline entry at `seq` triggers: its event's, and for a new SKPD assignment
    the assignee's staff's too."""
    entry = report.timeline[seq]
    event = event_of(entry)
    if event is None or event not in NOTICES:
        return []
    found = [NOTICES[event]]
    if event == "routed":
        found.append(NOTICES["assigned"])
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

    def to_doc(self) -> dict[str, object]:
        return {"message_id": self.message_id, "report_id": self.report_id, "seq": self.seq,
                "event": self.event, "lang": self.lang, "title": self.title, "body": self.body,
                "created_at": self.created_at, "read_at": None}


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
    }
    return Message(message_id=message_id(report.report_id, seq, recipient, channel), recipient=recipient,
                   channel=channel, report_id=report.report_id, seq=seq, event=notice.event, lang=lang,
                   title=notice.title[lang].format(**fields), body=" ".join(notice.body[lang].format(**fields).split()),
                   created_at=now)
