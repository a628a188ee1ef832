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
