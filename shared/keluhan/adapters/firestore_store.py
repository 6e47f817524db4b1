"""Firestore adapters: reports and submissions, photo hashes, dead letters, routing rules."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

from keluhan.ports import Contention, Mutation

REPORTS = "reports"
SUBMISSIONS = "submissions"
PHOTO_HASHES = "photo_hashes"
DEAD_LETTERS = "dead_letters"
ROUTING_RULES = "routing_rules"
HOLDS = "holds"


def apply_changes(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The document after a Firestore update() with dotted field paths."""
    out = copy.deepcopy(doc)
    for path, value in changes.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def _fields(snap: firestore.DocumentSnapshot) -> dict[str, Any]:
    """The fields of a snapshot known to exist (streamed, created, or checked with .exists)."""
    return snap.to_dict() or {}


class FirestoreReports:
    """reports/{report_id}, with submissions/{key} as the idempotency index."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def create(self, report: dict[str, Any], *, submission_key: str,
               submission: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], bool]:
        sub_ref = self._db.collection(SUBMISSIONS).document(submission_key)
        report_ref = self._db.collection(REPORTS).document(report["report_id"])
        batch = self._db.batch()
        batch.create(sub_ref, submission)
        batch.create(report_ref, report)
        try:
            batch.commit()
            return report, submission, True
        except (gexc.AlreadyExists, gexc.Conflict):
            existing_submission = _fields(sub_ref.get())
            existing = self.get(existing_submission["report_id"])
            if existing is None:  # cannot happen: both are written in one batch
                raise
            return existing, existing_submission, False

    def submission(self, submission_key: str) -> dict[str, Any] | None:
        snap = self._db.collection(SUBMISSIONS).document(submission_key).get()
        return snap.to_dict() if snap.exists else None

    def get(self, report_id: str) -> dict[str, Any] | None:
        snap = self._db.collection(REPORTS).document(report_id).get()
        return snap.to_dict() if snap.exists else None

    def due(self, *, status: str, field: str, before: datetime, limit: int,
            where: Mapping[str, str] | None = None,
            start_after: tuple[datetime, str] | None = None) -> list[dict[str, Any]]:
        # Each query the sweep and the reconciler ask has its composite index in firestore.indexes.json.
        query = self._db.collection(REPORTS).where(filter=firestore.FieldFilter("status", "==", status))
        for path, value in (where or {}).items():
            query = query.where(filter=firestore.FieldFilter(path, "==", value))
        query = (query.where(filter=firestore.FieldFilter(field, "<", before))
                 .order_by(field).order_by("__name__"))
        if start_after is not None:
            query = query.start_after({field: start_after[0], "__name__": start_after[1]})
        return [_fields(d) for d in query.limit(limit).stream()]

    def mutate(self, report_id: str, mutation: Mutation) -> dict[str, Any] | None:
        ref = self._db.collection(REPORTS).document(report_id)

        @firestore.transactional
        def run(tx: firestore.Transaction) -> dict[str, Any] | None:
            snap = ref.get(transaction=tx)
            if not snap.exists:
                return None
            doc = _fields(snap)
            changes = mutation(doc)
            if not changes:
                return doc
            tx.update(ref, changes)
            return apply_changes(doc, changes)

        try:
            return run(self._db.transaction())
        except gexc.Aborted as exc:
            raise Contention(str(exc)) from exc
        except ValueError as exc:  # the client gives up after its retries on a contended document
            if "Failed to commit transaction" in str(exc):
                raise Contention(str(exc)) from exc
            raise


class FirestoreHolds:
    """holds/{uid}: reporters whose new reports go to moderation (operators' `hold`)."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def is_held(self, uid: str) -> bool:
        return self._db.collection(HOLDS).document(uid).get().exists

    def hold(self, uid: str, record: dict[str, Any]) -> None:
        self._db.collection(HOLDS).document(uid).set(record)

    def unhold(self, uid: str) -> None:
        self._db.collection(HOLDS).document(uid).delete()


class FirestorePhotoIndex:
    """Perceptual hashes of recent photos and the object generations already handled."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def recent_hashes(self, *, since: datetime, exclude_report: str) -> list[tuple[str, str]]:
        query = self._db.collection(PHOTO_HASHES).where(filter=firestore.FieldFilter("at", ">=", since))
        return [(d.id, d.get("phash")) for d in query.stream() if d.id != exclude_report]

    def remember_hash(self, report_id: str, phash: str, at: datetime) -> None:
        self._db.collection(PHOTO_HASHES).document(report_id).set({"phash": phash, "at": at})


class FirestoreDeadLetters:
    def __init__(self, client: firestore.Client):
        self._db = client

    def add(self, dead_letter_id: str, record: dict[str, Any]) -> bool:
        """Store once per id; False if it was already there, then it is open again (a replay failed)."""
        ref = self._db.collection(DEAD_LETTERS).document(dead_letter_id)
        try:
            ref.create(record)
            return True
        except (gexc.AlreadyExists, gexc.Conflict):
            ref.update({"replayed_at": None, "at": record["at"], "reason": record["reason"],
                        "failures": firestore.Increment(1)})
            return False

    def list(self, *, include_replayed: bool = False) -> list[dict[str, Any]]:
        docs = self._db.collection(DEAD_LETTERS).order_by("at").stream()
        out = [{"id": d.id, **_fields(d)} for d in docs]
        return [d for d in out if include_replayed or not d.get("replayed_at")]

    def get(self, dead_letter_id: str) -> dict[str, Any] | None:
        snap = self._db.collection(DEAD_LETTERS).document(dead_letter_id).get()
        return {"id": snap.id, **_fields(snap)} if snap.exists else None

    def mark_replayed(self, dead_letter_id: str, at: datetime) -> None:
        self._db.collection(DEAD_LETTERS).document(dead_letter_id).update(
            {"replayed_at": at, "replays": firestore.Increment(1)})


class FirestoreRulesDoc:
    """routing_rules/current: the rules operators load; overrides the bundled fixture."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def load(self) -> dict[str, Any] | None:
        snap = self._db.collection(ROUTING_RULES).document("current").get()
        return snap.to_dict() if snap.exists else None

    def store(self, rules: dict[str, Any]) -> None:
        self._db.collection(ROUTING_RULES).document("current").set(rules)
