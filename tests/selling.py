"""A seller's steps on the app in this process (the `api` fixture, chalice's test client), shared by
the test modules: photos declared and uploaded through their presigned forms, a product ingested by
hand and taken through the images step, a MercadoLibre account connected through the sandbox's
sign-in page, a listing approved. Test modules import these, never each other
(tests/unit/test_structure.py)."""

from __future__ import annotations

import os
from typing import Any

import boto3
import requests

from chalicelib.content import process_content_job
from chalicelib.images import process_images_job
from tests.photos import grocery_photo

BUCKET = os.environ["MEDIA_BUCKET"]
OATLY = [grocery_photo("Oatly-Oat-Milk", shot) for shot in ("001", "002")]
# A body the API takes, for each request model (by its name); "IMAGE" stands for an image id.
SAMPLE_BODIES: dict[str, Any] = {
    "NewProduct": {
        "prompt": "mate",
        "images": [{"file_name": "a.jpg", "content_type": "image/jpeg", "size": 10}],
    },
    "NewImages": {"images": [{"file_name": "a.jpg", "content_type": "image/jpeg", "size": 10}]},
    "ImageOrder": {"image_ids": ["IMAGE"]},
    "MainImageChoice": {"image_id": "IMAGE"},
    "SettingsUpdate": {"site": "MLA"},
    "ListingEdit": {"version": 1, "title": "Leche de avena"},
    "PromptChange": {"prompt": "leche de avena"},
    "PublishRequest": {"price": 1500, "quantity": 2},
    "ItemEdit": {"price": 1600},
}


def declared(photos: list[bytes], content_type: str = "image/jpeg") -> list[dict[str, Any]]:
    """The photos as the seller's browser declares them when creating a product."""
    return [
        {"file_name": f"photo{n}.jpg", "content_type": content_type, "size": len(p)}
        for n, p in enumerate(photos)
    ]


def upload(image: dict[str, Any], data: bytes) -> requests.Response:
    """One photo through its presigned form, straight to (emulated) S3."""
    form = image["upload"]
    return requests.post(form["url"], data=form["fields"], files={"file": ("photo", data)}, timeout=10)


def keys(prefix: str) -> list[str]:
    """Every object of the media bucket under `prefix`."""
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def ingested(api: Any, photos: list[bytes], prompt: str = "yogur") -> tuple[Any, dict[str, Any], str]:
    """A product whose photos were ingested (no event runtime): its images job is ours to deliver."""
    from app import app
    from infra.local.runtime import LocalLambdaContext

    s3 = boto3.client("s3")
    seller = api.seller()
    product = seller.call("POST", "/products", {"prompt": prompt, "images": declared(photos)}).json
    for image, data in zip(product["images"], photos, strict=True):
        key = image["upload"]["fields"]["key"]
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        app.handler_map["ingest"](
            {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}}]},
            LocalLambdaContext("ingest", 60),
        )
    return seller, product, f"jobs/images/{product['product_id']}/1.json"


def through_images(
    api: Any, photos: list[bytes], prompt: str = "leche de avena 1 litro"
) -> tuple[Any, str, str]:
    """A product past the images step: the seller, the product id, its content job to deliver."""
    seller, product, images_job = ingested(api, photos, prompt)
    process_images_job(images_job)
    return seller, product["product_id"], f"jobs/content/{product['product_id']}/1.json"


# -- connecting MercadoLibre ---------------------------------------------------------------------------


def start_connecting(seller: Any) -> tuple[str, dict[str, str]]:
    """/ml/connect as the seller's browser calls it: the authorization URL, and the cookie it keeps."""
    started = seller.call("GET", "/ml/connect")
    assert started.status_code == 200
    set_cookie = started.headers["Set-Cookie"]
    assert (
        "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Path=/api/v1/ml/callback" in set_cookie
    )
    return started.json["authorization_url"], {"Cookie": set_cookie.split(";")[0]}


def callback(api: Any, back: dict[str, str], browser: dict[str, str] | None) -> Any:
    """The browser back from MercadoLibre's sign-in page on /ml/callback with `back`'s query."""
    query = "&".join(f"{k}={requests.utils.quote(v)}" for k, v in back.items())
    return api.call("GET", f"/ml/callback?{query}", headers=browser)


def connect(api: Any, sandbox: Any, seller: Any, nickname: str = "VENDEDOR", **page: str) -> dict[str, Any]:
    """The seller connects a MercadoLibre account through the sandbox's sign-in page (`page`: its
    other inputs); returns the callback's query."""
    url, browser = start_connecting(seller)
    assert url.startswith(f"{sandbox.url}/authorization?") and "code_challenge_method=S256" in url
    back = sandbox.sign_in(url, nickname, **page)
    finished = callback(api, back, browser)
    assert finished.status_code == 200, finished.json
    return back


# -- publishing ------------------------------------------------------------------------------------


def ready_product(api: Any, sandbox: Any, **page: str) -> tuple[Any, str]:
    """A product ready to publish, its seller connected to the sandbox (`page`: the sign-in page's
    choices, such as `kind="user_products"`)."""
    seller, product_id, job = through_images(api, OATLY, "leche de avena oatly 1 litro")
    process_content_job(job)
    connect(api, sandbox, seller, f"SELLER{product_id[-6:]}", **page)
    return seller, product_id


def approve(seller: Any, product_id: str, **overrides: Any) -> Any:
    """The seller approves the listing for publishing (price 4500, quantity 3 unless overridden)."""
    return seller.call("POST", f"/products/{product_id}/publish", {"price": 4500, "quantity": 3, **overrides})


def latest_job(product_id: str) -> str:
    """The product's newest publish job: `{version}.json`, then `{version}-{attempt}.json`."""

    def attempt(key: str) -> int:
        name = key.rsplit("/", 1)[1].removesuffix(".json")
        return int(name.split("-")[1]) if "-" in name else 1

    return max(keys(f"jobs/publish/{product_id}/"), key=attempt)
