"""Register -> create -> upload real photos through the presigned forms -> ingest -> processing."""

from __future__ import annotations

import hashlib
import io
import json
import os
from typing import Any

import boto3
import pytest
from PIL import Image as PILImage

from chalicelib import store
from chalicelib.store.models import ProductRow as Product
from tests.photos import grocery_photo
from tests.selling import declared, upload
from tests.waiting import wait_for

BUCKET = os.environ["MEDIA_BUCKET"]


def jobs(product_id: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"jobs/images/{product_id}/")
    return [item["Key"] for item in listed.get("Contents", [])]


def small_photo(width: int, height: int) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 120, 40)).save(out, format="JPEG")
    return out.getvalue()


def test_real_photos_go_from_upload_form_to_one_images_job(api, events_running) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    photos = [grocery_photo("Oatly-Oat-Milk", shot) for shot in ("001", "002", "003")]
    created = seller.call(
        "POST", "/products", {"prompt": "  leche de avena Oatly 1 litro ", "images": declared(photos)}
    )
    assert created.status_code == 201, created.json
    product = created.json
    assert product["status"] == "uploading" and product["prompt"] == "leche de avena Oatly 1 litro"
    for image, data in zip(product["images"], photos, strict=True):
        assert (
            image["upload"]["fields"]["key"]
            == f"uploads/{seller.user_id}/{product['product_id']}/{image['image_id']}.jpg"
        )
        assert upload(image, data).status_code in (200, 204)

    def photos_received() -> Any:
        # The event this test checks: said once the images job is written (the status moves first).
        got = seller.call("GET", f"/products/{product['product_id']}").json
        return got if "PHOTOS_RECEIVED" in [event["code"] for event in got["events"]] else None

    done = wait_for(photos_received)
    assert done["status"] in ("processing", "ready")  # the images and content steps may be running
    assert [image["status"] for image in done["images"]] == ["accepted"] * 3
    assert all(image["width"] == 1044 and image["height"] == 1044 for image in done["images"])
    assert all(image["url"] and image["upload"] is None for image in done["images"])
    # The hash taken while the bytes streamed in is the hash of what the seller sent.
    judged = [store.images.get(product["product_id"], image["image_id"]) for image in done["images"]]
    assert [image.sha256 if image else None for image in judged] == [
        hashlib.sha256(photo).hexdigest() for photo in photos
    ]
    [key] = jobs(product["product_id"])
    assert key == f"jobs/images/{product['product_id']}/1.json"
    manifest = json.loads(boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert manifest["revision"] == 1 and manifest["user_id"] == seller.user_id
    assert [image["image_id"] for image in manifest["images"]] == [
        image["image_id"] for image in done["images"]
    ]
    codes = [event["code"] for event in done["events"]]
    # The images step may already have added its own events after these.
    assert codes[0] == "WAITING_FOR_PHOTOS" and codes.count("PHOTO_RECEIVED") == 3
    assert codes.count("PHOTOS_RECEIVED") == 1
    assert codes.index("PHOTOS_RECEIVED") > max(i for i, code in enumerate(codes) if code == "PHOTO_RECEIVED")

    # Reordering the photos is a new revision: its images job is written at once, in the new order.
    order = [image["image_id"] for image in reversed(done["images"])]
    reordered = seller.call("PUT", f"/products/{product['product_id']}/images/order", {"image_ids": order})
    assert reordered.json["revision"] == 2 and reordered.json["status"] in ("processing", "ready")
    assert jobs(product["product_id"]) == [key, f"jobs/images/{product['product_id']}/2.json"]
    second = boto3.client("s3").get_object(Bucket=BUCKET, Key=jobs(product["product_id"])[1])
    assert [image["image_id"] for image in json.loads(second["Body"].read())["images"]] == order


def test_a_small_photo_is_rejected_with_a_reason_and_the_rest_goes_on(api, events_running) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    photos = [grocery_photo(), small_photo(640, 480)]
    product = seller.call("POST", "/products", {"prompt": "leche", "images": declared(photos)}).json
    for image, data in zip(product["images"], photos, strict=True):
        upload(image, data)
    done = wait_for(
        lambda: (
            (p := seller.call("GET", f"/products/{product['product_id']}").json)["status"]
            in ("processing", "ready")
            and p
        )
    )
    rejected = done["images"][1]
    assert rejected["status"] == "rejected"
    assert rejected["rejection"]["code"] == "IMAGE_TOO_SMALL"
    assert rejected["rejection"]["message"] == "image is 640x480; at least 800x600 is needed"
    assert rejected["rejection"]["params"]["width"] == 640
    # The rejected photo's object is gone; the job lists only the good one.
    s3 = boto3.client("s3")
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=rejected_key(seller, product, 1)).get("KeyCount") == 0
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=jobs(product["product_id"])[0])["Body"].read())
    assert [image["image_id"] for image in manifest["images"]] == [product["images"][0]["image_id"]]


def rejected_key(seller: Any, product: dict[str, Any], index: int) -> str:
    return f"uploads/{seller.user_id}/{product['product_id']}/{product['images'][index]['image_id']}"


def test_when_every_photo_is_rejected_the_product_says_so_and_takes_another(api, events_running) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    fake = b"GIF89a" + b"\x00" * 2000
    product = seller.call("POST", "/products", {"prompt": "zapatillas", "images": declared([fake])}).json
    upload(product["images"][0], fake)
    waiting = wait_for(
        lambda: (p := seller.call("GET", f"/products/{product['product_id']}").json)["attention"] and p
    )
    # Never stuck: failed, with what to do (add a photo), and no step to retry.
    assert waiting["status"] == "failed"
    assert waiting["attention"]["code"] == "ALL_PHOTOS_REJECTED"
    assert waiting["attention"]["params"]["retry"] is False
    refused = seller.call("POST", f"/products/{product['product_id']}/retry")
    assert refused.status_code == 409 and refused.json["error"]["code"] == "NEEDS_PHOTOS"
    assert waiting["images"][0]["rejection"]["code"] == "IMAGE_FORMAT_UNSUPPORTED"
    assert waiting["images"][0]["rejection"]["params"]["detected"] == "gif"
    # The seller adds a good one: the product moves on with revision 2.
    good = grocery_photo()
    added = seller.call("POST", f"/products/{product['product_id']}/images", {"images": declared([good])})
    assert added.status_code == 201
    new_image = next(i for i in added.json["images"] if i["status"] == "declared")
    upload(new_image, good)
    done = wait_for(
        lambda: (
            (p := seller.call("GET", f"/products/{product['product_id']}").json)["status"]
            in ("processing", "ready")
            and p
        )
    )
    assert done["revision"] == 2 and done["attention"] is None
    assert jobs(product["product_id"]) == [f"jobs/images/{product['product_id']}/2.json"]


@pytest.mark.parametrize("deliveries", [2, 5])
def test_duplicate_and_concurrent_deliveries_write_one_job(api, provisioned, deliveries: int) -> None:  # type: ignore[no-untyped-def]
    """Ingest invoked directly, as Lambda would be, several times at once for both photos."""
    from concurrent.futures import ThreadPoolExecutor

    from app import app
    from infra.local.runtime import LocalLambdaContext

    seller = api.seller()
    photos = [grocery_photo("Arla-Standard-Milk", "001"), grocery_photo("Arla-Standard-Milk", "002")]
    product = seller.call("POST", "/products", {"prompt": "leche entera", "images": declared(photos)}).json
    s3 = boto3.client("s3")
    keys = []
    for image, data in zip(product["images"], photos, strict=True):
        key = image["upload"]["fields"]["key"]
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)  # no runtime here: we deliver by hand
        keys.append(key)

    def deliver(key: str) -> None:
        event = {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}}]}
        app.handler_map["ingest"](event, LocalLambdaContext("ingest", 60))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(deliver, keys * deliveries))
    assert jobs(product["product_id"]) == [f"jobs/images/{product['product_id']}/1.json"]
    stored = Product.get(seller.user_id, product["product_id"])
    assert stored.status == "processing" and stored.images_job_revision == 1
    events = seller.call("GET", f"/products/{product['product_id']}").json["events"]
    assert [e["code"] for e in events].count("PHOTOS_RECEIVED") == 1
    assert [e["code"] for e in events].count("PHOTO_RECEIVED") == 2


def test_an_upload_for_a_deleted_product_is_dropped_and_removed(api, provisioned) -> None:  # type: ignore[no-untyped-def]
    from app import app
    from infra.local.runtime import LocalLambdaContext

    seller = api.seller()
    photo = grocery_photo()
    product = seller.call("POST", "/products", {"prompt": "leche", "images": declared([photo])}).json
    key = product["images"][0]["upload"]["fields"]["key"]
    assert seller.call("DELETE", f"/products/{product['product_id']}").status_code == 204
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=photo)  # the upload lands late
    app.handler_map["ingest"](
        {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}}]},
        LocalLambdaContext("ingest", 60),
    )
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount") == 0


def _product_after(seller: Any, product_id: str, ready: Any) -> dict[str, Any]:
    return wait_for(lambda: (p := seller.call("GET", f"/products/{product_id}").json) and ready(p) and p, 90)  # type: ignore[no-any-return]


def test_a_form_posted_again_is_judged_again_and_only_judged_bytes_are_used(api, events_running) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    first = grocery_photo()
    product = seller.call("POST", "/products", {"prompt": "leche de avena", "images": declared([first])}).json
    image = product["images"][0]
    assert upload(image, first).status_code in (200, 204)
    product_id = product["product_id"]
    judged = _product_after(seller, product_id, lambda p: p["images"][0]["status"] == "accepted")
    # The same form, posted again with bytes that are no photo (the policy allows it for 15 minutes).
    garbage = b"\xff\xd8\xff" + b"not a photo at all " * 50
    assert upload(image, garbage).status_code in (200, 204)
    refused = _product_after(seller, product_id, lambda p: p["status"] == "failed")
    assert refused["images"][0]["status"] == "rejected"
    assert refused["images"][0]["rejection"]["code"] == "IMAGE_CORRUPT"
    assert refused["attention"]["code"] == "ALL_PHOTOS_REJECTED"
    assert refused["revision"] > judged["revision"]
    assert "PHOTO_REPLACED" in [event["code"] for event in refused["events"]]
    # Posted once more with a tiny GIF: judged, and refused for what it is.
    gif = io.BytesIO()
    PILImage.new("RGB", (40, 30), (1, 2, 3)).save(gif, format="GIF")
    assert upload(image, gif.getvalue()).status_code in (200, 204)
    again = _product_after(
        seller,
        product_id,
        lambda p: (p["images"][0]["rejection"] or {}).get("code") == "IMAGE_FORMAT_UNSUPPORTED",
    )
    assert again["status"] == "failed"
