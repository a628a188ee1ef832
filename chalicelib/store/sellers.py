"""Sellers, their sessions and their failed logins in DynamoDB, as records."""

from __future__ import annotations

import contextlib
from dataclasses import fields as record_fields
from dataclasses import replace
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.records import LoginFailures, Seller, Session
from chalicelib.store.aws import get_dynamodb
from chalicelib.store.models import RateLimitRow, SessionRow, UserEmailRow, UserRow

_SELLER_FIELDS = [f.name for f in record_fields(Seller)]


def _seller(row: UserRow) -> Seller:
    values = {name: getattr(row, name) for name in _SELLER_FIELDS}
    values["publish_threshold"] = float(row.publish_threshold)
    values["default_quantity"] = None if row.default_quantity is None else int(row.default_quantity)
    return Seller(**values)


class Sellers:
    def get(self, user_id: str) -> Seller | None:
        try:
            return _seller(UserRow.get(user_id))
        except DoesNotExist:
            return None

    def by_email(self, email: str) -> Seller | None:
        try:
            return self.get(UserEmailRow.get(email, consistent_read=True).user_id)
        except DoesNotExist:
            return None

    def add(self, seller: Seller) -> bool:
        """Saved with its email claimed in the same transaction; False when the email has an account."""
        try:
            with TransactWrite(connection=get_dynamodb()) as transaction:
                transaction.save(
                    UserEmailRow(email=seller.email, user_id=seller.user_id),
                    condition=UserEmailRow.email.does_not_exist(),
                )
                transaction.save(
                    UserRow(**{name: getattr(seller, name) for name in _SELLER_FIELDS}),
                    condition=UserRow.user_id.does_not_exist(),
                )
        except TransactWriteError as error:
            if error.cause_response_code == "TransactionCanceledException":
                return False
            raise
        return True

    def change(self, seller: Seller, **changes: Any) -> Seller:
        if not changes:
            return seller
        row = UserRow(seller.user_id)
        row.update(actions=[getattr(UserRow, name).set(value) for name, value in changes.items()])
        return _seller(row)


def _session(row: SessionRow) -> Session:
    return Session(
        session_id=row.session_id,
        user_id=row.user_id,
        token_hash=row.token_hash,
        created_at=row.created_at,
        expires_at=int(row.expires_at),
        used_hashes=list(row.used_hashes or []),
        rotated_at=float(row.rotated_at or 0),
        generation=int(row.generation),
        revoked=bool(row.revoked),
    )


class Sessions:
    def get(self, session_id: str) -> Session | None:
        try:
            return _session(SessionRow.get(session_id, consistent_read=True))
        except DoesNotExist:
            return None

    def add(self, session: Session) -> None:
        SessionRow(**{f.name: getattr(session, f.name) for f in record_fields(Session)}).save(
            condition=SessionRow.session_id.does_not_exist()
        )

    def rotate(self, session: Session, new_hash: str, now: float, keep: int) -> Session | None:
        """The next refresh token's hash, only while the session still holds `session`'s token and is
        not revoked; None when another refresh got there first. The old hash joins the last `keep`
        rotated-out ones, so a later replay of it is recognised."""
        row = SessionRow(session.session_id)
        try:
            row.update(
                actions=[
                    SessionRow.token_hash.set(new_hash),
                    SessionRow.used_hashes.set([*session.used_hashes, session.token_hash][-keep:]),
                    SessionRow.rotated_at.set(now),
                    SessionRow.generation.add(1),
                ],
                condition=(SessionRow.token_hash == session.token_hash) & (SessionRow.revoked == False),  # noqa: E712
            )
        except UpdateError:
            return None
        return _session(row)

    def revoke(self, session: Session) -> Session:
        SessionRow(session.session_id).update(actions=[SessionRow.revoked.set(True)])
        return replace(session, revoked=True)


class LoginFailuresStore:
    def get(self, subject: str) -> LoginFailures | None:
        try:
            row = RateLimitRow.get(subject, consistent_read=True)
        except DoesNotExist:
            return None
        return LoginFailures(
            row.subject, int(row.failures), float(row.window_started), float(row.locked_until)
        )

    def count(self, subject: str, now: float, keep_seconds: float) -> LoginFailures:
        """One more failure (atomic, shared by every Lambda instance); the window starts at the first."""
        row = RateLimitRow(subject=subject)
        row.update(
            actions=[
                RateLimitRow.failures.add(1),
                RateLimitRow.window_started.set(RateLimitRow.window_started | now),
                RateLimitRow.expires_at.set(now + keep_seconds),
            ]
        )
        return LoginFailures(
            subject, int(row.failures), float(row.window_started), float(row.locked_until or 0)
        )

    def restart(self, failures: LoginFailures, now: float, keep_seconds: float) -> None:
        """A new window with this one failure, unless a concurrent failure already started one."""
        fresh = RateLimitRow(
            subject=failures.subject,
            failures=1,
            window_started=now,
            locked_until=0,
            expires_at=now + keep_seconds,
        )
        with contextlib.suppress(PutError):
            fresh.save(condition=RateLimitRow.window_started == failures.window_started)

    def lock(self, subject: str, until: float) -> None:
        RateLimitRow(subject=subject).update(actions=[RateLimitRow.locked_until.set(until)])

    def clear(self, subject: str) -> None:
        RateLimitRow(subject=subject).delete()
