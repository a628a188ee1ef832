"""The MercadoLibre API client: what IntelliPost needs of it and nothing more.

One `requests` session, timeouts on every call, retries with exponential backoff and jitter on
429/5xx and dropped connections (honouring Retry-After), and every error folded into one exception
that keeps MercadoLibre's `cause` list, so the panel can show field-level reasons. The base URL comes
from configuration: `https://api.mercadolibre.com` in production, the local sandbox otherwise.
Tokens are passed in per call and never logged.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import requests

from chalicelib.config import required, secret, value
from chalicelib.observability import provider_call

# Where each site's sellers sign in (the authorization host differs by country).
AUTH_HOSTS = {
    "MLA": "https://auth.mercadolibre.com.ar",
    "MLB": "https://auth.mercadolivre.com.br",
    "MLM": "https://auth.mercadolibre.com.mx",
    "MLC": "https://auth.mercadolibre.cl",
    "MCO": "https://auth.mercadolibre.com.co",
    "MLU": "https://auth.mercadolibre.com.uy",
    "MPE": "https://auth.mercadolibre.com.pe",
    "MEC": "https://auth.mercadolibre.com.ec",
    "MLV": "https://auth.mercadolibre.com.ve",
}
_RETRYABLE = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Cause:
    code: str
    message: str
    type: str = "error"
    references: list[str] = field(default_factory=list)


class MercadoLibreError(Exception):
    """Any non-2xx answer, in MercadoLibre's shape: status, error, message and the causes."""

    def __init__(self, status: int, error: str, message: str, causes: list[Cause] | None = None) -> None:
        super().__init__(f"MercadoLibre {status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message
        self.causes = causes or []

    @property
    def invalid_grant(self) -> bool:
        return self.error == "invalid_grant"

    @classmethod
    def from_response(cls, response: requests.Response) -> MercadoLibreError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
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
        message = body.get("message") or body.get("error_description") or response.reason or "error"
        return cls(response.status_code, str(body.get("error") or response.status_code), str(message), causes)


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
        self, method: str, path: str, token: str | None = None, *, idempotent: bool = True, **kwargs: Any
    ) -> requests.Response:
        """One call with retries. A call that creates something (`idempotent=False`) is retried only on
        429, which MercadoLibre answers before doing anything; a 5xx or a dropped connection may have
        created it, and the caller looks before trying again."""
        retryable = _RETRYABLE if idempotent else {429}
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("Accept", "application/json")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self.session.request(
                    method, f"{self.base_url}{path}", headers=headers, timeout=self.timeout, **kwargs
                )
            except (requests.ConnectionError, requests.Timeout):
                if attempt == self.max_attempts or not idempotent:
                    raise
                self.sleep(self._backoff(attempt, None))
                continue
            if response.status_code in retryable and attempt < self.max_attempts:
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
        host = self.auth_base_url or AUTH_HOSTS.get(site, AUTH_HOSTS["MLA"])
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
        response = self.session.post(
            f"{self.base_url}/oauth/token",
            data=form,
            headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
            timeout=self.timeout,
        )
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

    def item(self, token: str, item_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/items/{item_id}", token))

    def find_items_by_sku(self, token: str, seller_id: int, sku: str) -> list[str]:
        """Items this seller already has with our SKU: how a re-run finds what an earlier one created."""
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
