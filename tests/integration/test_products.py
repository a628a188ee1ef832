"""The seller's product routes: limits at the edge, listing, photos, deletion."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from chalicelib.domain.limits import MB
from chalicelib.store.models import ProductRow as Product

BUCKET = os.environ["MEDIA_BUCKET"]


def photos(*sizes: int, content_type: str = "image/jpeg") -> list[dict[str, Any]]:
    return [
        {"file_name": f"p{n}.jpg", "content_type": content_type, "size": size} for n, size in enumerate(sizes)
    ]


def error(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.json
    return response.json["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("body", "field", "limit"),
    [
        ({"prompt": "   ", "images": photos(1000)}, "prompt", 1),
        ({"prompt": "x" * 501, "images": photos(1000)}, "prompt", 500),
        ({"prompt": "ok", "images": []}, "images", 1),
        ({"prompt": "ok", "images": photos(*[1000] * 9)}, "images", 8),
        ({"prompt": "ok", "images": photos(10 * MB + 1)}, "images.0.size", 10 * MB),
        ({"prompt": "ok", "images": photos(0)}, "images.0.size", 1),
        ({"prompt": "ok", "images": photos(1000, content_type="image/gif")}, "images.0.content_type", None),
        ({"prompt": "ok", "images": photos(1000), "price": 10}, "price", None),
    ],
)
def test_declared_limits_are_checked_with_field_and_number(api, body, field, limit) -> None:  # type: ignore[no-untyped-def]
    details = error(api.seller().call("POST", "/products", body))["details"]
    assert details["field"] == field
    if limit is not None:
        assert details["limit"] == limit


def test_the_total_size_limit_counts_every_photo(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    over = error(seller.call("POST", "/products", {"prompt": "ok", "images": photos(*[10 * MB] * 5, 1)}))
    assert over["details"] == {
        "field": "images",
        "reason": "UPLOAD_TOO_LARGE",
        "limit": 50 * MB,
        "actual": 50 * MB + 1,
    }
    assert over["message"] == "the photos add up to 50.0 MB; at most 50 MB together"


def test_adding_photos_counts_the_ones_the_product_has(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    product = seller.call("POST", "/products", {"prompt": "mate", "images": photos(*[1000] * 6)}).json
    refused = error(
        seller.call("POST", f"/products/{product['product_id']}/images", {"images": photos(1, 2, 3)})
    )
    assert refused["details"]["reason"] == "TOO_MANY_IMAGES" and refused["details"]["actual"] == 9
    assert "(it has 6)" in refused["message"]
    added = seller.call("POST", f"/products/{product['product_id']}/images", {"images": photos(1, 2)})
    assert added.status_code == 201 and len(added.json["images"]) == 8
    assert added.json["revision"] == 2
    new = [image for image in added.json["images"] if image["position"] >= 6]
    assert all(image["upload"] for image in new) and len(new) == 2


def test_upload_forms_are_presigned_posts_bound_to_key_type_and_size(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    product = seller.call(
        "POST", "/products", {"prompt": "mate", "images": photos(12345, content_type="image/png")}
    ).json
    form = product["images"][0]["upload"]
    assert form["fields"]["key"].endswith(".png")
    assert form["fields"]["Content-Type"] == "image/png"
    assert form["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    import base64
    import json

    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert ["content-length-range", 1, 12345] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]


def test_oversized_and_malformed_bodies_are_refused_before_parsing(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    huge = seller.api.client.http.post(
        "/api/v1/products",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {seller.tokens['access_token']}",
        },
        body='{"prompt": "' + "x" * 70_000 + '"}',
    )
    assert huge.status_code == 413
    broken = seller.api.client.http.post(
        "/api/v1/products",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {seller.tokens['access_token']}",
        },
        body="{not json",
    )
    assert broken.status_code == 400


def _make(seller: Any, prompt: str) -> dict[str, Any]:
    response = seller.call("POST", "/products", {"prompt": prompt, "images": photos(1000)})
    assert response.status_code == 201
    return response.json  # type: ignore[no-any-return]


def test_listing_is_newest_first_paged_searchable_and_filtered(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    made = [
        _make(seller, prompt)
        for prompt in (
            "Cafetera italiana",
            "zapatillas Nike talle 42",
            "Mate de calabaza",
            "cafetera eléctrica",
            "Termo Stanley",
        )
    ]
    page = seller.call("GET", "/products?limit=2").json
    assert [p["product_id"] for p in page["items"]] == [made[4]["product_id"], made[3]["product_id"]]
    seen = [p["product_id"] for p in page["items"]]
    while page["next"]:
        page = seller.call("GET", f"/products?limit=2&next={page['next']}").json
        seen += [p["product_id"] for p in page["items"]]
    assert seen == [p["product_id"] for p in reversed(made)]

    # Accent- and case-free search in the prompt.
    found = seller.call("GET", "/products?q=CAFETERA").json["items"]
    assert [p["prompt"] for p in found] == ["cafetera eléctrica", "Cafetera italiana"]
    assert [p["prompt"] for p in seller.call("GET", "/products?q=electrica").json["items"]] == [
        "cafetera eléctrica"
    ]

    # Status and confidence filters.
    Product.get(seller.user_id, made[2]["product_id"]).update(
        actions=[
            Product.status.set("ready"),
            Product.status_sort.set(f"ready#{made[2]['product_id']}"),
            Product.confidence.set(0.9),
        ]
    )
    Product.get(seller.user_id, made[1]["product_id"]).update(actions=[Product.confidence.set(0.75)])
    ready = seller.call("GET", "/products?status=ready").json["items"]
    assert [p["product_id"] for p in ready] == [made[2]["product_id"]]
    assert ready[0]["confidence_band"] == "green"
    yellow = seller.call("GET", "/products?confidence=yellow").json["items"]
    assert [p["product_id"] for p in yellow] == [made[1]["product_id"]]
    assert seller.call("GET", "/products?confidence=red").json["items"] == []
    # Bad filters name the field.
    assert error(seller.call("GET", "/products?status=sold"))["details"]["field"] == "status"
    assert error(seller.call("GET", "/products?limit=1000"))["details"]["limit"] == 100
    assert error(seller.call("GET", "/products?next=garbage"))["details"]["field"] == "next"


def test_another_sellers_cursor_cannot_reach_their_products(api) -> None:  # type: ignore[no-untyped-def]
    alice, bob = api.seller(), api.seller()
    for n in range(3):
        _make(alice, f"producto {n}")
    cursor = alice.call("GET", "/products?limit=1").json["next"]
    assert cursor
    assert bob.call("GET", f"/products?next={cursor}").json["items"] == []


def test_reorder_main_image_and_delete_photo(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    product = seller.call("POST", "/products", {"prompt": "termo", "images": photos(1000, 2000, 3000)}).json
    pid = product["product_id"]
    ids = [image["image_id"] for image in product["images"]]
    reordered = seller.call("PUT", f"/products/{pid}/images/order", {"image_ids": [ids[2], ids[0], ids[1]]})
    assert reordered.status_code == 200
    assert [i["image_id"] for i in reordered.json["images"]] == [ids[2], ids[0], ids[1]]
    assert reordered.json["revision"] == 2
    assert (
        error(seller.call("PUT", f"/products/{pid}/images/order", {"image_ids": [ids[0], ids[1]]}))[
            "details"
        ]["field"]
        == "image_ids"
    )

    chosen = seller.call("PUT", f"/products/{pid}/main-image", {"image_id": ids[1]})
    assert chosen.json["main_image_id"] == ids[1] and chosen.json["revision"] == 3
    assert [i["is_main"] for i in chosen.json["images"]] == [False, False, True]

    removed = seller.call("DELETE", f"/products/{pid}/images/{ids[1]}")
    assert removed.status_code == 200
    assert [i["image_id"] for i in removed.json["images"]] == [ids[2], ids[0]]
    assert removed.json["main_image_id"] is None and removed.json["revision"] == 4
    assert seller.call("DELETE", f"/products/{pid}/images/{ids[1]}").status_code == 404


def test_deleting_a_product_removes_its_rows_and_objects(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    product = _make(seller, "mate")
    pid = product["product_id"]
    s3 = boto3.client("s3")
    for key in (
        f"uploads/{seller.user_id}/{pid}/x.jpg",
        f"processed/{seller.user_id}/{pid}/main.jpg",
        f"jobs/images/{pid}/1.json",
    ):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    assert seller.call("DELETE", f"/products/{pid}").status_code == 204
    for prefix in (
        f"uploads/{seller.user_id}/{pid}/",
        f"processed/{seller.user_id}/{pid}/",
        f"jobs/images/{pid}/",
    ):
        assert s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["KeyCount"] == 0
    assert seller.call("GET", f"/products/{pid}").status_code == 404
    assert seller.call("DELETE", f"/products/{pid}").status_code == 404
