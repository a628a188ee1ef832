"""Which Gemini models a stage may run, at what price, with which settings (providers/gemini.py)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from datetime import date

import pytest

from chalicelib.config import SETTINGS
from chalicelib.providers import gemini
from infra.local.environment import ROOT, stage_environment


def test_the_default_model_is_current_and_priced() -> None:
    default = SETTINGS["GEMINI_MODEL"].default
    assert default is not None and gemini.model_problem(default) is None
    assert default in gemini.MODELS


@pytest.mark.parametrize("stage", ["local", "dev", "prod"])
def test_every_stage_runs_a_model_the_table_prices(stage: str) -> None:
    model = stage_environment(stage).get("GEMINI_MODEL") or SETTINGS["GEMINI_MODEL"].default
    assert model is not None and gemini.model_problem(model) is None


def test_every_allowed_model_has_prices_and_generation_settings() -> None:
    for name, model in gemini.MODELS.items():
        assert model.prices, name
        assert [p.since for p in model.prices] == sorted(p.since for p in model.prices), name
        assert all(p.input_per_mtok > 0 and p.output_per_mtok > 0 for p in model.prices), name
        assert model.family in gemini.GENERATION, name
    for retired, replacement in gemini.RETIRED.items():
        assert retired not in gemini.MODELS
        assert replacement in gemini.MODELS, f"{retired} points at {replacement}, which is not allowed"


def test_the_readme_names_the_default_model_and_the_date_it_was_checked() -> None:
    readme = (ROOT / "README.md").read_text()
    default = SETTINGS["GEMINI_MODEL"].default
    assert f"`{default}`" in readme
    assert re.search(r"checked on \d{4}-\d{2}-\d{2}", readme)


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        ("gemini-2.5-flash", "retired"),
        ("gemini-3-flash-preview", "retired"),
        ("gemini-42-ultra", "not a model this code prices"),
        ("gemini-3.5-flash-lite", None),
    ],
)
def test_a_model_a_stage_must_not_run_is_named_with_what_to_set(model: str, problem: str | None) -> None:
    found = gemini.model_problem(model)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found and "set GEMINI_MODEL to" in found


def test_a_model_past_its_shutdown_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert gemini.model_problem("gemini-3.1-flash-lite") is None
    monkeypatch.setattr(gemini, "_today", lambda: date(2027, 5, 7))
    assert "shut down on 2027-05-07" in str(gemini.model_problem("gemini-3.1-flash-lite"))


def test_prices_follow_the_day_and_the_reported_version() -> None:
    assert gemini.price("gemini-3.8-flash", date(2026, 12, 31)).input_per_mtok == 0.75
    assert gemini.price("gemini-3.8-flash-001", date(2027, 1, 1)).output_per_mtok == 7.50
    assert gemini.priced_model("models/gemini-3.5-flash-lite-002") == "gemini-3.5-flash-lite"
    assert gemini.priced_model("gemini-3.5-flash") == "gemini-3.5-flash"
    assert gemini.priced_model("gemini-3.5-flashy") is None


# Imported only where they exist: the local stack's extras (requirements-local.txt; in AWS the images
# function's layer), and chalice itself, which `chalice package` adds.
NOT_FROM_REQUIREMENTS = {"numpy", "onnxruntime", "rapidocr", "chalice"}
# A namespace several distributions share: the one the code imports from it.
NAMESPACES = {"google": ["google-genai"]}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_package_the_code_imports_is_pinned_for_lambda() -> None:
    """httpx2 (google-genai's HTTP client, whose errors gemini.py catches) and boto3 included."""
    modules: set[str] = set()
    for folder in ("chalicelib", "functions"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    modules.add(node.module.split(".")[0])
    distributions = importlib.metadata.packages_distributions()
    third_party = {
        _normal(distribution)
        for module in modules - set(sys.stdlib_module_names) - NOT_FROM_REQUIREMENTS
        for distribution in NAMESPACES.get(module, distributions.get(module, []))
    }
    assert {"httpx2", "google-genai", "boto3", "pillow"} <= third_party  # the scan sees them
    pinned = {
        _normal(line.split("==")[0].strip())
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    }
    assert third_party <= pinned, (
        f"imported but not pinned in requirements.txt: {sorted(third_party - pinned)}"
    )
