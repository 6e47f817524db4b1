"""The WhatsApp channel: one inbound message moves its sender's conversation, and a report's
status changes reach a WhatsApp reporter as WhatsApp messages.

Nothing twice: a message id already in the conversation changes nothing (its unsent replies are
sent again); a confirmed draft is submitted under a key made from the draft, so a redelivery, a
crash half-way or a second "ya" finds the same report. Nothing lost: the replies are stored with
the conversation before they are sent and dropped once sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from keluhan.domain.notify import Message
from keluhan.domain.quota import retry_after_s
from keluhan.domain.report import STATUS_TEXT, SubmitReport
from keluhan.domain.sla import aware
from keluhan.domain.whatsapp import (
    Conversation,
    Inbound,
    LocateFn,
    Outcome,
    Reply,
    Submit,
    number_hash,
    refused,
    reporter_id,
    status_line,
    step,
    submitted,
)
from keluhan.domain.workflow import Actor, Role, Status
from keluhan.ports import (
    Clock,
    Contention,
    Holds,
    PhotoStore,
    PhotoTooLarge,
    Publisher,
    QuotaExceeded,
    Reports,
    TransientError,
    WaSends,
    WaUser,
    WaUsers,
    WhatsAppApi,
)
from keluhan.usecases.submission import IdempotencyConflict, PhotoUploadPolicy, QuotaPolicy, submit_report

# A WhatsApp location share carries no accuracy; a phone's current-location fix is recorded as this.
SHARED_LOCATION_ACCURACY_M = 30.0
PHOTO_TYPES = ("image/jpeg", "image/png")
# The customer-service window: a free-form message only within 24 hours of the resident's last one.
SERVICE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class WhatsAppPorts:
    """What the conversation needs of the world."""

    users: WaUsers
    api: WhatsAppApi
    reports: Reports
    publish: Publisher
    photos: PhotoStore
    holds: Holds
    clock: Clock
    new_id: Callable[[], str]
    upload_policy: PhotoUploadPolicy
    quota: QuotaPolicy
    locate: LocateFn
    max_media_bytes: int
    keep_for: timedelta  # how long a resident's record outlives their last message


def handle_message(address: str, msg: Inbound, *, ports: WhatsAppPorts, attempts: int = 5) -> Outcome:
    """Move the sender's conversation by one message, submit a confirmed draft, send the replies."""
    user = number_hash(address)
    for _ in range(attempts):
        now = ports.clock()
        record = ports.users.get(user)
        conv = record.conversation if record else Conversation()
        pending = list(record.outbox) if record else []
        out = step(conv, msg, now=now, locate=ports.locate)
        if out.duplicate:
            _flush(user, address, pending, ports=ports)
            return out
        if out.submit is not None:
            out = _submit(out.conversation, out.submit, address=address, ports=ports)
        replies = [*out.replies, *_statuses(out, ports.reports)]
        outbox = [*pending, *({"tracker": f"{msg.message_id}.{i}", "reply": reply_to_doc(r)}
                              for i, r in enumerate(replies))]
        stored = WaUser(address=address, conversation=out.conversation, outbox=outbox, last_inbound_at=msg.at,
                        version=record.version if record else None)
        if ports.users.put(user, stored, expires_at=now + ports.keep_for):
            _flush(user, address, outbox, ports=ports)
            return out
    raise Contention(f"wa_users/{user}")


def _statuses(out: Outcome, reports: Reports) -> list[Reply]:
    lines = []
    for report_id in out.status_of:
        report = reports.get(report_id)
        if report is not None:
            lines.append(status_line(out.conversation.lang, report_id, STATUS_TEXT[report.status]))
    return [Reply("\n".join(lines))] if lines else []


def _submit(conv: Conversation, submit: Submit, *, address: str, ports: WhatsAppPorts) -> Outcome:
    """Submit the draft through the app's use case (channel `whatsapp`), then store its photo."""
    draft = submit.draft
    data, content_type = b"", "image/jpeg"
    if draft.media_id:
        try:
            data, content_type = ports.api.fetch_media(draft.media_id, max_bytes=ports.max_media_bytes)
        except PhotoTooLarge:
            return refused(conv.model_copy(update={"step": "photo"}),
                           "Foto terlalu besar; kirim foto lain.", "The photo is too large; send another one.")
        content_type = content_type.split(";")[0].strip().lower()
        if content_type not in PHOTO_TYPES:
            return refused(conv.model_copy(update={"step": "photo"}),
                           "Kirim foto JPEG atau PNG.", "Send a JPEG or PNG photo.")
    if draft.lat is None or draft.lon is None:  # a confirmed draft always has its point
        return refused(conv.model_copy(update={"step": "location"}), "Bagikan lokasi Anda.", "Share your location.")
    try:
        cmd = SubmitReport(client_id=submit.client_id, category=draft.category or "",
                           description=draft.description or "", lat=draft.lat, lon=draft.lon,
                           accuracy_m=SHARED_LOCATION_ACCURACY_M, photo_taken_at=draft.photo_at, channel="whatsapp",
                           photo_content_type=content_type, lang=submit.lang)
    except ValidationError:
        return refused(conv.model_copy(update={"step": "description"}),
                       "Keterangan tidak bisa dipakai; tulis ulang dengan huruf dan angka biasa.",
                       "The description cannot be used; write it again in plain letters and digits.")
    actor = Actor(Role.CHANNEL, reporter_id(address), channel="whatsapp")
    try:
        result = submit_report(cmd, actor=actor, reports=ports.reports, publish=ports.publish, photos=ports.photos,
                               clock=ports.clock, new_id=ports.new_id, policy=ports.upload_policy,
                               holds=ports.holds, quota=ports.quota)
    except QuotaExceeded as exc:
        minutes = max(1, retry_after_s(exc.window, now=ports.clock()) // 60)
        return refused(conv, f"Batas laporan dari nomor ini tercapai; coba lagi dalam {minutes} menit.",
                       f"This number has reached its report limit; try again in {minutes} minutes.")
    except IdempotencyConflict as exc:  # the same draft key with another body cannot happen; the report stands
        return submitted(conv, exc.report_id)
    report = result.report
    obj = report.photo.object
    if data and obj and report.status == Status.AWAITING_PHOTO:
        # Its arrival starts verify_photo. A retry writes it again: a later generation of a photo
        # already judged is ignored there, as a second PUT of the app's is.
        ports.photos.write(obj, data, content_type=content_type)
    return submitted(conv, report.report_id)


def _flush(user: str, address: str, outbox: list[dict[str, Any]], *, ports: WhatsAppPorts) -> None:  # Any: as WaUser.outbox
    """Send the stored replies in order; a failure leaves the rest for the redelivery."""
    sent: list[str] = []
    try:
        for item in outbox:
            ports.api.send(address, reply_from_doc(item["reply"]), tracker=item["tracker"])
            sent.append(item["tracker"])
    finally:
        if sent:
            ports.users.clear_outbox(user, sent)


def reply_to_doc(reply: Reply) -> dict[str, Any]:  # Any: Firestore fields (no arrays in arrays)
    return {"text": reply.text, "kind": reply.kind, "choices": [{"id": i, "title": t} for i, t in reply.choices]}


def reply_from_doc(doc: dict[str, Any]) -> Reply:  # Any: a stored Reply
    return Reply(text=doc["text"], kind=doc.get("kind", "text"),
                 choices=tuple((str(c["id"]), str(c["title"])) for c in doc.get("choices") or ()))


# --- hearing back ------------------------------------------------------------------------------
def deliver_whatsapp(message: Message, *, users: WaUsers, sends: WaSends, api: WhatsAppApi, clock: Clock) -> bool:
    """Send one notice to a WhatsApp reporter, once per message id: free text inside the 24-hour
    window, the approved template outside it. True if it was sent now; raises TransientError for a
    retry (the send stays pending with its attempts and last error)."""
    now = clock()
    existing = sends.begin(message.message_id, {"status": "pending", "attempts": 0, "report_id": message.report_id,
                                                "event": message.event, "created_at": now})
    if existing is not None and existing.get("status") in ("sent", "failed"):
        return False
    attempts = int((existing or {}).get("attempts", 0)) + 1
    record = users.get(message.recipient.removeprefix("wa:"))
    if record is None:  # the resident's record expired: nobody to tell
        sends.update(message.message_id, {"status": "failed", "attempts": attempts, "last_error": "no_recipient"})
        return False
    last = record.last_inbound_at
    within = last is not None and now - aware(last) < SERVICE_WINDOW
    try:
        if within:
            api.send(record.address, Reply(f"*{message.title}*\n{message.body}"), tracker=message.message_id)
        else:
            api.send_template(record.address, lang=message.lang, params=[message.report_id, message.title,
                                                                         message.body], tracker=message.message_id)
    except Exception as exc:
        sends.update(message.message_id, {"attempts": attempts, "last_error": type(exc).__name__})
        raise TransientError(f"whatsapp send failed: {type(exc).__name__}") from exc
    sends.update(message.message_id, {"status": "sent", "attempts": attempts, "sent_at": now,
                                      "kind": "text" if within else "template"})
    return True


