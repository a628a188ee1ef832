import dataclasses
import json

import pytest
from chalice.test import Client

from app import app
from chalicelib.config import get_settings
from chalicelib.store.models import ALL_MODELS
from infra.local.environment import ROOT


def _get_detailed() -> tuple[int, dict]:  # type: ignore[type-arg]
    with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
        response = client.http.get("/api/v1/health/detailed")
    return response.status_code, json.loads(response.body)


def test_every_table_and_bucket_answers(provisioned: str) -> None:
    status, report = _get_detailed()
    assert status == 200
    assert report["status"] == "ok"
    assert len(report["tables"]) == len(ALL_MODELS) and all(
        check["ok"] for check in report["tables"].values()
    )
    assert all(check["ok"] for check in report["buckets"].values())
    assert report["providers"] == {"background_remover": "local", "listing_generator": "local"}


def test_a_missing_bucket_makes_it_503_and_names_it(
    provisioned: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = dataclasses.replace(get_settings(), media_bucket="no-such-bucket")
    monkeypatch.setattr("chalicelib.store.health.get_settings", lambda: broken)
    status, report = _get_detailed()
    assert status == 503
    assert report["status"] == "degraded"
    assert report["buckets"]["no-such-bucket"]["ok"] is False


def test_provider_keys_are_reported_by_name_never_by_value(
    provisioned: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHOTOROOM_API_KEY", "pr-live-123456")
    get_settings.cache_clear()
    try:
        _, report = _get_detailed()
    finally:
        get_settings.cache_clear()
    assert report["providers"]["background_remover"] == "photoroom"
    assert "pr-live-123456" not in json.dumps(report)
