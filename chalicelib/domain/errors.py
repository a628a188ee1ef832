"""What can go wrong, in the domain's words: every service and step raises these, never HTTP errors.

Each error has a stable `code` (the panel words it in the seller's language), a message for
developers and logs, and `params`: the numbers behind it (`field`, `limit`, `actual`...). Its kind
(the class) says what the caller can do about it; the API edge alone turns a kind into an HTTP
status (chalicelib.api.http), and the pipeline steps turn it into a failed product.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    def __init__(self, code: str, message: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params: dict[str, Any] = dict(params or {})


class NotFound(DomainError):
    """No such thing for this seller (another seller's thing is answered the same way)."""


class Conflict(DomainError):
    """The thing is in a state that does not allow this now (busy, not failed, not connected...)."""


class ChangedMeanwhile(Conflict):
    """Someone else changed it since it was read: read it again and decide again."""

    def __init__(self, message: str = "the product changed meanwhile; reload and try again") -> None:
        super().__init__("CONFLICT", message)


class Invalid(DomainError):
    """The input breaks a rule; `params` name the field and the limit."""


class Refused(DomainError):
    """A request that can never work as sent (a used or forged link, a denied authorization)."""


class Unauthorized(DomainError):
    """Who is asking is not known, or no longer allowed."""


class RateLimited(DomainError):
    """Too many attempts; `retry_after` seconds until the next one may work."""

    def __init__(self, code: str, message: str, retry_after: int, params: Mapping[str, Any] | None = None):
        super().__init__(code, message, {"retry_after": retry_after, **(params or {})})
        self.retry_after = retry_after


class Upstream(DomainError):
    """An outside service (MercadoLibre, a provider) did not give a usable answer."""


class Busy(DomainError):
    """Another piece of work holds what this needs; trying again shortly works."""
