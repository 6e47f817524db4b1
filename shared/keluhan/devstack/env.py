"""The environment each local function process gets: emulator hosts plus local-only settings."""

from __future__ import annotations

import json
from pathlib import Path

from keluhan.devstack.config import StackConfig
from keluhan.devstack.receiver import local_forward_targets


def function_env(config: StackConfig, state_dir: Path) -> dict[str, str]:
    """Emulator hosts, the local signing key and the stand-in receiver's URLs."""
    return {
        **config.emulator_env(),
        "KELUHAN_SIGNING_KEY_FILE": str(state_dir / "signing-key.json"),
        "KELUHAN_FORWARD_TARGETS": json.dumps(local_forward_targets(config.receiver.url)),
        "PYTHONUNBUFFERED": "1",
        # The reconciler's thresholds, short enough that a local run (and the pipeline bench)
        # sees stuck reports move on within a minute; production keeps the defaults.
        "KELUHAN_STALL_AFTER_S": "15",
        "KELUHAN_STALL_FORWARD_AFTER_S": "30",
    }
