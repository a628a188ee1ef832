"""The API function: every /api/v1 route. Handlers parse, call one service, answer."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.config import get_settings
from chalicelib.health import detailed_health

blueprint = Blueprint(__name__)


@blueprint.route("/health", methods=["GET"])
def health() -> dict[str, Any]:
    return {"status": "ok", "stage": get_settings().stage}


@blueprint.route("/health/detailed", methods=["GET"])
def health_detailed() -> Response:
    report = detailed_health()
    return Response(body=report, status_code=200 if report["status"] == "ok" else 503)
