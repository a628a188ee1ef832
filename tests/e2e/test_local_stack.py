"""`make run`'s stack as a new user runs it: health, an upload reaching ingest, Ctrl-C, restart."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from PIL import Image

from infra.local.emulator import free_port, port_is_free
from infra.local.environment import ROOT, stage_environment
from tests.conftest import stop_process_group
from tests.photos import grocery_photo
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

LOCAL = stage_environment("local")


class Stack:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.api_port = free_port()
        self.emulator_port = free_port()
        self.sandbox_port = free_port()
        self.panel_port = free_port()  # served when web/build exists
        self.api = f"http://127.0.0.1:{self.api_port}/api/v1"
        self.endpoint = f"http://127.0.0.1:{self.emulator_port}"
        self.runs = 0

    @contextmanager
    def running(self) -> Iterator[subprocess.Popen[bytes]]:
        env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
        env.update(
            API_PORT=str(self.api_port),
            EMULATOR_PORT=str(self.emulator_port),
            SANDBOX_PORT=str(self.sandbox_port),
            PANEL_PORT=str(self.panel_port),
            INTELLIPOST_STATE_DIR=str(self.state_dir),
            SNAPSHOT_EVERY_SECONDS="1",
        )
        self.runs += 1
        console = self._console_path().open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.stack"],
            cwd=ROOT,
            env=env,
            stdout=console,
            stderr=console,
            start_new_session=True,
        )
        try:
            wait_for(lambda: "Press Ctrl-C" in self.console(), 90, "the stack to start")
            yield process
        finally:
            stop_process_group(process, signal.SIGKILL)
            console.close()

    def _console_path(self) -> Path:
        return self.state_dir / f"console-{self.runs}.log"

    def console(self) -> str:
        """What the current run printed."""
        return self._console_path().read_text(errors="replace")

    def client(self, service: str):  # type: ignore[no-untyped-def]
        return boto3.client(service, endpoint_url=self.endpoint)

    def dropped_uploads(self, key: str) -> int:
        log = self.state_dir / "logs" / "events.log"
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        return sum(1 for line in lines if line.get("message") == "upload dropped" and line.get("key") == key)

    def stop_like_ctrl_c(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
        for port in (self.api_port, self.emulator_port, self.sandbox_port, self.panel_port):
            assert port_is_free(port), f"port {port} is still bound after Ctrl-C"


def test_the_stack_runs_persists_and_stops_cleanly(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    key = "uploads/u1/01PRODUCTGONE/img1.jpg"
    row = {"user_id": {"S": "u1"}, "product_id": {"S": "01KEEPME"}, "status": {"S": "ready"}}

    with stack.running() as process:
        assert requests.get(f"{stack.api}/health", timeout=5).json() == {"status": "ok", "stage": "local"}
        detailed = requests.get(f"{stack.api}/health/detailed", timeout=5)
        assert detailed.status_code == 200 and detailed.json()["status"] == "ok"
        assert detailed.headers["X-Request-Id"]

        # An object written under uploads/ reaches the ingest function through the event runtime.
        stack.client("s3").put_object(Bucket=LOCAL["MEDIA_BUCKET"], Key=key, Body=b"not really a photo")
        wait_for(lambda: stack.dropped_uploads(key) == 1, 30, "ingest to receive the upload")

        # A seller's whole intake over HTTP: register, create, upload real photos, ingest, processing,
        # and the images function's main picture on pure white.
        product_id, token = _sell_a_product(stack)
        _main_picture_on_white(stack, product_id, token)
        # Connecting a MercadoLibre account through the sandbox's sign-in page.
        assert _connect_mercadolibre(stack, token)["nickname"] == "TIENDA_E2E"
        # The seller's loop, over HTTP only: edit, change the prompt, restore, publish.
        listed_item = _review_and_publish(stack, product_id, token)

        stack.client("dynamodb").put_item(TableName=LOCAL["PRODUCTS_TABLE"], Item=row)
        stack.client("s3").put_object(Bucket=LOCAL["MEDIA_BUCKET"], Key="processed/u1/keep.jpg", Body=b"kept")
        stack.stop_like_ctrl_c(process)
    assert "State saved" in stack.console()

    with stack.running() as process:
        assert "Restored the last session" in stack.console()
        item = stack.client("dynamodb").get_item(
            TableName=LOCAL["PRODUCTS_TABLE"], Key={k: row[k] for k in ("user_id", "product_id")}
        )
        assert item["Item"] == row
        kept = stack.client("s3").get_object(Bucket=LOCAL["MEDIA_BUCKET"], Key="processed/u1/keep.jpg")
        assert kept["Body"].read() == b"kept"
        # The seller's session, product and MercadoLibre account survived the restart.
        account = requests.get(f"{stack.api}/ml/account", headers=_auth(token), timeout=10).json()
        assert account["nickname"] == "TIENDA_E2E" and account["valid"] is True
        again = requests.get(f"{stack.api}/products/{product_id}", headers=_auth(token), timeout=10).json()
        assert again["status"] == "published" and again["item"]["id"] == listed_item["id"]
        assert [i["status"] for i in again["images"]] == ["accepted"] * 2
        # Restoring objects does not fire their events a second time.
        time.sleep(3)
        assert stack.dropped_uploads(key) == 1
        stack.stop_like_ctrl_c(process)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _sell_a_product(stack: Stack) -> tuple[str, str]:
    tokens = requests.post(
        f"{stack.api}/auth/register",
        json={"email": "e2e@example.com", "password": "a long password"},
        timeout=10,
    ).json()
    token = tokens["access_token"]
    photos = [grocery_photo("Valio-Vanilla-Yoghurt", shot) for shot in ("001", "002")]
    declared = [
        {"file_name": f"{n}.jpg", "content_type": "image/jpeg", "size": len(p)} for n, p in enumerate(photos)
    ]
    created = requests.post(
        f"{stack.api}/products",
        json={"prompt": "yogur de vainilla Valio", "images": declared},
        headers=_auth(token),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    product = created.json()
    for image, data in zip(product["images"], photos, strict=True):
        form = image["upload"]
        assert form["url"].startswith(stack.endpoint)  # the browser uploads straight to (emulated) S3
        sent = requests.post(
            form["url"], data=form["fields"], files={"file": ("photo.jpg", data)}, timeout=10
        )
        assert sent.status_code in (200, 204), sent.text

    def ready() -> bool:
        got = requests.get(f"{stack.api}/products/{product['product_id']}", headers=_auth(token), timeout=10)
        assert got.json()["status"] != "failed", got.json()["attention"]
        return bool(got.json()["status"] == "ready")

    # The whole pipeline runs by itself: ingest, images, content (local writer, sandbox categories).
    wait_for(ready, 90, "the listing to be ready")
    listing = requests.get(
        f"{stack.api}/products/{product['product_id']}/listing", headers=_auth(token), timeout=10
    )
    assert (
        listing.status_code == 200
        and listing.json()["title"]
        and listing.json()["category"]["id"].startswith("MLA")
    )
    return str(product["product_id"]), token


def _main_picture_on_white(stack: Stack, product_id: str, token: str) -> None:
    def ready() -> dict[str, object] | None:
        got = requests.get(f"{stack.api}/products/{product_id}", headers=_auth(token), timeout=10).json()
        assert got["status"] != "failed", got["attention"]
        return got["main_picture"] or None  # type: ignore[no-any-return]

    main = wait_for(ready, 90, "the main picture")
    picture = Image.open(io.BytesIO(requests.get(main["url"], timeout=10).content))  # type: ignore[index]
    assert picture.size == (1200, 1200)
    for edge in range(0, 1200, 7):
        for point in ((edge, 0), (edge, 1199), (0, edge), (1199, edge)):
            assert picture.getpixel(point) == (255, 255, 255)


def _connect_mercadolibre(stack: Stack, token: str) -> dict[str, object]:
    browser = requests.Session()  # keeps the connection's cookie, as the seller's browser does
    url = browser.get(f"{stack.api}/ml/connect", headers=_auth(token), timeout=10).json()["authorization_url"]
    assert url.startswith(f"http://127.0.0.1:{stack.sandbox_port}/authorization?")
    assert 'name="nickname"' in requests.get(url, timeout=10).text
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    signed_in = requests.post(
        f"http://127.0.0.1:{stack.sandbox_port}/authorization",
        data={**params, "nickname": "TIENDA_E2E", "site_id": "MLA"},
        allow_redirects=False,
        timeout=10,
    )
    assert signed_in.status_code == 302
    callback = signed_in.headers["Location"]
    assert callback.startswith(f"{stack.api}/ml/callback?")
    assert browser.get(callback, timeout=10).status_code == 200  # the browser follows the redirect
    return requests.get(f"{stack.api}/ml/account", headers=_auth(token), timeout=10).json()  # type: ignore[no-any-return]


def _wait_product(stack: Stack, product_id: str, token: str, done: object, what: str) -> dict[str, object]:
    def reached() -> dict[str, object] | None:
        got = requests.get(f"{stack.api}/products/{product_id}", headers=_auth(token), timeout=10).json()
        assert got["status"] != "failed", got["attention"]
        return got if done(got) else None  # type: ignore[operator,no-any-return]

    return wait_for(reached, 90, what)  # type: ignore[return-value]


def _review_and_publish(stack: Stack, product_id: str, token: str) -> dict[str, object]:
    listing_url = f"{stack.api}/products/{product_id}/listing"
    first = requests.get(listing_url, headers=_auth(token), timeout=10).json()
    mine = "Yogur Valio Vainilla Cremoso"
    edited = requests.put(
        listing_url, json={"version": first["version"], "title": mine}, headers=_auth(token), timeout=10
    )
    assert edited.status_code == 200 and edited.json()["edited"] == ["title"]
    # A new prompt re-runs the pipeline by itself, keeping the edited title.
    changed = requests.put(
        f"{stack.api}/products/{product_id}/prompt",
        json={"prompt": "yogur de vainilla valio 1 kg"},
        headers=_auth(token),
        timeout=10,
    )
    assert changed.status_code == 200
    _wait_product(
        stack, product_id, token, lambda p: p["status"] == "ready" and p["revision"] == 2, "the re-run"
    )
    rerun = requests.get(listing_url, headers=_auth(token), timeout=10).json()
    assert rerun["revision"] == 2 and rerun["title"] == mine
    restored = requests.post(
        f"{listing_url}/versions/{first['version']}/restore", headers=_auth(token), timeout=10
    )
    assert restored.status_code == 200 and restored.json()["title"] == first["title"]
    approved = requests.post(
        f"{stack.api}/products/{product_id}/publish",
        json={"price": 2500, "quantity": 4},
        headers=_auth(token),
        timeout=10,
    )
    assert approved.status_code == 200, approved.text
    published = _wait_product(stack, product_id, token, lambda p: p["status"] == "published", "publishing")
    item = published["item"]
    assert "mercadolibre.com.ar" in item["permalink"]  # type: ignore[index]
    # The item, its picture and its description, as the sandbox keeps them.
    sandbox = f"http://127.0.0.1:{stack.sandbox_port}"
    seller_token = _sandbox_token(sandbox, "TIENDA_E2E")
    shown = requests.get(f"{sandbox}/items/{item['id']}", headers=_auth(seller_token), timeout=10).json()  # type: ignore[index]
    skus = [a["value_name"] for a in shown["attributes"] if a["id"] == "SELLER_SKU"]
    assert shown["title"] == first["title"] and skus == [product_id] and shown["pictures"]
    description = requests.get(
        f"{sandbox}/items/{item['id']}/description", headers=_auth(seller_token), timeout=10
    )  # type: ignore[index]
    assert description.json()["plain_text"]
    picture = requests.get(shown["pictures"][0]["url"], timeout=10)
    assert picture.status_code == 200 and Image.open(io.BytesIO(picture.content)).size == (1200, 1200)
    return item  # type: ignore[return-value]


def _sandbox_token(sandbox: str, nickname: str) -> str:
    """Sign in as the same test seller with the sandbox's public app, to look at what it holds."""
    from infra.local.mercadolibre.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    params = {
        "response_type": "code",
        "client_id": DEFAULT_CLIENT_ID,
        "redirect_uri": "http://127.0.0.1/x",
        "state": "s",
    }
    answer = requests.post(
        f"{sandbox}/authorization",
        data={**params, "nickname": nickname, "site_id": "MLA"},
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    tokens = requests.post(
        f"{sandbox}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "code": code,
            "redirect_uri": "http://127.0.0.1/x",
        },
        timeout=10,
    ).json()
    return str(tokens["access_token"])
