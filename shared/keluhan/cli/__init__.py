"""The `keluhan` command line: local stack, demo, geo, photo, routing and dead-letter tools."""

from __future__ import annotations

import argparse
import sys
from typing import TypeAlias


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


# What each command module's register() adds its parsers to.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


from keluhan.cli import (  # noqa: E402
    bench,
    demo,
    dev,
    geo,
    open311,
    openapi,
    ops,
    package,
    photo,
    route,
    stats,
    users,
    wa,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keluhan", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (dev, demo, geo, photo, route, ops, users, open311, stats, bench, package, openapi, wa):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except CliError as exc:
        print(f"keluhan: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
