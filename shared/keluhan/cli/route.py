"""`keluhan route`: the routing decision for one category at one point, without the stack."""

from __future__ import annotations

import argparse
import json

from keluhan.cli import Commands


def register(commands: Commands) -> None:
    parser = commands.add_parser(
        "route",
        help="show which SKPD a report would go to, and why",
        description="Locate a point with the geo data and route it with the rules fixture, "
        "exactly as the routing function does.",
    )
    parser.add_argument("--category", required=True, help="category code, e.g. jalan_rusak")
    parser.add_argument("--lat", required=True, type=float)
    parser.add_argument("--lon", required=True, type=float)
    parser.add_argument("--street", help="street name as the phone reports it")
    parser.add_argument("--rules", help="rules file (default: settings, else fixtures/routing_rules.json)")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from keluhan.cli import CliError
    from keluhan.domain.catalogue import CATEGORIES
    from keluhan.domain.routing import decide
    from keluhan.rules_provider import default_rules_path, load_rules
    from keluhan.settings import get_settings

    if args.category not in CATEGORIES:
        raise CliError(
            f"kategori tidak dikenal / unknown category {args.category!r}; "
            f"known: {', '.join(CATEGORIES)}"
        )
    if not (-90 <= args.lat <= 90 and -180 <= args.lon <= 180):
        raise CliError("koordinat tidak valid / invalid coordinates")
    settings = get_settings()
    try:
        rules = load_rules(args.rules or default_rules_path(settings))
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    try:
        from keluhan.geodata import geo_index_from_settings
    except ImportError as exc:
        raise CliError(f"indeks geo belum tersedia / geo index not available: {exc}") from exc
    try:
        index = geo_index_from_settings(settings)
    except (OSError, ValueError) as exc:
        raise CliError(f"data geo tidak dapat dimuat / geo data could not be loaded: {exc}") from exc
    location = index.locate(args.lat, args.lon, street=args.street)
    decision = decide(category=args.category, location=location, rules=rules)
    output = {
        "category": args.category,
        **decision.model_dump(mode="json"),
        "location": location.model_dump(mode="json"),
    }
    print(json.dumps(output, ensure_ascii=False, indent=2))
    return 0
