"""Deps wired with fakes, for function tests through functions-framework test clients."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import flask
import functions_framework
import pytest
from flask.testing import FlaskClient

from keluhan import bootstrap
from keluhan.adapters.auth import actor_from_claims
from keluhan.domain.dead_letter import DeadLetterDoc, StoredDeadLetter
from keluhan.domain.workflow import Actor
from keluhan.ports import PhotoStore, Pusher, Unauthenticated
from keluhan.settings import REPO_ROOT, Settings
from keluhan.topology import FUNCTION_BY_NAME
from tests.support.fakes import (
    FakeComments,
    FakeDevices,
    FakeDigests,
    FakeDirectory,
    FakeHolds,
    FakeInbox,
    FakeNotified,
    FakeOpen311Keys,
    FakePhotoIndex,
    FakePhotoStore,
    FakePreferences,
    FakePublisher,
    FakePusher,
    FakeReports,
    FakeSends,
    FakeStats,
    FakeSubscriptions,
    FakeSupporters,
)


class FakeDeadLetters:
    """dead_letters/{id} in memory, as FirestoreDeadLetters keeps them."""

    def __init__(self) -> None:
        self.records: dict[str, DeadLetterDoc] = {}

    def add(self, dead_letter_id: str, record: DeadLetterDoc) -> bool:
        if dead_letter_id in self.records:  # open again, one failure more (the adapter's update)
            existing = self.records[dead_letter_id]
            existing |= {"replayed_at": None, "at": record["at"], "reason": record["reason"],
                         "failures": existing.get("failures", 0) + 1}
            return False
        self.records[dead_letter_id] = record
        return True

    def list(self, *, include_replayed: bool = False) -> list[StoredDeadLetter]:
        out: list[StoredDeadLetter] = [{**copy.deepcopy(r), "id": i}
                                       for i, r in sorted(self.records.items(), key=lambda kv: kv[1]["at"])]
        return [d for d in out if include_replayed or not d.get("replayed_at")]

    def get(self, dead_letter_id: str) -> StoredDeadLetter | None:
        found = self.records.get(dead_letter_id)
        return {**copy.deepcopy(found), "id": dead_letter_id} if found is not None else None

    def mark_replayed(self, dead_letter_id: str, at: datetime) -> None:
        record = self.records[dead_letter_id]
        record |= {"replayed_at": at, "replays": record.get("replays", 0) + 1}


class FakeRulesDoc:
    """No operator rules in Firestore: the fixture is in force."""

    def __init__(self) -> None:
        self.doc: Mapping[str, object] | None = None

    def load(self) -> Mapping[str, object] | None:
        return self.doc

    def store(self, rules: Mapping[str, object]) -> None:
        self.doc = rules


def fake_authenticate(header: str | None) -> Actor:
    """`Bearer user:<uid>` signs in as the citizen <uid>; `Bearer anon:<uid>` with Firebase's
    anonymous provider; `Bearer skpd:<assignee>:<uid>`, `Bearer operator:<uid>` and
    `Bearer channel:<code>:<uid>` carry those roles' claims (staff with a verified e-mail);
    `Bearer unverified-skpd:<assignee>:<uid>` an SKPD claim on an unverified e-mail."""
    token = (header or "").removeprefix("Bearer ")
    kind, _, rest = token.partition(":")
    if not header or not header.startswith("Bearer ") or not rest:
        raise Unauthenticated("no token")
    if kind == "user":
        return actor_from_claims({"uid": rest, "firebase": {"sign_in_provider": "password"}})
    if kind == "anon":
        return actor_from_claims({"uid": rest, "firebase": {"sign_in_provider": "anonymous"}})
    if kind == "operator":
        return actor_from_claims({"uid": rest, "role": "operator", "email_verified": True})
    scope, _, uid = rest.partition(":")
    if kind in ("skpd", "channel") and uid:
        return actor_from_claims({"uid": uid, "role": kind, kind: scope, "email_verified": kind == "skpd"})
    if kind == "unverified-skpd" and uid:  # a staff claim on an account whose e-mail nobody verified
        return actor_from_claims({"uid": uid, "role": "skpd", "skpd": scope, "email_verified": False})
    raise Unauthenticated("unknown fake token")


def make_fake_deps(**settings_overrides: Any) -> bootstrap.Deps:  # Any: Settings fields by name; pydantic validates them
    deps = bootstrap.Deps(
        # No Auth or Storage emulator unless a test asks for one, whatever an e2e stack left in os.environ.
        settings=Settings(**{"FIREBASE_AUTH_EMULATOR_HOST": "", "STORAGE_EMULATOR_HOST": "", **settings_overrides}),
        reports=FakeReports(),
        publish=FakePublisher(),
        photo_index=FakePhotoIndex(),
        dead_letters=FakeDeadLetters(),
        rules_doc=FakeRulesDoc(),
        authenticate=fake_authenticate,
        holds=FakeHolds(),
        stats=FakeStats(),
        open311_keys=FakeOpen311Keys(),
        inbox=FakeInbox(),
        directory=FakeDirectory(),
        notified=FakeNotified(),
        supporters=FakeSupporters(),
        comments=FakeComments(),
        subscriptions=FakeSubscriptions(),
        digests=FakeDigests(),
        devices=FakeDevices(),
        preferences=FakePreferences(),
        sends=FakeSends(),
    )
    photos: PhotoStore = FakePhotoStore()
    deps.__dict__["photos"] = photos  # fills the cached_property
    pusher: Pusher = FakePusher()
    deps.__dict__["pusher"] = pusher
    return deps


@pytest.fixture
def fake_deps(monkeypatch: pytest.MonkeyPatch) -> bootstrap.Deps:
    deps = make_fake_deps()
    monkeypatch.setattr(bootstrap, "get_deps", lambda: deps)
    return deps


# (target, source, signature type) → the function's Flask app; unannotated in functions-framework.
create_app: Callable[[str, str, str], flask.Flask] = functions_framework.create_app


def function_client(name: str, signature_type: str = "http") -> FlaskClient:
    source = Path(REPO_ROOT, "functions", FUNCTION_BY_NAME[name].source_dir, "main.py")
    return create_app(name, str(source), signature_type).test_client()
