"""The cost of one report on the running stack: function CPU time and Firestore operations.

A snapshot before and one after a bench run; their difference over the number of reports is the
cost of one report per function. CPU time is psutil's user+system time of each function's process
tree (the supervisor's children: functions-framework and its worker); Firestore operations are the
counts each function process writes itself (`keluhan.adapters.firestore_counting`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from keluhan import topology
from keluhan.adapters.firestore_counting import KINDS, read_counts
from keluhan.devstack.processes import ProcessRecord, descendants

FIRESTORE_OPS_DIR = "firestore-ops"  # under the state dir; the launcher points each function here
BILLED = ("reads", "writes", "transactions")
# The emulators' processes (stack.json names), whose CPU a report also costs on this machine (not
# in production): the Firestore JVM, the Firebase CLI (node: the Auth emulator, and the copy of
# every emulator log line into firebase-debug.log), the Pub/Sub emulator (its supervisor's tree).
# (The JVM is firebase's child: the CLI's own time is its root process alone.)
EMULATORS = {"firestore": ("firestore jvm", "root"), "firebase_cli": ("firebase", "root"),
             "pubsub": ("pubsub", "children")}


@dataclass
class CostSnapshot:
    """CPU seconds per function and process id; Firestore operation totals per function."""

    cpu_s: dict[str, dict[int, float]] = field(default_factory=dict)
    ops: dict[str, dict[str, int]] = field(default_factory=dict)
    emulator_cpu_s: dict[str, dict[int, float]] = field(default_factory=dict)


def snapshot(state_dir: Path) -> CostSnapshot:
    """What every function process has used so far (processes found through stack.json)."""
    data = json.loads((Path(state_dir) / "stack.json").read_text())
    records = {d["name"]: ProcessRecord.from_dict(d) for d in data["processes"]}
    cpu = {fn.name: _cpu(records.get(f"fn-{fn.name}"), "children") for fn in topology.FUNCTIONS}
    emulators = {name: _cpu(records.get(record), which) for name, (record, which) in EMULATORS.items()}
    return CostSnapshot(cpu, read_counts(Path(state_dir) / FIRESTORE_OPS_DIR), emulators)


def _cpu(record: ProcessRecord | None, which: str) -> dict[int, float]:
    """CPU seconds per process id of a recorded process ("root") or of what it spawned
    ("children": a supervisor's function or emulator, restarted ones included)."""
    root = record.find() if record else None
    if root is None:
        return {}
    per_pid: dict[int, float] = {}
    for proc in descendants(root) if which == "children" else [root]:
        try:
            times = proc.cpu_times()
            per_pid[proc.pid] = times.user + times.system
        except psutil.Error:
            pass  # gone in between: its time is lost to this snapshot
    return per_pid


def emulator_per_report(before: CostSnapshot, after: CostSnapshot, reports: int) -> dict[str, float]:
    """CPU-ms per report of each emulator process tree between two snapshots (as per_report)."""
    n = max(reports, 1)
    return {name: round(sum(t - before.emulator_cpu_s.get(name, {}).get(pid, 0.0)
                            for pid, t in after.emulator_cpu_s.get(name, {}).items()) * 1000 / n, 2)
            for name in EMULATORS}


def per_report(before: CostSnapshot, after: CostSnapshot, reports: int) -> dict[str, dict[str, float]]:
    """Per function: CPU-ms and each Firestore operation kind per report, between two snapshots.

    A process alive in both counts its difference; one started in between (a restart) counts all
    its time; one gone by `after` is not counted (its time is lost: say so when faults kill).
    """
    n = max(reports, 1)
    names = sorted(set(after.cpu_s) | set(after.ops))
    result: dict[str, dict[str, float]] = {}
    for name in names:
        then = before.cpu_s.get(name, {})
        cpu = sum(t - then.get(pid, 0.0) for pid, t in after.cpu_s.get(name, {}).items())
        ops_then = before.ops.get(name, dict.fromkeys(KINDS, 0))
        ops_now = after.ops.get(name, dict.fromkeys(KINDS, 0))
        row = {"cpu_ms": round(cpu * 1000 / n, 2)}
        row |= {kind: round((ops_now[kind] - ops_then.get(kind, 0)) / n, 2) for kind in KINDS}
        result[name] = row
    total = {key: round(sum(row[key] for row in result.values()), 2)
             for key in ("cpu_ms", *KINDS)}
    return {**result, "total": total} if result else {}
