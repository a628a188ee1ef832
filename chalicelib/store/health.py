"""What /health/detailed reports: every table and bucket reachable, and which providers are set."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.config import get_settings, providers
from chalicelib.store.aws import get_probe_client
from chalicelib.store.models import ALL_MODELS


def _probe(check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
    except (BotoCoreError, ClientError) as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def detailed_health() -> dict[str, Any]:
    settings = get_settings()
    dynamodb = get_probe_client("dynamodb")
    s3 = get_probe_client("s3")
    tables = {
        model.Meta.table_name: _probe(
            lambda name=model.Meta.table_name: dynamodb.describe_table(TableName=name)
        )
        for model in ALL_MODELS
    }
    buckets = {
        settings.media_bucket: _probe(lambda: s3.head_bucket(Bucket=settings.media_bucket)),
    }
    healthy = all(check["ok"] for check in [*tables.values(), *buckets.values()])
    return {
        "status": "ok" if healthy else "degraded",
        "stage": settings.stage,
        "tables": tables,
        "buckets": buckets,
        "providers": providers(),
    }
