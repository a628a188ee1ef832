"""The MercadoLibre sandbox, in process: a Flask test client, or a real HTTP server on a free port."""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.serving import make_server

from infra.local.mercadolibre.server import create_app
from infra.local.mercadolibre.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SandboxState

REDIRECT_URI = "http://127.0.0.1:8000/api/v1/marketplace/callback"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def pkce_pair(verifier: str = "local-verifier-" + "x" * 40) -> tuple[str, str]:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def jpeg(width: int = 800, height: int = 800, fmt: str = "JPEG", mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), "white").save(out, format=fmt)
    return out.getvalue()


@dataclass
class Seller:
    client: FlaskClient
    user_id: int
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(path, headers=self.headers, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.client.put(path, headers=self.headers, **kwargs)

    def upload(self, content: bytes, filename: str = "photo.jpg") -> Any:
        return self.post(
            "/pictures/items/upload",
            data={"file": (io.BytesIO(content), filename)},
            content_type="multipart/form-data",
        )

    def listing(self, **overrides: Any) -> dict[str, Any]:
        """A valid MLA listing in a leaf with the default sheet, with a freshly uploaded picture."""
        return listing_body(self.upload(jpeg()).json["id"], **overrides)


def listing_body(picture_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid MLA listing (a leaf with the default sheet) showing the picture `picture_id`."""
    body = {
        "title": "Auriculares Bluetooth Jbl Tune 510bt Negro",
        "category_id": "MLA3697",
        "price": 45999.0,
        "currency_id": "ARS",
        "available_quantity": 5,
        "buying_mode": "buy_it_now",
        "listing_type_id": "gold_special",
        "condition": "new",
        "pictures": [{"id": picture_id}],
        "attributes": [{"id": "BRAND", "value_name": "JBL"}, {"id": "MODEL", "value_name": "Tune 510BT"}],
        "seller_custom_field": "SKU-JBL-510",
    }
    return {**body, **overrides}


def authorization_code(
    client: FlaskClient,
    nickname: str = "TESTSELLER",
    site_id: str = "MLA",
    challenge: str | None = None,
    **page: str,
) -> str:
    """The code of a seller signed in on the page (`page`: its other inputs, `kind`, `data_pending`)."""
    params = {
        "response_type": "code",
        "client_id": DEFAULT_CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "state": "opaque-123",
    }
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    shown = client.get("/authorization", query_string=params)
    assert shown.status_code == 200 and b'name="nickname"' in shown.data
    answer = client.post("/authorization", data={**params, "nickname": nickname, "site_id": site_id, **page})
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == ["opaque-123"]
    return query["code"][0]


def exchange(client: FlaskClient, code: str, verifier: str | None = None) -> Any:
    form = {
        "grant_type": "authorization_code",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "code": code,
        "redirect_uri": REDIRECT_URI,
    }
    if verifier is not None:
        form["code_verifier"] = verifier
    return client.post("/oauth/token", data=form)


def refresh(client: FlaskClient, refresh_token: str) -> Any:
    form = {
        "grant_type": "refresh_token",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "refresh_token": refresh_token,
    }
    return client.post("/oauth/token", data=form)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> SandboxState:
    return SandboxState(clock=clock)


@pytest.fixture
def app(state: SandboxState) -> Flask:
    return create_app(state)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign_in(client: FlaskClient, nickname: str = "TESTSELLER", site_id: str = "MLA", **page: str) -> Seller:
    verifier, challenge = pkce_pair()
    tokens = exchange(client, authorization_code(client, nickname, site_id, challenge, **page), verifier).json
    return Seller(client, tokens["user_id"], tokens["access_token"], tokens["refresh_token"])


@pytest.fixture
def seller(client: FlaskClient) -> Seller:
    return sign_in(client)


@pytest.fixture
def live_sandbox(app: Flask) -> Iterator[str]:
    """The same app over real HTTP, on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(timeout=10)
