import json

from chalice.test import Client

from app import app
from infra.local.environment import ROOT


def test_health_is_cheap_and_needs_no_dependency() -> None:
    # No emulator runs for unit tests: /health must answer anyway.
    with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
        response = client.http.get("/api/v1/health")
    assert response.status_code == 200
    assert json.loads(response.body) == {"status": "ok", "stage": "local"}
