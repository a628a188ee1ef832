"""The house's rooms, checked from the code's own imports: arrows go one way.

- the domain imports nothing but the standard library and itself;
- only the API edge (chalicelib/api, functions/api) knows HTTP: no other module imports the API
  package or Chalice's request and response types, so no service can raise an HTTP error;
- only the store (chalicelib/store) knows the tables: nothing else imports PynamoDB or the models;
- each event function hands its event to the step module of its own name.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from infra.local.environment import ROOT

SOURCES = sorted([*(ROOT / "chalicelib").rglob("*.py"), *(ROOT / "functions").rglob("*.py")])


def imports(path: Path) -> set[str]:
    """Every module `path` imports, by its full dotted name (from-imports name the module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def room(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def under(path: Path, *folders: str) -> bool:
    return any(room(path).startswith(folder) for folder in folders)


def test_the_scan_reads_the_imports_it_is_meant_to() -> None:
    assert "chalicelib.store.models.ProductRow" in imports(ROOT / "chalicelib/store/products.py")
    assert "chalicelib.api.views" in imports(ROOT / "functions/api/products.py")
    assert len(SOURCES) > 50


@pytest.mark.parametrize("path", [p for p in SOURCES if under(p, "chalicelib/domain/")], ids=room)
def test_the_domain_is_pure(path: Path) -> None:
    outside = {
        name
        for name in imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not name.startswith("chalicelib.domain")
        and name != "__future__.annotations"
        and not name.startswith("__future__")
    }
    assert not outside, f"{room(path)} imports {sorted(outside)}"


@pytest.mark.parametrize(
    "path", [p for p in SOURCES if not under(p, "chalicelib/api/", "functions/api/")], ids=room
)
def test_only_the_edge_speaks_http(path: Path) -> None:
    http = {
        name
        for name in imports(path)
        if name.startswith("chalicelib.api")
        or name in ("chalice.app.Request", "chalice.app.Response", "chalice.app.ChaliceUnhandledError")
    }
    # The one middleware module outside the edge reads a request's id for its log lines.
    if room(path) == "chalicelib/observability.py":
        http -= {"chalice.app.Request"}
    assert not http, f"{room(path)} reaches into the HTTP edge: {sorted(http)}"


@pytest.mark.parametrize("path", [p for p in SOURCES if not under(p, "chalicelib/store/")], ids=room)
def test_only_the_store_knows_the_tables(path: Path) -> None:
    tables = {
        name
        for name in imports(path)
        if name.startswith("pynamodb") or name.startswith("chalicelib.store.models")
    }
    assert not tables, f"{room(path)} imports {sorted(tables)}: go through chalicelib.store"


@pytest.mark.parametrize("step", ["ingest", "images", "content", "publish"])
def test_each_function_hands_its_event_to_the_step_of_its_name(step: str) -> None:
    used = {name for name in imports(ROOT / f"functions/{step}.py") if name.startswith("chalicelib.")}
    steps = {name.rsplit(".", 1)[0] for name in used if name.count(".") == 2}
    assert f"chalicelib.{step}" in steps, f"functions/{step}.py uses {sorted(used)}"


def imported_test_modules(path: Path, root: Path = ROOT) -> set[str]:
    """The test modules (tests/**/test_*.py, under `root`) that `path` imports, relative imports too."""
    names: set[str] = set()
    package = path.relative_to(root).parent.parts
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] if node.level else ())
            module = ".".join(part for part in (base, node.module or "") if part)
            names |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    found = set()
    for name in names:
        file = root.joinpath(*name.split(".")).with_suffix(".py")
        if name.startswith("tests.") and file.name.startswith("test_") and file.is_file():
            found.add(file.relative_to(root).as_posix())
    return found


def test_the_test_import_scan_finds_every_way_of_importing_a_test_module(tmp_path: Path) -> None:
    folder = tmp_path / "tests" / "integration"
    folder.mkdir(parents=True)
    for name in ("__init__.py", "test_a.py", "test_b.py", "test_c.py", "test_d.py", "helpers.py"):
        (folder / name).write_text("X = 1\n")
    (folder / "test_e.py").write_text(
        "from tests.integration.test_a import X\n"
        "from tests.integration import test_b\n"
        "from .test_c import X as Y\n"
        "import tests.integration.test_d\n"
        "from tests.integration.helpers import X as Z\n"
        "from . import helpers\n"
    )
    assert imported_test_modules(folder / "test_e.py", tmp_path) == {
        f"tests/integration/test_{letter}.py" for letter in "abcd"
    }


FOLDERS = ("chalicelib", "functions", "infra", "bench", "tests")
PYTHON = [ROOT / "app.py", *sorted(path for folder in FOLDERS for path in (ROOT / folder).rglob("*.py"))]


def test_no_module_imports_a_test_module() -> None:
    assert len([p for p in PYTHON if room(p).startswith("tests/")]) > 50
    imported = {room(path): found for path in PYTHON if (found := imported_test_modules(path))}
    assert imported == {}, "move what is shared into a support module or a fixture"
