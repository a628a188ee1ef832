"""The process environment of the local stack, derived from `.chalice/config.json`.

The stage's environment variables are the single source of bucket, table and queue names; this
module only adds what an emulator needs (an endpoint and throwaway credentials).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
STATE_DIR = Path(os.environ.get("INTELLIPOST_STATE_DIR", ROOT / ".local"))

# Throwaway credentials: the emulator accepts any, and they keep a developer's real AWS profile
# out of reach of a local run.
EMULATOR_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def stage_environment(stage: str = "local") -> dict[str, str]:
    """Top-level plus stage-level environment variables, as Chalice merges them."""
    config = json.loads(CHALICE_CONFIG.read_text())
    merged = dict(config.get("environment_variables", {}))
    merged.update(config["stages"][stage].get("environment_variables", {}))
    return merged


def function_timeout(name: str, stage: str = "local", default: int = 60) -> int:
    """A function's lambda_timeout: stage-level beats top-level, as in Chalice."""
    config = json.loads(CHALICE_CONFIG.read_text())
    for scope in (config["stages"][stage], config):
        timeout = scope.get("lambda_functions", {}).get(name, {}).get("lambda_timeout")
        if timeout is not None:
            return int(timeout)
    return default


def emulator_environment(endpoint_url: str, stage: str = "local") -> dict[str, str]:
    env = stage_environment(stage)
    env.update(EMULATOR_CREDENTIALS)
    env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


def apply(env: dict[str, str]) -> None:
    os.environ.update(env)
