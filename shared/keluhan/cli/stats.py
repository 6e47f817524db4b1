"""`keluhan stats rebuild|show`: the handling-time figures, recomputed or printed as a table."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from keluhan.cli import CliError, Commands
from keluhan.cli.ops import connection_options, use_emulators

if TYPE_CHECKING:
    from keluhan.bootstrap import Deps

BY = ("city", "skpd", "kecamatan", "kelurahan", "category", "channel")


def register(commands: Commands) -> None:
    stats = commands.add_parser("stats", help="handling-time figures (stats/…)")
    sub = stats.add_subparsers(dest="stats_command", required=True)
    rebuild = sub.add_parser("rebuild", help="recompute every figure from the reports")
    rebuild.add_argument("--check", action="store_true",
                         help="only compare with the incremental figures; exit 1 if they differ")
    connection_options(rebuild)
    rebuild.set_defaults(func=_rebuild)
    show = sub.add_parser("show", help="print the figures as a table")
    show.add_argument("--by", choices=BY, default="skpd")
    show.add_argument("--month", default="all", help="YYYY-MM (WITA), or all")
    show.add_argument("--json", action="store_true", help="one JSON object per row")
    connection_options(show)
    show.set_defaults(func=_show)


def _deps(args: argparse.Namespace) -> Deps:
    from keluhan import bootstrap

    use_emulators(args)
    return bootstrap.get_deps()


def _rebuild(args: argparse.Namespace) -> int:
    from keluhan.usecases.figures import differences, rebuild

    deps = _deps(args)
    totals, states = rebuild(deps.reports.all())
    diff = differences(deps.stats.groups(), totals)
    if args.check:
        for line in diff[:50]:
            print(line)
        print(json.dumps({"reports": len(states), "groups": len(totals), "differences": len(diff)}))
        return 1 if diff else 0
    deps.stats.overwrite(totals, states)
    print(json.dumps({"reports": len(states), "groups": len(totals), "differences_before": len(diff)}))
    return 0


def _show(args: argparse.Namespace) -> int:
    from keluhan.usecases.figures import table

    if args.month != "all" and not (len(args.month) == 7 and args.month[4] == "-"):
        raise CliError("--month must be YYYY-MM or all")
    rows = table(_deps(args).stats, by=args.by, month=args.month)
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    head = (f"{args.by:<28} {'recv':>5} {'open':>5} {'resolv':>6} {'closed':>6} {'reopen':>6} "
            f"{'notours':>7} {'overdue':>7} {'med_h':>6} {'p90_h':>6} {'SLA met':>7} "
            f"{'sched':>5} {'past':>4} {'ask':>4} {'valid':>5} {'audit+':>6} {'audit-':>6}")
    print(head)
    for r in rows:
        sla = f"{r['sla_met']:.0%}" if r["sla_met"] is not None else "-"
        print(f"{str(r['name'])[:28]:<28} {r['received']:>5} {r['open']:>5} {r['resolved']:>6} {r['closed']:>6} "
              f"{r['reopened']:>6} {r['rejected_not_ours']:>7} {r['overdue']:>7} "
              f"{_h(r['resolution_h_median']):>6} {_h(r['resolution_h_p90']):>6} {sla:>7} "
              f"{r['scheduled']:>5} {r['scheduled_past_date']:>4} {r['awaiting_reporter']:>4} "
              f"{r['awaiting_validation']:>5} {r['audits_passed']:>6} {r['audits_refused']:>6}")
    return 0


def _h(value: object) -> str:
    return "-" if value is None else (f"≤{value:g}" if isinstance(value, float | int) else str(value))
