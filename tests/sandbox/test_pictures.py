"""`POST /pictures/items/upload`: JPG/PNG by content, 500x500 minimum, 10 MB, variations served back."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from flask.testing import FlaskClient
from PIL import Image

from tests.sandbox.conftest import Seller, jpeg

EXAMPLES = Path(__file__).parents[2] / "infra" / "local" / "mercadolibre" / "data" / "examples"


def test_an_800x800_jpeg_is_accepted_with_variations_like_mercadolibre_s(
    client: FlaskClient, seller: Seller
) -> None:
    answer = seller.upload(jpeg(800, 800))

    assert answer.status_code == 201
    picture = answer.json
    recorded = json.loads((EXAMPLES / "tecnogo_picture_get.json").read_text(encoding="utf-8"))
    assert set(picture) == set(recorded)
    assert set(picture["variations"][0]) == set(recorded["variations"][0])
    assert picture["id"].split("-")[1].startswith("MLA")
    assert picture["max_size"] == picture["variations"][0]["size"] == "800x800"
    for variation in picture["variations"]:
        served = client.get(variation["url"].removeprefix("http://localhost"))
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        with Image.open(io.BytesIO(served.data)) as image:
            assert f"{image.width}x{image.height}" == variation["size"]


def test_a_png_is_accepted_and_a_big_one_is_fitted_into_1920(seller: Seller) -> None:
    answer = seller.upload(jpeg(2400, 1200, fmt="PNG", mode="RGBA"), "photo.png")

    assert answer.status_code == 201
    assert answer.json["max_size"] == "1920x960"


def test_a_400x400_picture_is_refused_as_too_small(seller: Seller) -> None:
    answer = seller.upload(jpeg(400, 400))

    assert answer.status_code == 400
    (cause,) = answer.json["cause"]
    assert (cause["code"], cause["cause_id"], cause["type"]) == ("item.pictures.invalid_size", 3703, "error")
    assert seller.upload(jpeg(800, 499)).status_code == 400


def test_a_gif_is_refused_whatever_its_name(seller: Seller) -> None:
    answer = seller.upload(jpeg(800, 800, fmt="GIF", mode="P"), "photo.jpg")

    assert answer.status_code == 400
    assert answer.json["cause"][0]["code"] == "file.invalid_format"
    assert (
        seller.upload(b"not an image at all", "photo.jpg").json["cause"][0]["code"] == "file.invalid_format"
    )


def test_more_than_10_mb_or_no_file_is_refused(seller: Seller) -> None:
    big = seller.upload(jpeg() + os.urandom(10 * 1024 * 1024))
    assert big.status_code == 400
    assert big.json["cause"][0]["code"] == "file.size_exceeded"

    missing = seller.post("/pictures/items/upload", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400
    assert missing.json["cause"][0]["code"] == "file.not_found"


def test_uploading_needs_a_seller(client: FlaskClient) -> None:
    answer = client.post(
        "/pictures/items/upload",
        data={"file": (io.BytesIO(jpeg()), "photo.jpg")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 401
