"""`keluhan open311 key issue|revoke|list`: the api keys GeoReport v2 clients post requests with;
`keluhan open311 backfill-listing`: the listing tags of reports stored before they existed."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from keluhan.cli import CliError, Commands
from keluhan.cli.ops import connection_options, use_emulators

if TYPE_CHECKING:
    from keluhan.adapters.firestore_store import FirestoreOpen311Keys


def register(commands: Commands) -> None:
    open311 = commands.add_parser("open311", help="Open311 GeoReport v2: api keys, listing backfill")
    open311_commands = open311.add_subparsers(dest="open311_command", required=True)
    backfill = open311_commands.add_parser(
        "backfill-listing", help="tag reports stored before the Open311 listing tags (idempotent, resumable)")
    backfill.add_argument("--batch-size", type=int, default=200, choices=range(1, 501), metavar="1..500",
                          help="reports read per batch (default 200)")
    backfill.add_argument("--dry-run", action="store_true", help="count what would be written, write nothing")
    connection_options(backfill)
    backfill.set_defaults(func=_backfill)
    keys = open311_commands.add_parser("key", help="issue, revoke or list api keys")
    sub = keys.add_subparsers(dest="key_command", required=True)
    issue = sub.add_parser("issue", help="a new key for an intake channel (printed once)")
    issue.add_argument("--channel", required=True, help="the intake channel, e.g. call_center_112")
    issue.add_argument("--name", required=True, help="who holds the key, e.g. 'Call Center 112 CRM'")
    connection_options(issue)
    issue.set_defaults(func=_issue)
    revoke = sub.add_parser("revoke", help="revoke a key: the key, or its shown prefix or digest prefix")
    revoke.add_argument("key", metavar="KEY_OR_PREFIX")
    connection_options(revoke)
    revoke.set_defaults(func=_revoke)
    listing = sub.add_parser("list", help="every key: prefix, channel, name, revoked")
    connection_options(listing)
    listing.set_defaults(func=_list)


def channel_codes() -> frozenset[str]:
    from typing import get_args

    from keluhan.domain.report import Channel

    return frozenset(c for c in get_args(Channel) if c != "warga")


def new_key() -> str:
    import secrets

    return "o311_" + secrets.token_urlsafe(24)


def _keys(args: argparse.Namespace) -> FirestoreOpen311Keys:
    from google.cloud import firestore

    from keluhan.adapters.firestore_store import FirestoreOpen311Keys
    from keluhan.settings import get_settings

    use_emulators(args)
    return FirestoreOpen311Keys(firestore.Client(project=get_settings().project_id))


def _backfill(args: argparse.Namespace) -> int:
    import dataclasses

    from google.cloud import firestore

    from keluhan.adapters.firestore_store import FirestoreReports
    from keluhan.settings import get_settings
    from keluhan.usecases.open311 import backfill_listing

    use_emulators(args)
    reports = FirestoreReports(firestore.Client(project=get_settings().project_id))
    done = backfill_listing(reports=reports, batch_size=args.batch_size, dry_run=args.dry_run)
    print(json.dumps({**dataclasses.asdict(done), "dry_run": args.dry_run}))
    return 0


def _issue(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from keluhan.usecases.open311 import issue_key

    if args.channel not in channel_codes():
        raise CliError(f"unknown channel {args.channel!r}; known: {', '.join(sorted(channel_codes()))}")
    key = issue_key(channel=args.channel, name=args.name, keys=_keys(args), now=datetime.now(UTC),
                    new_key=new_key)
    print(key)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from keluhan.usecases.open311 import KeyNotFound, revoke_key

    try:
        record = revoke_key(args.key, keys=_keys(args), now=datetime.now(UTC))
    except KeyNotFound as exc:
        raise CliError(f"no single key matches {args.key!r} ({exc})") from exc
    print(json.dumps(_shown(record), ensure_ascii=False, default=str))
    return 0


def _list(args: argparse.Namespace) -> int:
    for record in sorted(_keys(args).list(), key=lambda r: str(r.get("created_at"))):
        print(json.dumps(_shown(record), ensure_ascii=False, default=str))
    return 0


def _shown(record: Mapping[str, object]) -> dict[str, object]:
    return {"key_prefix": record.get("key_prefix"), "digest": str(record["digest"])[:12],
            "channel": record.get("channel"), "name": record.get("name"),
            "created_at": record.get("created_at"), "revoked": bool(record.get("revoked"))}
