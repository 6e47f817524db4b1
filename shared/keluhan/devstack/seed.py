"""Data the local stack needs before the first request: a signing key and the routing rules."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keluhan.devstack.config import StackConfig

# One test user per role (password "rahasia-demo"): what `keluhan dev up` prints and the demo uses.
DEMO_USERS: tuple[tuple[str, dict[str, str | bool]], ...] = (
    ("siti@warga.test", {}),
    ("pu@dinas-pu.makassar.test", {"role": "skpd", "skpd": "dinas-pu"}),
    ("kepala@dinas-pu.makassar.test", {"role": "skpd", "skpd": "dinas-pu", "head": True}),
    ("operator@warroom.makassar.test", {"role": "operator"}),
    ("cc112@callcenter.makassar.test", {"role": "channel", "channel": "call_center_112"}),
)

# The local stack's Open311 api key (Call Center 112): public on purpose, it only opens the emulators.
DEMO_OPEN311_KEY = "o311_demo-makassar-local"
DEMO_OPEN311_CHANNEL = "call_center_112"


def seed(config: StackConfig, state_dir: Path) -> None:
    """Write the local URL-signing key, load the routing rules fixture, create the test users and
    the demo Open311 api key."""
    write_signing_key(state_dir / "signing-key.json", config.project)
    load_rules_into_firestore(config)
    seed_users(config)
    seed_open311_key(config)


def seed_open311_key(config: StackConfig) -> None:
    from datetime import UTC, datetime

    from google.cloud import firestore

    from keluhan.adapters.firestore_store import FirestoreOpen311Keys
    from keluhan.domain.open311 import key_hash
    from keluhan.usecases.open311 import issue_key

    os.environ.setdefault("FIRESTORE_EMULATOR_HOST", config.firestore.hostport)
    keys = FirestoreOpen311Keys(firestore.Client(project=config.project))
    if keys.get(key_hash(DEMO_OPEN311_KEY)) is None:  # a restarted stack keeps its Firestore data
        issue_key(channel=DEMO_OPEN311_CHANNEL, name="demo (keluhan dev up)", keys=keys,
                  now=datetime.now(UTC), new_key=lambda: DEMO_OPEN311_KEY)


def seed_users(config: StackConfig) -> None:
    from keluhan.devstack.client import StackClient

    client = StackClient(config)
    for email, claims in DEMO_USERS:
        client.user(email, claims)


def describe_users() -> list[str]:
    lines = ["Test users (password rahasia-demo):"]
    for email, claims in DEMO_USERS:
        role = claims.get("role", "warga")
        scope = claims.get("skpd") or claims.get("channel")
        lines.append(f"  {role:<9} {email}" + (f"  ({scope})" if scope else ""))
    lines.append(f"Open311 api_key ({DEMO_OPEN311_CHANNEL}): {DEMO_OPEN311_KEY}")
    return lines


def write_signing_key(path: Path, project: str) -> None:
    """A throwaway service-account key: the storage emulator does not check signatures."""
    if path.exists():
        return
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "type": "service_account",
        "project_id": project,
        "private_key_id": "local-dev",
        "private_key": pem,
        "client_email": f"keluhan-local@{project}.iam.gserviceaccount.com",
        "client_id": "0",
        "token_uri": "https://oauth2.googleapis.com/token",
    }))
    os.chmod(path, 0o600)


def load_rules_into_firestore(config: StackConfig) -> None:
    from google.cloud import firestore

    from keluhan.adapters.firestore_store import FirestoreRulesDoc
    from keluhan.rules_provider import default_rules_path, load_rules

    os.environ.setdefault("FIRESTORE_EMULATOR_HOST", config.firestore.hostport)
    rules = load_rules(default_rules_path())
    FirestoreRulesDoc(firestore.Client(project=config.project)).store(rules.to_dict())
