"""In-memory fakes of the ports, so use cases and functions are tested without I/O."""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from keluhan.adapters.firestore_store import apply_changes, listed, update_paths
from keluhan.domain.comments import Comment, Hidden
from keluhan.domain.nearby import Spot
from keluhan.domain.notify import Lang, Message
from keluhan.domain.open311 import listing
from keluhan.domain.photo.hash_bands import band_keys, probe_keys, report_of
from keluhan.domain.push import Device, Preferences, PushSend
from keluhan.domain.report import Report, Submission
from keluhan.domain.subscriptions import AreaSubscription
from keluhan.domain.whatsapp import Reply
from keluhan.ports import (
    Hold,
    ListedOpen311Key,
    Mutation,
    ObjectStat,
    Open311Key,
    PhotoTooLarge,
    QuotaExceeded,
    QuotaWindow,
    Recipient,
    TokenUnregistered,
    TransientDeliveryError,
    WaUser,
)


def round_tripped(doc: dict[str, Any]) -> dict[str, Any]:  # Any: as Report.to_doc
    """Every report document the fakes store goes through the model without loss."""
    again = Report.from_doc(doc).to_doc()
    assert again == doc, f"the Report model changes the stored document: {doc} -> {again}"
    return doc


class FakeReports:
    """reports/ and submissions/ in memory, written as the Firestore adapter writes them: the same
    field paths (`update_paths`) applied to the stored documents, `docs`, which tests may read."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}  # Any: report documents, as Report.to_doc
        self.submissions: dict[str, Submission] = {}
        self.quotas: dict[str, int] = {}  # quotas/{key} → count
        self.reads = 0  # documents the Open311 listing read (as Firestore bills them)
        self._lock = threading.Lock()

    def report(self, report_id: str) -> Report:
        """A stored report (KeyError if there is none): for tests."""
        return Report.from_doc(self.docs[report_id])

    def create(self, report: Report, *, submission_key: str, submission: Submission,
               quotas: Sequence[QuotaWindow] = ()) -> tuple[Report, Submission, bool]:
        with self._lock:
            if submission_key in self.submissions:
                existing = self.submissions[submission_key]
                return self.report(existing["report_id"]), copy.deepcopy(existing), False
            for window in quotas:
                if self.quotas.get(window.key, 0) >= window.limit:
                    raise QuotaExceeded(window)
            for window in quotas:
                self.quotas[window.key] = self.quotas.get(window.key, 0) + 1
            self.submissions[submission_key] = copy.deepcopy(submission)
            self.docs[report.report_id] = round_tripped(listed(report).to_doc())
            return self.report(report.report_id), copy.deepcopy(submission), True

    def remember_upload(self, submission_key: str, upload: dict[str, Any],  # Any: as Submission.upload
                        expires_at: datetime) -> None:
        with self._lock:
            self.submissions[submission_key] |= {"upload": copy.deepcopy(upload), "upload_expires_at": expires_at}

    def remember_published(self, submission_key: str, at: datetime) -> None:
        with self._lock:
            self.submissions[submission_key] |= {"published_at": at}

    def submission(self, submission_key: str) -> Submission | None:
        found = self.submissions.get(submission_key)
        return copy.deepcopy(found) if found else None

    def get(self, report_id: str) -> Report | None:
        return self.report(report_id) if report_id in self.docs else None

    def due(self, *, status: str, field: str, before: datetime, limit: int,
            where: Mapping[str, str] | None = None,
            start_after: tuple[datetime, str] | None = None) -> list[Report]:
        def value(doc: Any, path: str = field) -> Any:  # Any: a value at a dotted path of a document
            for part in path.split("."):
                doc = (doc or {}).get(part)
            return doc

        due = [d for d in self.docs.values()
               if d["status"] == status and value(d) is not None and value(d) < before
               and all(value(d, path) == v for path, v in (where or {}).items())
               and (start_after is None or (value(d), d["report_id"]) > start_after)]
        return [Report.from_doc(d) for d in sorted(due, key=lambda d: (value(d), d["report_id"]))[:limit]]

    def overdue(self, *, limit: int) -> list[Report]:
        open_ = {"routed", "accepted", "in_progress", "resolving", "reopened"}
        found = [d for d in self.docs.values() if d.get("overdue") and d["status"] in open_]
        return [Report.from_doc(d) for d in sorted(found, key=lambda d: d["sla"]["due_at"])[:limit]]

    def assigned(self, *, assignee: str, statuses: Collection[str], limit: int) -> list[Report]:
        found = [d for d in self.docs.values() if d.get("assignee") == assignee and d["status"] in statuses]
        return [Report.from_doc(d) for d in sorted(found, key=lambda d: d["received_at"], reverse=True)[:limit]]

    def changed_between(self, *, start: datetime, end: datetime, limit: int,
                        start_after: tuple[datetime, str] | None = None) -> list[Report]:
        found = sorted((d["timeline_at"], d["report_id"]) for d in self.docs.values()
                       if d.get("timeline_at") is not None and start <= d["timeline_at"] < end)
        return [self.report(r) for at, r in found if start_after is None or (at, r) > start_after][:limit]

    def count_since(self, *, field: str, since: datetime) -> int:
        return sum(1 for d in self.docs.values() if d.get(field) is not None and d[field] >= since)

    def all(self) -> Iterator[Report]:
        return (Report.from_doc(d) for d in list(self.docs.values()))

    def listed(self, *, tag: str, start: datetime, end: datetime, categories: Sequence[str], limit: int,
               offset: int = 0, after: tuple[datetime, str] | None = None,
               updated_after: datetime | None = None) -> list[Report]:
        """As the Firestore query: `listing(status)` is what the adapter stores as open311_listing.
        `reads` counts what Firestore bills for it: each document returned or skipped, at least one."""
        order = "received_at" if updated_after is None else "status_changed_at"
        found = sorted((d for d in self.docs.values() if tag in listing(d["status"], private=d.get("private", False))
                        and (start <= d["received_at"] < end if updated_after is None
                             else d["status_changed_at"] > updated_after)
                        and (not categories or d["category"] in categories)),
                       key=lambda d: (d[order], d["report_id"]), reverse=True)
        if after is not None:
            found = [d for d in found if (d[order], d["report_id"]) < after]
            offset = 0
        page = found[offset:offset + limit]
        self.reads += max(1, min(offset, len(found)) + len(page))
        return [Report.from_doc(d) for d in page]

    def in_cell(self, cell: str, *, tag: str, categories: Sequence[str], limit: int,
                after: tuple[str, str] | None = None) -> list[Spot]:
        """As the Firestore range query on `geohash`; `reads` counts what Firestore bills."""
        found = sorted((d for d in self.docs.values() if tag in d.get("open311_listing", [])
                        and d.get("geohash", "").startswith(cell)
                        and (not categories or d["category"] in categories)
                        and (after is None or (d["geohash"], d["report_id"]) > after)),
                       key=lambda d: (d["geohash"], d["report_id"]))[:limit]
        self.reads += max(1, len(found))
        return [Spot.from_doc({k: d[k] for k in Spot.FIELDS if k in d}) for d in found]

    def get_many(self, report_ids: Sequence[str]) -> list[Report]:
        """As Firestore's get_all: one read per id asked."""
        self.reads += len(report_ids)
        return [self.report(i) for i in report_ids if i in self.docs]

    def of_reporter(self, key: str, *, statuses: Sequence[str], limit: int,
                    after: tuple[datetime, str] | None = None) -> list[Report]:
        found = sorted((d for d in self.docs.values() if d.get("reporter_key") == key
                        and (not statuses or d["status"] in statuses)),
                       key=lambda d: (d["received_at"], d["report_id"]), reverse=True)
        if after is not None:
            found = [d for d in found if (d["received_at"], d["report_id"]) < after]
        return [Report.from_doc(d) for d in found[:limit]]

    def mutate(self, report_id: str, mutation: Mutation) -> Report | None:
        with self._lock:
            doc = self.docs.get(report_id)
            if doc is None:
                return None
            before = Report.from_doc(doc)
            after = mutation(Report.from_doc(doc))
            if after is not None:
                changes = update_paths(before, listed(after))
                if changes:
                    self.docs[report_id] = round_tripped(apply_changes(doc, changes))
            return self.report(report_id)


@dataclass
class FakeStatsState:
    seq: int
    contribution: dict[str, dict[str, int]]
    version: int
    support_seq: int = 0


class FakeStats:
    """stats/… and stats_reports/… in memory, with the adapter's compare-and-set."""

    def __init__(self) -> None:
        self.totals: dict[str, dict[str, int]] = {}
        self.states: dict[str, FakeStatsState] = {}
        self._lock = threading.Lock()

    def report_state(self, report_id: str) -> FakeStatsState | None:
        state = self.states.get(report_id)
        return copy.deepcopy(state) if state else None

    def replace(self, report_id: str, *, seq: int, contribution: dict[str, dict[str, int]],
                delta: dict[str, dict[str, int]], expected: FakeStatsState | None, support_seq: int = 0) -> bool:
        with self._lock:
            current = self.states.get(report_id)
            if (current.version if current else None) != (expected.version if expected else None):
                return False
            self.states[report_id] = FakeStatsState(seq, copy.deepcopy(contribution),
                                                    (current.version if current else 0) + 1, support_seq)
            for key, counters in delta.items():
                group = self.totals.setdefault(key, {})
                for counter, n in counters.items():
                    group[counter] = group.get(counter, 0) + n
            return True

    def group(self, key: str) -> dict[str, int]:
        return {c: n for c, n in self.totals.get(key, {}).items() if n}

    def groups(self, *, dim: str | None = None, month: str | None = None) -> dict[str, dict[str, int]]:
        from keluhan.domain.figures import parse_key

        return {k: {c: n for c, n in g.items() if n} for k, g in self.totals.items()
                if any(g.values()) and (dim is None or parse_key(k)[0] == dim)
                and (month is None or parse_key(k)[2] == month)}

    def overwrite(self, totals: dict[str, dict[str, int]],
                  states: dict[str, tuple[int, dict[str, dict[str, int]]]]) -> None:
        self.totals = copy.deepcopy(totals)
        self.states = {r: FakeStatsState(seq, c, 1) for r, (seq, c) in states.items()}


class FakeOpen311Keys:
    def __init__(self) -> None:
        self.records: dict[str, Open311Key] = {}

    def get(self, digest: str) -> Open311Key | None:
        found = self.records.get(digest)
        return copy.deepcopy(found) if found else None

    def add(self, digest: str, record: Open311Key) -> None:
        if digest in self.records:
            raise KeyError(digest)
        self.records[digest] = copy.deepcopy(record)

    def list(self) -> list[ListedOpen311Key]:
        return [{**copy.deepcopy(r), "digest": d} for d, r in self.records.items()]

    def revoke(self, digest: str, at: datetime) -> bool:
        if digest not in self.records:
            return False
        self.records[digest] |= {"revoked": True, "revoked_at": at}
        return True


@dataclass
class FakeHolds:
    held: dict[str, Hold] = field(default_factory=dict)

    def is_held(self, uid: str) -> bool:
        return uid in self.held

    def hold(self, uid: str, record: Hold) -> None:
        self.held[uid] = record

    def unhold(self, uid: str) -> None:
        self.held.pop(uid, None)


@dataclass
class FakePublisher:
    """Records messages; `fail_next` publishes raise before anything is recorded."""

    messages: list[tuple[str, Mapping[str, object], dict[str, str]]] = field(default_factory=list)
    fail_next: int = 0

    def __call__(self, topic: str, data: Mapping[str, object], attributes: dict[str, str]) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("publish failed (fake)")
        self.messages.append((topic, data, attributes))

    def topics(self) -> list[str]:
        return [m[0] for m in self.messages]

    def stage_topics(self) -> list[str]:
        """The pipeline's events, without the status-change announcements."""
        return [t for t in self.topics() if t != "report-status-changed"]

    def status_changes(self) -> list[tuple[str | None, str]]:
        """(from, to) of every `report-status-changed` message, in order."""
        return [(None if d["from"] is None else str(d["from"]), str(d["to"]))
                for t, d, _ in self.messages if t == "report-status-changed"]


@dataclass
class FakePhotoStore:
    objects: dict[str, bytes] = field(default_factory=dict)
    urls_issued: int = 0

    def upload_url(self, object_name: str, *, content_types: tuple[str, ...], max_bytes: int,
                   expires_at: datetime) -> dict[str, Any]:  # Any: the PhotoStore port's upload answer
        self.urls_issued += 1
        return {"method": "PUT", "url": f"https://storage.test/{object_name}?sig={self.urls_issued}",
                "headers": {"Content-Type": content_types[0]}, "expires_at": expires_at.isoformat(),
                "max_bytes": max_bytes}

    def read(self, object_name: str, *, generation: int | None, max_bytes: int) -> bytes:
        if object_name not in self.objects:
            raise FileNotFoundError(object_name)
        if len(self.objects[object_name]) > max_bytes:
            raise PhotoTooLarge(object_name)
        return self.objects[object_name]

    def write(self, object_name: str, data: bytes, *, content_type: str) -> None:
        self.objects[object_name] = data

    def download_url(self, object_name: str, *, expires_at: datetime) -> str:
        return f"https://storage.test/{object_name}?get&expires={int(expires_at.timestamp())}"

    def download_link(self, object_name: str, *, expires_at: datetime) -> tuple[str, datetime]:
        if not object_name.startswith("derived/"):  # as the real store: originals are never shared
            raise ValueError("only EXIF-free derivatives are ever shared")
        return self.download_url(object_name, expires_at=expires_at), expires_at

    def stat(self, object_name: str) -> ObjectStat | None:
        return ObjectStat(1, "image/jpeg") if object_name in self.objects else None


class FakeClock:
    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class PhotoHashDoc(TypedDict):
    """photo_hashes/{key} as FirestorePhotoIndex stores it."""

    phash: str
    bands: list[str]
    at: datetime


class FakePhotoIndex:
    """photo_hashes as Firestore answers it: array-contains-any on the band keys, at >= since."""

    def __init__(self) -> None:
        self.docs: dict[str, PhotoHashDoc] = {}
        self.reads = 0  # documents returned, as Firestore bills them

    def candidates(self, phash: str, *, since: datetime, exclude_report: str) -> list[tuple[str, str]]:
        probes = set(probe_keys(phash))
        found = [(r, d["phash"]) for r, d in self.docs.items()
                 if probes & set(d["bands"]) and d["at"] >= since and report_of(r) != exclude_report]
        self.reads += len(found)
        return found

    def remember_hash(self, report_id: str, phash: str, at: datetime) -> None:
        self.docs[report_id] = {"phash": phash, "bands": band_keys(phash), "at": at}


def stored(report: Report | None) -> dict[str, Any] | None:  # Any: as Report.to_doc
    """A use case's report as its stored document, for tests that read it as SKPD tools do."""
    return report.to_doc() if report is not None else None


class FakeInbox:
    """inbox/{uid}/messages/{id} in memory: a message id is stored once, as Firestore's create()."""

    def __init__(self) -> None:
        self.messages: dict[str, dict[str, Message]] = {}
        self._lock = threading.Lock()

    def deliver(self, messages: Sequence[Message]) -> int:
        new = 0
        with self._lock:
            for message in messages:
                box = self.messages.setdefault(message.recipient, {})
                if message.message_id not in box:
                    box[message.message_id] = message
                    new += 1
        return new

    def of(self, uid: str) -> list[Message]:
        return sorted(self.messages.get(uid, {}).values(), key=lambda m: (m.report_id, m.seq))


@dataclass
class FakeDirectory:
    """staff/{uid} in memory: (uid, role, skpd, head, lang)."""

    entries: list[tuple[str, str, str | None, bool, Lang]] = field(default_factory=list)

    def add(self, uid: str, role: str, skpd: str | None = None, *, head: bool = False, lang: Lang = "id") -> None:
        self.entries.append((uid, role, skpd, head, lang))

    def staff(self, skpd: str, *, heads_only: bool = False) -> list[Recipient]:
        return [Recipient(u, lang) for u, _, s, head, lang in self.entries if s == skpd and (head or not heads_only)]

    def operators(self) -> list[Recipient]:
        return [Recipient(u, lang) for u, role, _, _, lang in self.entries if role == "operator"]


class FakeNotified:
    """notifications/{report_id}.seqs in memory."""

    def __init__(self) -> None:
        self.told: dict[str, set[int]] = {}
        self.mark: datetime | None = None

    def record(self, report_id: str, seq: int, at: datetime) -> None:
        self.told.setdefault(report_id, set()).add(seq)

    def positions(self, report_ids: Sequence[str]) -> dict[str, set[int]]:
        return {r: set(self.told.get(r, set())) for r in report_ids}

    def checked_until(self) -> datetime | None:
        return self.mark

    def check_through(self, at: datetime) -> None:
        self.mark = at


class FakeWaUsers:
    """wa_users/ in memory, with the adapter's guarded write (a version per record)."""

    def __init__(self) -> None:
        self.records: dict[str, WaUser] = {}
        self.versions: dict[str, int] = {}

    def get(self, user: str) -> WaUser | None:
        found = self.records.get(user)
        return None if found is None else dataclasses.replace(found, outbox=list(found.outbox),
                                                              version=self.versions[user])

    def put(self, user: str, record: WaUser, *, expires_at: datetime) -> bool:
        if record.version != self.versions.get(user):
            return False
        self.records[user] = dataclasses.replace(record, outbox=list(record.outbox))
        self.versions[user] = self.versions.get(user, 0) + 1
        return True

    def clear_outbox(self, user: str, trackers: Sequence[str]) -> None:
        record = self.records[user]
        self.records[user] = dataclasses.replace(record, outbox=[o for o in record.outbox
                                                                 if o["tracker"] not in trackers])


@dataclass
class FakeWhatsAppApi:
    """The Cloud API: what was sent (to, text, kind, tracker), media by id; `fail_next` sends raise."""

    sent: list[tuple[str, str, str, str]] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    fail_next: int = 0

    def send(self, to: str, reply: Reply, *, tracker: str) -> None:
        self._maybe_fail()
        self.sent.append((to, reply.text, reply.kind, tracker))

    def send_template(self, to: str, *, lang: str, params: list[str], tracker: str) -> None:
        self._maybe_fail()
        self.sent.append((to, " | ".join(params), "template", tracker))

    def fetch_media(self, media_id: str, *, max_bytes: int) -> tuple[bytes, str]:
        data, mime = self.media[media_id]
        if len(data) > max_bytes:
            raise PhotoTooLarge(media_id)
        return data, mime

    def texts(self, to: str) -> list[str]:
        return [text for who, text, _, _ in self.sent if who == to]

    def _maybe_fail(self) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("send failed (fake)")


class FakeWaSends:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}  # Any: Firestore fields

    def begin(self, message_id: str, record: dict[str, Any]) -> dict[str, Any] | None:  # Any: as above
        if message_id in self.docs:
            return dict(self.docs[message_id])
        self.docs[message_id] = dict(record)
        return None

    def update(self, message_id: str, fields: dict[str, Any]) -> None:  # Any: as above
        self.docs.setdefault(message_id, {}).update(fields)


class FakeSupporters:
    """supports/{ref} in memory: ref → (report_id, uid)."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}  # Any: as FirestoreSupporters stores them

    def remember(self, ref: str, *, report_id: str, uid: str, at: datetime) -> None:
        self.docs[ref] = {"report_id": report_id, "uid": uid, "at": at}

    def forget(self, ref: str) -> None:
        self.docs.pop(ref, None)

    def uids(self, refs: Sequence[str]) -> list[str]:
        return [self.docs[r]["uid"] for r in refs if r in self.docs]


class FakeComments:
    """comments/{comment_id} in memory, as FirestoreComments keeps them."""

    def __init__(self) -> None:
        self.docs: dict[str, Comment] = {}

    def add(self, comment: Comment) -> tuple[Comment, bool]:
        if comment.comment_id in self.docs:
            return self.docs[comment.comment_id], False
        self.docs[comment.comment_id] = comment
        return comment, True

    def get(self, comment_id: str) -> Comment | None:
        return self.docs.get(comment_id)

    def thread(self, report_id: str, *, limit: int) -> list[Comment]:
        found = sorted((c for c in self.docs.values() if c.report_id == report_id), key=lambda c: c.at)
        return found[-limit:]

    def posted_since(self, author_key: str, since: datetime) -> int:
        return sum(1 for c in self.docs.values() if c.author_key == author_key and c.at >= since)

    def hide(self, comment_id: str, hidden: Hidden) -> Comment | None:
        found = self.docs.get(comment_id)
        if found is not None and found.hidden is None:
            found = self.docs[comment_id] = found.model_copy(update={"hidden": hidden})
        return found


class FakeSubscriptions:
    """subscriptions/{uid}/areas/{id} in memory; `matching` counts the subscriptions it looks at,
    as the indexed query would read them (only those holding a key)."""

    def __init__(self) -> None:
        self.areas: dict[str, dict[str, AreaSubscription]] = {}
        self.read = 0

    def of(self, uid: str) -> list[AreaSubscription]:
        return sorted(self.areas.get(uid, {}).values(), key=lambda s: (s.created_at, s.subscription_id))

    def add(self, subscription: AreaSubscription, *, limit: int) -> bool:
        held = self.areas.setdefault(subscription.uid, {})
        if subscription.subscription_id not in held and len(held) >= limit:
            return False
        held[subscription.subscription_id] = subscription
        return True

    def remove(self, uid: str, subscription_id: str) -> bool:
        return self.areas.get(uid, {}).pop(subscription_id, None) is not None

    def matching(self, keys: Sequence[str]) -> list[AreaSubscription]:
        found = [s for held in self.areas.values() for s in held.values() if set(s.keys) & set(keys)]
        self.read += len(found)
        return found


class FakeDigests:
    """digests/{uid}_{day} in memory."""

    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}  # Any: as the stored digest's fields

    def add(self, uid: str, day: str, report_id: str, *, lang: Lang, due_at: datetime) -> None:
        doc = self.docs.setdefault((uid, day), {"lang": lang, "due_at": due_at, "sent": False, "report_ids": []})
        if report_id not in doc["report_ids"]:
            doc["report_ids"].append(report_id)

    def due(self, *, before: datetime, limit: int) -> list[tuple[str, str, Lang, list[str]]]:
        found = sorted((d["due_at"], uid, day) for (uid, day), d in self.docs.items()
                       if not d["sent"] and d["due_at"] <= before)
        return [(uid, day, self.docs[(uid, day)]["lang"], list(self.docs[(uid, day)]["report_ids"]))
                for _, uid, day in found[:limit]]

    def mark_sent(self, uid: str, day: str, at: datetime) -> None:
        self.docs[(uid, day)]["sent"] = True


class FakeDevices:
    """devices/{uid}/tokens/{device_id} in memory."""

    def __init__(self) -> None:
        self.devices: dict[str, dict[str, Device]] = {}

    def register(self, uid: str, device: Device, *, keep: int) -> bool:
        mine = self.devices.setdefault(uid, {})
        new = device.device_id not in mine
        mine[device.device_id] = device
        for old in sorted(mine.values(), key=lambda d: d.registered_at)[:max(len(mine) - keep, 0)]:
            del mine[old.device_id]
        return new

    def remove(self, uid: str, device_id: str) -> bool:
        return self.devices.get(uid, {}).pop(device_id, None) is not None

    def of(self, uid: str) -> list[Device]:
        return self.of_many([uid])[uid]

    def of_many(self, uids: Sequence[str]) -> dict[str, list[Device]]:
        return {uid: sorted(self.devices.get(uid, {}).values(), key=lambda d: d.registered_at) for uid in uids}


class FakePreferences:
    """preferences/{uid} in memory."""

    def __init__(self) -> None:
        self.stored: dict[str, Preferences] = {}

    def get(self, uid: str) -> Preferences:
        return self.stored.get(uid, Preferences()).model_copy(deep=True)

    def get_many(self, uids: Sequence[str]) -> dict[str, Preferences]:
        return {uid: self.get(uid) for uid in uids}

    def put(self, uid: str, preferences: Preferences, at: datetime) -> None:
        self.stored[uid] = preferences.model_copy(deep=True)


class FakeSends:
    """sends/{message_id} in memory; `mutate` applies a change as the adapter's guarded write."""

    def __init__(self) -> None:
        self.sends: dict[str, PushSend] = {}
        self._lock = threading.Lock()

    def create(self, send: PushSend) -> bool:
        with self._lock:
            if send.message_id in self.sends:
                return False
            self.sends[send.message_id] = send
            return True

    def mutate(self, message_id: str, change: Callable[[PushSend], PushSend | None]) -> PushSend | None:
        with self._lock:
            current = self.sends.get(message_id)
            changed = change(current) if current is not None else None
            if changed is not None:
                self.sends[message_id] = changed
            return changed

    def get(self, message_id: str) -> PushSend | None:
        return self.sends.get(message_id)

    def due(self, *, now: datetime, limit: int) -> list[PushSend]:
        due = [s for s in self.sends.values() if s.state == "pending" and s.next_at <= now]
        return sorted(due, key=lambda s: s.next_at)[:limit]


@dataclass
class FakePusher:
    """FCM in memory: every push it took, and tokens it answers UNREGISTERED or UNAVAILABLE for."""

    pushed: list[dict[str, str]] = field(default_factory=list)
    unregistered: set[str] = field(default_factory=set)
    unavailable: dict[str, int] = field(default_factory=dict)  # token -> how many more times

    def __call__(self, token: str, *, title: str, body: str, data: Mapping[str, str], collapse_key: str) -> str:
        if token in self.unregistered:
            raise TokenUnregistered("UNREGISTERED")
        if self.unavailable.get(token, 0) > 0:
            self.unavailable[token] -= 1
            raise TransientDeliveryError("UNAVAILABLE")
        self.pushed.append({"token": token, "title": title, "body": body, "collapse_key": collapse_key, **data})
        return f"projects/demo/messages/{len(self.pushed)}"

    def to(self, token: str) -> list[dict[str, str]]:
        return [p for p in self.pushed if p["token"] == token]
