"""Operator commands over Firestore and Pub/Sub: `keluhan dlq list|replay`, `keluhan rules load`.

Against the local stack by default; `--no-emulators` uses the project's real services.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING

from keluhan.cli import CliError, Commands

if TYPE_CHECKING:
    from keluhan.adapters.firestore_store import FirestoreDeadLetters, FirestoreRulesDoc
    from keluhan.adapters.pubsub_publisher import PubSubPublisher


def register(commands: Commands) -> None:
    dlq = commands.add_parser("dlq", help="dead letters: list and replay")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    listing = dlq_commands.add_parser("list", help="dead letters not yet replayed")
    listing.add_argument("--all", action="store_true", help="include replayed ones")
    connection_options(listing)
    listing.set_defaults(func=_list)
    replay = dlq_commands.add_parser("replay", help="publish dead letters again to their topic")
    replay.add_argument("id", nargs="?", help="dead letter id (from `dlq list`)")
    replay.add_argument("--all", action="store_true", help="replay every dead letter not yet replayed")
    connection_options(replay)
    replay.set_defaults(func=_replay)

    reassign = commands.add_parser("reassign", help="hand a report over to another assignee, or re-route it")
    reassign.add_argument("report_id")
    target = reassign.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", help="assignee id, e.g. dishub or kecamatan-73.71.04")
    target.add_argument("--reroute", action="store_true", help="re-run the routing rules in force")
    reassign.add_argument("--reason", required=True, help="why (Indonesian / English)")
    reassign.add_argument("--by", default=f"operator:{os.environ.get('USER', 'cli')}")
    connection_options(reassign)
    reassign.set_defaults(func=_reassign)

    rules = commands.add_parser("rules", help="routing rules in Firestore")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    load = rules_commands.add_parser("load", help="validate a rules file and make it current")
    load.add_argument("file", nargs="?", help="rules JSON (default: the fixture)")
    connection_options(load)
    load.set_defaults(func=_load_rules)


def connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-emulators", action="store_true",
                        help="use the real project (GOOGLE_CLOUD_PROJECT) instead of the local stack")
    parser.add_argument("--config", default=None, help="emulators.json of the local stack")


def use_emulators(args: argparse.Namespace) -> None:
    from pathlib import Path

    if not args.no_emulators:
        from keluhan.devstack.config import EMULATORS_JSON, load_stack_config

        config = load_stack_config(Path(args.config) if args.config else EMULATORS_JSON)
        os.environ.update(config.emulator_env())


def _clients(args: argparse.Namespace) -> tuple[FirestoreDeadLetters, PubSubPublisher, FirestoreRulesDoc]:
    from google.cloud import firestore, pubsub_v1

    from keluhan.adapters.firestore_store import FirestoreDeadLetters, FirestoreRulesDoc
    from keluhan.adapters.pubsub_publisher import PubSubPublisher
    from keluhan.settings import get_settings

    use_emulators(args)
    project = get_settings().project_id
    db = firestore.Client(project=project)
    return (FirestoreDeadLetters(db), PubSubPublisher(pubsub_v1.PublisherClient(), project),
            FirestoreRulesDoc(db))


def _list(args: argparse.Namespace) -> int:
    dead_letters, _, _ = _clients(args)
    for record in dead_letters.list(include_replayed=args.all):
        print(json.dumps({k: record.get(k) for k in ("id", "report_id", "stage", "topic", "reason",
                                                     "attempts", "at", "replayed_at", "replays")},
                         ensure_ascii=False, default=str))
    return 0


def _replay(args: argparse.Namespace) -> int:
    from keluhan.bootstrap import utc_now
    from keluhan.usecases.dead_letters import replay

    if bool(args.id) == bool(args.all):
        raise CliError("give one dead letter id, or --all")
    dead_letters, publisher, _ = _clients(args)
    if args.all:
        records = dead_letters.list()
    else:
        record = dead_letters.get(args.id)
        if record is None:
            raise CliError(f"no dead letter {args.id!r}")
        records = [record]
    for record in records:
        replay(record, publish_raw=publisher.raw, dead_letters=dead_letters, clock=utc_now)
        print(json.dumps({"replayed": record["id"], "topic": record["topic"],
                          "report_id": record.get("report_id")}))
    return 0


def _reassign(args: argparse.Namespace) -> int:
    import functools

    from keluhan import bootstrap
    from keluhan.domain.routing import decide
    from keluhan.ports import PermanentError
    from keluhan.rules_provider import RulesProvider, default_rules_path
    from keluhan.usecases.pipeline import ReportNotFound
    from keluhan.usecases.reassign import reassign_report

    use_emulators(args)
    deps = bootstrap.get_deps()
    rules = RulesProvider(load_doc=deps.rules_doc.load, fixture_path=default_rules_path(deps.settings),
                          ttl_s=0).current()
    try:
        report = reassign_report(args.report_id, to=args.to, reason=args.reason, by=args.by,
                                 reports=deps.reports, decide=functools.partial(decide, rules=rules),
                                 publish=deps.publish, clock=bootstrap.utc_now, sla=deps.sla)
    except (PermanentError, ReportNotFound) as exc:
        raise CliError(str(exc)) from exc
    routing = report.routing
    print(json.dumps({"report_id": args.report_id, "status": report.status.value, "assignee": report.assignee,
                      "rule": routing.rule if routing else None, "reason": routing.reason if routing else None},
                     ensure_ascii=False))
    return 0


def _load_rules(args: argparse.Namespace) -> int:
    from pathlib import Path

    from keluhan.rules_provider import default_rules_path, load_rules

    path = Path(args.file) if args.file else default_rules_path()
    try:
        rules = load_rules(path)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    _, _, rules_doc = _clients(args)
    rules_doc.store(rules.to_dict())
    print(json.dumps({"loaded": str(path), "version": rules.version, "rules": len(rules.rules)}))
    return 0
