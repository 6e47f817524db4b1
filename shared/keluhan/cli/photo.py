"""`keluhan photo verify`: the photo verification of the pipeline, on a local file."""

from __future__ import annotations

import argparse
import json
import mimetypes
from datetime import datetime
from pathlib import Path

from keluhan.cli import Commands


def register(commands: Commands) -> None:
    parser = commands.add_parser("photo", help="photo tools for moderators and support")
    actions = parser.add_subparsers(dest="photo_command", required=True)
    verify = actions.add_parser(
        "verify",
        help="verify a photo file as the pipeline would; prints one JSON object",
        description="Times without a UTC offset are read as WITA (UTC+8).",
    )
    verify.add_argument("file", type=Path)
    verify.add_argument("--lat", type=float, required=True, help="reported latitude")
    verify.add_argument("--lon", type=float, required=True, help="reported longitude")
    verify.add_argument(
        "--submitted-at", type=_time, required=True, help="when the report was received, ISO 8601"
    )
    verify.add_argument("--taken-at", type=_time, help="capture time the app declared, ISO 8601")
    verify.add_argument("--content-type", help="declared content type (default: guessed from the file name)")
    verify.add_argument(
        "--recent-hash",
        action="append",
        default=[],
        metavar="REPORT_ID:PHASH",
        help="pHash of another report's photo to check reuse against (repeatable)",
    )
    verify.add_argument("--out-dir", type=Path, help="write clean.jpg and thumbnail.jpg here unless rejected")
    verify.set_defaults(func=_verify)


def _time(text: str) -> datetime:
    from keluhan.domain.photo import WITA

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=WITA)


def _verify(args: argparse.Namespace) -> int:
    from keluhan.cli import CliError
    from keluhan.domain.photo import PhotoPolicy, verify_photo

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    recent = []
    for entry in args.recent_hash:
        report_id, sep, phash = entry.rpartition(":")
        if not sep or not report_id:
            raise CliError(f"--recent-hash wants REPORT_ID:PHASH, got {entry!r}")
        recent.append((report_id, phash))
    result = verify_photo(
        data,
        declared_content_type=args.content_type or mimetypes.guess_type(args.file.name)[0],
        lat=args.lat,
        lon=args.lon,
        received_at=args.submitted_at,
        taken_at=args.taken_at,
        reuse_candidates=lambda phash: recent,
        policy=PhotoPolicy(),
    )
    if args.out_dir and result.derivatives:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        (args.out_dir / "clean.jpg").write_bytes(result.derivatives.clean_jpeg)
        (args.out_dir / "thumbnail.jpg").write_bytes(result.derivatives.thumbnail_jpeg)
    print(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))
    return 0
