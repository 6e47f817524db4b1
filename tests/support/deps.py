"""Deps wired with fakes, for function tests through functions-framework test clients."""

from __future__ import annotations

from pathlib import Path

import functions_framework
import pytest

from keluhan import bootstrap
from keluhan.adapters.auth import Unauthenticated, actor_from_claims
from keluhan.settings import REPO_ROOT, Settings
from keluhan.topology import FUNCTION_BY_NAME
from tests.support.fakes import (
    FakeHolds,
    FakeOpen311Keys,
    FakePhotoStore,
    FakePublisher,
    FakeReports,
    FakeStats,
)


class FakeDeadLetters:
    def __init__(self):
        self.records = {}

    def add(self, dead_letter_id, record):
        if dead_letter_id in self.records:
            return False
        self.records[dead_letter_id] = record
        return True


class FakeRulesDoc:
    """No operator rules in Firestore: the fixture is in force."""

    def __init__(self):
        self.doc = None

    def load(self):
        return self.doc

    def store(self, rules):
        self.doc = rules


def fake_authenticate(header):
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


def make_fake_deps(**settings_overrides) -> bootstrap.Deps:
    deps = bootstrap.Deps(
        # No Auth emulator unless a test asks for one, whatever an e2e stack left in os.environ.
        settings=Settings(**{"FIREBASE_AUTH_EMULATOR_HOST": "", **settings_overrides}),
        reports=FakeReports(),
        publish=FakePublisher(),
        photo_index=None,
        dead_letters=FakeDeadLetters(),
        rules_doc=FakeRulesDoc(),
        authenticate=fake_authenticate,
        holds=FakeHolds(),
        stats=FakeStats(),
        open311_keys=FakeOpen311Keys(),
    )
    deps.__dict__["photos"] = FakePhotoStore()  # fills the cached_property
    return deps


@pytest.fixture
def fake_deps(monkeypatch):
    deps = make_fake_deps()
    monkeypatch.setattr(bootstrap, "get_deps", lambda: deps)
    return deps


def function_client(name: str, signature_type: str = "http"):
    source = Path(REPO_ROOT, "functions", FUNCTION_BY_NAME[name].source_dir, "main.py")
    return functions_framework.create_app(name, str(source), signature_type).test_client()
