"""`keluhan bench proof`: the edited-copy check on real photographs, their edits and other photos.

Prints one line per edit kind and per negative group, then one JSON object: detection rate
(edits found to be copies), false-alarm rate (genuine other photos called copies), which check
decided, and the time per comparison.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter, defaultdict

from keluhan.cli import Commands


def register(benches: Commands) -> None:
    parser = benches.add_parser("proof", help="edited-copy check of proof photos: detection and false-alarm rates")
    parser.add_argument("--seed", type=int, default=21, help="random seed of the edits (fixed: the same set every run)")
    parser.add_argument("--verbose", action="store_true", help="one line per pair")
    parser.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    from keluhan.devstack.proof_set import pairs
    from keluhan.domain.photo.copy_check import CopyPolicy, compare_to_complaint

    policy = CopyPolicy()
    groups: dict[tuple[bool, str], list[bool]] = defaultdict(list)
    decided: Counter[str] = Counter()
    times: list[float] = []
    missed: list[str] = []
    for pair in pairs(seed=args.seed):
        start = time.perf_counter()
        finding = compare_to_complaint(pair.complaint, pair.proof, policy)
        times.append((time.perf_counter() - start) * 1000)
        kind = pair.name.split("/", 1)[1] if "/" in pair.name and not pair.name.startswith("stereo") else \
            ("stereo_other_view" if pair.name.startswith("stereo") else "other_photograph")
        groups[(pair.derived, kind)].append(finding.derived)
        if finding.derived:
            decided[finding.decided_by or "?"] += 1
        if finding.derived != pair.derived:
            missed.append(pair.name)
        if args.verbose:
            print(f"{pair.name:42} truth={pair.derived!s:5} found={finding.derived!s:5} "
                  f"by={finding.decided_by} inliers={finding.inliers} reproj={finding.reprojection_px} "
                  f"same_area={finding.same_area}")
    for (derived, kind), found in sorted(groups.items(), key=lambda item: (not item[0][0], item[0][1])):
        label = "edit" if derived else "other photo"
        print(f"{label:11} {kind:26} {sum(found)}/{len(found)} called copies")
    positives = [f for (derived, _), found in groups.items() if derived for f in found]
    negatives = [f for (derived, _), found in groups.items() if not derived for f in found]
    print(json.dumps({
        "edits": len(positives),
        "detected": sum(positives),
        "detection_rate": round(sum(positives) / len(positives), 3),
        "other_photos": len(negatives),
        "false_alarms": sum(negatives),
        "false_alarm_rate": round(sum(negatives) / len(negatives), 3),
        "decided_by": dict(decided),
        "wrong": missed,
        "ms_p50": round(statistics.median(times), 1),
        "ms_max": round(max(times), 1),
        "policy": policy.model_dump(),
    }))
    return 0
