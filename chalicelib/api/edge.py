"""What every route does at the edge: read the caller, parse the body or query, shape the answer."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from chalice.app import Request, Response
from pydantic import BaseModel, ValidationError

from chalicelib.api.http import ApiError
from chalicelib.auth.tokens import InvalidToken, verify_access_token

MAX_BODY_BYTES = 64 * 1024  # the largest real body (8 declared photos) is under 2 KB

Model = TypeVar("Model", bound=BaseModel)


def caller(request: Request) -> str:
    """The user id behind the request's bearer token, or 401."""
    header = str(request.headers.get("authorization") or "") if request.headers else ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "UNAUTHORIZED", "log in first: send 'Authorization: Bearer <access token>'")
    try:
        return verify_access_token(token.strip())
    except InvalidToken as error:
        raise ApiError(401, "UNAUTHORIZED", str(error)) from error


def body(request: Request, model: type[Model]) -> Model:
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(
            413,
            "PAYLOAD_TOO_LARGE",
            f"the request body is {len(raw)} bytes; at most {MAX_BODY_BYTES}",
            {"limit": MAX_BODY_BYTES, "actual": len(raw)},
        )
    try:
        data = json.loads(raw) if raw else {}
    except ValueError as error:
        raise ApiError(400, "BAD_REQUEST", "the request body is not valid JSON") from error
    return validated(model, data)


def query(request: Request, model: type[Model]) -> Model:
    return validated(model, dict(request.query_params or {}))


def validated(model: type[Model], data: Any) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise validation_error(error) from None


def validation_error(error: ValidationError) -> ApiError:
    problems = [_problem(e) for e in error.errors(include_url=False, include_input=False)]
    first = problems[0]
    details: dict[str, Any] = {"field": first["field"], "problems": problems}
    if "limit" in first:
        details["limit"] = first["limit"]
    return ApiError(422, "VALIDATION_ERROR", f"{first['field'] or 'body'}: {first['message']}", details)


_LIMIT_KEYS = ("max_length", "min_length", "le", "ge", "lt", "gt", "pattern", "expected")


def _problem(error: Any) -> dict[str, Any]:
    field = ".".join(str(part) for part in error["loc"])
    problem: dict[str, Any] = {"field": field, "type": error["type"], "message": error["msg"]}
    context = error.get("ctx") or {}
    for key in _LIMIT_KEYS:
        if key in context:
            problem["limit"] = (
                context[key] if isinstance(context[key], int | float | str) else str(context[key])
            )
            break
    return problem


def answer(payload: BaseModel | list[BaseModel] | None, status: int = 200) -> Response:
    if payload is None:
        return Response(body="", status_code=status)
    if isinstance(payload, list):
        data: Any = [item.model_dump(mode="json") for item in payload]
    else:
        data = payload.model_dump(mode="json")
    return Response(body=data, status_code=status, headers={"Content-Type": "application/json"})
