"""Firestore adapters: reports and submissions, photo hashes, dead letters, routing rules."""

from __future__ import annotations

import copy
import logging
import random
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from google.api_core import exceptions as gexc
from google.cloud import firestore

from keluhan.domain import open311
from keluhan.domain.comments import Comment, Hidden
from keluhan.domain.dead_letter import DeadLetterDoc, StoredDeadLetter
from keluhan.domain.geocell import PREFIX_END
from keluhan.domain.nearby import Spot
from keluhan.domain.notify import Lang, Message
from keluhan.domain.photo.hash_bands import band_keys, probe_keys, report_of
from keluhan.domain.report import Report, Submission
from keluhan.domain.subscriptions import AreaSubscription
from keluhan.domain.views import staff_view
from keluhan.ports import (
    Contention,
    Hold,
    ListedOpen311Key,
    Mutation,
    Open311Key,
    QuotaExceeded,
    QuotaWindow,
    Recipient,
    TimeField,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

REPORTS = "reports"
# What SKPD staff read of a report (keluhan.domain.views.staff_view), written with every change
# of reports/{id} in the same batch or transaction. Rules cannot hide fields of a document, so the
# allow-listed view is its own document: staff read staff_reports/, only operators read reports/.
STAFF_REPORTS = "staff_reports"
SUBMISSIONS = "submissions"
ARRAY_CONTAINS_ANY_MAX = 30  # Firestore's limit on the values of one array-contains-any
MAX_BATCH_WRITES = 500  # Firestore's limit on the writes of one commit
PHOTO_HASHES = "photo_hashes"
DEAD_LETTERS = "dead_letters"
ROUTING_RULES = "routing_rules"
HOLDS = "holds"
STATS = "stats"
STATS_REPORTS = "stats_reports"
QUOTAS = "quotas"
OPEN311_KEYS = "open311_keys"
REVOCATIONS = "revocations"
INBOX = "inbox"
NOTIFICATIONS = "notifications"
RECONCILER_MARK = "~reconciler"  # notifications/~reconciler: how far the notifications reconciler got
STAFF = "staff"
SUPPORTS = "supports"  # supports/{support_ref}: whom a report's supporter ref stands for (server only)
COMMENTS = "comments"  # comments/{comment_id}: the reports' threads (server only)
SUBSCRIPTIONS = "subscriptions"
AREAS = "areas"  # subscriptions/{uid}/areas/{id}: a collection group, indexed on `keys` (firestore.indexes.json)
DIGESTS = "digests"
# Push (issue 18): devices/{uid}/tokens/{device_id}, preferences/{uid}, sends/{message_id}
# (keluhan.adapters.firestore_push).
DEVICES = "devices"
DEVICE_TOKENS = "tokens"
PREFERENCES = "preferences"
SENDS = "sends"
QUOTA_KEPT_AFTER_RESET = timedelta(days=1)
# How often a submission may lose a slot race before it answers 503 (the client retries).
QUOTA_MAX_RACES = 50
# Lost races (the report changed between read and write) before a change answers Contention.
MUTATE_ATTEMPTS = 12
OPEN_STATUSES = ["routed", "accepted", "in_progress", "resolving", "reopened"]


def update_paths(before: Report, after: Report) -> dict[str, Any]:  # Any: field values of many types
    """The one place a typed change becomes Firestore field paths: `update()` changes that turn the
    stored `before` into `after`. A changed part (a map) is written field by field (`photo.verdict`),
    unless one of its fields went away; lists and other values are written whole.
    """
    old, new = before.to_doc(), after.to_doc()
    if gone := old.keys() - new.keys():
        raise ValueError(f"a change never removes stored fields: {sorted(gone)}")
    changes: dict[str, Any] = {}  # Any: as the return value
    for key, value in new.items():
        previous = old.get(key, _ABSENT)
        if previous == value:
            continue
        if isinstance(value, dict) and isinstance(previous, dict) and previous.keys() <= value.keys():
            changes |= {f"{key}.{k}": v for k, v in value.items() if previous.get(k, _ABSENT) != v}
        else:
            changes[key] = value
    return changes


_ABSENT = object()


def apply_changes(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:  # Any: as update_paths
    """The document after a Firestore update() with dotted field paths."""
    out = copy.deepcopy(doc)
    for path, value in changes.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def listed(report: Report) -> Report:
    """The report with its Open311 listing tag, kept with every change: what the paged listing queries."""
    tag = open311.listing(report.status, private=report.private)
    return report if report.open311_listing == tag and "open311_listing" in report.model_fields_set \
        else report.changed(open311_listing=tag)


def fields_of(snap: firestore.DocumentSnapshot[firestore.DocumentReference]) -> dict[str, Any]:  # Any: as to_dict()
    """The fields of a snapshot known to exist (streamed, created, or checked with .exists)."""
    return snap.to_dict() or {}


def readable(snaps: Iterable[firestore.DocumentSnapshot[firestore.DocumentReference]],
             parse: Callable[[dict[str, Any]], T]) -> Iterator[T]:  # Any: as to_dict()
    """The documents of a query that `parse` accepts. One its model refuses (written by hand, or by an
    older version) is logged with its path and skipped: one bad document must not stop a whole sweep
    tick, nor every delivery of a notice to the people beside it."""
    for snap in snaps:
        try:
            yield parse(fields_of(snap))
        except ValueError as exc:  # pydantic's ValidationError is one
            log.error("%s does not match its model, skipped: %s", snap.reference.path, exc)


def _reports(snaps: Iterable[firestore.DocumentSnapshot[firestore.DocumentReference]]) -> Iterator[Report]:
    return readable(snaps, Report.from_doc)


class FirestoreReports:
    """reports/{report_id} and its staff view staff_reports/{report_id}, with submissions/{key} as
    the idempotency index."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def create(self, report: Report, *, submission_key: str, submission: Submission,
               quotas: Sequence[QuotaWindow] = ()) -> tuple[Report, Submission, bool]:
        """One batch of `create`s: the submission, the report and one numbered slot per quota window.

        A window of limit N is N possible slot documents, quotas/{window key}_{1..N}; a slot can
        be created only once, so however many submissions race, at most N commit per window and
        the losers simply try the next slot (no locks, no hot document). Cost of a new report:
        one read and two count aggregations (one read each), five writes; a retry of a known
        key: one read. Spent slots carry `expire_at` for a Firestore TTL policy.
        """
        sub_ref = self._db.collection(SUBMISSIONS).document(submission_key)
        report_ref = self._db.collection(REPORTS).document(report.report_id)
        doc = listed(report).to_doc()
        existing = self.submission(submission_key)
        slots = {w.key: self._used_slots(w.key) + 1 for w in quotas}
        for _ in range(QUOTA_MAX_RACES):
            if existing is not None:
                break
            for window in quotas:
                if slots[window.key] > window.limit:
                    raise QuotaExceeded(window)
            slot_refs = {w.key: self._db.collection(QUOTAS).document(f"{w.key}_{slots[w.key]}") for w in quotas}
            batch = self._db.batch()
            batch.create(sub_ref, dict(submission))
            batch.create(report_ref, doc)
            batch.set(self._staff_ref(report.report_id), staff_view(doc))
            for window in quotas:
                batch.create(slot_refs[window.key], {"window": window.key, "slot": slots[window.key],
                                                     "resets_at": window.resets_at,
                                                     "expire_at": window.resets_at + QUOTA_KEPT_AFTER_RESET})
            try:
                batch.commit()
                return Report.from_doc(doc), submission, True
            except (gexc.AlreadyExists, gexc.Conflict):
                existing = self.submission(submission_key)  # a concurrent retry of this very report?
                for key, ref in slot_refs.items():  # else someone took a slot: the next one
                    if ref.get().exists:
                        slots[key] += 1
        if existing is None:
            raise Contention("quota slots contended")
        stored = self.get(existing["report_id"])
        if stored is None:  # cannot happen: both are written in one batch
            raise LookupError(existing["report_id"])
        return stored, existing, False

    def _staff_ref(self, report_id: str) -> firestore.DocumentReference:
        return self._db.collection(STAFF_REPORTS).document(report_id)

    def _used_slots(self, window_key: str) -> int:
        query = self._db.collection(QUOTAS).where(filter=firestore.FieldFilter("window", "==", window_key))
        aggregation: Any = query.count()  # Any: firestore annotates count() as returning a class
        return int(aggregation.get()[0][0].value)

    def remember_upload(self, submission_key: str, upload: dict[str, Any],  # Any: as Submission.upload
                        expires_at: datetime) -> None:
        self._db.collection(SUBMISSIONS).document(submission_key).update(
            {"upload": upload, "upload_expires_at": expires_at})

    def remember_published(self, submission_key: str, at: datetime) -> None:
        self._db.collection(SUBMISSIONS).document(submission_key).update({"published_at": at})

    def submission(self, submission_key: str) -> Submission | None:
        snap = self._db.collection(SUBMISSIONS).document(submission_key).get()
        return cast(Submission, fields_of(snap)) if snap.exists else None  # as create() stored it

    def get(self, report_id: str) -> Report | None:
        snap = self._db.collection(REPORTS).document(report_id).get()
        return Report.from_doc(fields_of(snap)) if snap.exists else None

    def get_many(self, report_ids: Sequence[str]) -> list[Report]:
        if not report_ids:
            return []
        snaps = self._db.get_all([self._db.collection(REPORTS).document(i) for i in report_ids])
        found = {r.report_id: r for r in _reports(s for s in snaps if s.exists)}  # get_all answers in any order
        return [found[i] for i in report_ids if i in found]

    def due(self, *, status: str, field: str, before: datetime, limit: int,
            where: Mapping[str, str] | None = None,
            start_after: tuple[datetime, str] | None = None) -> list[Report]:
        # Each query the sweep and the reconciler ask has its composite index in firestore.indexes.json.
        query = self._db.collection(REPORTS).where(filter=firestore.FieldFilter("status", "==", status))
        for path, value in (where or {}).items():
            query = query.where(filter=firestore.FieldFilter(path, "==", value))
        query = (query.where(filter=firestore.FieldFilter(field, "<", before))
                 .order_by(field).order_by("__name__"))
        if start_after is not None:
            query = query.start_after({field: start_after[0], "__name__": start_after[1]})
        return list(_reports(query.limit(limit).stream()))

    def overdue(self, *, limit: int) -> list[Report]:
        """Open reports flagged overdue, most overdue first (index: overdue, status, sla.due_at)."""
        query = (self._db.collection(REPORTS)
                 .where(filter=firestore.FieldFilter("overdue", "==", True))
                 .where(filter=firestore.FieldFilter("status", "in", OPEN_STATUSES))
                 .order_by("sla.due_at").limit(limit))
        return list(_reports(query.stream()))

    def assigned(self, *, assignee: str, statuses: Collection[str], limit: int) -> list[Report]:
        """One assignee's reports in `statuses`, newest first (index: assignee, status, received_at desc)."""
        query = (self._db.collection(REPORTS)
                 .where(filter=firestore.FieldFilter("assignee", "==", assignee))
                 .where(filter=firestore.FieldFilter("status", "in", sorted(statuses)))
                 .order_by("received_at", direction=firestore.Query.DESCENDING).limit(limit))
        return list(_reports(query.stream()))

    def changed_between(self, *, start: datetime, end: datetime, limit: int,
                        start_after: tuple[datetime, str] | None = None) -> list[Report]:
        # A range on one field ordered by it: the automatic single-field index serves it.
        query = (self._db.collection(REPORTS)
                 .where(filter=firestore.FieldFilter("timeline_at", ">=", start))
                 .where(filter=firestore.FieldFilter("timeline_at", "<", end))
                 .order_by("timeline_at").order_by("__name__"))
        if start_after is not None:
            query = query.start_after({"timeline_at": start_after[0],
                                       "__name__": self._db.collection(REPORTS).document(start_after[1])})
        return list(_reports(query.limit(limit).stream()))

    def count_since(self, *, field: TimeField, since: datetime) -> int:
        """How many reports have `field` at or after `since` (an aggregation query: no documents read)."""
        query = self._db.collection(REPORTS).where(filter=firestore.FieldFilter(field, ">=", since))
        aggregation: Any = query.count()  # Any: firestore annotates count() as returning a class
        result = aggregation.get()
        return int(result[0][0].value)

    def all(self) -> Iterator[Report]:
        """Every report, streamed (for `stats rebuild`)."""
        return _reports(self._db.collection(REPORTS).stream())

    def listed(self, *, tag: str, start: datetime, end: datetime, categories: Sequence[str], limit: int,
               offset: int = 0, after: tuple[datetime, str] | None = None,
               updated_after: datetime | None = None) -> list[Report]:
        # Index: open311_listing (contains), category, received_at desc, __name__ desc; without
        # categories the same without category. With `updated_after` the same on status_changed_at.
        query = self._db.collection(REPORTS).where(filter=firestore.FieldFilter(
            open311.LISTING_FIELD, "array_contains", tag))
        if categories:
            query = query.where(filter=firestore.FieldFilter("category", "in", list(categories)))
        order = "received_at" if updated_after is None else "status_changed_at"
        if updated_after is None:
            query = (query.where(filter=firestore.FieldFilter("received_at", ">=", start))
                     .where(filter=firestore.FieldFilter("received_at", "<", end)))
        else:
            query = query.where(filter=firestore.FieldFilter("status_changed_at", ">", updated_after))
        query = (query.order_by(order, direction=firestore.Query.DESCENDING)
                 .order_by("__name__", direction=firestore.Query.DESCENDING))
        if after is not None:
            query = query.start_after({order: after[0],
                                       "__name__": self._db.collection(REPORTS).document(after[1])})
        elif offset:
            query = query.offset(offset)
        return list(_reports(query.limit(limit).stream()))

    def in_cell(self, cell: str, *, tag: str, categories: Sequence[str], limit: int,
                after: tuple[str, str] | None = None) -> list[Spot]:
        # Index: open311_listing (contains), [category,] geohash: an array-contains, an optional
        # equality (or `in`), and one range on geohash that the index serves in order.
        query = self._db.collection(REPORTS).where(filter=firestore.FieldFilter(
            open311.LISTING_FIELD, "array_contains", tag))
        if len(categories) == 1:
            query = query.where(filter=firestore.FieldFilter("category", "==", categories[0]))
        elif categories:
            query = query.where(filter=firestore.FieldFilter("category", "in", list(categories)))
        query = (query.where(filter=firestore.FieldFilter("geohash", ">=", cell))
                 .where(filter=firestore.FieldFilter("geohash", "<", cell + PREFIX_END))
                 .order_by("geohash").order_by("__name__"))
        if after is not None:
            query = query.start_after({"geohash": after[0],
                                       "__name__": self._db.collection(REPORTS).document(after[1])})
        return list(readable(query.select(Spot.FIELDS).limit(limit).stream(), Spot.from_doc))

    def of_reporter(self, key: str, *, statuses: Sequence[str], limit: int,
                    after: tuple[datetime, str] | None = None) -> list[Report]:
        # Index: reporter_key, [status,] received_at desc, __name__ desc.
        query = self._db.collection(REPORTS).where(filter=firestore.FieldFilter("reporter_key", "==", key))
        if statuses:
            query = query.where(filter=firestore.FieldFilter("status", "in", list(statuses)))
        query = (query.order_by("received_at", direction=firestore.Query.DESCENDING)
                 .order_by("__name__", direction=firestore.Query.DESCENDING))
        if after is not None:
            query = query.start_after({"received_at": after[0],
                                       "__name__": self._db.collection(REPORTS).document(after[1])})
        return list(_reports(query.limit(limit).stream()))

    def mutate(self, report_id: str, mutation: Mutation) -> Report | None:
        """Read, change, and write only if the report is still as read (a precondition on its update
        time), as FirestoreStats.replace does: no transaction, so no lock is held while concurrent
        changes of one report wait (the emulator's pessimistic locks made eight concurrent moves
        abort each other until none succeeded). A lost race reads again after a random pause; the
        mutation is a pure function of the stored report, safe to run again."""
        ref = self._db.collection(REPORTS).document(report_id)
        for attempt in range(1, MUTATE_ATTEMPTS + 1):
            snap = ref.get()
            if not snap.exists:
                return None
            before = Report.from_doc(fields_of(snap))
            after = mutation(before)
            if after is None:
                return before
            after = listed(after)
            changes = update_paths(before, after)
            if not changes:
                return before
            batch = self._db.batch()
            batch.update(ref, changes, option=self._db.write_option(last_update_time=snap.update_time))
            batch.set(self._staff_ref(report_id), staff_view(after.to_doc()))
            try:
                batch.commit()
                return after
            except (gexc.FailedPrecondition, gexc.Aborted, gexc.Conflict, gexc.NotFound):
                if attempt < MUTATE_ATTEMPTS:
                    time.sleep(random.uniform(0.005, 0.05) * attempt)
        raise Contention(f"reports/{report_id}: changed concurrently {MUTATE_ATTEMPTS} times")


class StatsState:
    def __init__(self, seq: int, contribution: dict[str, dict[str, int]], update_time: datetime | None,
                 support_seq: int = 0):
        self.seq, self.contribution, self.update_time = seq, contribution, update_time
        self.support_seq = support_seq


class FirestoreStats:
    """stats/{dim=value@month}: counters kept with Increment; stats_reports/{id}: each report's part.

    A report's update is one batch guarded by the report's own state document (created, or
    updated only if unchanged since it was read), so two concurrent updates of one report never
    both apply; group documents are only incremented (written, never read), so hot groups (the
    whole city) add no contention.
    """

    def __init__(self, client: firestore.Client):
        self._db = client

    def report_state(self, report_id: str) -> StatsState | None:
        snap = self._db.collection(STATS_REPORTS).document(report_id).get()
        if not snap.exists:
            return None
        data = snap.to_dict() or {}
        return StatsState(int(data["seq"]), data.get("contribution") or {}, snap.update_time,
                          int(data.get("support_seq") or 0))

    def replace(self, report_id: str, *, seq: int, contribution: dict[str, dict[str, int]],
                delta: dict[str, dict[str, int]], expected: StatsState | None, support_seq: int = 0) -> bool:
        from keluhan.domain.figures import parse_key

        ref = self._db.collection(STATS_REPORTS).document(report_id)
        # One batch, applied only if the report's state is still the one `expected` read: its
        # creation when there was none, else a precondition on its update time. No transaction,
        # so no lock is held while others wait (the emulator's pessimistic locks stalled
        # record_figures under triple delivery).
        batch = self._db.batch()
        state = {"seq": seq, "contribution": contribution, "support_seq": support_seq}
        if expected is None:
            batch.create(ref, state)
        else:
            batch.update(ref, state, option=self._db.write_option(last_update_time=expected.update_time))
        for key, counters in delta.items():
            dim, value, month = parse_key(key)
            batch.set(self._db.collection(STATS).document(key),
                      {"dim": dim, "value": value, "month": month,
                       "counters": {c: firestore.Increment(n) for c, n in counters.items()}}, merge=True)
        try:
            batch.commit()
        except (gexc.FailedPrecondition, gexc.AlreadyExists, gexc.Conflict, gexc.Aborted, gexc.NotFound):
            return False  # changed since `expected` was read: the caller recomputes the delta
        return True

    def groups(self, *, dim: str | None = None, month: str | None = None) -> dict[str, dict[str, int]]:
        query: firestore.Query | firestore.CollectionReference = self._db.collection(STATS)
        if dim is not None:
            query = query.where(filter=firestore.FieldFilter("dim", "==", dim))
        if month is not None:
            query = query.where(filter=firestore.FieldFilter("month", "==", month))
        out = {}
        for snap in query.stream():
            counters = {k: int(v) for k, v in ((snap.to_dict() or {}).get("counters") or {}).items() if v}
            if counters:
                out[snap.id] = counters
        return out

    def group(self, key: str) -> dict[str, int]:
        snap = self._db.collection(STATS).document(key).get()
        counters = (snap.to_dict() or {}).get("counters") or {} if snap.exists else {}
        return {k: int(v) for k, v in counters.items() if v}

    def overwrite(self, totals: dict[str, dict[str, int]], states: dict[str, tuple[int, dict[str, dict[str, int]]]]) -> None:
        from keluhan.domain.figures import parse_key

        for collection in (STATS, STATS_REPORTS):
            for snap in self._db.collection(collection).stream():
                snap.reference.delete()
        writes: list[tuple[firestore.DocumentReference, dict[str, object]]] = []
        for key, counters in totals.items():
            dim, value, month = parse_key(key)
            writes.append((self._db.collection(STATS).document(key),
                           {"dim": dim, "value": value, "month": month, "counters": counters}))
        for report_id, (seq, contribution) in states.items():
            writes.append((self._db.collection(STATS_REPORTS).document(report_id),
                           {"seq": seq, "contribution": contribution}))
        for start in range(0, len(writes), MAX_BATCH_WRITES):
            batch = self._db.batch()
            for ref, data in writes[start:start + MAX_BATCH_WRITES]:
                batch.set(ref, data)
            batch.commit()


class FirestoreHolds:
    """holds/{uid}: reporters whose new reports go to moderation (operators' `hold`)."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def is_held(self, uid: str) -> bool:
        return self._db.collection(HOLDS).document(uid).get().exists

    def hold(self, uid: str, record: Hold) -> None:
        self._db.collection(HOLDS).document(uid).set(dict(record))

    def unhold(self, uid: str) -> None:
        self._db.collection(HOLDS).document(uid).delete()


class FirestorePhotoIndex:
    """Perceptual hashes of recent photos and the object generations already handled."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def candidates(self, phash: str, *, since: datetime, exclude_report: str) -> list[tuple[str, str]]:
        """Hashes since `since` sharing a band key with `phash` (index: bands CONTAINS, at ASC)."""
        found: dict[str, str] = {}
        keys = probe_keys(phash)
        for start in range(0, len(keys), ARRAY_CONTAINS_ANY_MAX):
            query = (self._db.collection(PHOTO_HASHES)
                     .where(filter=firestore.FieldFilter(
                         "bands", "array_contains_any", keys[start:start + ARRAY_CONTAINS_ANY_MAX]))
                     .where(filter=firestore.FieldFilter("at", ">=", since)))
            found |= {d.id: d.get("phash") for d in query.stream() if report_of(d.id) != exclude_report}
        return list(found.items())

    def remember_hash(self, report_id: str, phash: str, at: datetime) -> None:
        self._db.collection(PHOTO_HASHES).document(report_id).set(
            {"phash": phash, "bands": band_keys(phash), "at": at})


class FirestoreDeadLetters:
    def __init__(self, client: firestore.Client):
        self._db = client

    def add(self, dead_letter_id: str, record: DeadLetterDoc) -> bool:
        """Store once per id; False if it was already there, then it is open again (a replay failed)."""
        ref = self._db.collection(DEAD_LETTERS).document(dead_letter_id)
        try:
            ref.create(dict(record))
            return True
        except (gexc.AlreadyExists, gexc.Conflict):
            ref.update({"replayed_at": None, "at": record["at"], "reason": record["reason"],
                        "failures": firestore.Increment(1)})
            return False

    def list(self, *, include_replayed: bool = False) -> list[StoredDeadLetter]:
        docs = self._db.collection(DEAD_LETTERS).order_by("at").stream()
        out = [_dead_letter(d) for d in docs]
        return [d for d in out if include_replayed or not d.get("replayed_at")]

    def get(self, dead_letter_id: str) -> StoredDeadLetter | None:
        snap = self._db.collection(DEAD_LETTERS).document(dead_letter_id).get()
        return _dead_letter(snap) if snap.exists else None

    def mark_replayed(self, dead_letter_id: str, at: datetime) -> None:
        self._db.collection(DEAD_LETTERS).document(dead_letter_id).update(
            {"replayed_at": at, "replays": firestore.Increment(1)})


def _dead_letter(snap: firestore.DocumentSnapshot[firestore.DocumentReference]) -> StoredDeadLetter:
    return cast(StoredDeadLetter, {**fields_of(snap), "id": snap.id})  # as add() stored it


class FirestoreRulesDoc:
    """routing_rules/current: the rules operators load; overrides the bundled fixture."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def load(self) -> dict[str, object] | None:
        snap = self._db.collection(ROUTING_RULES).document("current").get()
        return snap.to_dict() if snap.exists else None

    def store(self, rules: Mapping[str, object]) -> None:
        self._db.collection(ROUTING_RULES).document("current").set(dict(rules))


class FirestoreOpen311Keys:
    """open311_keys/{sha256(key)}: the channel and name a GeoReport api key stands for."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def get(self, digest: str) -> Open311Key | None:
        snap = self._db.collection(OPEN311_KEYS).document(digest).get()
        return cast(Open311Key, fields_of(snap)) if snap.exists else None  # as add() stored it

    def add(self, digest: str, record: Open311Key) -> None:
        self._db.collection(OPEN311_KEYS).document(digest).create(dict(record))

    def list(self) -> list[ListedOpen311Key]:
        return [cast(ListedOpen311Key, {**fields_of(d), "digest": d.id})  # as add() stored it
                for d in self._db.collection(OPEN311_KEYS).stream()]

    def revoke(self, digest: str, at: datetime) -> bool:
        try:
            self._db.collection(OPEN311_KEYS).document(digest).update({"revoked": True, "revoked_at": at})
        except gexc.NotFound:
            return False
        return True


class FirestoreRevocations:
    """revocations/{uid}: when a user's role last changed. firestore.rules refuses staff reads of
    tokens from sign-ins before it (`auth_time`), which rules cannot learn from Auth itself."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def record(self, uid: str, at: datetime) -> None:
        self._db.collection(REVOCATIONS).document(uid).set({"at": at, "at_s": int(at.timestamp())})


class FirestoreInbox:
    """inbox/{uid}/messages/{message_id}: a message is created once (its id is the dedupe key);
    its owner may only mark it read (firestore.rules)."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def _ref(self, message: Message) -> firestore.DocumentReference:
        ref: firestore.DocumentReference = self._db.collection(INBOX).document(message.recipient).collection(
            "messages").document(message.message_id)
        return ref

    def deliver(self, messages: Sequence[Message]) -> int:
        new = 0
        for start in range(0, len(messages), MAX_BATCH_WRITES):
            chunk = messages[start:start + MAX_BATCH_WRITES]
            batch = self._db.batch()
            for message in chunk:
                batch.create(self._ref(message), message.to_doc())
            try:
                batch.commit()  # all or none: the usual first delivery
                new += len(chunk)
            except (gexc.AlreadyExists, gexc.Conflict):
                new += sum(self._create(m) for m in chunk)  # a redelivery after a crash half-way
        return new

    def _create(self, message: Message) -> bool:
        try:
            self._ref(message).create(message.to_doc())
        except (gexc.AlreadyExists, gexc.Conflict):
            return False  # a redelivered or re-published event: told already
        return True


class FirestoreDirectory:
    """staff/{uid}: who works where ({role, skpd, head, lang}), kept by `keluhan users grant|revoke`."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def staff(self, skpd: str, *, heads_only: bool = False) -> list[Recipient]:
        query = self._db.collection(STAFF).where(filter=firestore.FieldFilter("skpd", "==", skpd))
        if heads_only:
            query = query.where(filter=firestore.FieldFilter("head", "==", True))
        return [_recipient(d) for d in query.stream()]

    def operators(self) -> list[Recipient]:
        query = self._db.collection(STAFF).where(filter=firestore.FieldFilter("role", "==", "operator"))
        return [_recipient(d) for d in query.stream()]

    def record(self, uid: str, claims: Mapping[str, object], at: datetime) -> None:
        """The user's role as the claims now say: staff get an entry, anyone else has none."""
        ref = self._db.collection(STAFF).document(uid)
        if claims.get("role") in ("skpd", "operator"):
            ref.set({"role": claims["role"], "skpd": claims.get("skpd"), "head": bool(claims.get("head")),
                     "at": at}, merge=True)
        else:
            ref.delete()


def _recipient(snap: firestore.DocumentSnapshot[firestore.DocumentReference]) -> Recipient:
    lang = fields_of(snap).get("lang")
    return Recipient(snap.id, "en" if lang == "en" else "id")


class FirestoreNotified:
    """notifications/{report_id}: {seqs: [timeline positions told], at}; one array-union per event.
    notifications/~reconciler: {checked_until}, how far the notifications reconciler got (no
    report id starts with `~`)."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def record(self, report_id: str, seq: int, at: datetime) -> None:
        self._db.collection(NOTIFICATIONS).document(report_id).set(
            {"seqs": firestore.ArrayUnion([seq]), "at": at}, merge=True)

    def positions(self, report_ids: Sequence[str]) -> dict[str, set[int]]:
        refs = [self._db.collection(NOTIFICATIONS).document(r) for r in report_ids]
        found = {snap.id: {int(s) for s in fields_of(snap).get("seqs", [])}
                 for snap in self._db.get_all(refs) if snap.exists}
        return {r: found.get(r, set()) for r in report_ids}

    def checked_until(self) -> datetime | None:
        snap = self._db.collection(NOTIFICATIONS).document(RECONCILER_MARK).get()
        at = fields_of(snap).get("checked_until") if snap.exists else None
        return at if isinstance(at, datetime) else None

    def check_through(self, at: datetime) -> None:
        self._db.collection(NOTIFICATIONS).document(RECONCILER_MARK).set({"checked_until": at})


class FirestoreSubscriptions:
    """subscriptions/{uid}/areas/{id}: each an AreaSubscription; new reports find theirs by one
    collection-group query on `keys` (array-contains-any of the report's kelurahan and cell)."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def _areas(self, uid: str) -> firestore.CollectionReference:
        areas: firestore.CollectionReference = self._db.collection(SUBSCRIPTIONS).document(uid).collection(AREAS)
        return areas

    def of(self, uid: str) -> list[AreaSubscription]:
        found = [AreaSubscription.model_validate(fields_of(d)) for d in self._areas(uid).stream()]
        return sorted(found, key=lambda s: (s.created_at, s.subscription_id))

    def add(self, subscription: AreaSubscription, *, limit: int) -> bool:
        areas = self._areas(subscription.uid)
        ref = areas.document(subscription.subscription_id)

        @firestore.transactional
        def store(transaction: firestore.Transaction) -> bool:
            held = [d.id for d in areas.select([]).limit(limit + 1).stream(transaction=transaction)]
            if subscription.subscription_id not in held and len(held) >= limit:
                return False
            transaction.set(ref, subscription.to_doc())
            return True

        return bool(store(self._db.transaction()))

    def remove(self, uid: str, subscription_id: str) -> bool:
        ref = self._areas(uid).document(subscription_id)
        if not ref.get().exists:
            return False
        ref.delete()
        return True

    def matching(self, keys: Sequence[str]) -> list[AreaSubscription]:
        query = self._db.collection_group(AREAS).where(
            filter=firestore.FieldFilter("keys", "array_contains_any", list(keys)[:ARRAY_CONTAINS_ANY_MAX]))
        return list(readable(query.stream(), AreaSubscription.model_validate))


class FirestoreDigests:
    """digests/{uid}_{day}: {uid, day, lang, report_ids, due_at, sent}; a report is added with an
    array-union (once however often), the daily job queries the unsent ones due."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def add(self, uid: str, day: str, report_id: str, *, lang: Lang, due_at: datetime) -> None:
        self._db.collection(DIGESTS).document(f"{uid}_{day}").set(
            {"uid": uid, "day": day, "lang": lang, "due_at": due_at, "sent": False,
             "report_ids": firestore.ArrayUnion([report_id])}, merge=True)

    def due(self, *, before: datetime, limit: int) -> list[tuple[str, str, Lang, list[str]]]:
        # Equality on `sent` and a range on `due_at`: the composite index in firestore.indexes.json.
        query = (self._db.collection(DIGESTS).where(filter=firestore.FieldFilter("sent", "==", False))
                 .where(filter=firestore.FieldFilter("due_at", "<=", before)).order_by("due_at").limit(limit))
        out: list[tuple[str, str, Lang, list[str]]] = []
        for snap in query.stream():
            doc = fields_of(snap)
            out.append((doc["uid"], doc["day"], "en" if doc.get("lang") == "en" else "id",
                        list(doc.get("report_ids", []))))
        return out

    def mark_sent(self, uid: str, day: str, at: datetime) -> None:
        self._db.collection(DIGESTS).document(f"{uid}_{day}").update({"sent": True, "sent_at": at})


class FirestoreSupporters:
    """supports/{ref}: {report_id, uid, at}; the report holds the refs and their count."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def remember(self, ref: str, *, report_id: str, uid: str, at: datetime) -> None:
        self._db.collection(SUPPORTS).document(ref).set({"report_id": report_id, "uid": uid, "at": at})

    def forget(self, ref: str) -> None:
        self._db.collection(SUPPORTS).document(ref).delete()

    def uids(self, refs: Sequence[str]) -> list[str]:
        if not refs:
            return []
        found = self._db.get_all([self._db.collection(SUPPORTS).document(r) for r in refs])
        return [str(fields_of(snap)["uid"]) for snap in found if snap.exists and fields_of(snap).get("uid")]


class FirestoreComments:
    """comments/{comment_id}: created once (the id is the idempotency key), hidden by an update."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def add(self, comment: Comment) -> tuple[Comment, bool]:
        ref = self._db.collection(COMMENTS).document(comment.comment_id)
        try:
            ref.create(comment.to_doc())
        except (gexc.AlreadyExists, gexc.Conflict):
            stored = self.get(comment.comment_id)
            if stored is None:  # cannot happen: comments are never deleted
                raise
            return stored, False
        return comment, True

    def get(self, comment_id: str) -> Comment | None:
        snap = self._db.collection(COMMENTS).document(comment_id).get()
        return Comment.model_validate(fields_of(snap)) if snap.exists else None

    def thread(self, report_id: str, *, limit: int) -> list[Comment]:
        # Index: report_id, at desc.
        query = (self._db.collection(COMMENTS).where(filter=firestore.FieldFilter("report_id", "==", report_id))
                 .order_by("at", direction=firestore.Query.DESCENDING).limit(limit))
        return list(reversed([Comment.model_validate(fields_of(s)) for s in query.stream()]))

    def posted_since(self, author_key: str, since: datetime) -> int:
        # Index: author_key, at. An aggregation: no documents read.
        query = (self._db.collection(COMMENTS).where(filter=firestore.FieldFilter("author_key", "==", author_key))
                 .where(filter=firestore.FieldFilter("at", ">=", since)))
        aggregation: Any = query.count()  # Any: firestore annotates count() as returning a class
        return int(aggregation.get()[0][0].value)

    def hide(self, comment_id: str, hidden: Hidden) -> Comment | None:
        ref = self._db.collection(COMMENTS).document(comment_id)
        snap = ref.get()
        if not snap.exists:
            return None
        comment = Comment.model_validate(fields_of(snap))
        if comment.hidden is None:
            ref.update({"hidden": hidden.model_dump(mode="python")},
                       option=self._db.write_option(last_update_time=snap.update_time))
            comment = comment.model_copy(update={"hidden": hidden})
        return comment
