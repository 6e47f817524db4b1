"""The environment each local function process gets: emulator hosts plus local-only settings."""

from __future__ import annotations

import json
from pathlib import Path

from keluhan.devstack.config import StackConfig
from keluhan.devstack.receiver import local_forward_targets


def function_env(config: StackConfig, state_dir: Path) -> dict[str, str]:
    """Emulator hosts, the local signing key, the stand-ins' URLs (receiver, FCM) and local quotas."""
    return {
        **config.emulator_env(),
        "KELUHAN_SIGNING_KEY_FILE": str(state_dir / "signing-key.json"),
        "KELUHAN_FORWARD_TARGETS": json.dumps(local_forward_targets(config.receiver.url)),
        "KELUHAN_FCM_ENDPOINT": config.fcm.url,  # pushes go to the stand-in FCM endpoint
        "PYTHONUNBUFFERED": "1",
        # Absent: real time. A test writes a clock offset here to replay months in minutes.
        "KELUHAN_CLOCK_FILE": str(clock_file(state_dir)),
        # One session's tests and the demo submit through a handful of users within the hour.
        "KELUHAN_SUBMIT_PER_HOUR": "30",
        "KELUHAN_SUBMIT_PER_DAY": "200",
        # The reconciler's thresholds, short enough that a local run (and the pipeline bench)
        # sees stuck reports move on within a minute; production keeps the defaults.
        "KELUHAN_STALL_AFTER_S": "15",
        "KELUHAN_STALL_FORWARD_AFTER_S": "30",
    }


def clock_file(state_dir: Path) -> Path:
    return state_dir / "clock-offset"
