"""`keluhan bench photo`: the whole photo verification against a plain full decode, side by side.

Each variant runs in a fresh Python process, so neither inherits the other's heap. Time is the
median of several runs after one warm-up. Peak memory is resident memory, which (unlike
tracemalloc) sees Pillow's and libjpeg's C allocations: on Linux the kernel's high-water mark
(VmHWM) is reset through /proc/self/clear_refs right before a measured run, so `*_peak_mib` is
that run's peak above the RSS it started from; `*_process_peak_mib` is the whole process's
peak, interpreter and imports included. The verification decodes in a forked child
(domain/photo/sandbox.py); `verify_child_peak_mib` is that child's whole resident peak, which
counts the pages it shares with its parent.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypedDict

from keluhan.cli import Commands

_RECEIVED = datetime(2025, 5, 1, 10, 0)
_POINT = (-5.1477, 119.4127)
_MIB = 2**20
_TARGET_MS, _TARGET_MIB = 200, 256


def register(commands: Commands) -> None:
    parser = commands.add_parser("photo", help="photo verification vs a plain decode: time and peak memory")
    parser.add_argument("--runs", type=int, default=9, help="timed runs per variant (median reported)")
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--quality", type=int, default=90)
    parser.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    from keluhan.devstack.sample_photos import make_jpeg
    from keluhan.domain.photo import WITA

    received = _RECEIVED.replace(tzinfo=WITA)
    data = make_jpeg(
        taken_at=received - timedelta(minutes=4),
        lat=_POINT[0],
        lon=_POINT[1],
        width=args.width,
        height=args.height,
        quality=args.quality,
        seed=7,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo.jpg"
        path.write_bytes(data)
        results = {variant: _run_child(variant, path, args.runs) for variant in ("verify", "decode")}
    print(
        f"photo {args.width}x{args.height} JPEG q{args.quality}, {len(data) / _MIB:.2f} MiB, {args.runs} runs"
    )
    for variant, result in results.items():
        print(
            f"  {variant:<7} median {result['ms']:7.1f} ms   run peak +{result['peak_mib']:6.1f} MiB"
            f"   process peak {result['process_peak_mib']:6.1f} MiB   child peak"
            f" {result['child_peak_mib']:6.1f} MiB   ({result['peak_method']})"
        )
    verify, decode = results["verify"], results["decode"]
    summary = {
        "verify_ms": verify["ms"],
        "decode_ms": decode["ms"],
        "ratio": round(verify["ms"] / decode["ms"], 2),
        "verify_peak_mib": verify["peak_mib"],
        "decode_peak_mib": decode["peak_mib"],
        "verify_process_peak_mib": verify["process_peak_mib"],
        "decode_process_peak_mib": decode["process_peak_mib"],
        "verify_child_peak_mib": verify["child_peak_mib"],
        "file_mib": round(len(data) / _MIB, 2),
        "width": args.width,
        "height": args.height,
        "runs": args.runs,
        "within_targets": verify["ms"] <= _TARGET_MS
        and max(verify["process_peak_mib"], verify["child_peak_mib"]) <= _TARGET_MIB,
    }
    print(json.dumps(summary))
    return 0


class ChildFigures(TypedDict):
    """The JSON line a measuring child prints."""

    ms: float
    peak_mib: float
    process_peak_mib: float
    child_peak_mib: float
    peak_method: str


def _run_child(variant: str, path: Path, runs: int) -> ChildFigures:
    from keluhan.cli import CliError

    command = [sys.executable, "-m", "keluhan.cli.bench_photo", variant, str(path), str(runs)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise CliError(f"benchmark variant {variant} failed:\n{done.stderr.strip()}")
    figures: ChildFigures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _workload(variant: str, data: bytes) -> Callable[[], object]:
    """The function one run calls: the verification use case, or a plain full decode."""
    import io

    from PIL import Image

    from keluhan.domain.photo import WITA, PhotoPolicy, verify_photo

    if variant == "decode":
        return lambda: Image.open(io.BytesIO(data)).load()
    received = _RECEIVED.replace(tzinfo=WITA)
    # A realistic reuse scan: a thousand recent photos of other reports.
    recent = [(f"r-{i}", f"{(i * 0x9E3779B97F4A7C15) % 2**64:016x}") for i in range(1000)]
    policy = PhotoPolicy()

    def verify() -> None:
        result = verify_photo(
            data,
            declared_content_type="image/jpeg",
            lat=_POINT[0],
            lon=_POINT[1],
            received_at=received,
            taken_at=received - timedelta(minutes=4),
            reuse_candidates=lambda phash: recent,
            policy=policy,
        )
        assert result.verdict == "accepted" and result.derivatives, result.reasons

    return verify


def _child(variant: str, path: str, runs: int) -> None:
    """Measure one variant in this fresh process; print one JSON line."""
    import gc

    import psutil

    work = _workload(variant, Path(path).read_bytes())
    work()  # warm-up: lazy imports (scipy for the pHash), codec tables
    gc.collect()
    process_peak = _peak_rss()
    reset = _reset_peak_rss()
    before = psutil.Process().memory_info().rss
    work()
    run_peak = _peak_rss()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    print(
        json.dumps(
            {
                "ms": round(statistics.median(times), 1),
                "peak_mib": round(max(0, run_peak - before) / _MIB, 1),
                "process_peak_mib": round(max(process_peak, _peak_rss()) / _MIB, 1),
                "child_peak_mib": round(_children_peak_rss() / _MIB, 1),
                "peak_method": "VmHWM reset per run" if reset else "peak since process start",
            }
        )
    )


def _peak_rss() -> int:
    """Peak resident memory in bytes: Linux VmHWM, else getrusage's maximum."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def _children_peak_rss() -> int:
    """The largest peak resident memory of any child this process waited for, in bytes."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark to the current RSS (Linux 4.0+)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], int(sys.argv[3]))
