"""MercadoLibre's error bodies, in each of the shapes MercadoLibre really answers with.

- The usual one, `{"message", "error", "status", "cause": [...]}`, with cause objects carrying
  `department`, `cause_id` (when documented), `type`, `code`, `references` and `message`
  (validaciones page).
- `error` and `message` the other way round, the code in `message`: `body.invalid_field_types`
  (errors/docs_items_validate_body_invalid_field_types.json) and `seller.unable_to_list`, whose
  `cause` is a list of plain strings (`address_pending`, `phone_pending`...; the body answered to a
  real seller in github.com/discovery-tecnologia/dsc-mercado-livre/issues/60, the code in
  publica-productos' error table).
- The 403 of the error-403 page, `{"status", "error", "message", "code": "FORBIDDEN"}`, without `cause`.
- OAuth's `invalid_grant`, which says it in `error_description` (autenticacion-y-autorizacion).

The texts are the real ones where the data or the documentation show them (data/README.md lists
the sources).
"""

from __future__ import annotations

from typing import Any

OMIT = object()  # a key the documented body does not have


class ApiError(Exception):
    """An error answer: raise it anywhere below a route and the app renders it."""

    def __init__(
        self,
        status: int,
        error: str,
        message: Any,
        cause: Any = None,
        **extra: Any,
    ) -> None:
        super().__init__(str(message))
        self.status = status
        self.error = error
        self.message = message
        self.cause = [] if cause is None else cause
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body = {
            "message": self.message,
            "error": self.error,
            "status": self.status,
            "cause": self.cause,
            **self.extra,
        }
        return {key: value for key, value in body.items() if value is not OMIT}


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
    # errors/docs_403_access_denied.json (error-403 page): no `cause` in it.
    return ApiError(
        403, "access_denied", "access to the requested resource is forbidden", OMIT, code="FORBIDDEN"
    )


def not_found(message: str = "resource not found") -> ApiError:
    return ApiError(404, "not_found", message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def invalid_fields(fields: list[str]) -> ApiError:
    # publica-productos, Errores: body.invalid_fields, "The fields [$FIELD_ID] are invalid for..."
    return ApiError(
        400, "body.invalid_fields", f"The fields [{', '.join(fields)}] are invalid for requested call."
    )


def required_fields(fields: list[str]) -> ApiError:
    message = f"The body does not contains some or none of the following properties [{', '.join(fields)}]"
    return validation_error([cause("body.required_fields", message, [f"item.{name}" for name in fields])])


def unable_to_list(codes: list[str]) -> ApiError:
    # The code in `message`, the words in `error`, the causes as plain strings: as MercadoLibre answers it.
    return ApiError(403, "User is unable to list.", "seller.unable_to_list", list(codes))


def invalid_grant(message: str) -> ApiError:
    # oauth/docs_oauth_invalid_grant.json: the words in `error_description`, no `message`.
    return ApiError(400, "invalid_grant", OMIT, error_description=message)


GRANT_EXPIRED_OR_USED = (
    "Error validating grant. Your authorization code or refresh token may be expired or it was already used"
)
