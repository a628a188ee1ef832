"""What every route does at the edge: read the caller, parse the body or query, shape the answer."""

from __future__ import annotations

import json
from http.cookies import CookieError, SimpleCookie
from typing import Any, TypeVar

from chalice.app import Request, Response
from pydantic import BaseModel, ValidationError

from chalicelib.api.http import ApiError
from chalicelib.auth.tokens import InvalidToken, verify_access_token
from chalicelib.config import get_settings

MAX_BODY_BYTES = 64 * 1024  # the largest real body (8 declared photos) is under 2 KB
# The deepest real body is 3 levels ({"images": [{...}]}); JSON nested a thousand deep would make the
# parser recurse until it fails, so deeper bodies are refused before they are parsed.
MAX_BODY_DEPTH = 16

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


# The MercadoLibre connection's browser nonce: only sent back to the callback, never readable by scripts.
BROWSER_COOKIE = "intellipost_ml_connect"
_CALLBACK_PATH = "/api/v1/ml/callback"


def browser_cookie(value: str, max_age: int) -> str:
    """The Set-Cookie for the connection nonce (max_age 0 removes it). Secure outside the local stage,
    whose panel is plain http on loopback."""
    secure = "" if get_settings().stage == "local" else "; Secure"
    return (
        f"{BROWSER_COOKIE}={value}; Max-Age={max_age}; Path={_CALLBACK_PATH}; HttpOnly; SameSite=Lax{secure}"
    )


def cookie(request: Request, name: str) -> str | None:
    header = str(request.headers.get("cookie") or "") if request.headers else ""
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    return jar[name].value if name in jar else None


def body(request: Request, model: type[Model]) -> Model:
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(
            413,
            "PAYLOAD_TOO_LARGE",
            f"the request body is {len(raw)} bytes; at most {MAX_BODY_BYTES}",
            {"limit": MAX_BODY_BYTES, "actual": len(raw)},
        )
    depth = nesting_depth(raw if isinstance(raw, bytes) else raw.encode())
    if depth > MAX_BODY_DEPTH:
        raise ApiError(
            400,
            "BAD_REQUEST",
            f"the request body is nested {depth} levels deep; at most {MAX_BODY_DEPTH}",
            {"limit": MAX_BODY_DEPTH, "actual": depth},
        )
    try:
        data = json.loads(raw) if raw else {}
    except ValueError as error:
        raise ApiError(400, "BAD_REQUEST", "the request body is not valid JSON") from error
    # JSON has types: "1" is not a number, true is not a size, "yes" is not a yes. No coercion.
    return validated(model, data, strict=True)


def query(request: Request, model: type[Model]) -> Model:
    # Query strings are all text: numbers and choices are read from it.
    return validated(model, dict(request.query_params or {}))


def nesting_depth(raw: bytes) -> int:
    """How deep the JSON's arrays and objects go, in one pass, brackets inside strings not counted."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def validated(model: type[Model], data: Any, *, strict: bool = False) -> Model:
    try:
        return model.model_validate(data, strict=strict)
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
