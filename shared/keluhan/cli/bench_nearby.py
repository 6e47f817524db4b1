"""`keluhan bench nearby`: nearby_reports over 100,000 reports in the running stack's Firestore.

Loads the reports with batched writes (ids `bench-nearby-…`, as the submission stores them:
listing tags, geohash), half spread over the city and half around busy spots, in every status
and category, some private. Then asks the nearby use case (the real Firestore adapter and the
stack's URL signer, no HTTP in between) at points where reports are, for each radius, and prints
the Firestore documents read per call and the latency (p50/p95): the read cap holds whatever the
number of reports.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from keluhan.cli import Commands

PREFIX = "bench-nearby-"
BATCH = 500  # Firestore's most writes in one batch
# Makassar's mainland, roughly (the sea and the islands hold few reports).
LAT, LON = (-5.20, -5.08), (119.39, 119.50)
OPEN = ("routed", "accepted", "in_progress", "reopened", "located")
CLOSED = ("closed", "resolved", "rejected", "duplicate")


def register(benches: Commands) -> None:
    parser = benches.add_parser("nearby", help="nearby_reports over 100k reports: reads per call, p50/p95")
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=100, help="calls per radius")
    parser.add_argument("--radii", default="75,300,1000", help="metres, comma-separated")
    parser.add_argument("--skip-load", action="store_true", help="the reports are loaded already")
    parser.add_argument("--loaders", type=int, default=4, help="threads committing batches")
    parser.add_argument("--state-dir", type=Path, help="the stack's state dir (default: .devstack/)")
    parser.add_argument("--seed", type=int, default=20)
    parser.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    import os

    from keluhan import bootstrap
    from keluhan.cli import CliError
    from keluhan.devstack import launcher
    from keluhan.devstack.config import EMULATORS_JSON, load_stack_config
    from keluhan.devstack.env import function_env

    state_dir = Path(args.state_dir or launcher.DEFAULT_STATE_DIR)
    if not (state_dir / "stack.json").exists():
        raise CliError(f"no running stack in {state_dir}: start one with `keluhan dev up`")
    if args.reports < 1 or args.calls < 1:
        raise CliError("--reports and --calls must be positive")
    radii = [float(r) for r in args.radii.split(",") if r.strip()]
    env = function_env(load_stack_config(EMULATORS_JSON), state_dir)
    env.pop("KELUHAN_CLOCK_FILE")
    os.environ.update(env)
    deps = bootstrap.get_deps()
    rng = random.Random(args.seed)
    spots = [(rng.uniform(*LAT), rng.uniform(*LON)) for _ in range(20)]
    docs = list(_reports(args.reports, rng, spots))
    load_s = None
    if not args.skip_load:
        from google.cloud import firestore

        started = time.perf_counter()
        _load(firestore.Client(project=deps.settings.project_id), docs, loaders=args.loaders)
        load_s = time.perf_counter() - started
    result = {"bench": "nearby", "reports": args.reports, "load_s": None if load_s is None else round(load_s, 1),
              "read_cap": deps.settings.nearby_read_cap, "radii": {}}
    for radius in radii:
        result["radii"][f"{radius:g}"] = _measure(deps, docs, radius=radius, calls=args.calls, rng=rng)
        print(json.dumps({"radius_m": radius, **result["radii"][f"{radius:g}"]}), flush=True)
    print(json.dumps(result))
    return 0


def _reports(count: int, rng: random.Random,
             spots: list[tuple[float, float]]) -> Iterator[dict[str, Any]]:  # Any: report documents, as Report.to_doc
    from keluhan.adapters.firestore_store import listed
    from keluhan.domain.catalogue import CATEGORIES
    from keluhan.domain.geocell import geohash_of
    from keluhan.domain.report import Report

    categories = sorted(CATEGORIES)
    now = datetime.now(UTC)
    for n in range(count):
        if n % 2:
            lat, lon = rng.uniform(*LAT), rng.uniform(*LON)
        else:  # a busy spot: a market, a junction that floods
            spot = spots[n % len(spots)]
            lat, lon = rng.gauss(spot[0], 0.003), rng.gauss(spot[1], 0.003)
        roll = rng.random()
        status = (rng.choice(OPEN) if roll < 0.45 else "awaiting_photo" if roll < 0.5 else rng.choice(CLOSED))
        received = now - timedelta(minutes=rng.uniform(1, 60 * 24 * 120))
        report_id = f"{PREFIX}{n:06d}"
        report = Report.model_validate({
            "report_id": report_id, "reporter_ref": "", "reporter_key": f"bench-{n % 5000}",
            "category": rng.choice(categories), "description": "Laporan bench", "channel": "warga",
            "point": {"lat": lat, "lon": lon, "accuracy_m": 8}, "received_at": received, "status": status,
            "status_changed_at": received, "geohash": geohash_of(lat, lon), "private": rng.random() < 0.05,
            "supporters": rng.randrange(4),
            "photo": {"required": True, "verdict": "accepted", "thumbnail_object": f"derived/{report_id}/thumb.jpg",
                      "clean_object": f"derived/{report_id}/clean.jpg"},
        })
        yield listed(report).to_doc()


def _load(db: Any, docs: list[dict[str, Any]], *, loaders: int) -> None:  # Any: a firestore.Client
    def commit(start: int) -> None:
        batch = db.batch()
        for doc in docs[start:start + BATCH]:
            batch.set(db.collection("reports").document(doc["report_id"]), doc)
        batch.commit()

    with ThreadPoolExecutor(loaders) as pool:
        list(pool.map(commit, range(0, len(docs), BATCH)))


def _measure(deps: Any, docs: list[dict[str, Any]], *, radius: float, calls: int,  # Any: bootstrap.Deps
             rng: random.Random) -> dict[str, object]:
    from keluhan.bootstrap import utc_now
    from keluhan.domain.catalogue import CATEGORIES
    from keluhan.domain.nearby import NearbyQuery
    from keluhan.domain.workflow import Actor, Role
    from keluhan.usecases.nearby import nearby_reports

    actor = Actor(Role.WARGA, "bench-reader")
    reads: list[int] = []
    queries: list[int] = []
    latencies: list[float] = []
    found: list[int] = []
    truncated = 0
    for _ in range(calls):
        at = rng.choice(docs)["point"]
        # A duplicate check asks for one category within 75 m; a map asks for everything.
        category = rng.choice(sorted(CATEGORIES)) if radius <= 100 else None
        query = NearbyQuery(lat=at["lat"], lon=at["lon"], radius_m=radius, category=category, limit=50)
        started = time.perf_counter()
        answer = nearby_reports(query, actor=actor, reports=deps.reports, photos=deps.photos, clock=utc_now,
                                read_cap=deps.settings.nearby_read_cap)
        latencies.append(time.perf_counter() - started)
        reads.append(answer.reads)
        queries.append(answer.queries)
        found.append(len(answer.reports))
        truncated += answer.truncated
    return {
        "calls": calls,
        "reads_p50": statistics.median(reads), "reads_p95": _p95(reads), "reads_max": max(reads),
        "queries_p50": statistics.median(queries), "queries_max": max(queries),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "latency_p95_ms": round(_p95(latencies) * 1000, 1),
        "found_p50": statistics.median(found), "truncated_share": round(truncated / calls, 3),
    }


def _p95(values: list[float] | list[int]) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))])
