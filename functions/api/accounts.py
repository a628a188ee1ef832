from chalicelib import sellers
from chalicelib.api.schemas import Credentials, RefreshRequest, SettingsUpdate, TokensOut, UserOut
from chalicelib.api.views import tokens_out, user_out
from functions.api import route


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
def register(body: Credentials) -> TokensOut:
    return tokens_out(sellers.register(body.email, body.password))


@route("/auth/login", "POST", "Log in", auth=False, body=Credentials, response=TokensOut, errors=(401, 429))
def log_in(body: Credentials) -> TokensOut:
    return tokens_out(sellers.log_in(body.email, body.password))


@route(
    "/auth/refresh",
    "POST",
    "Trade a refresh token for new tokens (rotates it)",
    auth=False,
    body=RefreshRequest,
    response=TokensOut,
    errors=(401,),
)
def refresh(body: RefreshRequest) -> TokensOut:
    return tokens_out(sellers.refresh(body.refresh_token))


@route(
    "/auth/logout",
    "POST",
    "End the session of this refresh token",
    auth=False,
    status=204,
    body=RefreshRequest,
)
def log_out(body: RefreshRequest) -> None:
    sellers.log_out(body.refresh_token)


@route("/me", "GET", "The logged-in seller and their settings", response=UserOut)
def me(user_id: str) -> UserOut:
    return user_out(sellers.me(user_id))


@route(
    "/me/settings",
    "PUT",
    "Change auto-publish, its threshold or the default site",
    body=SettingsUpdate,
    response=UserOut,
)
def update_settings(user_id: str, body: SettingsUpdate) -> UserOut:
    return user_out(sellers.update_settings(user_id, body.model_dump(exclude_unset=True)))
