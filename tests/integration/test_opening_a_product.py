"""What `GET /products/{id}` costs: each table read once, each link signed once (issue 20).

The panel opens a product more than anything else; its answer is the product, its photos and its
timeline, three tables. The calls are counted where PynamoDB sends them, so a second read of the same
row, or a read for a product the caller does not own, shows up here.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from pynamodb.connection.base import Connection

from chalicelib.store import blobs
from tests.selling import OATLY, through_images

TABLE = {
    os.environ["PRODUCTS_TABLE"]: "products",
    os.environ["IMAGES_TABLE"]: "images",
    os.environ["PRODUCT_EVENTS_TABLE"]: "events",
}


@contextmanager
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """(operation, table) of every DynamoDB call made inside the block, in order."""
    calls: list[tuple[str, str]] = []
    dispatch = Connection.dispatch

    def counted(self: Connection, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        table = operation_kwargs.get("TableName", "")
        calls.append((operation_name, TABLE.get(table, table)))
        return dispatch(self, operation_name, operation_kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(Connection, "dispatch", counted)
        yield calls


@pytest.fixture
def processed(api: Any) -> tuple[Any, str]:
    """A product past the images step (2 photos, a main picture, thumbnails): every kind of link."""
    seller, product_id, _ = through_images(api, OATLY)
    return seller, product_id


def test_opening_a_product_reads_the_product_its_photos_and_its_timeline_once_each(
    processed: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seller, product_id = processed
    with dynamodb_calls(monkeypatch) as calls:
        opened = seller.call("GET", f"/products/{product_id}")
    assert opened.status_code == 200, opened.json
    assert len(opened.json["images"]) == 2 and opened.json["events"]
    assert calls == [("GetItem", "products"), ("Query", "images"), ("Query", "events")]


def test_another_sellers_product_costs_one_read_and_reads_nothing_of_it(
    api: Any, processed: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, product_id = processed
    stranger = api.seller()
    with dynamodb_calls(monkeypatch) as calls:
        answer = stranger.call("GET", f"/products/{product_id}")
    assert answer.status_code == 404, answer.json
    assert calls == [("GetItem", "products")]  # keyed by the stranger's own user id: not found


def test_each_link_is_signed_once_and_opens_its_object(
    processed: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seller, product_id = processed
    signed: Counter[str] = Counter()
    sign = blobs.Links._sign

    def counted(self: blobs.Links, key: str) -> str:
        signed[key] += 1
        return sign(self, key)

    monkeypatch.setattr(blobs.Links, "_sign", counted)
    opened = seller.call("GET", f"/products/{product_id}").json
    main = opened["main_picture"]
    photo = next(image for image in opened["images"] if image["image_id"] == main["image_id"])
    # The main picture's photo is in the list too: one key, one signature, one link.
    assert main["original_url"] == photo["url"]
    links = set(re.findall(r'"(http[^"]+X-Amz-Signature=[^"]+)"', json.dumps(opened)))
    # the main picture and its thumbnail, and each photo with its thumbnail
    assert len(links) == 2 + 2 * len(opened["images"]) == len(signed)
    assert set(signed.values()) == {1}, signed
    assert blobs._scope(os.environ["MEDIA_BUCKET"]) is not None  # signed by the API, not link by link
    for link in links:
        fetched = requests.get(link, timeout=10)
        assert fetched.status_code == 200 and fetched.content.startswith(b"\xff\xd8"), link  # a JPEG
