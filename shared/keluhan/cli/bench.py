"""`keluhan bench geo|photo|pipeline|proof|nearby`: benchmarks whose last line is one JSON object."""

from __future__ import annotations

from keluhan.cli import Commands, bench_geo, bench_nearby, bench_photo, bench_pipeline, bench_proof


def register(commands: Commands) -> None:
    parser = commands.add_parser("bench", help="benchmarks (last line: one JSON object)")
    benches = parser.add_subparsers(dest="bench", required=True)
    bench_geo.register(benches)
    bench_photo.register(benches)
    bench_pipeline.register(benches)
    bench_proof.register(benches)
    bench_nearby.register(benches)
