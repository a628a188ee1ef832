"""`make run`'s stack as a new user runs it: health, an upload reaching ingest, Ctrl-C, restart; its
children dying and coming back; `make backup` and `make restore` finding it from its state folder."""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from PIL import Image

from infra.local.backup import unpack
from tests.photos import grocery_photo
from tests.stack import LOCAL, Stack
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e


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
        account, oauth = _connect_mercadolibre(stack, token)
        assert account["nickname"] == "TIENDA_E2E"
        # The seller's loop, over HTTP only: edit, change the prompt, restore, publish.
        listed_item = _review_and_publish(stack, product_id, token)

        stack.client("dynamodb").put_item(TableName=LOCAL["PRODUCTS_TABLE"], Item=row)
        stack.client("s3").put_object(Bucket=LOCAL["MEDIA_BUCKET"], Key="processed/u1/keep.jpg", Body=b"kept")
        _backup_reads_the_live_stack_and_restore_waits_for_it(stack, row)
        stack.stop_like_ctrl_c(process)
    assert "State saved" in stack.console()
    # MercadoLibre's code and state went through the API, the sandbox and the console: never in clear.
    logged = stack.logs()
    assert [name for name, value in oauth.items() if value in logged] == []
    assert "/api/v1/ml/callback?code=[redacted]&state=[redacted]" in logged  # the line is there

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
        # Restoring objects does not fire their events a second time. Events are switched on after
        # the restore, so a fired one would be in a queue now, and leaves it only once handled.
        wait_for(stack.queues_idle, 60, "every event queue to be empty")
        assert stack.dropped_uploads(key) == 1
        stack.stop_like_ctrl_c(process)


def test_a_child_that_dies_comes_back_and_no_event_is_lost(tmp_path: Path) -> None:
    """`kill -9` of each child of `make run`: it is started again, said on the console. An event the
    runtime held when it died is kept by the snapshot (in flight, invisible for the function's
    timeout + 30 s), so a Ctrl-C and a new `make run` right after still finish the product."""
    stack = Stack(tmp_path)
    with stack.running() as process:
        token = stack.register("crash@example.com")
        product_id = _create_and_upload(stack, token, ("001",))
        wait_for(stack.in_flight, 90, "the runtime to hold an event")
        os.kill(stack.child(process, "infra.local.runtime").pid, signal.SIGKILL)
        wait_for(lambda: "events started again (restart 1" in stack.console(), 30, "the runtime to restart")
        assert "events stopped (killed by signal 9)" in stack.console()
        assert stack.in_flight()  # the killed runtime's event, hidden for its visibility timeout
        stack.stop_like_ctrl_c(process)

    with stack.running() as process:
        assert "Restored the last session" in stack.console()

        def product() -> dict[str, Any] | None:
            try:
                got = requests.get(f"{stack.api}/products/{product_id}", headers=_auth(token), timeout=10)
            except requests.RequestException:
                return None
            return got.json() if got.status_code == 200 else None  # type: ignore[no-any-return]

        wait_for(lambda: (product() or {}).get("status") == "ready", 120, "the product to be ready")
        sandbox = f"http://127.0.0.1:{stack.sandbox_port}/_sandbox/health"
        panel = f"http://127.0.0.1:{stack.panel_port}/api/v1/health"
        children = [
            ("chalice local", "api", lambda: product() is not None),
            ("infra.local.mercadolibre", "mercadolibre", lambda: _answers(sandbox)),
            # The emulator comes back with the last snapshot: the product is still there.
            ("infra.local.moto_server", "emulator", lambda: (product() or {}).get("status") == "ready"),
        ]
        if "Panel: http" in stack.console():  # served when web/build exists
            children.append(("infra.local.panel", "panel", lambda: _answers(panel)))
        for module, name, answers in children:
            os.kill(stack.child(process, module).pid, signal.SIGKILL)
            wait_for(
                lambda name=name: f"{name} started again (restart 1" in stack.console(), 60, f"{name} back"
            )
            wait_for(answers, 60, f"{name} to answer again")
            assert f"{name} stopped (killed by signal 9)" in stack.console()
        stack.stop_like_ctrl_c(process)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _sell_a_product(stack: Stack) -> tuple[str, str]:
    token = stack.register("e2e@example.com")
    product_id = _create_and_upload(stack, token, ("001", "002"))

    def ready() -> bool:
        got = requests.get(f"{stack.api}/products/{product_id}", headers=_auth(token), timeout=10)
        assert got.json()["status"] != "failed", got.json()["attention"]
        return bool(got.json()["status"] == "ready")

    # The whole pipeline runs by itself: ingest, images, content (local writer, sandbox categories).
    wait_for(ready, 90, "the listing to be ready")
    listing = requests.get(f"{stack.api}/products/{product_id}/listing", headers=_auth(token), timeout=10)
    assert (
        listing.status_code == 200
        and listing.json()["title"]
        and listing.json()["category"]["id"].startswith("MLA")
    )
    return product_id, token


def _create_and_upload(stack: Stack, token: str, shots: tuple[str, ...]) -> str:
    """A product from real photos, uploaded through its presigned forms straight to (emulated) S3."""
    photos = [grocery_photo("Valio-Vanilla-Yoghurt", shot) for shot in shots]
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
    return str(product["product_id"])


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


def _backup_reads_the_live_stack_and_restore_waits_for_it(stack: Stack, row: dict[str, Any]) -> None:
    """With no endpoint given and the stack on its own ports, `make backup` finds the running stack
    from the state folder and archives its live emulator; `make restore` refuses to run under it."""
    made = stack.command("backup", "--out", str(stack.state_dir / "backups"))
    assert made.returncode == 0, made.stderr
    assert f"from the emulator at {stack.endpoint}:" in made.stdout
    archive = Path(made.stdout.strip().splitlines()[-1])
    manifest = unpack(archive, stack.state_dir / "unpacked")
    live = stack.client("dynamodb").scan(TableName=LOCAL["PRODUCTS_TABLE"], Select="COUNT")["Count"]
    assert manifest["tables"][LOCAL["PRODUCTS_TABLE"]] == live  # the row written a moment ago too
    refused = stack.command("restore", str(archive))
    assert refused.returncode == 1
    assert "`make run` is running" in refused.stderr and "stop it (Ctrl-C)" in refused.stderr
    assert not list(stack.state_dir.glob("snapshot.before-restore-*"))  # the saved state untouched
    item = stack.client("dynamodb").get_item(
        TableName=LOCAL["PRODUCTS_TABLE"], Key={k: row[k] for k in ("user_id", "product_id")}
    )
    assert item["Item"] == row


def _connect_mercadolibre(stack: Stack, token: str) -> tuple[dict[str, object], dict[str, str]]:
    """The seller's browser through the sandbox's sign-in page and back; the account, and the
    callback's OAuth code and state."""
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
    query = urlsplit(callback).query
    decoded = {k: v[0] for k, v in parse_qs(query).items() if k in ("code", "state")}
    sent = dict(pair.split("=", 1) for pair in query.split("&"))  # as written in a request line
    oauth = {**decoded, **{f"{k} (as sent)": sent[k] for k in decoded}}
    assert set(decoded) == {"code", "state"} and all(len(v) >= 8 for v in oauth.values())
    account = requests.get(f"{stack.api}/ml/account", headers=_auth(token), timeout=10).json()
    return account, oauth


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
