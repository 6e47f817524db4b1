"""The environment each local function process gets: emulator hosts plus local-only settings."""

from __future__ import annotations

import json
from pathlib import Path

from keluhan.devstack.config import StackConfig
from keluhan.devstack.receiver import local_forward_targets

# A file whose modification time the storage emulator (`keluhan.devstack.storage`) moves after each
# write request: the watcher polls the bucket when it moves, instead of listing it twice a second.
STORAGE_SIGNAL_ENV = "KELUHAN_STORAGE_SIGNAL"


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
        # Validation audits: none drawn at random locally (a demo or test fix is resolved as it
        # expects), and every fix of PDAM audited, so audits can be shown and tested; production
        # samples 10 % (more for an SKPD whose fixes are often reopened).
        "KELUHAN_AUDIT_RATE": "0",
        "KELUHAN_AUDIT_RATE_HIGH": "0",
        "KELUHAN_AUDIT_RATE_BY_SKPD": json.dumps({"pdam": 1.0}),
        # The WhatsApp Cloud API stand-in and the local app's secrets (`keluhan wa send` signs with them).
        **whatsapp_env(config),
    }


LOCAL_WA_APP_SECRET = "local-whatsapp-app-secret"
LOCAL_WA_VERIFY_TOKEN = "local-whatsapp-verify-token"
LOCAL_WA_PHONE_ID = "1062000000000001"


def whatsapp_env(config: StackConfig) -> dict[str, str]:
    return {
        "KELUHAN_WHATSAPP_API_URL": config.whatsapp_standin.url,
        "KELUHAN_WHATSAPP_APP_SECRET": LOCAL_WA_APP_SECRET,
        "KELUHAN_WHATSAPP_VERIFY_TOKEN": LOCAL_WA_VERIFY_TOKEN,
        "KELUHAN_WHATSAPP_ACCESS_TOKEN": "local-whatsapp-access-token",
        "KELUHAN_WHATSAPP_PHONE_ID": LOCAL_WA_PHONE_ID,
    }


def clock_file(state_dir: Path) -> Path:
    return state_dir / "clock-offset"
