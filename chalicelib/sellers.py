"""Sellers' accounts: registration, login with throttling, rotating refresh tokens, settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from typing import Any

from chalicelib import clock, store
from chalicelib.auth.passwords import hash_password, password_matches
from chalicelib.auth.tokens import ACCESS_TOKEN_SECONDS, issue_access_token
from chalicelib.config import secret
from chalicelib.domain.errors import Conflict, RateLimited, Unauthorized
from chalicelib.domain.records import Seller, Session
from chalicelib.observability import logger

SESSION_DAYS = 30
REUSE_GRACE_SECONDS = 30  # a second tab refreshing with the same token at once gets the same pair
KEEP_USED_HASHES = 20  # rotated-out tokens remembered, to tell a replay from garbage
_TOKEN_PART = re.compile(r"[A-Za-z0-9_-]{16,64}")
# Login throttling: the first failures are free, then each one locks the email for longer.
FREE_LOGIN_FAILURES = 5
LOGIN_WINDOW_SECONDS = 15 * 60
LOCK_BASE_SECONDS = 30
LOCK_CAP_SECONDS = 15 * 60


@dataclass(frozen=True)
class Tokens:
    """What a login hands out: a short-lived access token and the session's refresh token."""

    access_token: str
    refresh_token: str
    expires_in: int
    seller: Seller


def _digest(token_secret: str) -> str:
    return hashlib.sha256(token_secret.encode()).hexdigest()


def _normal_email(email: str) -> str:
    return email.strip().lower()


def register(email: str, password: str) -> Tokens:
    seller = Seller(
        user_id=clock.new_id(),
        email=_normal_email(email),
        password_hash=hash_password(password),
        created_at=clock.now(),
    )
    if not store.sellers.add(seller):
        raise Conflict("EMAIL_TAKEN", "an account with this email already exists; log in instead")
    logger.info("seller registered", extra={"user_id": seller.user_id})
    return _start_session(seller)


def log_in(email: str, password: str) -> Tokens:
    email = _normal_email(email)
    subject = f"login:{email}"
    _refuse_while_locked(subject)
    seller = store.sellers.by_email(email)
    # The same work with or without an account (password_matches hashes a decoy): timing says nothing.
    if not password_matches(seller.password_hash if seller else None, password) or seller is None:
        _count_failure(subject)
        raise Unauthorized("INVALID_CREDENTIALS", "the email or the password is wrong")
    store.login_failures.clear(subject)
    return _start_session(seller)


def _parts(refresh_token: str) -> tuple[str, str] | None:
    session_id, _, token_secret = refresh_token.partition(".")
    return (
        (session_id, token_secret)
        if _TOKEN_PART.fullmatch(session_id) and _TOKEN_PART.fullmatch(token_secret)
        else None
    )


def refresh(refresh_token: str) -> Tokens:
    """The next pair of tokens for the session's current refresh token (which then stops working).

    A second use of the token just rotated out, within REUSE_GRACE_SECONDS, is a second tab or a
    retried request of the same seller: it gets the same new refresh token (derived from the old one,
    so nothing secret is stored). A rotated-out token used after that is a stolen one: the session is
    revoked. Anything else is simply not a valid token, and changes nothing.
    """
    parts = _parts(refresh_token)
    if parts is None:
        raise Unauthorized("UNAUTHORIZED", "the refresh token is not valid")
    session_id, token_secret = parts
    session = _live_session(session_id)
    presented = _digest(token_secret)
    following = _next_secret(session_id, token_secret)
    if hmac.compare_digest(presented, session.token_hash):
        if store.sessions.rotate(session, _digest(following), clock.epoch(), KEEP_USED_HASHES):
            return _tokens(_seller(session.user_id), session_id, following)
        session = _live_session(session_id)  # another request rotated it a moment ago
    used = session.used_hashes
    just_rotated = bool(used) and hmac.compare_digest(presented, used[-1])
    if just_rotated and clock.epoch() - session.rotated_at <= REUSE_GRACE_SECONDS:
        return _tokens(_seller(session.user_id), session_id, following)
    if any(hmac.compare_digest(presented, old) for old in used):
        # A rotated-out token, replayed later: someone else holds the session. Close it all.
        store.sessions.revoke(session)
        logger.warning("refresh token reuse: session revoked", extra={"user_id": session.user_id})
        raise Unauthorized("SESSION_REVOKED", "this refresh token was already used; log in again")
    raise Unauthorized("UNAUTHORIZED", "the refresh token is not valid")


def _next_secret(session_id: str, token_secret: str) -> str:
    """The refresh token that follows `token_secret`: a keyed hash, so only this server can make it."""
    mac = hmac.new(secret("JWT_SECRET").encode(), f"refresh:{session_id}:{token_secret}".encode(), "sha256")
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def log_out(refresh_token: str) -> None:
    parts = _parts(refresh_token)
    if parts is None:
        return
    session_id, token_secret = parts
    session = store.sessions.get(session_id)
    if session is not None and hmac.compare_digest(_digest(token_secret), session.token_hash):
        store.sessions.revoke(session)


def me(user_id: str) -> Seller:
    return _seller(user_id)


def update_settings(user_id: str, changes: dict[str, Any]) -> Seller:
    """`changes`: the settings the seller sent (auto_publish, publish_threshold, site, listing_type,
    default_quantity), already validated at the edge."""
    return store.sellers.change(_seller(user_id), **{k: v for k, v in changes.items() if v is not None})


def site_of(user_id: str) -> str:
    """The MercadoLibre site the seller sells on by default."""
    return _seller(user_id).site


# -- sessions --------------------------------------------------------------------------------------


def _start_session(seller: Seller) -> Tokens:
    token_secret = secrets.token_urlsafe(32)
    session = Session(
        session_id=secrets.token_urlsafe(16),
        user_id=seller.user_id,
        token_hash=_digest(token_secret),
        created_at=clock.now(),
        expires_at=int(clock.epoch()) + SESSION_DAYS * 86400,
    )
    store.sessions.add(session)
    return _tokens(seller, session.session_id, token_secret)


def _tokens(seller: Seller, session_id: str, token_secret: str) -> Tokens:
    return Tokens(
        access_token=issue_access_token(seller.user_id, session_id, clock.epoch()),
        refresh_token=f"{session_id}.{token_secret}",
        expires_in=ACCESS_TOKEN_SECONDS,
        seller=seller,
    )


def _live_session(session_id: str) -> Session:
    session = store.sessions.get(session_id)
    if session is None:
        raise Unauthorized("UNAUTHORIZED", "the refresh token is not valid")
    if session.revoked or session.expires_at <= clock.epoch():
        raise Unauthorized("SESSION_ENDED", "this session has ended; log in again")
    return session


def _seller(user_id: str) -> Seller:
    seller = store.sellers.get(user_id)
    if seller is None:
        # A valid token for a deleted account.
        raise Unauthorized("UNAUTHORIZED", "this account no longer exists")
    return seller


# -- login throttling ------------------------------------------------------------------------------


def _refuse_while_locked(subject: str) -> None:
    failures = store.login_failures.get(subject)
    if failures is None:
        return
    wait = failures.locked_until - clock.epoch()
    if wait > 0:
        _too_many(wait)


def _count_failure(subject: str) -> None:
    """Count one failed login (shared by every instance) and lock once over the limit."""
    now = clock.epoch()
    keep = LOGIN_WINDOW_SECONDS + LOCK_CAP_SECONDS
    failures = store.login_failures.count(subject, now, keep)
    if now - failures.window_started > LOGIN_WINDOW_SECONDS:
        # The earlier failures are old news: this one starts a new window.
        store.login_failures.restart(failures, now, keep)
        return
    over = failures.failures - FREE_LOGIN_FAILURES
    if over > 0:
        lock = min(LOCK_CAP_SECONDS, LOCK_BASE_SECONDS * 2 ** (over - 1))
        store.login_failures.lock(subject, now + lock)
        _too_many(lock)


def _too_many(wait_seconds: float) -> None:
    retry_after = max(1, math.ceil(wait_seconds))
    raise RateLimited(
        "RATE_LIMITED", f"too many failed logins for this email; try again in {retry_after} s", retry_after
    )
