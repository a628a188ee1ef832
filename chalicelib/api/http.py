"""The API's single error shape and the HTTP middleware that enforces it.

Every error leaves as {"error": {"code", "message", "details", "request_id"}} with the request id
also in the X-Request-Id header and on the log lines of that request. Services raise domain errors
(chalicelib.domain.errors); their kind becomes a status here, from one table, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import ChaliceUnhandledError, Request, Response

from chalicelib.domain import errors
from chalicelib.observability import REQUEST_ID_HEADER, in_invocation, logger, request_id_of

# Codes for the errors Chalice itself raises (bad JSON, wrong content type, unknown method).
_CODE_BY_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


# On every answer, errors included. The API speaks JSON to scripts: nothing in it is a page to render,
# frame, sniff into HTML or hand to another site. HSTS is also set by CloudFront/API Gateway in AWS;
# sending it here too costs nothing (browsers ignore it over plain http, as `make run` serves).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


def secure(response: Response) -> Response:
    """The security headers, and a Cache-Control that keeps sellers' data out of every cache: an
    answer with an ETag (the events poll) may stay in the browser's own cache, revalidated each time,
    so If-None-Match and 304 keep working. A header the route set itself wins."""
    present = {name.lower() for name in response.headers}
    defaults = {
        **SECURITY_HEADERS,
        "Cache-Control": "private, no-cache" if "etag" in present else "no-store",
    }
    for name, value in defaults.items():
        if name.lower() not in present:
            response.headers[name] = value
    return response


# Each kind of domain error, as HTTP says it. A subclass takes its parent's status (ChangedMeanwhile: 409).
STATUS_OF_KIND: dict[type[errors.DomainError], int] = {
    errors.Refused: 400,
    errors.Unauthorized: 401,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Invalid: 422,
    errors.RateLimited: 429,
    errors.Upstream: 502,
    errors.Busy: 503,
}


class ApiError(ChaliceUnhandledError):
    """An error of the HTTP edge itself (a body that is not JSON, too large; Chalice's own errors).
    Subclassing ChaliceUnhandledError lets it reach middleware."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


def from_domain(error: errors.DomainError, details: dict[str, Any] | None = None) -> ApiError:
    status = next(code for kind, code in STATUS_OF_KIND.items() if isinstance(error, kind))
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, errors.RateLimited) else {}
    return ApiError(status, error.code, error.message, details or error.params, headers)


def error_response(error: ApiError, request_id: str) -> Response:
    body = {
        "error": {
            "code": error.code,
            "message": error.message,
            "details": error.details,
            "request_id": request_id,
        }
    }
    return Response(body=body, status_code=error.status, headers=dict(error.headers))


def _from_chalice_shape(response: Response) -> ApiError | None:
    """Chalice answers its own errors as {"Code", "Message"}; fold them into ours."""
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or "Code" not in body:
        return None
    status = response.status_code
    code = _CODE_BY_STATUS.get(status, "ERROR")
    message = str(body.get("Message") or code)
    if status >= 500:
        message = "Something went wrong on our side; the request id helps us find it."
    return ApiError(status, code, message)


def http_middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
    request_id = request_id_of(request)

    def handle() -> Response:
        try:
            response = get_response(request)
        except ApiError as error:
            logger.info("request refused", extra={"code": error.code, "status": error.status})
            response = error_response(error, request_id)
        else:
            folded = _from_chalice_shape(response)
            if folded is not None:
                logger.warning("request failed", extra={"code": folded.code, "status": folded.status})
                response = error_response(folded, request_id)
        response.headers[REQUEST_ID_HEADER] = request_id
        return secure(response)

    return in_invocation("api_handler", request_id, handle)  # type: ignore[no-any-return]
