"""emulators.json: the one place that says who listens on which host and port."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keluhan.settings import REPO_ROOT

# KELUHAN_EMULATORS_JSON points every tool (dev up, the e2e tests, demo) at another copy, e.g.
# one written by `shifted_copy` so that a second stack runs beside the first.
EMULATORS_JSON = Path(os.environ.get("KELUHAN_EMULATORS_JSON") or REPO_ROOT / "emulators.json")


# Any: a section of emulators.json as read: any JSON per key, checked where it is used.
Section = dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class StackConfig:
    """Ports and names of the local stack, read from emulators.json."""

    path: Path
    project: str
    firestore: Endpoint
    firestore_websocket: Endpoint
    pubsub: Endpoint
    auth: Endpoint
    hub: Endpoint
    logging: Endpoint
    storage: Endpoint
    bucket: str
    receiver: Endpoint
    fcm: Endpoint  # the stand-in FCM endpoint (keluhan.devstack.fcm)
    functions: dict[str, Endpoint]
    rules_file: Path

    def all_ports(self) -> dict[str, Endpoint]:
        """Every port the stack binds, by a name for messages."""
        ports = {
            "firestore": self.firestore,
            "firestore websocket": self.firestore_websocket,
            "pubsub": self.pubsub,
            "auth": self.auth,
            "emulator hub": self.hub,
            "emulator logging": self.logging,
            "storage": self.storage,
            "receiver": self.receiver,
            "fcm stand-in": self.fcm,
        }
        ports.update({f"function {name}": ep for name, ep in self.functions.items()})
        return ports

    def emulator_env(self) -> dict[str, str]:
        """The environment that points Google clients at the emulators."""
        return {
            "FIRESTORE_EMULATOR_HOST": self.firestore.hostport,
            "PUBSUB_EMULATOR_HOST": self.pubsub.hostport,
            "FIREBASE_AUTH_EMULATOR_HOST": self.auth.hostport,
            "STORAGE_EMULATOR_HOST": self.storage.url,
            "GOOGLE_CLOUD_PROJECT": self.project,
            "GCLOUD_PROJECT": self.project,
            "KELUHAN_PROJECT_ID": self.project,
            "KELUHAN_PHOTO_BUCKET": self.bucket,
        }


def load_stack_config(path: Path = EMULATORS_JSON) -> StackConfig:
    raw = json.loads(path.read_text())
    emu, own = raw["emulators"], raw["keluhan"]

    def ep(d: Section, port_key: str = "port") -> Endpoint:
        return Endpoint(d.get("host", "127.0.0.1"), int(d[port_key]))

    return StackConfig(
        path=path,
        project=own["project"],
        firestore=ep(emu["firestore"]),
        firestore_websocket=Endpoint(emu["firestore"].get("host", "127.0.0.1"),
                                     int(emu["firestore"]["websocketPort"])),
        pubsub=ep(emu["pubsub"]),
        auth=ep(emu["auth"]),
        hub=ep(emu["hub"]),
        logging=ep(emu["logging"]),
        storage=ep(own["storage"]),
        bucket=own["storage"]["bucket"],
        receiver=ep(own["receiver"]),
        fcm=ep(own.get("fcm", {"port": 8097})),
        functions={name: ep(d) for name, d in own["functions"].items()},
        rules_file=path.parent / raw["firestore"]["rules"],
    )


def shifted_copy(source: Path, dest_dir: Path, offset: int) -> Path:
    """A copy of emulators.json with every port moved by `offset`, its rules and indexes beside it."""
    raw = json.loads(Path(source).read_text())

    def shift(node: Section) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                shift(value)
            elif key in ("port", "websocketPort"):
                node[key] = value + offset

    shift(raw["emulators"])
    shift(raw["keluhan"])
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    for name in (raw["firestore"].get("rules"), raw["firestore"].get("indexes")):
        if name and (Path(source).parent / name).exists():
            (dest_dir / name).write_text((Path(source).parent / name).read_text())
    path = dest_dir / "emulators.json"
    path.write_text(json.dumps(raw, indent=2))
    return path
