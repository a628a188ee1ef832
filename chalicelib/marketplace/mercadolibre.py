"""The MercadoLibre API client: what IntelliPost needs of it and nothing more.

One `requests` session, timeouts on every call, retries with exponential backoff and jitter on
429/5xx and dropped connections (honouring Retry-After), and every answer that is not a success
folded into one exception that keeps MercadoLibre's code, words and causes, whichever of its shapes
the body came in (the sandbox's errors.py lists them), and says what kind of problem it is. A call
that creates something is never retried on a dropped connection: it raises `Unreachable`, and the
caller looks before trying again. The base URL comes from configuration:
`https://api.mercadolibre.com` in production, the local sandbox otherwise. Tokens are passed in
per call and never logged.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import requests

from chalicelib.config import required, secret, value
from chalicelib.domain.sites import site as site_of
from chalicelib.observability import provider_call

_RETRYABLE = {429, 500, 502, 503, 504}
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*")


@dataclass(frozen=True)
class Cause:
    """One reason MercadoLibre gives: an object of the validaciones page, or a plain string such as
    `address_pending` (then it is the code, and there is no message)."""

    code: str
    message: str = ""
    type: str = "error"
    references: list[str] = field(default_factory=list)


class Problem(StrEnum):
    """What kind of problem an error is: what the seller (or we) can do about it."""

    UNAVAILABLE = "unavailable"  # 429, 5xx, no answer: try again in a while
    TOKEN = "token"  # the access token was refused: refresh it, else connect again  # noqa: S105
    ACCOUNT = "account"  # seller.unable_to_list: the seller must complete their account data
    FORBIDDEN = "forbidden"  # 403: the app may not do this for this account
    VALIDATION = "validation"  # 400 with causes about the listing's fields
    DEFECT = "defect"  # MercadoLibre could not read what we sent (body.*): ours to fix
    REFUSED = "refused"  # anything else MercadoLibre said no to


# Per kind of problem: the code the panel words, what the seller should do, and whether trying again
# (after doing it) can help.
SELLER_ACTIONS: dict[Problem, tuple[str, str, bool]] = {
    Problem.UNAVAILABLE: (
        "MERCADOLIBRE_UNAVAILABLE",
        "MercadoLibre did not answer; try again in a moment",
        True,
    ),
    Problem.TOKEN: (
        "MERCADOLIBRE_RECONNECT",
        "MercadoLibre no longer accepts this connection: connect your account again",
        True,
    ),
    Problem.ACCOUNT: (
        "MERCADOLIBRE_ACCOUNT_INCOMPLETE",
        "MercadoLibre does not let your account list until you complete your account data",
        True,
    ),
    Problem.FORBIDDEN: (
        "MERCADOLIBRE_FORBIDDEN",
        "MercadoLibre does not let IntelliPost do this for your account: check the app's permissions",
        False,
    ),
    Problem.VALIDATION: ("MERCADOLIBRE_VALIDATION", "MercadoLibre asks for changes", True),
    Problem.DEFECT: (
        "PUBLISH_DEFECT",
        "MercadoLibre could not read what we sent: our mistake, and it is logged",
        False,
    ),
    Problem.REFUSED: ("MERCADOLIBRE_REJECTED", "MercadoLibre refused", False),
}


class MercadoLibreError(Exception):
    """Any answer that is not a success: its status, MercadoLibre's code (`error`), words and causes,
    and the `x-request-id` of the answer."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        causes: list[Cause] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"MercadoLibre {status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message
        self.causes = causes or []
        self.request_id = request_id

    @property
    def invalid_grant(self) -> bool:
        return self.error == "invalid_grant"

    @property
    def errors(self) -> list[Cause]:
        """The causes that stop it (the others are warnings)."""
        return [cause for cause in self.causes if cause.type == "error"]

    @property
    def problem(self) -> Problem:
        if self.status in (0, 429) or self.status >= 500:
            return Problem.UNAVAILABLE
        if self.error == "seller.unable_to_list":
            return Problem.ACCOUNT
        if self.status == 401 or self.error in ("invalid_token", "unauthorized"):
            return Problem.TOKEN
        if self.status == 403:
            return Problem.FORBIDDEN
        if self.error.startswith("body.") or any(c.code.startswith("body.") for c in self.errors):
            return Problem.DEFECT
        if self.status == 400 and self.errors:
            return Problem.VALIDATION
        return Problem.REFUSED

    @classmethod
    def from_response(cls, response: requests.Response) -> MercadoLibreError:
        """Every documented shape: `{message, error, status, cause}` with cause objects or strings;
        the code in `message` and the words in `error` (`seller.unable_to_list`,
        `body.invalid_field_types`); the gateway's `{code, message}`; the 403's `{status, error,
        code}`; OAuth's `error_description`. The code is the identifier among them (a dotted one
        first), the message the first words that are not it."""
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        codes = [str(v) for v in (body.get("error"), body.get("message"), body.get("code")) if _is_code(v)]
        error = next((c for c in codes if "." in c), codes[0] if codes else str(response.status_code))
        texts = (body.get("message"), body.get("error_description"), body.get("error"))
        message = next(
            (t for t in texts if isinstance(t, str) and t and t != error), response.reason or error
        )
        causes = []
        for cause in body.get("cause") or []:
            if isinstance(cause, dict):
                causes.append(
                    Cause(
                        code=str(cause.get("code", "")),
                        message=str(cause.get("message", "")),
                        type=str(cause.get("type", "error")),
                        references=[str(r) for r in cause.get("references") or []],
                    )
                )
            elif isinstance(cause, str):
                causes.append(Cause(code=cause))
        return cls(response.status_code, error, str(message), causes, response.headers.get("x-request-id"))


def _is_code(text: Any) -> bool:
    return isinstance(text, str) and _CODE.fullmatch(text) is not None


class Unreachable(MercadoLibreError):
    """No answer (a timeout, a reset or refused connection): whether MercadoLibre did it is unknown."""

    def __init__(self, method: str, path: str, cause: Exception) -> None:
        super().__init__(0, "unreachable", f"{method} {path}: no answer ({type(cause).__name__})")


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: int
    scope: str = ""


class MercadoLibreClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        auth_base_url: str | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.auth_base_url = auth_base_url.rstrip("/") if auth_base_url else None
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep

    # -- transport -----------------------------------------------------------------------------

    @provider_call("mercadolibre")  # retries included: what the step waits
    def _call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        *,
        idempotent: bool = True,
        attempts: int | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One call with retries (`attempts`, the client's by default). A call that creates something
        (`idempotent=False`) is retried only on 429, which MercadoLibre answers before doing anything;
        a 5xx or a dropped connection may have created it: `Unreachable`, and the caller looks before
        trying again."""
        retryable = _RETRYABLE if idempotent else {429}
        most = attempts or self.max_attempts
        timeout = kwargs.pop("timeout", self.timeout)
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("Accept", "application/json")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in range(1, most + 1):
            try:
                response = self.session.request(
                    method, f"{self.base_url}{path}", headers=headers, timeout=timeout, **kwargs
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                if attempt == most or not idempotent:
                    raise Unreachable(method, path, error) from error
                self.sleep(self._backoff(attempt, None))
                continue
            if response.status_code in retryable and attempt < most:
                self.sleep(self._backoff(attempt, response.headers.get("Retry-After")))
                continue
            if response.status_code >= 400:
                raise MercadoLibreError.from_response(response)
            return response
        raise AssertionError("unreachable")  # the loop returns or raises

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(self.backoff_cap * 4, max(0.0, float(retry_after)))
            except ValueError:
                pass
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))

    def _json(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        response = self._call(method, path, token, **kwargs)
        return response.json() if response.content else None

    # -- OAuth 2.0 (authorization code, PKCE S256) ---------------------------------------------

    def authorization_url(self, site: str, state: str, code_challenge: str | None = None) -> str:
        host = self.auth_base_url or site_of(site).auth_host
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": state,
        }
        if code_challenge:
            params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{host}/authorization?{urlencode(params)}"

    def exchange_code(self, code: str, code_verifier: str | None = None) -> TokenSet:
        form = {
            "grant_type": "authorization_code",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "code": code,
            "redirect_uri": self.redirect_uri,
        }
        if code_verifier:
            form["code_verifier"] = code_verifier
        return self._tokens(form)

    def refresh(self, refresh_token: str) -> TokenSet:
        """Single use: the answer carries the next refresh token, the one sent stops working."""
        form = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": refresh_token,
        }
        return self._tokens(form)

    @provider_call("mercadolibre")
    def _tokens(self, form: dict[str, str]) -> TokenSet:
        # Never retried: a token grant that reached MercadoLibre may already have spent the code.
        try:
            response = self.session.post(
                f"{self.base_url}/oauth/token",
                data=form,
                headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
                timeout=self.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise Unreachable("POST", "/oauth/token", error) from error
        if response.status_code >= 400:
            raise MercadoLibreError.from_response(response)
        body = response.json()
        return TokenSet(
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
            expires_in=int(body.get("expires_in", 21600)),
            user_id=int(body["user_id"]),
            scope=str(body.get("scope", "")),
        )

    def me(self, token: str) -> dict[str, Any]:
        return dict(self._json("GET", "/users/me", token))

    # -- categories ----------------------------------------------------------------------------

    def predict_category(self, site: str, query: str, limit: int = 5) -> list[dict[str, Any]]:
        return list(
            self._json("GET", f"/sites/{site}/domain_discovery/search", params={"q": query, "limit": limit})
        )

    def category(self, category_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/categories/{category_id}"))

    def category_attributes(self, category_id: str) -> list[dict[str, Any]]:
        return list(self._json("GET", f"/categories/{category_id}/attributes"))

    # -- publishing ----------------------------------------------------------------------------

    def validate_item(self, token: str, item: dict[str, Any]) -> None:
        self._call("POST", "/items/validate", token, json=item)

    def upload_picture(self, token: str, jpeg: bytes, file_name: str = "main.jpg") -> dict[str, Any]:
        files = {"file": (file_name, jpeg, "image/jpeg")}
        return dict(self._json("POST", "/pictures/items/upload", token, files=files))

    def create_item(self, token: str, item: dict[str, Any]) -> dict[str, Any]:
        return dict(self._json("POST", "/items", token, json=item, idempotent=False))

    def add_description(self, token: str, item_id: str, plain_text: str) -> None:
        self._call(
            "POST", f"/items/{item_id}/description", token, json={"plain_text": plain_text}, idempotent=False
        )

    def replace_description(self, token: str, item_id: str, plain_text: str) -> None:
        self._call("PUT", f"/items/{item_id}/description", token, json={"plain_text": plain_text})

    def item(self, item_id: str, token: str | None = None, *, glance: bool = False) -> dict[str, Any]:
        """The item: public (no token) or, with the owner's token, with its stock too. A `glance` is
        one quick try (a page waiting on it), not the patient read a step makes."""
        if glance:
            return dict(self._json("GET", f"/items/{item_id}", token, attempts=1, timeout=(2.0, 3.0)))
        return dict(self._json("GET", f"/items/{item_id}", token))

    def update_item(self, token: str, item_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """PUT /items/{id}: the same changes twice leave the same item, so it is retried like a read."""
        return dict(self._json("PUT", f"/items/{item_id}", token, json=changes))

    def description(self, token: str, item_id: str) -> str | None:
        """The item's plain-text description, or None when it has none yet."""
        try:
            body = self._json("GET", f"/items/{item_id}/description", token)
        except MercadoLibreError as error:
            if error.status == 404:
                return None
            raise
        return str(body.get("plain_text") or "")

    def find_items_by_sku(self, token: str, seller_id: int, sku: str) -> list[str]:
        """The seller's items whose SELLER_SKU attribute is `sku` (`seller_sku=`; `sku=` would search
        seller_custom_field, items-y-busquedas): how a run finds what an earlier one created."""
        body = self._json("GET", f"/users/{seller_id}/items/search", token, params={"seller_sku": sku})
        return [str(item_id) for item_id in body.get("results", [])]


@lru_cache(maxsize=1)
def get_mercadolibre() -> MercadoLibreClient:
    """Built once from configuration; tests and the local stack point it at the sandbox."""
    return MercadoLibreClient(
        base_url=str(value("MERCADOLIBRE_API_URL")),
        auth_base_url=value("MERCADOLIBRE_AUTH_URL"),
        client_id=required("MERCADOLIBRE_CLIENT_ID"),
        client_secret=secret("MERCADOLIBRE_CLIENT_SECRET"),
        redirect_uri=required("MERCADOLIBRE_REDIRECT_URI"),
    )
