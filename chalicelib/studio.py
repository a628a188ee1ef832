"""The photo studio: what the images function does with `jobs/images/{product}/{revision}.json`.

Scores every photo, chooses the main one, puts it on pure white (1200x1200), makes thumbnails, then
writes `jobs/content/{product}/{revision}.json`. Every object key is deterministic, so a re-delivered
job rewrites the same objects; a job for an older revision than the product's is dropped.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError

from chalicelib import clock, timeline
from chalicelib.domain.keys import job_key
from chalicelib.domain.quality import Candidate, Quality, assess, choose_main
from chalicelib.observability import logger
from chalicelib.pictures import compose_main_picture, full_decode, measure, reduced_decode, thumbnail_jpeg
from chalicelib.pipeline import fail, product_for_job
from chalicelib.providers.background import BackgroundRemovalFailed, background_remover
from chalicelib.storage import blobs
from chalicelib.storage.models import Image, Product


def processed_prefix(user_id: str, product_id: str) -> str:
    return f"processed/{user_id}/{product_id}/"


def process_images_job(key: str) -> None:
    job = json.loads(blobs.read(key))
    revision = int(job["revision"])
    product = product_for_job(job, key)
    if product is None:
        return
    timeline.record(product.product_id, "images", "ANALYSING_PHOTOS", "analysing your photos", percent=20)
    candidates, photos, processing = _score_photos(product, job["images"])
    choice = choose_main(candidates, job.get("main_image_id"))
    if choice is None:
        fail(
            product,
            "images",
            "NO_USABLE_PHOTOS",
            "none of the photos could be used; add another photo",
            {},
            revision,
        )
        return
    timeline.record(
        product.product_id, "images", "REMOVING_BACKGROUND", "removing the background", percent=40
    )
    try:
        picture, about = _main_picture(photos[choice.image_id])
    except BackgroundRemovalFailed as error:
        fail(product, "images", error.code, str(error), {}, revision)
        return
    picture_key = f"{processed_prefix(product.user_id, product.product_id)}main/{revision}.jpg"
    blobs.write(picture_key, picture, "image/jpeg")
    # The products list shows the listing's picture (on white), not the raw photo.
    blobs.write(_thumbnail_of(picture_key), thumbnail_jpeg(reduced_decode(picture)), "image/jpeg")
    main_image = next(image for image in job["images"] if image["image_id"] == choice.image_id)
    if not _record_pictures(product, revision, choice.image_id, asdict(choice), picture_key, about):
        return
    _record_processing(
        product.product_id, choice.image_id, {**processing[choice.image_id], "main_picture": about}
    )
    timeline.record(
        product.product_id,
        "images",
        "MAIN_PICTURE_READY",
        f"main picture ready: {choice.message}",
        {"image_id": choice.image_id, "reason": choice.code},
        percent=60,
    )
    content_job = {
        "product_id": product.product_id,
        "user_id": product.user_id,
        "revision": revision,
        "prompt": job["prompt"],
        "main_image_id": choice.image_id,
        "main_picture_key": picture_key,
        "main_original_key": main_image["key"],
        "images": [
            {**image, "quality": asdict(c.quality)}
            for image in job["images"]
            for c in candidates
            if c.image_id == image["image_id"]
        ],
    }
    if blobs.write_json_once(job_key("content", product.product_id, revision), content_job):
        logger.info("content job written", extra={"product_id": product.product_id, "revision": revision})


def _score_photos(
    product: Product, images: list[dict[str, Any]]
) -> tuple[list[Candidate], dict[str, bytes], dict[str, dict[str, Any]]]:
    candidates: list[Candidate] = []
    photos: dict[str, bytes] = {}
    processing: dict[str, dict[str, Any]] = {}
    prefix = processed_prefix(product.user_id, product.product_id)
    for item in images:
        try:
            data = blobs.read(item["key"])
        except ClientError:
            # Deleted between ingest and now (the seller removed it): the others carry on.
            logger.warning("photo gone before processing", extra={"key": item["key"]})
            continue
        started = time.perf_counter()
        reduced = reduced_decode(data)
        measurements = measure(reduced, int(item["width"]), int(item["height"]))
        quality = assess(measurements)
        thumbnail = thumbnail_jpeg(reduced)
        processing[item["image_id"]] = {
            "scoring_milliseconds": round((time.perf_counter() - started) * 1000, 1)
        }
        thumbnail_key = f"{prefix}thumbs/{item['image_id']}.jpg"
        blobs.write(thumbnail_key, thumbnail, "image/jpeg")
        _record_quality(
            product.product_id, item["image_id"], quality, thumbnail_key, processing[item["image_id"]]
        )
        candidates.append(Candidate(item["image_id"], int(item["position"]), quality, measurements.whole))
        photos[item["image_id"]] = data
    return candidates, photos, processing


def _record_quality(
    product_id: str, image_id: str, quality: Quality, thumbnail_key: str, processing: dict[str, Any]
) -> None:
    _update_image(
        product_id,
        image_id,
        [
            Image.quality.set(asdict(quality)),
            Image.thumbnail_key.set(thumbnail_key),
            Image.processing.set(processing),
        ],
    )


def _record_processing(product_id: str, image_id: str, processing: dict[str, Any]) -> None:
    _update_image(product_id, image_id, [Image.processing.set(processing)])


def _update_image(product_id: str, image_id: str, actions: list[Any]) -> None:
    try:
        # The condition never resurrects a photo the seller removed meanwhile.
        Image(product_id=product_id, image_id=image_id).update(
            actions=actions, condition=Image.image_id.exists()
        )
    except UpdateError:
        logger.info("photo removed while it was processed", extra={"image_id": image_id})


def _main_picture(photo: bytes) -> tuple[bytes, dict[str, Any]]:
    started = time.perf_counter()
    cutout = background_remover().cutout(full_decode(photo))
    picture = compose_main_picture(cutout.image)
    about = {
        "provider": cutout.provider,
        "model": cutout.model,
        "milliseconds": round(cutout.milliseconds, 1),
        "uncertainty": cutout.uncertainty,
        "fallback_from": cutout.fallback_from,
        "total_milliseconds": round((time.perf_counter() - started) * 1000, 1),
    }
    return picture, about


def _thumbnail_of(picture_key: str) -> str:
    return picture_key.removesuffix(".jpg") + "-thumb.jpg"


def _record_pictures(
    product: Product,
    revision: int,
    image_id: str,
    choice: dict[str, Any],
    picture_key: str,
    about: dict[str, Any],
) -> bool:
    """Store the revision's pictures on the product, unless a newer revision arrived meanwhile."""
    try:
        product.update(
            actions=[
                Product.chosen_main_image_id.set(image_id),
                Product.main_choice.set({"code": choice["code"], "message": choice["message"]}),
                Product.main_picture_key.set(picture_key),
                Product.main_picture.set(about),
                Product.thumbnail_key.set(_thumbnail_of(picture_key)),
                Product.pictures_revision.set(revision),
                Product.updated_at.set(clock.now()),
            ],
            condition=Product.revision == revision,
        )
    except UpdateError:
        product.refresh(consistent_read=True)
        if int(product.revision) != revision:
            logger.info("images job outdated while it ran", extra={"product_id": product.product_id})
            return False
        # Only the row's version moved (another delivery of this job recorded first): record again.
        return _record_pictures(product, revision, image_id, choice, picture_key, about)
    return True
