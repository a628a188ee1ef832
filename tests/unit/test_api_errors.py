"""Every API error leaves in one shape, with the request id in the body, the header and the logs."""

import io
import json

import pytest
from chalice.app import BadRequestError, Chalice
from chalice.test import Client

from chalicelib.api.http import ApiError, http_middleware
from chalicelib.observability import logger
from infra.local.environment import ROOT


@pytest.fixture
def client() -> Client:
    app = Chalice(app_name="errors-test")
    app.register_middleware(http_middleware, "http")

    @app.route("/refused")
    def refused() -> None:
        raise ApiError(422, "VALIDATION_ERROR", "prompt is too long", {"field": "prompt", "limit": 500})

    @app.route("/bad")
    def bad() -> None:
        raise BadRequestError("not JSON")

    @app.route("/broken")
    def broken() -> None:
        raise RuntimeError("secret internal detail")

    @app.route("/fine")
    def fine() -> dict[str, bool]:
        return {"fine": True}

    with Client(app, stage_name="local", project_dir=str(ROOT)) as test_client:
        yield test_client


def _error(response) -> dict:  # type: ignore[no-untyped-def]
    body = json.loads(response.body)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    return body["error"]


def test_an_api_error_keeps_its_code_and_details(client: Client) -> None:
    response = client.http.get("/refused")
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == {"field": "prompt", "limit": 500}


def test_chalice_own_errors_are_folded_into_the_same_shape(client: Client) -> None:
    response = client.http.get("/bad")
    assert response.status_code == 400
    assert _error(response)["code"] == "BAD_REQUEST"


def test_an_unexpected_failure_hides_its_internals(client: Client) -> None:
    response = client.http.get("/broken")
    assert response.status_code == 500
    error = _error(response)
    assert error["code"] == "INTERNAL_ERROR"
    assert "secret" not in response.body.decode()


def test_successful_responses_carry_the_request_id_too(client: Client) -> None:
    response = client.http.get("/fine")
    assert response.status_code == 200
    assert len(response.headers["X-Request-Id"]) >= 16


def test_the_request_id_from_api_gateway_is_reused(client: Client) -> None:
    # chalice.test sends a context with a requestId; it must be the one we report.
    response = client.http.get("/refused")
    assert _error(response)["request_id"] == response.headers["X-Request-Id"]


def test_log_lines_of_a_request_carry_its_id(client: Client) -> None:
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    try:
        response = client.http.get("/refused")
    finally:
        logger.registered_handler.setStream(previous)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    refused = [line for line in lines if line.get("message") == "request refused"]
    assert refused and refused[0]["request_id"] == response.headers["X-Request-Id"]
