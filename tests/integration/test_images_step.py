"""The images function on real photos: scores, thumbnails, the main picture on white, the content job."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import boto3
import pytest
from PIL import Image, ImageFilter

from chalicelib.images import process_images_job
from chalicelib.store.models import ImageRow as ImageRow
from chalicelib.store.models import ProductRow as Product
from tests.photos import grocery_photo
from tests.selling import declared, ingested, keys, upload
from tests.waiting import wait_for

BUCKET = os.environ["MEDIA_BUCKET"]


def s3() -> Any:
    return boto3.client("s3")


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92)
    return out.getvalue()


def picture(key: str) -> Image.Image:
    return Image.open(io.BytesIO(s3().get_object(Bucket=BUCKET, Key=key)["Body"].read()))


def assert_on_white(main: Image.Image) -> None:
    assert main.size == (1200, 1200) and main.mode == "RGB"
    for edge in range(1200):
        for point in ((edge, 0), (edge, 1199), (0, edge), (1199, edge)):
            assert main.getpixel(point) == (255, 255, 255), point
    box = main.convert("L").point(lambda v: 255 if v < 235 else 0).getbbox()
    assert box is not None
    left, top, right, bottom = box
    assert max(right - left, bottom - top) >= 0.8 * 1200  # large
    # Centred: the composition centres the cutout's box; faint edges of it may not show as content.
    assert abs((left + right) / 2 - 600) < 120 and abs((top + bottom) / 2 - 600) < 120


def sell(api: Any, photos: list[bytes], prompt: str = "leche de avena") -> tuple[Any, dict[str, Any]]:
    seller = api.seller()
    product = seller.call("POST", "/products", {"prompt": prompt, "images": declared(photos)}).json
    for image, data in zip(product["images"], photos, strict=True):
        upload(image, data)
    return seller, product


def pictures_ready(seller: Any, product_id: str, revision: int = 1) -> Any:
    def ready() -> Any:
        got = seller.call("GET", f"/products/{product_id}").json
        assert got["status"] != "failed", got["attention"]
        return got if got["main_picture"] and got["revision"] == revision else None

    return wait_for(ready, 90, "the main picture")


def test_real_photos_become_a_main_picture_on_white_with_thumbnails_and_a_content_job(
    api, events_running
) -> None:  # type: ignore[no-untyped-def]
    sharp = grocery_photo("Oatly-Oat-Milk", "002")
    blurred = jpeg(Image.open(io.BytesIO(sharp)).filter(ImageFilter.GaussianBlur(6)))
    seller, product = sell(api, [blurred, sharp])
    done = pictures_ready(seller, product["product_id"])
    blurred_out, sharp_out = done["images"]
    assert sharp_out["quality"]["score"] > blurred_out["quality"]["score"]
    assert "BLURRY" in {f["code"] for f in blurred_out["quality"]["findings"]}
    assert done["main_image_id"] == sharp_out["image_id"] and sharp_out["is_main"]
    assert done["main_picture"]["reason"]["code"] in {"BEST_SCORE", "WHOLE_PRODUCT"}
    assert done["main_picture"]["provider"] == "local"
    assert all(image["thumbnail_url"] for image in done["images"])

    prefix = f"processed/{seller.user_id}/{product['product_id']}/"
    assert sorted(keys(prefix)) == sorted(
        [f"{prefix}main/1.jpg", f"{prefix}main/1-thumb.jpg"]
        + [f"{prefix}thumbs/{image['image_id']}.jpg" for image in done["images"]]
    )
    assert max(picture(f"{prefix}thumbs/{sharp_out['image_id']}.jpg").size) == 400
    assert_on_white(picture(f"{prefix}main/1.jpg"))
    # The products list shows the listing's picture on white, small.
    assert f"{prefix}main/1-thumb.jpg" in done["thumbnail_url"]
    assert max(picture(f"{prefix}main/1-thumb.jpg").size) == 400
    # The original stays untouched.
    original = f"uploads/{seller.user_id}/{product['product_id']}/{sharp_out['image_id']}.jpg"
    assert s3().get_object(Bucket=BUCKET, Key=original)["Body"].read() == sharp

    job_key = f"jobs/content/{product['product_id']}/1.json"
    wait_for(lambda: keys(job_key), 30, "the content job")
    job = json.loads(s3().get_object(Bucket=BUCKET, Key=job_key)["Body"].read())
    assert job["main_image_id"] == sharp_out["image_id"] and job["main_picture_key"] == f"{prefix}main/1.jpg"
    # The timeline as it is once the content job exists (written after MAIN_PICTURE_READY): `done`
    # was read the moment the main picture was recorded, which may be before that event.
    events = seller.call("GET", f"/products/{product['product_id']}").json["events"]
    codes = [event["code"] for event in events]
    assert (
        codes.index("ANALYSING_PHOTOS")
        < codes.index("REMOVING_BACKGROUND")
        < codes.index("MAIN_PICTURE_READY")
    )


def test_the_sellers_choice_makes_the_main_picture(api, events_running) -> None:  # type: ignore[no-untyped-def]
    photos = [grocery_photo("Arla-Standard-Milk", "004"), grocery_photo("Arla-Standard-Milk", "002")]
    seller, product = sell(api, photos, "leche entera arla")
    first = pictures_ready(seller, product["product_id"])
    other = next(i["image_id"] for i in first["images"] if i["image_id"] != first["main_image_id"])
    chosen = seller.call("PUT", f"/products/{product['product_id']}/main-image", {"image_id": other})
    assert chosen.json["revision"] == 2
    second = pictures_ready(seller, product["product_id"], revision=2)
    assert second["main_image_id"] == other
    assert second["main_picture"]["reason"]["code"] == "SELLER_CHOICE"
    assert_on_white(picture(f"processed/{seller.user_id}/{product['product_id']}/main/2.jpg"))


def test_a_photo_held_in_a_hand_gives_way_to_a_tied_one_without_a_hand(api, events_running) -> None:  # type: ignore[no-untyped-def]
    # Real shots of one carton: the best scored (_002) is held up in a hand the cut-out keeps; _003
    # scores within the tie and its cut-out shows the carton alone.
    photos = [grocery_photo("Tropicana-Apple-Juice", shot) for shot in ("001", "002", "003")]
    seller, product = sell(api, photos, "jugo de manzana 1 litro")
    done = pictures_ready(seller, product["product_id"])
    scores = {i["image_id"]: i["quality"]["score"] for i in done["images"]}
    best = max(scores, key=lambda image_id: scores[image_id])
    alone = done["images"][2]["image_id"]
    assert best == done["images"][1]["image_id"] and scores[best] - scores[alone] <= 0.05
    assert done["main_image_id"] == alone
    assert done["main_picture"]["reason"]["code"] == "NO_HAND"
    assert_on_white(picture(f"processed/{seller.user_id}/{product['product_id']}/main/1.jpg"))


def test_a_stale_job_is_dropped(api, provisioned) -> None:  # type: ignore[no-untyped-def]
    seller, product, job = ingested(api, [grocery_photo("Valio-Vanilla-Yoghurt", "001")])
    seller.call(
        "PUT",
        f"/products/{product['product_id']}/images/order",
        {"image_ids": [product["images"][0]["image_id"]]},
    )  # revision 2
    process_images_job(job)
    assert keys(f"processed/{seller.user_id}/{product['product_id']}/") == []
    assert keys(f"jobs/content/{product['product_id']}/") == []


def test_a_rerun_rewrites_the_same_objects_and_one_content_job(api, provisioned) -> None:  # type: ignore[no-untyped-def]
    seller, product, job = ingested(api, [grocery_photo("Valio-Vanilla-Yoghurt", "002")])
    process_images_job(job)
    first = sorted(keys(f"processed/{seller.user_id}/{product['product_id']}/"))
    process_images_job(job)  # redelivered, as after a crash
    assert sorted(keys(f"processed/{seller.user_id}/{product['product_id']}/")) == first
    assert keys(f"jobs/content/{product['product_id']}/") == [f"jobs/content/{product['product_id']}/1.json"]


def test_a_photo_deleted_before_processing_is_skipped(api, provisioned) -> None:  # type: ignore[no-untyped-def]
    photos = [grocery_photo("Bravo-Orange-Juice", "001"), grocery_photo("Bravo-Orange-Juice", "002")]
    seller, product, job = ingested(api, photos)
    gone = product["images"][0]
    s3().delete_object(Bucket=BUCKET, Key=gone["upload"]["fields"]["key"])
    process_images_job(job)
    stored = Product.get(seller.user_id, product["product_id"])
    assert stored.chosen_main_image_id == product["images"][1]["image_id"]
    assert ImageRow.get(product["product_id"], gone["image_id"]).quality is None


def _png(mode: str) -> bytes:
    photo = Image.open(io.BytesIO(grocery_photo("Tropicana-Apple-Juice", "001"))).convert(mode)
    out = io.BytesIO()
    if mode == "P":  # a palette PNG with a transparent colour, as some editors export
        photo.save(out, format="PNG", transparency=0)
    else:
        photo.save(out, format="PNG")
    return out.getvalue()


def _rotated_phone_shot() -> bytes:
    """Stored sideways with EXIF orientation 6, as phones do: the seller sees it upright."""
    upright = Image.open(io.BytesIO(grocery_photo("Alpro-Fresh-Soy-Milk", "001")))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    upright.rotate(90, expand=True).save(out, format="JPEG", exif=exif)
    return out.getvalue()


@pytest.mark.parametrize(
    "photo", [_png("L"), _png("P"), _rotated_phone_shot()], ids=["grey", "palette", "exif"]
)
def test_greyscale_palette_and_rotated_photos_are_handled(api, provisioned, photo: bytes) -> None:  # type: ignore[no-untyped-def]
    seller, product, job = ingested(api, [photo])
    process_images_job(job)
    stored = Product.get(seller.user_id, product["product_id"])
    assert stored.main_picture_key and stored.status == "processing"
    assert_on_white(picture(stored.main_picture_key))
    row = ImageRow.get(product["product_id"], product["images"][0]["image_id"])
    assert row.processing["scoring_milliseconds"] > 0
    assert row.processing["main_picture"]["provider"] == "local" and row.processing["main_picture"]["model"]


def test_a_rotated_phone_shot_comes_out_upright(api, provisioned) -> None:  # type: ignore[no-untyped-def]
    seller, product, job = ingested(api, [_rotated_phone_shot()])
    process_images_job(job)
    main = picture(Product.get(seller.user_id, product["product_id"]).main_picture_key)
    left, top, right, bottom = main.convert("L").point(lambda v: 255 if v < 235 else 0).getbbox()  # type: ignore[misc]
    assert bottom - top > (right - left) * 1.3  # the carton stands: taller than wide


def test_a_plain_colour_photo_is_framed_whole_on_white(api, events_running) -> None:  # type: ignore[no-untyped-def]
    # One colour, 8000x800: intake takes it, and no product stands out of it to cut.
    plain = jpeg(Image.new("RGB", (8000, 800), (40, 90, 160)))
    seller, product = sell(api, [plain], prompt="tela azul")
    done = pictures_ready(seller, product["product_id"])
    assert done["main_picture"]["fallback"]["code"] == "WHOLE_PHOTO_FRAMED"
    main = picture(f"processed/{seller.user_id}/{product['product_id']}/main/1.jpg")
    assert main.size == (1200, 1200) and main.getpixel((600, 600))[2] > 120  # the blue photo, centred
    assert main.getpixel((600, 5)) == (255, 255, 255)  # on white above and below the wide photo


def test_bytes_posted_after_judgement_are_never_used(api, provisioned) -> None:  # type: ignore[no-untyped-def]
    judged, other = grocery_photo("Valio-Vanilla-Yoghurt", "001"), grocery_photo("Oatly-Oat-Milk", "002")
    seller, product, job = ingested(api, [judged, other])
    # The first photo's form is posted again, and the images job runs before that upload's own event.
    swapped = product["images"][0]["upload"]["fields"]["key"]
    s3().put_object(Bucket=BUCKET, Key=swapped, Body=jpeg(Image.new("RGB", (40, 30), (9, 9, 9))))
    process_images_job(job)
    done = seller.call("GET", f"/products/{product['product_id']}").json
    # The replaced photo was not scored nor chosen; the other one, judged as it is, made the picture.
    replaced, kept = done["images"]
    assert replaced["quality"] is None and not replaced["is_main"]
    assert kept["is_main"] and kept["quality"] is not None
