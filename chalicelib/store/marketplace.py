"""Connected MercadoLibre accounts, connections in progress and MercadoLibre's cached answers."""

from __future__ import annotations

import json
from dataclasses import fields as record_fields
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from chalicelib.domain.records import MarketplaceAccount, PendingConnection
from chalicelib.store.models import MarketplaceAccountRow, MarketplaceCacheRow, PendingConnectionRow

_ACCOUNT_FIELDS = [f.name for f in record_fields(MarketplaceAccount)]


def _account(row: MarketplaceAccountRow) -> MarketplaceAccount:
    values = {name: getattr(row, name) for name in _ACCOUNT_FIELDS}
    values["ml_user_id"] = int(row.ml_user_id)
    values["access_expires_at"] = int(row.access_expires_at)
    return MarketplaceAccount(**values)


class Accounts:
    def get(self, user_id: str) -> MarketplaceAccount | None:
        try:
            return _account(MarketplaceAccountRow.get(user_id, consistent_read=True))
        except DoesNotExist:
            return None

    def by_ml_user(self, ml_user_id: int) -> MarketplaceAccount | None:
        """The account of MercadoLibre's user `ml_user_id` (a notification names the seller so).

        The table is keyed by our user id and has no index on MercadoLibre's (an index is a Terraform
        change): this scans it, one row per connected seller, consistently."""
        for row in MarketplaceAccountRow.scan(
            MarketplaceAccountRow.ml_user_id == ml_user_id, consistent_read=True
        ):
            return _account(row)
        return None

    def save(self, account: MarketplaceAccount) -> None:
        """A new connection replaces whatever the seller had (and any refresh lease on it)."""
        MarketplaceAccountRow(**{name: getattr(account, name) for name in _ACCOUNT_FIELDS}).save()

    def delete(self, user_id: str) -> None:
        MarketplaceAccountRow(user_id).delete()

    # The refresh lease: one holder spends the single-use refresh token; the others wait for it.

    def take_lease(self, user_id: str, owner: str, now: float, seconds: float) -> bool:
        try:
            MarketplaceAccountRow(user_id).update(
                actions=[
                    MarketplaceAccountRow.lease_until.set(now + seconds),
                    MarketplaceAccountRow.lease_owner.set(owner),
                ],
                condition=MarketplaceAccountRow.lease_until < now,
            )
        except UpdateError:
            return False
        return True

    def release_lease(self, user_id: str) -> None:
        MarketplaceAccountRow(user_id).update(actions=[MarketplaceAccountRow.lease_until.set(0)])

    def store_tokens(
        self, user_id: str, owner: str, access_token: str, refresh_token: str, access_expires_at: int
    ) -> None:
        """The refreshed (sealed) tokens, written by the lease holder, releasing the lease."""
        MarketplaceAccountRow(user_id).update(
            actions=[
                MarketplaceAccountRow.access_token.set(access_token),
                MarketplaceAccountRow.refresh_token.set(refresh_token),
                MarketplaceAccountRow.access_expires_at.set(access_expires_at),
                MarketplaceAccountRow.lease_until.set(0),
            ],
            condition=MarketplaceAccountRow.lease_owner == owner,
        )

    def disconnect(self, user_id: str, problem: dict[str, Any]) -> None:
        MarketplaceAccountRow(user_id).update(
            actions=[
                MarketplaceAccountRow.status.set("disconnected"),
                MarketplaceAccountRow.problem.set(problem),
                MarketplaceAccountRow.lease_until.set(0),
            ]
        )


class Connections:
    def add(self, pending: PendingConnection) -> None:
        PendingConnectionRow(
            **{f.name: getattr(pending, f.name) for f in record_fields(PendingConnection)}
        ).save()

    def take(self, state: str) -> PendingConnection | None:
        """The connection behind `state`, deleted as it is read, so a state works once; None when there
        is none (never made, or already taken)."""
        try:
            row = PendingConnectionRow.get(state, consistent_read=True)
            row.delete(condition=PendingConnectionRow.state.exists())
        except (DoesNotExist, DeleteError):
            return None
        return PendingConnection(
            row.state, row.user_id, row.code_verifier, row.site, int(row.expires_at), row.browser_hash
        )


class Cache:
    def get(self, key: str, now: float) -> Any | None:
        """A cached answer that has not expired yet, or None."""
        try:
            row = MarketplaceCacheRow.get(key)
        except DoesNotExist:
            return None
        return json.loads(row.body) if row.expires_at > now else None

    def put(self, key: str, value: Any, expires_at: int) -> None:
        MarketplaceCacheRow(key=key, body=json.dumps(value), expires_at=expires_at).save()
