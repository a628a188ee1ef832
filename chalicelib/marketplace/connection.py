"""Connecting a seller's MercadoLibre account, and handing out a fresh access token when needed.

MercadoLibre's refresh token is single-use and every refresh returns a new one, so two functions
must never refresh the same account at once: a conditional-write lease in DynamoDB picks one
refresher; the others wait for the token it stores.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from chalicelib import clock, store
from chalicelib.auth.sealing import seal, unseal
from chalicelib.config import secret
from chalicelib.domain.errors import Busy, Conflict, NotFound, Refused, Upstream
from chalicelib.domain.records import MarketplaceAccount, PendingConnection
from chalicelib.marketplace.mercadolibre import MercadoLibreError, TokenSet, get_mercadolibre
from chalicelib.observability import logger

CONNECT_SECONDS = 10 * 60
REFRESH_MARGIN_SECONDS = 5 * 60  # refresh a little before MercadoLibre's 6 hours run out
LEASE_SECONDS = 30
WAIT_FOR_REFRESH_SECONDS = 15


@dataclass(frozen=True)
class ConnectLink:
    """Where the seller's browser goes to authorize IntelliPost, until when the link works, and the
    nonce that browser must keep (an HttpOnly cookie) to finish: a link completed in another browser
    would connect that browser's MercadoLibre account to this seller (RFC 6749 section 10.12)."""

    authorization_url: str
    expires_at: datetime
    browser_nonce: str


def _sign(nonce: str) -> str:
    return hmac.new(
        secret("JWT_SECRET").encode(), f"ml-connect:{nonce}".encode(), hashlib.sha256
    ).hexdigest()[:32]


def start_connection(user_id: str) -> ConnectLink:
    seller = store.sellers.get(user_id)
    site = seller.site if seller is not None else "MLA"
    nonce = secrets.token_urlsafe(24)
    state = f"{nonce}.{_sign(nonce)}"
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    expires = int(clock.epoch()) + CONNECT_SECONDS
    browser_nonce = secrets.token_urlsafe(24)
    store.connections.add(PendingConnection(state, user_id, verifier, site, expires, _hash(browser_nonce)))
    return ConnectLink(
        get_mercadolibre().authorization_url(site, state, challenge), clock.at(expires), browser_nonce
    )


def finish_connection(state: str, code: str, browser_nonce: str | None) -> MarketplaceAccount:
    """`browser_nonce`: what the browser that came back holds in its cookie (None: no cookie)."""
    pending = _take_pending(state)
    if not browser_nonce or not hmac.compare_digest(_hash(browser_nonce), pending.browser_hash):
        raise Refused(
            "CONNECT_OTHER_BROWSER",
            "this connection was started in another browser; start again from the panel in this one",
        )
    client = get_mercadolibre()
    try:
        tokens = client.exchange_code(code, pending.code_verifier)
        me = client.me(tokens.access_token)
    except MercadoLibreError as error:
        raise Upstream(
            "MERCADOLIBRE_REFUSED", f"MercadoLibre did not connect the account: {error.message}"
        ) from None
    access_token, refresh_token, expires_at = _sealed(pending.user_id, tokens)
    account = MarketplaceAccount(
        user_id=pending.user_id,
        ml_user_id=int(me.get("id", tokens.user_id)),
        nickname=str(me.get("nickname", "")),
        site=str(me.get("site_id") or pending.site),
        access_token=access_token,
        refresh_token=refresh_token,
        access_expires_at=expires_at,
        connected_at=clock.now(),
        user_products="user_product_seller" in (me.get("tags") or []),
    )
    store.accounts.save(account)
    logger.info(
        "MercadoLibre account connected", extra={"user_id": pending.user_id, "ml_user_id": account.ml_user_id}
    )
    return account


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _take_pending(state: str) -> PendingConnection:
    """The pending connection behind `state`, deleted as it is read: a state works once."""
    nonce, _, signature = state.partition(".")
    if not nonce or not hmac.compare_digest(signature, _sign(nonce)):
        raise Refused("CONNECT_INVALID", "this connection link is not valid; start again from the panel")
    pending = store.connections.take(state)
    if pending is None:
        raise Refused("CONNECT_EXPIRED", "this connection link was already used; start again")
    if pending.expires_at < clock.epoch():
        raise Refused("CONNECT_EXPIRED", "this connection link expired; start again from the panel")
    return pending


def get_account(user_id: str) -> MarketplaceAccount:
    account = store.accounts.get(user_id)
    if account is None:
        raise NotFound(
            "MERCADOLIBRE_NOT_CONNECTED", "connect your MercadoLibre account first (GET /ml/connect)"
        )
    return account


def disconnect(user_id: str) -> None:
    get_account(user_id)
    store.accounts.delete(user_id)


def _sealed(user_id: str, tokens: TokenSet) -> tuple[str, str, int]:
    """The tokens as they are kept (sealed, bound to the seller), and when the access token expires."""
    return (
        seal(tokens.access_token, user_id),
        seal(tokens.refresh_token, user_id),
        int(clock.epoch()) + tokens.expires_in,
    )


# -- fresh access tokens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    access_token: str
    ml_user_id: int
    site: str
    user_products: bool = False  # the seller lists with family_name, never a title


def credentials(user_id: str, refused: str | None = None) -> Credentials:
    """A valid access token for the seller's account, refreshed (once, under a lease) when near expiry.

    `refused`: a token MercadoLibre just answered 401 to before its time; if it is still the stored
    one, it is refreshed now (if another function already did, its new token is returned).
    """
    deadline = time.monotonic() + WAIT_FOR_REFRESH_SECONDS
    while True:
        account = get_account(user_id)
        if account.status != "connected":
            raise _reconnect(account)
        token = unseal(account.access_token, user_id)
        fresh = account.access_expires_at - clock.epoch() > REFRESH_MARGIN_SECONDS
        if fresh and token != refused:
            return Credentials(token, account.ml_user_id, account.site, account.user_products)
        owner = uuid.uuid4().hex
        if store.accounts.take_lease(user_id, owner, clock.epoch(), LEASE_SECONDS):
            # Read again under the lease: another function may have refreshed (and let the lease go)
            # since the read above, spending the refresh token that read holds.
            current = get_account(user_id)
            if current.access_token == account.access_token:
                return _refresh_under_lease(current, owner)
            store.accounts.release_lease(user_id)
            continue  # judge the new token
        if time.monotonic() > deadline:
            raise Busy("MERCADOLIBRE_BUSY", "the MercadoLibre connection is being renewed; try again")
        time.sleep(0.2)  # another function is refreshing: its token lands in the row shortly


def _refresh_under_lease(account: MarketplaceAccount, owner: str) -> Credentials:
    try:
        tokens = get_mercadolibre().refresh(unseal(account.refresh_token, account.user_id))
    except MercadoLibreError as error:
        if error.invalid_grant:
            # The refresh token is dead (revoked, or spent elsewhere): only a new connection helps.
            raise lost(account.user_id) from None
        store.accounts.release_lease(account.user_id)
        raise
    store.accounts.store_tokens(account.user_id, owner, *_sealed(account.user_id, tokens))
    logger.info("MercadoLibre token refreshed", extra={"user_id": account.user_id})
    return Credentials(tokens.access_token, account.ml_user_id, account.site, account.user_products)


def lost(user_id: str) -> Conflict:
    """MercadoLibre will not take this account's tokens any more (a dead refresh token, or a fresh
    access token refused): disconnected, and the error that asks the seller to connect again."""
    account = get_account(user_id)
    store.accounts.disconnect(
        user_id, {"code": "MERCADOLIBRE_RECONNECT", "message": "MercadoLibre asks you to connect again"}
    )
    return _reconnect(account)


def _reconnect(account: MarketplaceAccount) -> Conflict:
    return Conflict(
        "MERCADOLIBRE_RECONNECT",
        "your MercadoLibre connection expired; connect the account again",
        {"nickname": account.nickname},
    )
