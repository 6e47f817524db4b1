"""`keluhan openapi`: the HTTP API's OpenAPI 3.1 document, built from the request, response and
error models (docs/openapi.json is this output; a unit test fails when it is stale)."""

from __future__ import annotations

import argparse
from pathlib import Path

from keluhan.cli import Commands


def register(commands: Commands) -> None:
    parser = commands.add_parser("openapi", help="print or write the HTTP API's OpenAPI 3.1 document",
                                 description=__doc__)
    parser.add_argument("--output", type=Path, help="write it to this file instead of stdout "
                                                    "(e.g. docs/openapi.json)")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from keluhan.openapi import render

    text = render()
    if args.output is None:
        print(text, end="")
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0
