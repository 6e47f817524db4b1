"""In-memory fakes of the ports, so use cases and functions are tested without I/O."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from keluhan.adapters.firestore_store import apply_changes
from keluhan.ports import PhotoTooLarge


class FakeReports:
    def __init__(self):
        self.docs: dict[str, dict[str, Any]] = {}
        self.submissions: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def create(self, report, *, submission_key, submission):
        with self._lock:
            if submission_key in self.submissions:
                existing = self.submissions[submission_key]
                return copy.deepcopy(self.docs[existing["report_id"]]), copy.deepcopy(existing), False
            self.submissions[submission_key] = copy.deepcopy(submission)
            self.docs[report["report_id"]] = copy.deepcopy(report)
            return copy.deepcopy(report), copy.deepcopy(submission), True

    def submission(self, submission_key):
        found = self.submissions.get(submission_key)
        return copy.deepcopy(found) if found else None

    def get(self, report_id):
        doc = self.docs.get(report_id)
        return copy.deepcopy(doc) if doc else None

    def due(self, *, status, field, before, limit, where=None, start_after=None):
        def value(doc, path=field):
            for part in path.split("."):
                doc = (doc or {}).get(part)
            return doc

        due = [d for d in self.docs.values()
               if d["status"] == status and value(d) is not None and value(d) < before
               and all(value(d, path) == v for path, v in (where or {}).items())
               and (start_after is None or (value(d), d["report_id"]) > start_after)]
        return copy.deepcopy(sorted(due, key=lambda d: (value(d), d["report_id"]))[:limit])

    def mutate(self, report_id, mutation):
        with self._lock:
            doc = self.docs.get(report_id)
            if doc is None:
                return None
            changes = mutation(copy.deepcopy(doc))
            if changes:
                self.docs[report_id] = apply_changes(doc, changes)
            return copy.deepcopy(self.docs[report_id])


@dataclass
class FakeHolds:
    held: dict[str, dict] = field(default_factory=dict)

    def is_held(self, uid):
        return uid in self.held

    def hold(self, uid, record):
        self.held[uid] = record

    def unhold(self, uid):
        self.held.pop(uid, None)


@dataclass
class FakePublisher:
    """Records messages; `fail_next` publishes raise before anything is recorded."""

    messages: list[tuple[str, dict, dict]] = field(default_factory=list)
    fail_next: int = 0

    def __call__(self, topic, data, attributes):
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
        return [(d["from"], d["to"]) for t, d, _ in self.messages if t == "report-status-changed"]


@dataclass
class FakePhotoStore:
    objects: dict[str, bytes] = field(default_factory=dict)
    urls_issued: int = 0

    def upload_url(self, object_name, *, content_types, max_bytes, expires_at):
        self.urls_issued += 1
        return {"method": "PUT", "url": f"https://storage.test/{object_name}?sig={self.urls_issued}",
                "headers": {"Content-Type": content_types[0]}, "expires_at": expires_at.isoformat()}

    def read(self, object_name, *, generation, max_bytes):
        if object_name not in self.objects:
            raise FileNotFoundError(object_name)
        if len(self.objects[object_name]) > max_bytes:
            raise PhotoTooLarge(object_name)
        return self.objects[object_name]

    def write(self, object_name, data, *, content_type):
        self.objects[object_name] = data


class FakeClock:
    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)
