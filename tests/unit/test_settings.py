"""One declared list of settings (chalicelib.config.SETTINGS), and .chalice/config.json tied to it.

Every setting a stage sets is one the code reads: a misspelt name in .chalice/config.json fails here
instead of being ignored in AWS (PHOTOROOM_PRICE_PER_CALL was set while PHOTOROOM_PRICE_USD was
read). Every name the code reads is declared, so the deploy pre-check and the functions' own check at
start see all of them; and each deployed stage gives every declared need its source.
"""

from __future__ import annotations

import ast
import json

import pytest

from chalicelib.config import EVERY, FUNCTIONS, SETTINGS, Source
from infra.local.environment import ROOT, stage_environment

# Read by libraries or by the local stack, not by chalicelib.
OUTSIDE = {
    "LOG_LEVEL",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_METRICS_DISABLED",
    # glibc: large blocks are mapped and given back when freed (the OCR's and the cut-out's peaks
    # otherwise stay resident; BENCHMARKS.md, Pipeline under load).
    "MALLOC_MMAP_THRESHOLD_",
}
LOCAL_ONLY = {"EVENT_QUEUE_PREFIX"}  # the local event runtime's queues (infra/local)
READERS = ("required", "secret", "configured", "value", "model_path")


def names_the_code_reads() -> set[str]:
    """Every literal name passed to config's readers in chalicelib/ and functions/."""
    names = set()
    for path in [*(ROOT / "chalicelib").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if called in READERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    return names


def names_a_stage_may_set() -> set[str]:
    """Declared settings, and NAME_PARAMETER for the ones that come from SSM."""
    return set(SETTINGS) | {f"{name}_PARAMETER" for name, s in SETTINGS.items() if s.source.in_ssm}


def stage_settings() -> dict[str, set[str]]:
    config = json.loads((ROOT / ".chalice/config.json").read_text())
    found: dict[str, set[str]] = {}
    for stage, body in config["stages"].items():
        names = set(config["environment_variables"]) | set(body.get("environment_variables", {}))
        for scope in (config, body):
            for function in scope.get("lambda_functions", {}).values():
                names |= set(function.get("environment_variables", {}))
        found[stage] = names
    return found


def test_every_name_the_code_reads_is_declared() -> None:
    undeclared = names_the_code_reads() - set(SETTINGS)
    assert not undeclared, f"read but not in config.SETTINGS: {sorted(undeclared)}"


def test_every_stage_setting_is_read_by_the_code() -> None:
    for stage, names in stage_settings().items():
        unread = names - names_a_stage_may_set() - OUTSIDE - LOCAL_ONLY
        assert not unread, f"{stage}: .chalice/config.json sets settings no code reads: {sorted(unread)}"


def test_the_scan_finds_the_reads_it_is_meant_to() -> None:
    assert {
        "PRODUCTS_TABLE",
        "JWT_SECRET",
        "GEMINI_MODEL",
        "MERCADOLIBRE_CLIENT_ID",
    } <= names_the_code_reads()


def test_every_declared_need_names_real_functions() -> None:
    config = json.loads((ROOT / ".chalice/config.json").read_text())
    assert set(FUNCTIONS) == set(config["lambda_functions"])
    for setting in SETTINGS.values():
        assert setting.needed_by <= EVERY, setting.name
        assert setting.about, setting.name


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_a_deployed_stage_gives_every_need_its_source(stage: str) -> None:
    """Stage settings are in the stage's environment (the images function's own included); SSM ones
    are named by NAME_PARAMETER under the stage's prefix, which the roles may read."""
    config = json.loads((ROOT / ".chalice/config.json").read_text())
    env = stage_environment(stage)
    for setting in SETTINGS.values():
        for function in sorted(setting.needed_by):
            scoped = {
                **env,
                **config["stages"][stage]
                .get("lambda_functions", {})
                .get(function, {})
                .get("environment_variables", {}),
            }
            if setting.source is Source.STAGE:
                assert scoped.get(setting.name), f"{stage}/{function}: {setting.name} is not set"
            elif setting.source.in_ssm:
                parameter = scoped.get(f"{setting.name}_PARAMETER", "")
                assert parameter.startswith(f"/intellipost/{stage}/"), f"{stage}/{function}: {setting.name}"
                assert setting.name not in scoped, f"{stage}: {setting.name} comes from SSM, not the config"
            else:
                assert scoped.get(setting.name) or setting.default, f"{stage}/{function}: {setting.name}"


@pytest.fixture
def deployed_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dev stage's environment, with every SSM-sourced setting given as a plain value."""
    for name, value in stage_environment("dev").items():
        monkeypatch.setenv(name, value)
    for name, setting in SETTINGS.items():
        monkeypatch.delenv(f"{name}_PARAMETER", raising=False)
        if setting.source.in_ssm or setting.source is Source.STAGE:
            monkeypatch.setenv(name, f"value-of-{name.lower()}")


@pytest.mark.usefixtures("deployed_stage")
def test_a_deployed_function_names_each_setting_it_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.config import missing_for

    assert [missing_for(function) for function in FUNCTIONS] == [[]] * len(FUNCTIONS)
    monkeypatch.delenv("MERCADOLIBRE_CLIENT_ID")
    monkeypatch.delenv("GEMINI_API_KEY")
    problems = missing_for("content")
    assert [(p.code, p.setting) for p in problems] == [
        ("SETTING_MISSING", "MERCADOLIBRE_CLIENT_ID"),
        ("SETTING_MISSING", "GEMINI_API_KEY"),
    ]
    assert "MERCADOLIBRE_CLIENT_ID_PARAMETER" in str(problems[0])  # says where it should come from
    assert problems[0].message == "the service is missing a setting (MERCADOLIBRE_CLIENT_ID)"
    assert missing_for("images") == [] and missing_for("ingest") == []
    monkeypatch.setenv("GEMINI_MODEL", "gemini-2.5-flash")
    [*_, retired] = missing_for("content")
    assert (retired.code, retired.setting) == ("SETTING_INVALID", "GEMINI_MODEL")


def test_nothing_is_checked_on_the_local_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.config import missing_for

    monkeypatch.setenv("STAGE", "local")
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    assert missing_for("content") == []


def test_the_readme_lists_every_setting_a_deployed_function_needs() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| ") and "needed by" not in line]
    for name, setting in SETTINGS.items():
        if setting.needed_by and not name.endswith("_TABLE"):
            assert any(f"`{name}`" in row for row in rows), f"README's settings table lacks {name}"
