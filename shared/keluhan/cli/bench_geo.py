"""`keluhan bench geo`: the batch path against a naive per-point loop, single lookups, load time."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

from keluhan.cli import CliError, Commands


def register(benches: Commands) -> None:
    parser = benches.add_parser("geo", help="geolocation: batch vs naive, single p50/p99, load time")
    parser.add_argument("--points", type=int, default=20_000, help="points, uniform over the city's bounding box")
    parser.add_argument("--seed", type=int, default=4, help="random seed (fixed: the same points every run)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of the batch path and of loading")
    parser.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    import numpy as np
    import shapely

    from keluhan.domain.geo import GeoDataError, GeoIndex
    from keluhan.domain.geo.naive import naive_answers, same_answers
    from keluhan.geodata import geo_files, load_geo_index
    from keluhan.settings import get_settings

    if args.points < 1 or args.repeat < 1:
        raise CliError("--points and --repeat must be positive")
    cores = _pin_one_core()
    settings = get_settings()
    files = geo_files(settings)

    def load() -> GeoIndex:
        return load_geo_index(kelurahan_path=files.kelurahan, neighbours_path=files.neighbours,
                              roads_path=files.roads, snap_distance_m=settings.geo_snap_distance_m,
                              near_border_m=settings.geo_near_border_m, road_snap_m=settings.geo_road_snap_m)

    try:
        load_times = [_timed(load)[1] for _ in range(args.repeat)]
    except GeoDataError as exc:
        raise CliError(f"Data geo tidak bisa dimuat / Cannot load geo data: {exc}") from exc
    index = load()
    rng = np.random.default_rng(args.seed)
    x0, y0, x1, y1 = shapely.total_bounds(index.polygons)  # the city's bounding box
    (lon0, lon1), (lat0, lat1) = index.projection.lonlat([x0, x1], [y0, y1])
    lats, lons = rng.uniform(lat0, lat1, args.points), rng.uniform(lon0, lon1, args.points)
    x, y = index.projection.xy(lons, lats)

    batch_times: list[float] = []
    for _ in range(args.repeat):
        batch, seconds = _timed(lambda: index.answers_xy(x, y))
        batch_times.append(seconds)
    _, locations_s = _timed(lambda: index.locate_many(lats, lons))
    naive, naive_s = _timed(lambda: naive_answers(index, x, y))
    agree = same_answers(batch, naive)
    if not agree.all():
        raise CliError(f"batch and naive disagree on {int((~agree).sum())} of {args.points} points")
    single: list[float] = []
    for lat, lon in zip(lats.tolist(), lons.tolist(), strict=True):
        start = time.perf_counter_ns()
        index.locate(lat, lon)
        single.append((time.perf_counter_ns() - start) / 1000)

    batch_s = statistics.median(batch_times)
    kinds = {"in_city": batch.kelurahan >= 0, "in_region": batch.region >= 0,
             "at_sea": (batch.kelurahan < 0) & (batch.region < 0)}
    by_kind = {kind: round(float(np.percentile(np.asarray(single)[where], 50)), 1)
               for kind, where in kinds.items() if where.any()}
    result = {
        "points": args.points,
        "seed": args.seed,
        "inside": int((batch.kelurahan >= 0).sum() - batch.snapped.sum()),
        "snapped": int(batch.snapped.sum()),
        "in_region": int((batch.region >= 0).sum()),
        "at_sea": int(((batch.kelurahan < 0) & (batch.region < 0)).sum()),
        "batch_points_per_s": round(args.points / batch_s),
        "batch_locations_per_s": round(args.points / locations_s),
        "naive_points_per_s": round(args.points / naive_s),
        "speedup": round(naive_s / batch_s, 1),
        "answers_equal": True,
        "single_p50_us": round(float(np.percentile(single, 50)), 1),
        "single_p99_us": round(float(np.percentile(single, 99)), 1),
        "single_p50_us_by_kind": by_kind,  # in the city (snapped included), in a regency, at sea
        "load_ms": round(statistics.median(load_times) * 1000, 1),
        "data_version": index.data_version,
        "cores": cores,
        "python": platform.python_version(),
    }
    print(f"points {args.points} (seed {args.seed}): {result['inside']} inside, {result['snapped']} snapped, "
          f"{result['in_region']} in a neighbouring regency, {result['at_sea']} at sea")
    print(f"batch  {result['batch_points_per_s']:>10,} points/s (median of {args.repeat}); "
          f"as Location objects {result['batch_locations_per_s']:,}/s")
    print(f"naive  {result['naive_points_per_s']:>10,} points/s; same answers on every point; "
          f"speedup {result['speedup']}x")
    print(f"single p50 {result['single_p50_us']} us, p99 {result['single_p99_us']} us "
          f"(p50 {', '.join(f'{kind} {us} us' for kind, us in by_kind.items())}); load {result['load_ms']} ms")
    print(json.dumps(result, ensure_ascii=False))
    return 0


T = TypeVar("T")


def _timed(func: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = func()
    return value, time.perf_counter() - start


def _pin_one_core() -> int:
    """Run on one core, as the targets are stated per core (where the OS allows it)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
