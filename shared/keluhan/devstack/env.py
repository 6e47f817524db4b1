"""The environment each local function process gets: emulator hosts plus local-only settings."""

from __future__ import annotations

import json
from pathlib import Path

from keluhan.devstack.config import StackConfig

EXTERNAL_BODIES = ("baruga", "bbpjn", "kab-maros", "kab-gowa", "kab-takalar", "kab-pangkep")


def function_env(config: StackConfig, state_dir: Path) -> dict[str, str]:
    """Emulator hosts, the local signing key and the stand-in receiver's URLs."""
    targets = {
        body: {"url": f"{config.receiver.url}/{body}/requests.json", "format": "open311"}
        for body in EXTERNAL_BODIES
    }
    return {
        **config.emulator_env(),
        "KELUHAN_SIGNING_KEY_FILE": str(state_dir / "signing-key.json"),
        "KELUHAN_FORWARD_TARGETS": json.dumps(targets),
        "PYTHONUNBUFFERED": "1",
    }
