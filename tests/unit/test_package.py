"""`keluhan package` builds one self-contained, deployable source directory per function."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from keluhan import topology
from keluhan.cli import CliError, main, package
from keluhan.settings import REPO_ROOT

PINS = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


@pytest.fixture(scope="module")
def geo_layers(tmp_path_factory):
    """Stand-in GeoJSON layers: packaging copies files, it does not read them."""
    directory = tmp_path_factory.mktemp("geo")
    for name in package.GEO_LAYERS_REQUIRED:
        (directory / name).write_text('{"type": "FeatureCollection", "features": []}')
    return directory


@pytest.fixture(scope="module")
def built(tmp_path_factory, geo_layers):
    out = tmp_path_factory.mktemp("build") / "functions"
    package.build_functions(out, geo_dir=geo_layers)
    return out


def test_every_function_gets_main_keluhan_and_pinned_requirements(built):
    assert sorted(p.name for p in built.iterdir()) == sorted(fn.name for fn in topology.FUNCTIONS)
    for fn in topology.FUNCTIONS:
        source = built / fn.name
        assert (source / "main.py").read_bytes() == \
            (REPO_ROOT / "functions" / fn.source_dir / "main.py").read_bytes()
        assert (source / "keluhan" / "settings.py").is_file()
        assert (source / "keluhan" / "topology.py").is_file()
        requirements = (source / "requirements.txt").read_text().splitlines()
        assert requirements == PINS


def test_command_line_and_local_stack_are_left_out_of_the_runtime(built):
    for fn in topology.FUNCTIONS:
        keluhan = built / fn.name / "keluhan"
        assert not (keluhan / "cli").exists()
        assert not (keluhan / "devstack").exists()
        assert not list(keluhan.rglob("__pycache__"))


def test_route_report_carries_the_routing_rules_fixture(built):
    for rel in package.DATA_FILES["route_report"]:
        assert (built / "route_report" / rel).read_bytes() == (REPO_ROOT / rel).read_bytes()


def test_enrich_geo_carries_the_geo_layers(built, geo_layers):
    geo = built / package.GEO_FUNCTION / package.GEO_DIR
    assert sorted(p.name for p in geo.iterdir()) == sorted(package.GEO_LAYERS_REQUIRED)
    assert not (built / "route_report" / package.GEO_DIR).exists()


def test_a_geo_bundle_is_copied_under_its_own_name(tmp_path):
    bundle = tmp_path / "makassar-2026.bundle"
    bundle.write_bytes(b"bundle")
    out = tmp_path / "functions"
    package.build_functions(out, geo_bundle=bundle)
    assert (out / package.GEO_FUNCTION / package.GEO_DIR / bundle.name).read_bytes() == b"bundle"


def test_missing_geo_layers_fail_naming_the_file(tmp_path):
    with pytest.raises(CliError, match="makassar_kelurahan.geojson"):
        package.build_functions(tmp_path / "functions", geo_dir=tmp_path / "nowhere")


def test_a_missing_function_source_fails_naming_it(tmp_path):
    for fn in topology.FUNCTIONS[1:]:
        (tmp_path / "functions" / fn.name).mkdir(parents=True)
        (tmp_path / "functions" / fn.name / "main.py").write_text("")
    missing = topology.FUNCTIONS[0].name
    with pytest.raises(CliError, match=f"functions/{missing}/main.py"):
        package.build_functions(tmp_path / "out", repo=tmp_path, geo_dir=tmp_path)
    assert not (tmp_path / "out").exists()


def test_a_rebuild_replaces_stale_files(tmp_path, geo_layers):
    out = tmp_path / "functions"
    stale = out / "get_report" / "stale.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("")
    package.build_functions(out, geo_dir=geo_layers)
    assert not stale.exists()


def test_command_prints_what_it_built(tmp_path, geo_layers, capsys):
    out = tmp_path / "functions"
    assert main(["package", "--out", str(out), "--geo-dir", str(geo_layers)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["out"] == str(out)
    assert set(printed["files"]) == {fn.name for fn in topology.FUNCTIONS}


def test_each_built_function_imports_on_its_own(built):
    """The build needs nothing from the repository: no shared/ on the path, no cli, no devstack."""
    probe = """
import importlib, json, sys
shared = sys.argv[1]
sys.path[:] = [p for p in sys.path if p and not p.startswith(shared)]
failures = {}
for source, name in zip(sys.argv[2::2], sys.argv[3::2]):
    for module in [m for m in sys.modules if m == "main" or m.split(".")[0] == "keluhan"]:
        del sys.modules[module]
    sys.path.insert(0, source)
    try:
        main = importlib.import_module("main")
        assert main.__file__.startswith(source), main.__file__
        assert sys.modules["keluhan"].__file__.startswith(source), sys.modules["keluhan"].__file__
        assert callable(getattr(main, name)), f"no entry point {name}"
    except Exception as exc:
        failures[name] = f"{type(exc).__name__}: {exc}"
    sys.path.remove(source)
print(json.dumps(failures))
"""
    args = [str(REPO_ROOT / "shared")]
    for fn in topology.FUNCTIONS:
        args += [str(built / fn.name), fn.name]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KELUHAN_", "PYTHONPATH"))}
    result = subprocess.run([sys.executable, "-B", "-c", probe, *args], capture_output=True,
                            text=True, timeout=120, cwd=built, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {}


RUNTIME_PROBE = """
import json, sys
from functions_framework import create_app
source, target, signature = sys.argv[1:4]
app = create_app(target=target, source=source + "/main.py", signature_type=signature)
loaded = {m: getattr(sys.modules[m], "__file__", None) for m in ("main", "keluhan") if m in sys.modules}
print(json.dumps({"site": [p for p in sys.path if p.endswith("site-packages")], "loaded": loaded}))
"""


@pytest.fixture(scope="module")
def runtime_python(built):
    """A virtualenv with nothing but a package's requirements.txt, as the Cloud Functions build makes.

    Every function has the same requirements, so one environment serves all; it is kept under
    build/ by the hash of the requirements and reused until they change.
    """
    requirements = {(built / fn.name / "requirements.txt").read_text() for fn in topology.FUNCTIONS}
    (text,) = requirements
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    venv = REPO_ROOT / "build" / f"runtime-venv-{digest}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        # uv, as ./scripts/setup installs the project's own packages: the same requirements resolved
        # and installed in ~3 s where pip took ~20 s.
        uv = str(Path(sys.executable).parent / "uv")
        subprocess.run([uv, "venv", "--quiet", "--clear", "--python", sys.executable, str(venv)], check=True,
                       timeout=120)
        subprocess.run([uv, "pip", "install", "--quiet", "--python", str(python), "-r",
                        str(built / topology.FUNCTIONS[0].name / "requirements.txt")],
                       check=True, timeout=600)
        (venv / ".complete").write_text(text)
    return python


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=lambda fn: fn.name)
def test_each_package_loads_in_a_clean_runtime_as_cloud_functions_loads_it(built, runtime_python, fn):
    source = built / fn.name
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run([str(runtime_python), "-I", "-B", "-c", RUNTIME_PROBE, str(source), fn.name,
                             fn.signature], capture_output=True, text=True, timeout=120, cwd=source, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["loaded"]["main"] == str(source / "main.py")
    assert report["loaded"]["keluhan"].startswith(str(source)), "keluhan must come from the package"
    assert all(site.startswith(str(runtime_python.parent.parent)) for site in report["site"])
