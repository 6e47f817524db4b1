"""The WhatsApp conversation: a small pure state machine from greeting to a submitted report.

One `Conversation` per WhatsApp user (kept by the adapter under a hash of the number);
`step(conversation, inbound, ...)` gives the next conversation, the replies, and, on confirm, the
`Draft` to submit through the same use case as the app. Nothing here sends, stores or reads a
clock: the adapter passes in the message, its server times, and where the point lies.

The trust model for photos (WhatsApp strips EXIF; docs/whatsapp.md): the location must be a
*current-location* share (no place name or address), and the photo must reach us within
`PHOTO_WINDOW` after it, both times being the WhatsApp servers' receipt times of the messages.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from keluhan.domain.catalogue import CATEGORIES, get_category
from keluhan.domain.location import Location

Lang = Literal["id", "en"]
Step = Literal["idle", "category", "location", "photo", "description", "confirm"]
Kind = Literal["text", "location", "image", "choice", "other"]
LocateFn = Callable[[float, float], Location]

# A photo must arrive within this long after the current-location share it illustrates.
PHOTO_WINDOW = timedelta(minutes=10)
# A conversation left this long starts over (its draft is dropped, its language kept).
IDLE_RESET = timedelta(minutes=30)
# Messages per number per minute before the bot answers only "slow down" (once per window).
MESSAGES_PER_MINUTE = 20
SEEN_KEPT = 64  # message ids remembered per user: WhatsApp redelivers within hours, not hundreds of messages
RECENT_REPORTS = 5
DESCRIPTION_MAX = 500
CHOICE_PREFIX = "cat:"

HELP_WORDS = frozenset({"help", "bantuan", "tolong", "menu", "halo", "hai", "hi", "hello", "mulai", "start"})
CANCEL_WORDS = frozenset({"batal", "cancel", "stop"})
STATUS_WORDS = frozenset({"status", "cek", "check"})
YES_WORDS = frozenset({"ya", "yes", "y", "kirim", "send", "ok", "oke"})
ENGLISH_WORDS = frozenset({"english", "inggris", "en"})
INDONESIAN_WORDS = frozenset({"indonesia", "bahasa", "id"})
_WORD = re.compile(r"[^\w]+")


def number_hash(number: str) -> str:
    """The only form of a phone number kept outside the conversation store (ids, reports, logs)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return hashlib.sha256(f"wa\x00{digits}".encode()).hexdigest()[:32]


def reporter_id(number: str) -> str:
    """The reporter's identity on the report's submission (and its holds and quotas)."""
    return f"wa:{number_hash(number)}"


@dataclass(frozen=True)
class Inbound:
    """One message from the resident, as the Cloud API delivered it (`at`: WhatsApp's receipt time)."""

    message_id: str
    at: datetime
    kind: Kind
    text: str = ""
    lat: float | None = None
    lon: float | None = None
    place_named: bool = False  # a picked place (name or address), not the sender's current location
    media_id: str | None = None
    mime_type: str | None = None
    choice: str | None = None


class Draft(BaseModel):
    """What the conversation has gathered for one report."""

    model_config = ConfigDict(frozen=True)

    category: str | None = None
    lat: float | None = None
    lon: float | None = None
    location_at: datetime | None = None
    inside_city: bool = True
    place: str | None = None
    media_id: str | None = None
    mime_type: str | None = None
    photo_at: datetime | None = None
    description: str | None = None


class Conversation(BaseModel):
    """wa_users/{number_hash}.conversation: where one resident is in the conversation."""

    model_config = ConfigDict(frozen=True)

    step: Step = "idle"
    lang: Lang = "id"
    draft: Draft = Field(default_factory=Draft)
    started_at: datetime | None = None  # of the current draft: part of its submission key
    last_at: datetime | None = None
    seen: tuple[str, ...] = ()
    reports: tuple[str, ...] = ()
    rate_window: datetime | None = None
    rate_count: int = 0


@dataclass(frozen=True)
class Reply:
    """One message to send: text, or text with the category list, or a location request."""

    text: str
    kind: Literal["text", "category_list", "location_request"] = "text"
    choices: tuple[tuple[str, str], ...] = ()  # (id, title) for the category list


@dataclass(frozen=True)
class Submit:
    """Submit the draft (idempotent on `client_id`)."""

    client_id: str
    draft: Draft
    lang: Lang


@dataclass(frozen=True)
class Outcome:
    conversation: Conversation
    replies: tuple[Reply, ...] = ()
    submit: Submit | None = None
    duplicate: bool = False
    limited: bool = False
    status_of: tuple[str, ...] = field(default_factory=tuple)  # report ids whose status to tell


def t(lang: Lang, indonesian: str, english: str) -> str:
    return english if lang == "en" else indonesian


def category_choices(lang: Lang) -> tuple[tuple[str, str], ...]:
    """The category catalogue as list rows (WhatsApp rows: id ≤ 200, title ≤ 24 characters)."""
    return tuple((CHOICE_PREFIX + c.code, (c.name_en if lang == "en" else c.name)[:24]) for c in CATEGORIES.values())


def _words(text: str) -> list[str]:
    return [w for w in _WORD.split(text.lower()) if w]


def step(conv: Conversation, msg: Inbound, *, now: datetime,
         locate: LocateFn | None = None) -> Outcome:
    """The next conversation, replies and effect for one inbound message (a seen id: nothing)."""
    if msg.message_id in conv.seen:
        return Outcome(conv, duplicate=True)
    seen = (*conv.seen, msg.message_id)[-SEEN_KEPT:]
    if conv.last_at is not None and now - conv.last_at > IDLE_RESET and conv.step != "idle":
        conv = conv.model_copy(update={"step": "idle", "draft": Draft(), "started_at": None})
    window = now.replace(second=0, microsecond=0)
    count = conv.rate_count + 1 if conv.rate_window == window else 1
    conv = conv.model_copy(update={"seen": seen, "last_at": now, "rate_window": window, "rate_count": count})
    if count > MESSAGES_PER_MINUTE:
        replies = (Reply(t(conv.lang, "Terlalu banyak pesan. Tunggu satu menit lalu coba lagi.",
                           "Too many messages. Wait a minute, then try again.")),) \
            if count == MESSAGES_PER_MINUTE + 1 else ()
        return Outcome(conv, replies, limited=True)
    return _converse(conv, msg, locate=locate)


def _converse(conv: Conversation, msg: Inbound, *, locate: LocateFn | None) -> Outcome:
    lang = conv.lang
    words = _words(msg.text) if msg.kind == "text" else []
    first = words[0] if len(words) == 1 else None
    if first in ENGLISH_WORDS or first in INDONESIAN_WORDS:
        lang = "en" if first in ENGLISH_WORDS else "id"
        conv = conv.model_copy(update={"lang": lang})
        return _prompt(conv, lead=t(lang, "Baik, kita lanjut dalam Bahasa Indonesia.", "OK, in English from now on."))
    if first in CANCEL_WORDS:
        conv = conv.model_copy(update={"step": "idle", "draft": Draft(), "started_at": None})
        return Outcome(conv, (Reply(t(lang, "Laporan dibatalkan. Ketik *lapor* untuk mulai lagi.",
                                      "Report cancelled. Type *report* to start again.")),))
    if first in STATUS_WORDS:
        if not conv.reports:
            return Outcome(conv, (Reply(t(lang, "Anda belum punya laporan.", "You have no reports yet.")),))
        return Outcome(conv, status_of=conv.reports)
    if conv.step == "idle":
        conv = conv.model_copy(update={"step": "category", "draft": Draft(), "started_at": msg.at})
        return Outcome(conv, (_greeting(lang), _category_list(lang)))
    if first in HELP_WORDS:
        return _prompt(conv, lead=_help(lang))
    handler = {"category": _on_category, "location": _on_location, "photo": _on_photo,
               "description": _on_description, "confirm": _on_confirm}[conv.step]
    return handler(conv, msg, locate)


def _greeting(lang: Lang) -> Reply:
    return Reply(t(lang,
                   "Halo! Ini layanan pengaduan Kota Makassar (Keluhan). Laporkan masalah di sekitar Anda: "
                   "pilih kategori, bagikan lokasi Anda saat ini, kirim foto dan keterangan singkat. "
                   "Ketik *batal* untuk membatalkan, *status* untuk melihat laporan Anda, *bantuan* untuk "
                   "petunjuk, *english* for English.",
                   "Hello! This is Kota Makassar's complaint service (Keluhan). Report a problem around you: "
                   "pick a category, share your current location, send a photo and a short description. "
                   "Type *cancel* to cancel, *status* to see your reports, *help* for help, *indonesia* "
                   "untuk Bahasa Indonesia."))


def _help(lang: Lang) -> str:
    return t(lang, "Ketik *batal* untuk membatalkan, *status* untuk laporan Anda.",
             "Type *cancel* to cancel, *status* for your reports.")


def _category_list(lang: Lang) -> Reply:
    return Reply(t(lang, "Pilih kategori masalah:", "Pick the kind of problem:"), kind="category_list",
                 choices=category_choices(lang))


def _ask_location(lang: Lang, lead: str = "") -> Reply:
    return Reply(" ".join(filter(None, (lead, t(
        lang, "Bagikan *lokasi Anda saat ini* (📎 → Lokasi → Kirim lokasi Anda saat ini) dari tempat masalahnya.",
        "Share *your current location* (📎 → Location → Send your current location) from where the problem is.")))),
        kind="location_request")


def _ask_photo(lang: Lang, lead: str = "") -> Reply:
    minutes = int(PHOTO_WINDOW.total_seconds() // 60)
    return Reply(" ".join(filter(None, (lead, t(
        lang, f"Kirim satu foto masalahnya, diambil sekarang, dalam {minutes} menit setelah lokasi.",
        f"Send one photo of the problem, taken now, within {minutes} minutes of the location.")))))


def _ask_description(lang: Lang, lead: str = "") -> Reply:
    return Reply(" ".join(filter(None, (lead, t(lang, "Tulis keterangan singkat masalahnya.",
                                                "Write a short description of the problem.")))))


def _prompt(conv: Conversation, *, lead: str) -> Outcome:
    """Say `lead` and ask again for what the current step waits for."""
    lang = conv.lang
    if conv.step == "category":
        return Outcome(conv, (Reply(lead), _category_list(lang)))
    if conv.step == "location":
        return Outcome(conv, (_ask_location(lang, lead),))
    if conv.step == "photo":
        return Outcome(conv, (_ask_photo(lang, lead),))
    if conv.step == "description":
        return Outcome(conv, (_ask_description(lang, lead),))
    if conv.step == "confirm":
        return Outcome(conv, (Reply(lead), _summary(conv)))
    return Outcome(conv, (Reply(lead),))


def _on_category(conv: Conversation, msg: Inbound, _locate: LocateFn | None) -> Outcome:
    code = (msg.choice or "").removeprefix(CHOICE_PREFIX) if msg.kind == "choice" else ""
    if msg.kind == "text":  # a typed code or name works too
        typed = msg.text.strip().lower()
        code = next((c.code for c in CATEGORIES.values()
                     if typed in (c.code, c.name.lower(), c.name_en.lower())), "")
    category = get_category(code)
    if category is None:
        return _prompt(conv, lead=t(conv.lang, "Kategori tidak dikenal.", "Unknown category."))
    conv = conv.model_copy(update={"step": "location", "draft": conv.draft.model_copy(update={"category": code})})
    return Outcome(conv, (_ask_location(conv.lang, f"{category.name_en if conv.lang == 'en' else category.name}."),))


def _on_location(conv: Conversation, msg: Inbound, locate: LocateFn | None) -> Outcome:
    lang = conv.lang
    if msg.kind != "location" or msg.lat is None or msg.lon is None:
        return _prompt(conv, lead=t(lang, "Belum ada lokasi.", "No location yet."))
    if msg.place_named:
        return _prompt(conv, lead=t(lang, "Itu lokasi tempat yang dipilih, bukan lokasi Anda saat ini.",
                                    "That is a picked place, not your current location."))
    where = locate(msg.lat, msg.lon) if locate is not None else None
    inside = where.inside_city if where is not None else True
    place = where.kelurahan if where is not None and where.kelurahan else None
    draft = conv.draft.model_copy(update={"lat": msg.lat, "lon": msg.lon, "location_at": msg.at,
                                          "inside_city": inside, "place": place, "media_id": None,
                                          "photo_at": None})
    if inside:
        lead = t(lang, f"Lokasi diterima{f' (Kel. {place})' if place else ''}.",
                 f"Location received{f' (Kel. {place})' if place else ''}.")
    else:
        region = where.outside_region if where is not None and where.outside_region else None
        lead = t(lang, f"Lokasi ini di luar Kota Makassar{f' ({region})' if region else ''}; laporan Anda "
                 "akan diteruskan ke pemerintah yang berwenang.",
                 f"This place is outside Kota Makassar{f' ({region})' if region else ''}; your report will be "
                 "forwarded to the government in charge.")
    category = get_category(draft.category or "")
    if category is not None and category.photo_required:
        conv = conv.model_copy(update={"step": "photo", "draft": draft})
        return Outcome(conv, (_ask_photo(lang, lead),))
    conv = conv.model_copy(update={"step": "description", "draft": draft})
    return Outcome(conv, (_ask_description(lang, lead),))


def _on_photo(conv: Conversation, msg: Inbound, _locate: LocateFn | None) -> Outcome:
    lang = conv.lang
    if msg.kind != "image" or not msg.media_id:
        return _prompt(conv, lead=t(lang, "Belum ada foto.", "No photo yet."))
    shared = conv.draft.location_at
    if shared is None or not (timedelta(0) <= msg.at - shared <= PHOTO_WINDOW):
        minutes = int(PHOTO_WINDOW.total_seconds() // 60)
        conv = conv.model_copy(update={"step": "location"})
        return Outcome(conv, (_ask_location(lang, t(
            lang, f"Foto harus dikirim dalam {minutes} menit setelah Anda membagikan lokasi; foto ini tidak "
                  "dipakai. Bagikan lokasi Anda lagi, lalu kirim foto baru.",
            f"The photo must be sent within {minutes} minutes of sharing your location; this one is not used. "
            "Share your location again, then send a new photo.")),))
    draft = conv.draft.model_copy(update={"media_id": msg.media_id, "mime_type": msg.mime_type, "photo_at": msg.at})
    conv = conv.model_copy(update={"step": "description", "draft": draft})
    return Outcome(conv, (_ask_description(lang, t(lang, "Foto diterima.", "Photo received.")),))


def _on_description(conv: Conversation, msg: Inbound, _locate: LocateFn | None) -> Outcome:
    text = " ".join(msg.text.split()) if msg.kind == "text" else ""
    if len(text) < 3:
        return _prompt(conv, lead=t(conv.lang, "Keterangan terlalu pendek.", "The description is too short."))
    conv = conv.model_copy(update={"step": "confirm",
                                   "draft": conv.draft.model_copy(update={"description": text[:DESCRIPTION_MAX]})})
    return Outcome(conv, (_summary(conv),))


def _summary(conv: Conversation) -> Reply:
    lang, draft = conv.lang, conv.draft
    category = get_category(draft.category or "")
    name = (category.name_en if lang == "en" else category.name) if category else draft.category
    place = f"Kel. {draft.place}" if draft.place else f"{draft.lat:.5f}, {draft.lon:.5f}"
    photo = t(lang, "ada", "attached") if draft.media_id else t(lang, "tidak perlu", "not needed")
    return Reply(t(lang, f"Laporan: {name}\nLokasi: {place}\nFoto: {photo}\nKeterangan: {draft.description}\n"
                         "Ketik *ya* untuk mengirim atau *batal*.",
                   f"Report: {name}\nPlace: {place}\nPhoto: {photo}\nDescription: {draft.description}\n"
                   "Type *yes* to send or *cancel*."))


def _on_confirm(conv: Conversation, msg: Inbound, _locate: LocateFn | None) -> Outcome:
    words = _words(msg.text) if msg.kind == "text" else []
    if not words or words[0] not in YES_WORDS:
        return _prompt(conv, lead=t(conv.lang, "Belum dikirim.", "Not sent yet."))
    client_id = draft_client_id(conv)
    return Outcome(conv, submit=Submit(client_id=client_id, draft=conv.draft, lang=conv.lang))


def draft_client_id(conv: Conversation) -> str:
    """One submission key per draft: a redelivered or repeated "ya" submits the same report."""
    started = conv.started_at.isoformat() if conv.started_at else ""
    return "wa-" + hashlib.sha256(f"{started}\x00{conv.draft.model_dump_json()}".encode()).hexdigest()[:40]


def submitted(conv: Conversation, report_id: str) -> Outcome:
    """After the draft was submitted: the report number, and a fresh start."""
    lang = conv.lang
    reports = (*[r for r in conv.reports if r != report_id], report_id)[-RECENT_REPORTS:]
    conv = conv.model_copy(update={"step": "idle", "draft": Draft(), "started_at": None, "reports": reports})
    return Outcome(conv, (Reply(t(lang, f"Terima kasih! Laporan Anda tercatat dengan nomor *{report_id}*. "
                                        "Kami kabari di sini setiap ada perubahan. Ketik *status* kapan saja.",
                                  f"Thank you! Your report is recorded as number *{report_id}*. We will tell "
                                  "you here of every change. Type *status* any time.")),))


def refused(conv: Conversation, text_id: str, text_en: str) -> Outcome:
    """The submission was refused (rate limit, a number on hold): say why, keep the draft."""
    return Outcome(conv, (Reply(t(conv.lang, text_id, text_en)),))


def status_line(lang: Lang, report_id: str, status_text: str) -> str:
    return t(lang, f"Laporan {report_id}: {status_text}", f"Report {report_id}: {status_text}")
