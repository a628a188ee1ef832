"""MercadoLibre's error bodies: `{"message", "error", "status", "cause": [...]}`.

The texts are the real ones where the data or the documentation show them (data/README.md lists
the sources); a `cause` entry carries `department`, `cause_id` (when documented), `type`, `code`,
`references` and `message`, as in the validaciones page.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: raise it anywhere below a route and the app renders it."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        cause: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.cause = cause or []
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "error": self.error,
            "status": self.status,
            "cause": self.cause,
            **self.extra,
        }


def cause(
    code: str,
    message: str,
    references: list[str],
    cause_id: int | None = None,
    department: str = "items",
    type_: str = "error",
) -> dict[str, Any]:
    entry: dict[str, Any] = {"department": department}
    if cause_id is not None:
        entry["cause_id"] = cause_id
    return {**entry, "type": type_, "code": code, "references": references, "message": message}


def validation_error(causes: list[dict[str, Any]]) -> ApiError:
    return ApiError(400, "validation_error", "Validation error", causes)


def invalid_token() -> ApiError:
    # The documented 401 body (errors/docs_invalid_token_401.json), odd "not_found" included.
    return ApiError(401, "not_found", "invalid_token")


def forbidden() -> ApiError:
    # errors/docs_403_access_denied.json
    return ApiError(403, "access_denied", "access to the requested resource is forbidden", code="FORBIDDEN")


def not_found(message: str = "resource not found") -> ApiError:
    return ApiError(404, "not_found", message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def invalid_grant(message: str) -> ApiError:
    # The real body says it in `error_description` (oauth/docs_oauth_invalid_grant.json); `message`
    # repeats it so that every error here has MercadoLibre's usual shape too.
    return ApiError(400, "invalid_grant", message, error_description=message)


GRANT_EXPIRED_OR_USED = (
    "Error validating grant. Your authorization code or refresh token may be expired or it was already used"
)
