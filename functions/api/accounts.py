from chalice.app import Response

from chalicelib import accounts
from chalicelib.api.edge import answer, body, caller
from chalicelib.api.schemas import Credentials, RefreshRequest, SettingsUpdate, TokensOut, UserOut
from functions.api import blueprint, route


@route(
    "/auth/register",
    "POST",
    "Create a seller account",
    auth=False,
    status=201,
    body=Credentials,
    response=TokensOut,
    errors=(409,),
)
def register() -> Response:
    credentials = body(blueprint.current_request, Credentials)
    return answer(accounts.register(credentials.email, credentials.password), 201)


@route("/auth/login", "POST", "Log in", auth=False, body=Credentials, response=TokensOut, errors=(401, 429))
def log_in() -> Response:
    credentials = body(blueprint.current_request, Credentials)
    return answer(accounts.log_in(credentials.email, credentials.password))


@route(
    "/auth/refresh",
    "POST",
    "Trade a refresh token for new tokens (rotates it)",
    auth=False,
    body=RefreshRequest,
    response=TokensOut,
    errors=(401,),
)
def refresh() -> Response:
    return answer(accounts.refresh(body(blueprint.current_request, RefreshRequest).refresh_token))


@route(
    "/auth/logout",
    "POST",
    "End the session of this refresh token",
    auth=False,
    status=204,
    body=RefreshRequest,
)
def log_out() -> Response:
    accounts.log_out(body(blueprint.current_request, RefreshRequest).refresh_token)
    return answer(None, 204)


@route("/me", "GET", "The logged-in seller and their settings", response=UserOut)
def me() -> Response:
    return answer(accounts.me(caller(blueprint.current_request)))


@route(
    "/me/settings",
    "PUT",
    "Change auto-publish, its threshold or the default site",
    body=SettingsUpdate,
    response=UserOut,
)
def update_settings() -> Response:
    user_id = caller(blueprint.current_request)
    return answer(accounts.update_settings(user_id, body(blueprint.current_request, SettingsUpdate)))
