"""The Google API methods the functions call, as the e2e stack recorded them, and the checked-in copy.

The stack's function processes record every method they call (keluhan.devstack.api_calls) under
`<state dir>/api-calls/`. Recording needs the emulator stack, so what was recorded is checked in as
infra/iam/api_calls.json: the unit tests compare it with Terraform on every run, and each e2e session
compares what it just recorded with it (a call the file lacks fails the session). Regenerate with

    KELUHAN_API_CALLS_UPDATE=1 KELUHAN_EMULATORS_JSON=… .venv/bin/pytest tests/e2e/… -q

which adds what the session recorded to the file (it never drops a method: a method that a session
did not happen to call is still called by the code; remove one by hand with its code).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keluhan.settings import REPO_ROOT

RECORDED_FILE = REPO_ROOT / "infra" / "iam" / "api_calls.json"
UPDATE_ENV = "KELUHAN_API_CALLS_UPDATE"


def read_state_dir(state_dir: Path) -> dict[str, dict[str, str]]:
    """{function: {method: where}} from one stack's recordings."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted((Path(state_dir) / "api-calls").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                found.setdefault(entry["function"], {}).setdefault(entry["method"], entry.get("where", ""))
    return found


def checked_in() -> dict[str, dict[str, str]]:
    """{function: {method: where the code makes the call}} as checked in."""
    recorded: dict[str, dict[str, str]] = json.loads(RECORDED_FILE.read_text(encoding="utf-8"))["functions"]
    return recorded


def missing_from_checked_in(recorded: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """Methods a session recorded that the checked-in file lacks, by function."""
    known = checked_in() if RECORDED_FILE.exists() else {}
    missing = {fn: sorted(set(methods) - set(known.get(fn, {}))) for fn, methods in recorded.items()}
    return {fn: methods for fn, methods in missing.items() if methods}


def merge_into_checked_in(recorded: dict[str, dict[str, str]]) -> None:
    known = checked_in() if RECORDED_FILE.exists() else {}
    for fn, methods in recorded.items():
        for method, where in methods.items():
            known.setdefault(fn, {}).setdefault(method, where)
    body = {
        "about": "Google API methods each function calls, recorded by the e2e stack "
                 "(keluhan.devstack.api_calls); see tests/support/api_calls.py",
        "functions": {fn: dict(sorted(methods.items())) for fn, methods in sorted(known.items())},
    }
    RECORDED_FILE.parent.mkdir(parents=True, exist_ok=True)
    RECORDED_FILE.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def check_session(state_dir: Path) -> None:
    """At the end of an e2e session: update the checked-in file, or fail on a call it lacks."""
    # Each recording process makes the directory when it starts: without it nothing was recorded.
    assert (Path(state_dir) / "api-calls").is_dir(), "the stack's functions ran without the API call recorder"
    recorded = read_state_dir(state_dir)
    if os.environ.get(UPDATE_ENV) == "1":
        merge_into_checked_in(recorded)
        return
    missing = missing_from_checked_in(recorded)
    assert not missing, (
        f"the functions called Google API methods that {RECORDED_FILE.relative_to(REPO_ROOT)} lacks "
        f"(so Terraform may not grant them): {missing}; rerun the e2e tests with {UPDATE_ENV}=1")
