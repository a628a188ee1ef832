"""The sandbox over real HTTP: the publishing path a client takes, fault knobs, restarts, the entry point."""

from __future__ import annotations

import io
import json
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
from tests.sandbox.conftest import REDIRECT_URI, authorization_code, exchange, jpeg, listing_body, pkce_pair
from tests.scripted_server import scripted_server
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


def faults(base: str, **knobs: object) -> dict[str, object]:
    answer = requests.post(f"{base}/_sandbox/faults", json=knobs, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_a_scripted_answer_is_exactly_the_status_and_body_asked_for_then_stops(live_sandbox: str) -> None:
    auth = connect(live_sandbox)
    body = {
        "message": "seller.unable_to_list",
        "error": "User is unable to list.",
        "status": 403,
        "cause": ["x"],
    }
    faults(
        live_sandbox, answers=[{"method": "POST", "path": "/items", "status": 403, "body": body, "times": 2}]
    )

    for _ in range(2):
        scripted = requests.post(f"{live_sandbox}/items", json={}, headers=auth, timeout=10)
        assert (scripted.status_code, scripted.json()) == (403, body)
        assert scripted.headers["X-Sandbox"] == "intellipost-local" and scripted.headers["x-request-id"]
    # Spent: the sandbox answers for itself again; other methods and paths were never scripted.
    assert requests.post(f"{live_sandbox}/items", json={}, headers=auth, timeout=10).json()["cause"][0][
        "code"
    ] == ("body.required_fields")
    assert requests.get(f"{live_sandbox}/users/me", headers=auth, timeout=10).status_code == 200


def test_shares_of_429_and_500_on_a_prefix_make_a_seeded_storm(live_sandbox: str) -> None:
    faults(
        live_sandbox,
        seed=7,
        answers=[
            {"path": "/categories*", "status": 429, "share": 0.5},
            {"path": "/categories*", "status": 500},
        ],
    )

    answers = [requests.get(f"{live_sandbox}/categories/MLA1055", timeout=10) for _ in range(30)]
    assert {answer.status_code for answer in answers} == {429, 500}
    throttled = next(answer for answer in answers if answer.status_code == 429)
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.json() == {
        "message": "Too many requests",
        "error": "local_rate_limited",
        "status": 429,
        "cause": [],
    }
    assert next(a for a in answers if a.status_code == 500).json()["error"] == "internal_error"
    # Other paths and the harness itself are untouched.
    assert (
        requests.get(f"{live_sandbox}/sites/MLA/domain_discovery/search?q=mate", timeout=10).status_code
        == 200
    )
    assert requests.get(f"{live_sandbox}/_sandbox/health", timeout=10).status_code == 200

    faults(live_sandbox, latency_ms=300)
    started = time.monotonic()
    assert requests.get(f"{live_sandbox}/categories/MLA1055", timeout=10).status_code == 200
    assert time.monotonic() - started >= 0.3
    for wrong in (
        {"answers": [{"path": "/items", "status": 200, "share": 2}]},
        {"answers": [{"path": "/items"}]},
        {"answers": [{"path": "/_sandbox/reset", "status": 500}]},
        {"status_429_share": 0.5},
    ):
        assert requests.post(f"{live_sandbox}/_sandbox/faults", json=wrong, timeout=10).status_code == 400


def test_dropping_the_connection_after_creating_leaves_the_item_and_no_answer(live_sandbox: str) -> None:
    auth = connect(live_sandbox)
    me = requests.get(f"{live_sandbox}/users/me", headers=auth, timeout=10).json()
    picture = requests.post(
        f"{live_sandbox}/pictures/items/upload", headers=auth, files={"file": ("p.jpg", jpeg())}, timeout=10
    ).json()
    attributes = [{"id": "BRAND", "value_name": "JBL"}, {"id": "SELLER_SKU", "value_name": "DROPPED-1"}]
    listing = listing_body(picture["id"], attributes=attributes)
    faults(live_sandbox, answers=[{"method": "POST", "path": "/items", "drop": "after", "times": 1}])

    with pytest.raises(requests.ConnectionError):
        requests.post(f"{live_sandbox}/items", json=listing, headers=auth, timeout=10)
    found = requests.get(
        f"{live_sandbox}/users/{me['id']}/items/search",
        params={"seller_sku": "DROPPED-1"},
        headers=auth,
        timeout=10,
    ).json()
    assert found["paging"]["total"] == 1  # created, although nobody heard

    faults(live_sandbox, answers=[{"method": "GET", "path": "/users/me", "drop": "before", "times": 1}])
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{live_sandbox}/users/me", headers=auth, timeout=10)
    assert requests.get(f"{live_sandbox}/users/me", headers=auth, timeout=10).status_code == 200


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


def test_item_changes_are_notified_to_the_app_until_it_answers_200(live_sandbox: str) -> None:
    with scripted_server() as receiver:
        receiver.answer(500, "{}")  # the first delivery fails: MercadoLibre sends it again
        receiver.answer(200, "{}")
        receiver.answer(200, "{}")
        registered = requests.post(
            f"{live_sandbox}/_sandbox/apps",
            json={
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "notifications_url": f"{receiver.url}/api/v1/ml/notifications",
            },
            timeout=10,
        )
        assert registered.status_code == 200 and registered.json()["topics"] == ["items"]
        auth = connect(live_sandbox)
        me = requests.get(f"{live_sandbox}/users/me", headers=auth, timeout=10).json()
        picture = requests.post(
            f"{live_sandbox}/pictures/items/upload",
            headers=auth,
            files={"file": ("p.jpg", jpeg())},
            timeout=10,
        ).json()
        item = requests.post(
            f"{live_sandbox}/items", headers=auth, timeout=10, json=listing_body(picture["id"])
        ).json()
        wait_for(lambda: len(receiver.seen) >= 2, 30, "the notification, sent again")
        requests.post(
            f"{live_sandbox}/_sandbox/items/{item['id']}/status", json={"status": "paused"}, timeout=10
        )
        wait_for(lambda: len(receiver.seen) >= 3, 30, "the notification of the status change")

    first, again, status = (json.loads(seen.body) for seen in receiver.seen)
    assert receiver.seen[0].path == "/api/v1/ml/notifications"
    assert set(first) == {
        "_id",
        "resource",
        "user_id",
        "topic",
        "application_id",
        "attempts",
        "sent",
        "received",
    }
    assert (first["resource"], first["topic"], first["user_id"]) == (
        f"/items/{item['id']}",
        "items",
        me["id"],
    )
    assert first["application_id"] == int(DEFAULT_CLIENT_ID)
    assert (first["attempts"], again["attempts"], again["_id"]) == (1, 2, first["_id"])
    assert status["resource"] == first["resource"] and status["_id"] != first["_id"]


@pytest.mark.parametrize(
    ("accept", "lang", "words"),
    [
        ("pt-BR,pt;q=0.9", "pt", ["Apelido", "País", "Entrar e autorizar", "Tipo de vendedor de teste"]),
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
