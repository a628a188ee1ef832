"""Sellers' accounts: registration, login with throttling, rotating refresh tokens, settings."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import math
import re
import secrets
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib import clock
from chalicelib.api.schemas import SettingsOut, SettingsUpdate, TokensOut, UserOut
from chalicelib.auth.passwords import hash_password, password_matches
from chalicelib.auth.tokens import ACCESS_TOKEN_SECONDS, issue_access_token
from chalicelib.http import ApiError
from chalicelib.observability import logger
from chalicelib.storage.models import RateLimit, Session, User, UserEmail

SESSION_DAYS = 30
_TOKEN_PART = re.compile(r"[A-Za-z0-9_-]{16,64}")
# Login throttling: the first failures are free, then each one locks the email for longer.
FREE_LOGIN_FAILURES = 5
LOGIN_WINDOW_SECONDS = 15 * 60
LOCK_BASE_SECONDS = 30
LOCK_CAP_SECONDS = 15 * 60


def _digest(token_secret: str) -> str:
    return hashlib.sha256(token_secret.encode()).hexdigest()


def _normal_email(email: str) -> str:
    return email.strip().lower()


def user_out(user: User) -> UserOut:
    return UserOut(
        user_id=user.user_id,
        email=user.email,
        created_at=user.created_at,
        settings=SettingsOut(
            auto_publish=user.auto_publish,
            publish_threshold=float(user.publish_threshold),
            site=user.site,
            listing_type=user.listing_type,
            default_quantity=None if user.default_quantity is None else int(user.default_quantity),
        ),
    )


def register(email: str, password: str) -> TokensOut:
    email = _normal_email(email)
    user = User(
        user_id=clock.new_id(), email=email, password_hash=hash_password(password), created_at=clock.now()
    )
    try:
        with TransactWrite(connection=Connection()) as transaction:
            transaction.save(
                UserEmail(email=email, user_id=user.user_id), condition=UserEmail.email.does_not_exist()
            )
            transaction.save(user, condition=User.user_id.does_not_exist())
    except TransactWriteError as error:
        if error.cause_response_code == "TransactionCanceledException":
            raise ApiError(
                409, "EMAIL_TAKEN", "an account with this email already exists; log in instead"
            ) from None
        raise
    logger.info("seller registered", extra={"user_id": user.user_id})
    return _start_session(user)


def log_in(email: str, password: str) -> TokensOut:
    email = _normal_email(email)
    subject = f"login:{email}"
    _refuse_while_locked(subject)
    user = _user_by_email(email)
    if not password_matches(user.password_hash if user else None, password):
        _count_failure(subject)
        raise ApiError(401, "INVALID_CREDENTIALS", "the email or the password is wrong")
    RateLimit(subject=subject).delete()
    return _start_session(user)  # type: ignore[arg-type]  # password_matches is False without a user


def _parts(refresh_token: str) -> tuple[str, str] | None:
    session_id, _, token_secret = refresh_token.partition(".")
    return (
        (session_id, token_secret)
        if _TOKEN_PART.fullmatch(session_id) and _TOKEN_PART.fullmatch(token_secret)
        else None
    )


def refresh(refresh_token: str) -> TokensOut:
    parts = _parts(refresh_token)
    if parts is None:
        raise ApiError(401, "UNAUTHORIZED", "the refresh token is not valid")
    session_id, token_secret = parts
    session = _live_session(session_id)
    old_hash = session.token_hash
    if not hmac.compare_digest(_digest(token_secret), old_hash):
        # A valid session id with an old secret: someone replayed a rotated token. Close it all.
        _revoke(session)
        logger.warning("refresh token reuse: session revoked", extra={"user_id": session.user_id})
        raise ApiError(401, "SESSION_REVOKED", "this refresh token was already used; log in again")
    new_secret = secrets.token_urlsafe(32)
    try:
        session.update(
            actions=[Session.token_hash.set(_digest(new_secret)), Session.generation.add(1)],
            condition=(Session.token_hash == old_hash) & (Session.revoked == False),  # noqa: E712
        )
    except UpdateError:
        # Another refresh with the same token won the race: that is reuse too.
        _revoke(session)
        raise ApiError(401, "SESSION_REVOKED", "this refresh token was already used; log in again") from None
    user = User.get(session.user_id)
    return _tokens(user, session.session_id, new_secret)


def log_out(refresh_token: str) -> None:
    parts = _parts(refresh_token)
    if parts is None:
        return
    session_id, token_secret = parts
    try:
        session = Session.get(session_id)
    except DoesNotExist:
        return
    if hmac.compare_digest(_digest(token_secret), session.token_hash):
        _revoke(session)


def me(user_id: str) -> UserOut:
    return user_out(_user(user_id))


def update_settings(user_id: str, change: SettingsUpdate) -> UserOut:
    user = _user(user_id)
    actions: list[Any] = []
    if change.auto_publish is not None:
        actions.append(User.auto_publish.set(change.auto_publish))
    if change.publish_threshold is not None:
        actions.append(User.publish_threshold.set(change.publish_threshold))
    if change.site is not None:
        actions.append(User.site.set(change.site))
    if change.listing_type is not None:
        actions.append(User.listing_type.set(change.listing_type))
    if change.default_quantity is not None:
        actions.append(User.default_quantity.set(change.default_quantity))
    user.update(actions=actions)
    return user_out(user)


# -- sessions --------------------------------------------------------------------------------------


def _start_session(user: User) -> TokensOut:
    token_secret = secrets.token_urlsafe(32)
    session = Session(
        session_id=secrets.token_urlsafe(16),
        user_id=user.user_id,
        token_hash=_digest(token_secret),
        created_at=clock.now(),
        expires_at=int(clock.epoch()) + SESSION_DAYS * 86400,
    )
    session.save(condition=Session.session_id.does_not_exist())
    return _tokens(user, session.session_id, token_secret)


def _tokens(user: User, session_id: str, token_secret: str) -> TokensOut:
    return TokensOut(
        access_token=issue_access_token(user.user_id, session_id, clock.epoch()),
        refresh_token=f"{session_id}.{token_secret}",
        expires_in=ACCESS_TOKEN_SECONDS,
        user=user_out(user),
    )


def _live_session(session_id: str) -> Session:
    try:
        session = Session.get(session_id, consistent_read=True)
    except DoesNotExist:
        raise ApiError(401, "UNAUTHORIZED", "the refresh token is not valid") from None
    if session.revoked or session.expires_at <= clock.epoch():
        raise ApiError(401, "SESSION_ENDED", "this session has ended; log in again")
    return session


def _revoke(session: Session) -> None:
    session.update(actions=[Session.revoked.set(True)])


def _user(user_id: str) -> User:
    try:
        return User.get(user_id)
    except DoesNotExist:
        # A valid token for a deleted account.
        raise ApiError(401, "UNAUTHORIZED", "this account no longer exists") from None


def _user_by_email(email: str) -> User | None:
    try:
        return User.get(UserEmail.get(email, consistent_read=True).user_id)
    except DoesNotExist:
        return None


# -- login throttling ------------------------------------------------------------------------------


def _refuse_while_locked(subject: str) -> None:
    try:
        limit = RateLimit.get(subject, consistent_read=True)
    except DoesNotExist:
        return
    wait = limit.locked_until - clock.epoch()
    if wait > 0:
        _too_many(wait)


def _count_failure(subject: str) -> None:
    """Count one failed login in DynamoDB (shared by every instance) and lock once over the limit."""
    now = clock.epoch()
    limit = RateLimit(subject=subject)
    limit.update(
        actions=[
            RateLimit.failures.add(1),
            RateLimit.window_started.set(RateLimit.window_started | now),
            RateLimit.expires_at.set(now + LOGIN_WINDOW_SECONDS + LOCK_CAP_SECONDS),
        ]
    )
    if now - limit.window_started > LOGIN_WINDOW_SECONDS:
        # The earlier failures are old news: this one starts a new window.
        fresh = RateLimit(
            subject=subject, failures=1, window_started=now, locked_until=0, expires_at=limit.expires_at
        )
        with contextlib.suppress(PutError):  # a concurrent failure already started the new window
            fresh.save(condition=RateLimit.window_started == limit.window_started)
        return
    over = int(limit.failures) - FREE_LOGIN_FAILURES
    if over > 0:
        lock = min(LOCK_CAP_SECONDS, LOCK_BASE_SECONDS * 2 ** (over - 1))
        limit.update(actions=[RateLimit.locked_until.set(now + lock)])
        _too_many(lock)


def _too_many(wait_seconds: float) -> None:
    retry_after = max(1, math.ceil(wait_seconds))
    raise ApiError(
        429,
        "RATE_LIMITED",
        f"too many failed logins for this email; try again in {retry_after} s",
        {"retry_after": retry_after},
        headers={"Retry-After": str(retry_after)},
    )
