"""Every setting a stage sets is one the code reads: a misspelt name in .chalice/config.json fails here
instead of being ignored in AWS (PHOTOROOM_PRICE_PER_CALL was set while PHOTOROOM_PRICE_USD was read)."""

from __future__ import annotations

import ast
import json

from chalicelib.config import SETTINGS
from infra.local.environment import ROOT

# Read by libraries or by the local stack, not by chalicelib.
OUTSIDE = {
    "LOG_LEVEL",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_METRICS_DISABLED",
}
LOCAL_ONLY = {"EVENT_QUEUE_PREFIX"}  # the local event runtime's queues (infra/local)


def names_read_by_the_code() -> set[str]:
    """Declared optional settings, stage names passed to `required`, secrets (as NAME and NAME_PARAMETER)."""
    names = set(SETTINGS)
    for path in [*(ROOT / "chalicelib").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if called in ("required", "secret", "configured") and isinstance(first, ast.Constant):
                names.add(first.value)
                if called != "required":
                    names.add(f"{first.value}_PARAMETER")
    return names


def test_every_stage_setting_is_read_by_the_code() -> None:
    config = json.loads((ROOT / ".chalice/config.json").read_text())
    stage_names = set(config["environment_variables"])
    for stage in config["stages"].values():
        stage_names |= set(stage.get("environment_variables", {}))
    for function in config.get("lambda_functions", {}).values():
        stage_names |= set(function.get("environment_variables", {}))
    unread = stage_names - names_read_by_the_code() - OUTSIDE - LOCAL_ONLY
    assert not unread, f".chalice/config.json sets settings no code reads: {sorted(unread)}"


def test_the_scan_finds_the_reads_it_is_meant_to() -> None:
    names = names_read_by_the_code()
    assert {"PRODUCTS_TABLE", "JWT_SECRET", "JWT_SECRET_PARAMETER", "GEMINI_MODEL"} <= names
