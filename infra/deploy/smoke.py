"""The smoke check: the deployed `/api/v1/health/detailed` answers 200, healthy, for this stage,
and the panel's URL serves the panel's index.html.

The API check goes through API Gateway to the `live` alias, so it exercises the version just
released against the stage's real tables and bucket. Retries cover API Gateway's propagation, cold
starts and CloudFront's.
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


def _poll(
    url: str,
    verdict: Callable[[Any], str],
    attempts: int,
    wait_seconds: float,
    get: Callable[..., Any],
    sleep: Callable[[float], None],
) -> SmokeResult:
    detail = ""
    for attempt in range(1, attempts + 1):
        try:
            response = get(url, timeout=30)
        except requests.RequestException as error:
            detail = f"did not answer ({type(error).__name__})"
        else:
            detail = verdict(response)
            if not detail:
                return SmokeResult(True, url, attempt, "")
        if attempt < attempts:
            sleep(wait_seconds)
    return SmokeResult(False, url, attempts, f"GET {url} {detail} (after {attempts} attempts)")


def smoke_check(
    endpoint: str,
    stage: str,
    attempts: int = 6,
    wait_seconds: float = 5.0,
    get: Callable[..., Any] = requests.get,
    sleep: Callable[[float], None] = time.sleep,
) -> SmokeResult:
    def verdict(response: Any) -> str:
        try:
            body = response.json()
        except ValueError:
            body = None
        return judge(response.status_code, body, stage)

    return _poll(health_url(endpoint), verdict, attempts, wait_seconds, get, sleep)


# Every page of the SvelteKit build loads its code from here; an S3 error page or the API does not.
PANEL_MARKER = "_app/immutable/"


def judge_panel(status: int, content_type: str, body: str) -> str:
    """What is wrong with the panel's answer; empty when it is the panel's index.html."""
    if status != 200:
        return f"answered {status}"
    if not content_type.startswith("text/html"):
        return f"answered {content_type or 'no Content-Type'}, not text/html"
    if PANEL_MARKER not in body:
        return f"answered an HTML page that does not load the panel ({PANEL_MARKER})"
    return ""


def panel_check(
    panel_url: str,
    attempts: int = 6,
    wait_seconds: float = 5.0,
    get: Callable[..., Any] = requests.get,
    sleep: Callable[[float], None] = time.sleep,
) -> SmokeResult:
    def verdict(response: Any) -> str:
        return judge_panel(response.status_code, response.headers.get("Content-Type", ""), response.text)

    return _poll(panel_url.rstrip("/") + "/", verdict, attempts, wait_seconds, get, sleep)
