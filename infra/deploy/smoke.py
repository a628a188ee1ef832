"""The smoke check: the deployed `/api/v1/health/detailed` answers 200, healthy, for this stage.

It goes through API Gateway to the `live` alias, so it exercises the version just released against
the stage's real tables and bucket. Retries cover API Gateway's propagation and cold starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

HEALTH_PATH = "/api/v1/health/detailed"


@dataclass(frozen=True)
class SmokeResult:
    ok: bool
    url: str
    attempts: int
    detail: str  # what failed, in words; empty when ok


def health_url(endpoint: str) -> str:
    """API Gateway's invoke URL already ends with the stage name (`/api`); routes start at /api/v1."""
    return endpoint.rstrip("/") + HEALTH_PATH


def judge(status: int, body: Any, stage: str) -> str:
    """What is wrong with one answer; empty when nothing is."""
    if not isinstance(body, dict):
        return f"answered {status} without a JSON object"
    failed = [
        f"{kind[:-1]} {name}: {check.get('error', 'not ok')}"
        for kind in ("tables", "buckets")
        for name, check in sorted((body.get(kind) or {}).items())
        if not check.get("ok")
    ]
    if status != 200 or body.get("status") != "ok":
        reason = (
            "; ".join(failed) or (body.get("error") or {}).get("code") or f"status {body.get('status')!r}"
        )
        return f"answered {status}: {reason}"
    if body.get("stage") != stage:
        return f"answered for stage {body.get('stage')!r}, expected {stage!r}"
    return ""


def smoke_check(
    endpoint: str,
    stage: str,
    attempts: int = 6,
    wait_seconds: float = 5.0,
    get: Callable[..., Any] = requests.get,
    sleep: Callable[[float], None] = time.sleep,
) -> SmokeResult:
    url = health_url(endpoint)
    detail = ""
    for attempt in range(1, attempts + 1):
        try:
            response = get(url, timeout=30)
        except requests.RequestException as error:
            detail = f"did not answer ({type(error).__name__})"
        else:
            try:
                body = response.json()
            except ValueError:
                body = None
            detail = judge(response.status_code, body, stage)
            if not detail:
                return SmokeResult(True, url, attempt, "")
        if attempt < attempts:
            sleep(wait_seconds)
    return SmokeResult(False, url, attempts, f"GET {url} {detail} (after {attempts} attempts)")
