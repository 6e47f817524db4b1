"""The layering stays true: import contracts (pyproject.toml), a domain without file I/O, lone functions."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from keluhan.settings import REPO_ROOT

BIN = Path(sys.executable).parent
DOMAIN = REPO_ROOT / "shared" / "keluhan" / "domain"
FUNCTIONS = sorted(p.parent.name for p in (REPO_ROOT / "functions").glob("*/main.py"))
# Calls that touch the file system; parsing bytes or text handed in is the domain's job, reading is not.
FILE_METHODS = frozenset({"read_bytes", "read_text", "write_bytes", "write_text", "iterdir", "glob",
                          "rglob", "mkdir", "unlink", "exists", "is_file", "is_dir"})


def _run(tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / tool), *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)


def test_import_contracts_hold():
    result = _run("lint-imports", "--no-cache")
    broken = result.stdout.partition("Broken contracts")[2] or result.stdout
    assert result.returncode == 0, (
        "An import crosses a layer (contracts in pyproject.toml [tool.importlinter]); "
        "pass the dependency in as a port instead:\n" + broken + result.stderr
    )


def _domain_file_io(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        where = f"{path.relative_to(REPO_ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
            found.append(f"{where}: open()")
        elif isinstance(node, ast.Attribute) and node.attr in FILE_METHODS:
            found.append(f"{where}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "pathlib":
            found += [f"{where}: pathlib.{a.name}" for a in node.names if not a.name.startswith("Pure")]
    return found


def test_the_domain_reads_no_files():
    found = [hit for path in sorted(DOMAIN.rglob("*.py")) for hit in _domain_file_io(path)]
    assert not found, "the domain takes parsed data; read files in geodata/rules_provider:\n" + "\n".join(found)


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add("." if node.level else node.module or "")
    return roots


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_imports_no_other_function_nor_dev_only_code(function):
    # Each function is packaged alone (keluhan package), without keluhan.cli and keluhan.devstack.
    imported = _imported_roots(REPO_ROOT / "functions" / function / "main.py")
    others = {m for m in imported if m == "." or m.split(".")[0] in {*FUNCTIONS, "functions", "main"} - {function}}
    dev_only = {m for m in imported if m.split(".")[:2] in (["keluhan", "cli"], ["keluhan", "devstack"])}
    assert not others | dev_only, f"functions/{function}/main.py imports {sorted(others | dev_only)}"


# What a function may take from keluhan: the preamble (http, pubsub), the wiring (bootstrap), the
# use cases and the vocabulary they speak (domain models and views, ports' exceptions, settings),
# the geo files' reader, and for Open311 its wire format. Adapters come through bootstrap.Deps.
FUNCTION_MAY_IMPORT = ("keluhan.http", "keluhan.pubsub", "keluhan.bootstrap", "keluhan.usecases",
                       "keluhan.domain", "keluhan.ports", "keluhan.settings", "keluhan.geodata")
FUNCTION_EXTRA = {"open311": ("keluhan.adapters.georeport",)}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_is_its_use_case_and_its_answer(function):
    imported = _imported_roots(REPO_ROOT / "functions" / function / "main.py")
    allowed = FUNCTION_MAY_IMPORT + FUNCTION_EXTRA.get(function, ())
    ours = {m for m in imported if m.split(".")[0] == "keluhan"}
    # `from keluhan import bootstrap, http` names the package: check what it brings in by name.
    names = _names_from_keluhan(REPO_ROOT / "functions" / function / "main.py")
    outside = {m for m in ours - {"keluhan", "keluhan.adapters"} | names if not any(m == a or m.startswith(a + ".") for a in allowed)}
    assert not outside, f"functions/{function}/main.py imports {sorted(outside)}; take it through bootstrap.Deps"


def _names_from_keluhan(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module in ("keluhan", "keluhan.adapters"):
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_mypy_strict_finds_nothing():
    # The project's configuration ([tool.mypy] in pyproject.toml): strict over shared/keluhan, every
    # functions/<name>/main.py and tests/support. Incremental: .mypy_cache makes a re-run take a second.
    result = _run("mypy")
    assert result.returncode == 0, "mypy --strict:\n" + result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout, result.stdout
