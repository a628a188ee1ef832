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

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from chalicelib import clock
from chalicelib.api.schemas import ConnectOut, MarketplaceAccountOut
from chalicelib.auth.sealing import seal, unseal
from chalicelib.config import secret
from chalicelib.http import ApiError
from chalicelib.marketplace.mercadolibre import MercadoLibreError, TokenSet, get_mercadolibre
from chalicelib.observability import logger
from chalicelib.storage.models import MarketplaceAccount, PendingConnection, User

CONNECT_SECONDS = 10 * 60
REFRESH_MARGIN_SECONDS = 5 * 60  # refresh a little before MercadoLibre's 6 hours run out
LEASE_SECONDS = 30
WAIT_FOR_REFRESH_SECONDS = 15


def _sign(nonce: str) -> str:
    return hmac.new(
        secret("JWT_SECRET").encode(), f"ml-connect:{nonce}".encode(), hashlib.sha256
    ).hexdigest()[:32]


def start_connection(user_id: str) -> ConnectOut:
    site = User.get(user_id).site
    nonce = secrets.token_urlsafe(24)
    state = f"{nonce}.{_sign(nonce)}"
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    expires = int(clock.epoch()) + CONNECT_SECONDS
    PendingConnection(
        state=state, user_id=user_id, code_verifier=verifier, site=site, expires_at=expires
    ).save()
    return ConnectOut(
        authorization_url=get_mercadolibre().authorization_url(site, state, challenge),
        expires_at=clock.at(expires),
    )


def finish_connection(state: str, code: str) -> MarketplaceAccountOut:
    pending = _take_pending(state)
    client = get_mercadolibre()
    try:
        tokens = client.exchange_code(code, pending.code_verifier)
        me = client.me(tokens.access_token)
    except MercadoLibreError as error:
        raise ApiError(
            502, "MERCADOLIBRE_REFUSED", f"MercadoLibre did not connect the account: {error.message}"
        ) from None
    account = MarketplaceAccount(
        user_id=pending.user_id,
        ml_user_id=int(me.get("id", tokens.user_id)),
        nickname=str(me.get("nickname", "")),
        site=str(me.get("site_id") or pending.site),
        connected_at=clock.now(),
    )
    _store_tokens(account, tokens)
    account.save()
    logger.info(
        "MercadoLibre account connected", extra={"user_id": pending.user_id, "ml_user_id": account.ml_user_id}
    )
    return account_out(account)


def _take_pending(state: str) -> PendingConnection:
    """The pending connection behind `state`, deleted as it is read: a state works once."""
    nonce, _, signature = state.partition(".")
    if not nonce or not hmac.compare_digest(signature, _sign(nonce)):
        raise ApiError(
            400, "CONNECT_INVALID", "this connection link is not valid; start again from the panel"
        )
    try:
        pending = PendingConnection.get(state, consistent_read=True)
        pending.delete(condition=PendingConnection.state.exists())
    except (DoesNotExist, DeleteError):
        raise ApiError(400, "CONNECT_EXPIRED", "this connection link was already used; start again") from None
    if pending.expires_at < clock.epoch():
        raise ApiError(400, "CONNECT_EXPIRED", "this connection link expired; start again from the panel")
    return pending


def account_out(account: MarketplaceAccount) -> MarketplaceAccountOut:
    return MarketplaceAccountOut(
        ml_user_id=int(account.ml_user_id),
        nickname=account.nickname,
        site=account.site,
        status=account.status,  # type: ignore[arg-type]
        access_expires_at=clock.at(account.access_expires_at),
        valid=account.status == "connected",
        problem=account.problem,
        connected_at=account.connected_at,
    )


def get_account(user_id: str) -> MarketplaceAccountOut:
    return account_out(_account(user_id))


def disconnect(user_id: str) -> None:
    _account(user_id).delete()


def _account(user_id: str) -> MarketplaceAccount:
    try:
        return MarketplaceAccount.get(user_id, consistent_read=True)
    except DoesNotExist:
        raise ApiError(
            404, "MERCADOLIBRE_NOT_CONNECTED", "connect your MercadoLibre account first (GET /ml/connect)"
        ) from None


def _store_tokens(account: MarketplaceAccount, tokens: TokenSet) -> None:
    account.access_token = seal(tokens.access_token, account.user_id)
    account.refresh_token = seal(tokens.refresh_token, account.user_id)
    account.access_expires_at = int(clock.epoch()) + tokens.expires_in


# -- fresh access tokens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    access_token: str
    ml_user_id: int
    site: str


def credentials(user_id: str, refused: str | None = None) -> Credentials:
    """A valid access token for the seller's account, refreshed (once, under a lease) when near expiry.

    `refused`: a token MercadoLibre just answered 401 to before its time; if it is still the stored
    one, it is refreshed now (if another function already did, its new token is returned).
    """
    deadline = time.monotonic() + WAIT_FOR_REFRESH_SECONDS
    while True:
        account = _account(user_id)
        if account.status != "connected":
            raise _reconnect(account)
        token = unseal(account.access_token, user_id)
        fresh = account.access_expires_at - clock.epoch() > REFRESH_MARGIN_SECONDS
        if fresh and token != refused:
            return Credentials(token, int(account.ml_user_id), account.site)
        owner = uuid.uuid4().hex
        if _take_lease(account, owner):
            return _refresh_under_lease(account, owner)
        if time.monotonic() > deadline:
            raise ApiError(
                503, "MERCADOLIBRE_BUSY", "the MercadoLibre connection is being renewed; try again"
            )
        time.sleep(0.2)  # another function is refreshing: its token lands in the row shortly


def _take_lease(account: MarketplaceAccount, owner: str) -> bool:
    now = clock.epoch()
    try:
        account.update(
            actions=[
                MarketplaceAccount.lease_until.set(now + LEASE_SECONDS),
                MarketplaceAccount.lease_owner.set(owner),
            ],
            condition=MarketplaceAccount.lease_until < now,
        )
    except UpdateError:
        return False
    return True


def _refresh_under_lease(account: MarketplaceAccount, owner: str) -> Credentials:
    try:
        tokens = get_mercadolibre().refresh(unseal(account.refresh_token, account.user_id))
    except MercadoLibreError as error:
        if error.invalid_grant:
            # The refresh token is dead (revoked, or spent elsewhere): only a new connection helps.
            account.update(
                actions=[
                    MarketplaceAccount.status.set("disconnected"),
                    MarketplaceAccount.problem.set(
                        {
                            "code": "MERCADOLIBRE_RECONNECT",
                            "message": "MercadoLibre asks you to connect again",
                        }
                    ),
                    MarketplaceAccount.lease_until.set(0),
                ]
            )
            raise _reconnect(account) from None
        account.update(actions=[MarketplaceAccount.lease_until.set(0)])
        raise
    _store_tokens(account, tokens)
    account.update(
        actions=[
            MarketplaceAccount.access_token.set(account.access_token),
            MarketplaceAccount.refresh_token.set(account.refresh_token),
            MarketplaceAccount.access_expires_at.set(account.access_expires_at),
            MarketplaceAccount.lease_until.set(0),
        ],
        condition=MarketplaceAccount.lease_owner == owner,
    )
    logger.info("MercadoLibre token refreshed", extra={"user_id": account.user_id})
    return Credentials(tokens.access_token, int(account.ml_user_id), account.site)


def _reconnect(account: MarketplaceAccount) -> ApiError:
    return ApiError(
        409,
        "MERCADOLIBRE_RECONNECT",
        "your MercadoLibre connection expired; connect the account again",
        {"nickname": account.nickname},
    )
