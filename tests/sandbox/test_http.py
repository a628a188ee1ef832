"""The sandbox over real HTTP: the publishing path a client takes, fault knobs, restarts, the entry point."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from infra.local.emulator import free_port
from infra.local.mercadolibre.server import create_app
from infra.local.mercadolibre.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SandboxState
from tests.photos import grocery_photo
from tests.sandbox.conftest import REDIRECT_URI, authorization_code, exchange, jpeg, pkce_pair
from tests.waiting import wait_for

ROOT = Path(__file__).parents[2]


def connect(base: str) -> dict[str, str]:
    """A seller connects through the sign-in page, as a browser would."""
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": DEFAULT_CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = requests.get(f"{base}/authorization", params=params, timeout=10)
    assert page.headers["Content-Type"].startswith("text/html")
    signed_in = requests.post(
        f"{base}/authorization", data={**params, "nickname": "TESTSELLER"}, allow_redirects=False, timeout=10
    )
    code = parse_qs(urlsplit(signed_in.headers["Location"]).query)["code"][0]
    tokens = requests.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        timeout=10,
    ).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_a_real_photo_is_published_over_http(live_sandbox: str) -> None:
    auth = connect(live_sandbox)
    category = requests.get(
        f"{live_sandbox}/sites/MLA/domain_discovery/search",
        params={"q": "leche de avena oatly 1 litro"},
        timeout=10,
    ).json()[0]["category_id"]
    # A real shelf photo, upscaled 3x to pass the size limits (tests/photos.py).
    upload = requests.post(
        f"{live_sandbox}/pictures/items/upload",
        headers=auth,
        files={"file": ("oatly.jpg", grocery_photo(), "image/jpeg")},
        timeout=30,
    )
    assert upload.status_code == 201
    listing = {
        "title": "Leche De Avena Oatly 1 Litro",
        "category_id": category,
        "price": 4500,
        "currency_id": "ARS",
        "available_quantity": 10,
        "buying_mode": "buy_it_now",
        "listing_type_id": "gold_special",
        "condition": "new",
        "pictures": [{"id": upload.json()["id"]}],
        "attributes": [{"id": "BRAND", "value_name": "Oatly"}, {"id": "MODEL", "value_name": "Barista"}],
        "seller_custom_field": "OATLY-1L",
    }
    assert (
        requests.post(f"{live_sandbox}/items/validate", json=listing, headers=auth, timeout=10).status_code
        == 204
    )
    item = requests.post(f"{live_sandbox}/items", json=listing, headers=auth, timeout=10)
    assert item.status_code == 201
    assert item.headers["X-Sandbox"] == "intellipost-local"
    picture = requests.get(item.json()["pictures"][0]["url"], timeout=10)
    assert picture.status_code == 200 and picture.content[:2] == b"\xff\xd8"


def test_the_fault_knobs_answer_429_with_retry_after_and_500(live_sandbox: str) -> None:
    knobs = {"status_429_share": 0.5, "status_500_share": 0.5, "seed": 7, "paths": ["/categories"]}
    assert requests.post(f"{live_sandbox}/_sandbox/faults", json=knobs, timeout=10).status_code == 200

    answers = [requests.get(f"{live_sandbox}/categories/MLA1055", timeout=10) for _ in range(30)]
    statuses = {answer.status_code for answer in answers}
    assert statuses == {429, 500}
    throttled = next(answer for answer in answers if answer.status_code == 429)
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.json() == {
        "message": "Too many requests",
        "error": "local_rate_limited",
        "status": 429,
        "cause": [],
    }
    assert next(a for a in answers if a.status_code == 500).json()["status"] == 500
    # Other paths and the harness itself are untouched.
    assert (
        requests.get(f"{live_sandbox}/sites/MLA/domain_discovery/search?q=mate", timeout=10).status_code
        == 200
    )
    assert requests.get(f"{live_sandbox}/_sandbox/health", timeout=10).status_code == 200

    requests.post(f"{live_sandbox}/_sandbox/faults", json={"latency_ms": 300}, timeout=10)
    started = time.monotonic()
    assert requests.get(f"{live_sandbox}/categories/MLA1055", timeout=10).status_code == 200
    assert time.monotonic() - started >= 0.3
    assert (
        requests.post(f"{live_sandbox}/_sandbox/faults", json={"status_429_share": 2}, timeout=10).status_code
        == 400
    )


def test_a_state_file_keeps_sellers_tokens_pictures_and_items_across_restarts(tmp_path: Path) -> None:
    state_file = tmp_path / "mercadolibre.json"
    client = create_app(SandboxState(state_file)).test_client()
    verifier, challenge = pkce_pair()
    tokens = exchange(client, authorization_code(client, challenge=challenge), verifier).json
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    picture = client.post(
        "/pictures/items/upload", headers=auth, data={"file": (io.BytesIO(jpeg()), "p.jpg")}
    ).json

    restarted = create_app(SandboxState(state_file)).test_client()
    assert restarted.get("/users/me", headers=auth).json["id"] == tokens["user_id"]
    assert restarted.get(f"/pictures/{picture['id']}").json == picture
    assert restarted.get(f"/pictures/{picture['id']}/800x800.jpg").status_code == 200

    assert restarted.post("/_sandbox/reset").status_code == 200
    assert (
        create_app(SandboxState(state_file)).test_client().get("/users/me", headers=auth).status_code == 401
    )


def test_the_entry_point_serves_on_the_given_loopback_port(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "sandbox.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infra.local.mercadolibre",
            "--port",
            str(port),
            "--state-file",
            str(tmp_path / "s.json"),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def healthy() -> dict[str, object] | None:
            try:
                return requests.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=2).json()
            except requests.ConnectionError:
                return None

        health = wait_for(healthy, 60, "the sandbox's health answer")
        assert health == {
            "status": "ok",
            "sandbox": "intellipost-local",
            "sites": ["MLA", "MLB"],
            "sellers": 0,
            "pictures": 0,
            "items": 0,
        }
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            exit_code = process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        finally:
            log.close()
    assert exit_code == 0, (tmp_path / "sandbox.log").read_text()


@pytest.mark.parametrize(
    ("accept", "lang", "words"),
    [
        ("pt-BR,pt;q=0.9", "pt", ["Apelido", "País", "Entrar e autorizar"]),
        ("es-AR,es;q=0.9,en;q=0.5", "es", ["Apodo", "País", "Ingresar y autorizar"]),
        ("en-US", "en", ["Nickname", "Site", "Sign in and authorize"]),
        ("de-DE", "es", ["Apodo"]),
    ],
)
def test_the_sign_in_page_speaks_the_sellers_language_and_fits_a_phone(
    live_sandbox: str, accept: str, lang: str, words: list[str]
) -> None:
    params = {"response_type": "code", "client_id": DEFAULT_CLIENT_ID, "redirect_uri": REDIRECT_URI}
    page = requests.get(
        f"{live_sandbox}/authorization", params=params, headers={"Accept-Language": accept}, timeout=10
    )
    assert page.status_code == 200 and page.headers["Content-Language"] == lang
    assert f'<html lang="{lang}">' in page.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
    assert all(word in page.text for word in words)
