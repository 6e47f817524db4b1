"""`keluhan package`: one deployable source directory per function, as Cloud Functions builds it.

Each build/functions/<name>/ holds main.py (and anything else in functions/<source dir>/), a copy of
the keluhan package without the command line and the local stack, a requirements.txt with the
runtime dependencies exactly as pinned in pyproject.toml, and the data files that function reads:
the routing rules fixture for route_report, the geo data for enrich_geo. Terraform zips these
directories; the environment variables it sets point at the copied files under /workspace.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tomllib
from pathlib import Path

from keluhan.cli import Commands
from keluhan.settings import REPO_ROOT

DEFAULT_OUT = REPO_ROOT / "build" / "functions"
# The runtime never runs the command line or the local stack (which needs dev-only packages).
EXCLUDED_SUBPACKAGES = frozenset({"cli", "devstack"})
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
# Repository files a function reads at run time, copied to the same relative path.
DATA_FILES: dict[str, tuple[str, ...]] = {"route_report": ("fixtures/routing_rules.json",)}
GEO_FUNCTION = "enrich_geo"
# Functions that read the boundary files: enrich_geo locates, war_room draws the map,
# subscriptions checks a kelurahan's kode and a circle's centre.
GEO_FUNCTIONS = (GEO_FUNCTION, "war_room", "subscriptions")
GEO_DIR = "geo"  # enrich_geo/geo/: KELUHAN_GEO_DIR, or the bundle named by KELUHAN_GEO_BUNDLE
GEO_LAYERS_REQUIRED = ("makassar_kelurahan.geojson", "makassar_tetangga.geojson")
GEO_LAYERS_OPTIONAL = ("roads.geojson",)


def register(commands: Commands) -> None:
    parser = commands.add_parser(
        "package",
        help="build one deployable source directory per function for Terraform",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output directory (default: {DEFAULT_OUT})")
    geo = parser.add_mutually_exclusive_group()
    geo.add_argument("--geo-bundle", type=Path,
                     help="bundle written by `keluhan geo import`, copied to enrich_geo/geo/")
    geo.add_argument("--geo-dir", type=Path,
                     help="directory of GeoJSON layers (default: settings' geo dir, ../shared/geo)")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from keluhan.settings import get_settings

    geo_dir = args.geo_dir or (None if args.geo_bundle else get_settings().resolved_geo_dir())
    built = build_functions(args.out, geo_bundle=args.geo_bundle, geo_dir=geo_dir)
    summary = {name: _file_count(path) for name, path in built.items()}
    print(json.dumps({"out": str(args.out), "files": summary}, ensure_ascii=False))
    return 0


def build_functions(out: Path, *, repo: Path = REPO_ROOT, geo_bundle: Path | None = None,
                    geo_dir: Path | None = None) -> dict[str, Path]:
    """Write out/<name>/ for every function in the topology; CliError names anything missing."""
    from keluhan.cli import CliError
    from keluhan.topology import FUNCTIONS

    missing = [f"functions/{fn.source_dir}/main.py" for fn in FUNCTIONS
               if not (repo / "functions" / fn.source_dir / "main.py").is_file()]
    if missing:
        raise CliError("fungsi belum ada / missing function source: " + ", ".join(missing))
    if geo_bundle is None and geo_dir is None:
        raise CliError("data geo tidak diberikan / no geo data: pass --geo-bundle or --geo-dir")
    requirements = runtime_requirements(repo / "pyproject.toml")
    built = {}
    for fn in FUNCTIONS:
        dest = out / fn.name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(repo / "functions" / fn.source_dir, dest, ignore=SKIPPED)
        shutil.copytree(repo / "shared" / "keluhan", dest / "keluhan", ignore=_skip_subpackages)
        (dest / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
        for rel in DATA_FILES.get(fn.name, ()):
            _copy_file(repo / rel, dest / rel)
        if fn.name in GEO_FUNCTIONS:
            _copy_geo(dest / GEO_DIR, bundle=geo_bundle, layers_dir=geo_dir)
        built[fn.name] = dest
    return built


def runtime_requirements(pyproject: Path) -> list[str]:
    """The [project] dependencies of pyproject.toml, verbatim."""
    return list(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"])


def _skip_subpackages(directory: str, names: list[str]) -> set[str]:
    skipped = set(SKIPPED(directory, names))
    if Path(directory).name == "keluhan" and "settings.py" in names:
        skipped |= EXCLUDED_SUBPACKAGES.intersection(names)
    return skipped


def _copy_file(src: Path, dest: Path) -> None:
    from keluhan.cli import CliError

    if not src.is_file():
        raise CliError(f"berkas data tidak ada / data file missing: {src}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)


def _copy_geo(dest: Path, *, bundle: Path | None, layers_dir: Path | None) -> None:
    """The bundle as geo/<its name>, else the GeoJSON layers as geo/<layer>."""
    if bundle is not None and bundle.is_dir():
        shutil.copytree(bundle, dest / bundle.name, ignore=SKIPPED)
        return
    if bundle is not None:
        _copy_file(bundle, dest / bundle.name)
        return
    assert layers_dir is not None, "build_functions needs a geo bundle or a geo directory"
    for name in GEO_LAYERS_REQUIRED:
        _copy_file(layers_dir / name, dest / name)
    for name in GEO_LAYERS_OPTIONAL:
        if (layers_dir / name).is_file():
            _copy_file(layers_dir / name, dest / name)


def _file_count(path: Path) -> int:
    return sum(1 for p in path.rglob("*") if p.is_file())
