"""Access tokens: short-lived HS256 JWTs. Refresh tokens are opaque and live in chalicelib.sellers."""

from __future__ import annotations

import time

import jwt

from chalicelib.config import secret

ACCESS_TOKEN_SECONDS = 15 * 60
_ISSUER = "intellipost"
_AUDIENCE = "intellipost-api"
_MIN_SECRET_CHARS = 32


class InvalidToken(Exception):
    pass


def _signing_key() -> str:
    key = secret("JWT_SECRET")
    if len(key) < _MIN_SECRET_CHARS:
        raise RuntimeError(f"JWT_SECRET must be at least {_MIN_SECRET_CHARS} characters")
    return key


def issue_access_token(user_id: str, session_id: str, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": user_id,
        "sid": session_id,
        "iat": issued,
        "exp": issued + ACCESS_TOKEN_SECONDS,
        "iss": _ISSUER,
        "aud": _AUDIENCE,
        "typ": "access",
    }
    return jwt.encode(claims, _signing_key(), algorithm="HS256")


def verify_access_token(token: str) -> str:
    """The user id in a valid access token; InvalidToken with a reason a client can show otherwise."""
    try:
        claims = jwt.decode(
            token,
            _signing_key(),
            algorithms=["HS256"],  # a fixed list: `alg: none` and algorithm swaps are refused
            audience=_AUDIENCE,
            issuer=_ISSUER,
            options={"require": ["exp", "iat", "sub", "sid"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise InvalidToken("the access token has expired; refresh it or log in again") from error
    except jwt.InvalidTokenError as error:
        raise InvalidToken("the access token is not valid") from error
    if claims.get("typ") != "access":
        raise InvalidToken("the access token is not valid")
    return str(claims["sub"])
