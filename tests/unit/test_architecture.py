"""The layering stays true: import contracts (pyproject.toml), a domain without file I/O, lone functions."""

import ast
import io
import re
import subprocess
import sys
import tokenize
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
FUNCTION_MAY_IMPORT = ("keluhan.http", "keluhan.handling_http", "keluhan.pubsub", "keluhan.bootstrap", "keluhan.usecases",
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


# Where mypy is strict, an escape from it says why on its line: `x: Any  # Any: <why>` and
# `call()  # type: ignore[code]  # <why>`, or in the comment block right above the line.
TYPED_TREES = ("shared/keluhan", "functions", "tests/support")
IGNORE = re.compile(r"#\s*type:\s*ignore(\[[^\]]*\])?")


def _unexplained(source: str) -> list[tuple[int, str]]:
    """(line, what) for each `Any` outside imports and each `type: ignore` that carries no reason."""
    comments: dict[int, str] = {}
    any_lines: set[int] = set()
    code_lines: set[int] = set()
    statement: list[str] = []  # the first name of the current logical line
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string
            continue
        if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            if tok.type == tokenize.NEWLINE:
                statement.clear()
            continue
        code_lines.update(range(tok.start[0], tok.end[0] + 1))
        if not statement:
            statement.append(tok.string)
        if tok.type == tokenize.NAME and tok.string == "Any" and statement[0] not in ("import", "from"):
            any_lines.add(tok.start[0])

    def block_above(line: int) -> list[str]:
        block = []
        while line - 1 in comments and line - 1 not in code_lines:
            line -= 1
            block.append(comments[line])
        return block

    found = []
    for line in sorted(any_lines):
        reasons = [comments.get(line, ""), *block_above(line)]
        if not any(re.search(r"#\s*Any:\s*\S", c) for c in reasons):
            found.append((line, "Any without `# Any: <why>`"))
    for line, comment in sorted(comments.items()):
        ignore = IGNORE.search(comment)
        if ignore and not re.search(r"#\s*\S", comment[ignore.end():]) and not block_above(line):
            found.append((line, "type: ignore without `# <why>` after it"))
    return found


@pytest.mark.parametrize(("source", "flagged"), [
    ("from typing import Any\n", []),
    ("from typing import (\n    Any,\n    cast,\n)\n", []),
    ("x: Any = 1\n", [1]),
    ("x: Any = 1  # noqa: F401\n", [1]),
    ("x: Any = 1  # Any: a value of many types\n", []),
    ("# Any: a value of many types,\n# said on two lines\nx: Any = 1\n", []),
    ("# Any: about y only\ny: Any = 1\nx: Any = 2\n", [3]),
    ("s = 'Any'  # the word in a string is no type\n", []),
    ("f()  # type: ignore[no-untyped-call]\n", [1]),
    ("f()  # type: ignore[no-untyped-call]  # the library is unannotated\n", []),
    ("f()  # type: ignore\n", [1]),
    ("# the library is unannotated\nf()  # type: ignore[no-untyped-call]\n", []),
])
def test_the_reason_rule(source, flagged):
    assert [line for line, _ in _unexplained(source)] == flagged


def test_every_any_and_type_ignore_says_why():
    found = [f"{path.relative_to(REPO_ROOT)}:{line}: {what}"
             for tree in TYPED_TREES for path in sorted((REPO_ROOT / tree).rglob("*.py"))
             for line, what in _unexplained(path.read_text(encoding="utf-8"))]
    assert not found, "say why on the line (issue 17), or type it for real:\n" + "\n".join(found)
