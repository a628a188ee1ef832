"""The images step: what the images function does with `jobs/images/{product}/{revision}.json`.

Scores every photo, chooses the main one, puts it on pure white (1200x1200), makes thumbnails, then
writes the content job. Every object key is deterministic, so a re-delivered job rewrites the same
objects; a job for an older revision than the product's is dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import pipeline, store, timeline
from chalicelib.domain.hands import shows_hand
from chalicelib.domain.jobs import ContentJob, ImagesJob, JobPhoto
from chalicelib.domain.keys import main_picture_key, main_thumbnail_key, photo_thumbnail_key
from chalicelib.domain.quality import (
    Candidate,
    MainChoice,
    assess,
    choose_main,
    hand_free_tries,
    with_hand,
    without_hand,
)
from chalicelib.domain.records import Product
from chalicelib.imaging import (
    UNREADABLE,
    EmptyCutout,
    compose_main_picture,
    full_decode,
    hand_share,
    measure,
    reduced_decode,
    thumbnail_jpeg,
)
from chalicelib.observability import logger
from chalicelib.providers.background import (
    BackgroundRemovalFailed,
    BackgroundRemover,
    background_remover,
)
from chalicelib.store import blobs

FETCHES = 4  # photos read from S3, or scores written, at once


def process_images_job(key: str, remaining_ms: Callable[[], int] | None = None) -> None:
    """`remaining_ms`: the Lambda context's get_remaining_time_in_millis, which bounds PhotoRoom."""
    job = pipeline.read_job(key)
    assert isinstance(job, ImagesJob)
    product = store.products.for_job(job, key)
    if product is None or pipeline.lacks_settings(product, "images", job.revision):
        return
    revision = job.revision
    timeline.record(product.product_id, "images", "ANALYSING_PHOTOS", "analysing your photos", percent=20)
    candidates, photos, processing, changed = _score_photos(product, job.images)
    choice = choose_main(candidates, job.main_image_id)
    if choice is None and changed:
        # Photos deleted or posted again meanwhile: their own events start a newer revision (or ask the
        # seller for photos); failing this one would show a reason that is no longer true.
        logger.info("photos changed while analysed; the newer revision decides", extra={"key": key})
        return
    if choice is None:
        pipeline.fail(
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
    tries = hand_free_tries(candidates, choice)
    # Only the photos the cut-out may use are kept: it is the step's memory peak.
    photos = {image_id: photos[image_id] for image_id in (choice.image_id, *tries)}
    try:
        choice, picture, about = main_picture(choice, tries, photos, background_remover(remaining_ms))
    except BackgroundRemovalFailed as error:
        pipeline.fail(product, "images", error.code, str(error), {}, revision)
        return
    except UNREADABLE:
        logger.warning("main photo could not be decoded", extra={"image_id": choice.image_id}, exc_info=True)
        pipeline.fail(
            product,
            "images",
            "PHOTO_UNREADABLE",
            "the main photo cannot be read; remove it or add another photo",
            {"image_id": choice.image_id, "retry": False},
            revision,
        )
        return
    picture_key = main_picture_key(product.user_id, product.product_id, revision)
    blobs.write(picture_key, picture, "image/jpeg")
    blobs.write(main_thumbnail_key(picture_key), thumbnail_jpeg(reduced_decode(picture)), "image/jpeg")
    main_photo = next(photo for photo in job.images if photo.image_id == choice.image_id)
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
    qualities = {c.image_id: asdict(c.quality) for c in candidates}
    content_job = ContentJob(
        product_id=product.product_id,
        user_id=product.user_id,
        revision=revision,
        prompt=job.prompt,
        main_image_id=choice.image_id,
        main_picture_key=picture_key,
        main_original_key=main_photo.key,
        images=[
            replace(photo, quality=qualities[photo.image_id])
            for photo in job.images
            if photo.image_id in qualities
        ],
    )
    if pipeline.write_job(content_job):
        logger.info("content job written", extra={"product_id": product.product_id, "revision": revision})


def _score_photos(
    product: Product, photos: list[JobPhoto]
) -> tuple[list[Candidate], dict[str, bytes], dict[str, dict[str, Any]], int]:
    """The photos' scores, bytes and timings, and how many changed under us (gone or posted again)."""
    candidates: list[Candidate] = []
    changed = 0
    originals: dict[str, bytes] = {}
    processing: dict[str, dict[str, Any]] = {}
    # Reads and writes mostly wait on S3 and DynamoDB: they run in threads, while this one scores each
    # photo as soon as it has arrived.
    with ThreadPoolExecutor(max_workers=FETCHES) as waiting:
        writes = []
        for photo, data in zip(photos, waiting.map(_fetch, photos), strict=True):
            if data is None:
                changed += 1
                continue
            scored = _score(photo, data)
            if scored is None:
                continue
            candidate, thumbnail, processing[photo.image_id] = scored
            writes.append(
                waiting.submit(_store_score, product, candidate, thumbnail, processing[photo.image_id])
            )
            candidates.append(candidate)
            originals[photo.image_id] = data
        for write in writes:
            write.result()
    return candidates, originals, processing, changed


def _fetch(photo: JobPhoto) -> bytes | None:
    try:
        return blobs.read(photo.key, photo.etag)
    except (ClientError, blobs.ObjectChanged):
        # Deleted since (the seller removed it), or posted again (its own event judges the new
        # bytes and starts a newer revision): the others carry on.
        logger.warning("photo gone or replaced before processing", extra={"key": photo.key})
        return None


def _score(photo: JobPhoto, data: bytes) -> tuple[Candidate, bytes, dict[str, Any]] | None:
    """The photo as a candidate for the main picture, its thumbnail and the time scoring took."""
    started = time.perf_counter()
    try:
        reduced = reduced_decode(data)
    except UNREADABLE:
        # Intake read it; if it cannot be read now it is no candidate for the main picture.
        logger.warning("photo could not be decoded for scoring", extra={"key": photo.key}, exc_info=True)
        return None
    measurements = measure(reduced, photo.width, photo.height)
    candidate = Candidate(photo.image_id, photo.position, assess(measurements), measurements.whole)
    thumbnail = thumbnail_jpeg(reduced)
    return candidate, thumbnail, {"scoring_milliseconds": round((time.perf_counter() - started) * 1000, 1)}


def _store_score(
    product: Product, candidate: Candidate, thumbnail: bytes, processing: dict[str, Any]
) -> None:
    thumbnail_key = photo_thumbnail_key(product.user_id, product.product_id, candidate.image_id)
    blobs.write(thumbnail_key, thumbnail, "image/jpeg")
    _update_image(
        product.product_id,
        candidate.image_id,
        quality=asdict(candidate.quality),
        thumbnail_key=thumbnail_key,
        processing=processing,
    )


def _record_processing(product_id: str, image_id: str, processing: dict[str, Any]) -> None:
    _update_image(product_id, image_id, processing=processing)


def _update_image(product_id: str, image_id: str, **changes: Any) -> None:
    if store.images.update(product_id, image_id, **changes) is None:
        logger.info("photo removed while it was processed", extra={"image_id": image_id})


def main_picture(
    choice: MainChoice, tries: list[str], photos: dict[str, bytes], remover: BackgroundRemover
) -> tuple[MainChoice, bytes, dict[str, Any]]:
    """The chosen photo on white; if a hand shows in it, the first of `tries` that shows none.

    A photo tried in vain costs one more remover call; when every one shows a hand, or another
    cannot be cut out, the chosen photo stays and the choice says a hand shows.
    """
    picture, about = _main_picture(photos[choice.image_id], remover)
    if not shows_hand(about["hand_share"]):
        return choice, picture, about
    for image_id in tries:
        try:
            other, other_about = _main_picture(photos[image_id], remover)
        except (BackgroundRemovalFailed, *UNREADABLE):
            logger.warning("another photo could not be cut out", extra={"image_id": image_id}, exc_info=True)
            break
        if not shows_hand(other_about["hand_share"]):
            return without_hand(image_id), other, other_about
    return with_hand(choice), picture, about


def _main_picture(photo: bytes, remover: BackgroundRemover) -> tuple[bytes, dict[str, Any]]:
    started = time.perf_counter()
    decoded = full_decode(photo)
    cutout = remover.cutout(decoded)
    try:
        picture = compose_main_picture(cutout.image)
        whole_photo = False
    except EmptyCutout:
        # Nothing stood out from the background (one plain colour): the photo itself, framed on white,
        # is still a listing picture; the seller is told why it is not cut out.
        picture = compose_main_picture(decoded.convert("RGBA"))
        whole_photo = True
    checked = time.perf_counter()
    hand = None if whole_photo else round(hand_share(cutout.image), 4)
    about = {
        "provider": cutout.provider,
        "model": cutout.model,
        "milliseconds": round(cutout.milliseconds, 1),
        "uncertainty": cutout.uncertainty,
        "fallback_from": cutout.fallback_from,
        "whole_photo": whole_photo,
        "hand_share": hand,
        "hand_milliseconds": round((time.perf_counter() - checked) * 1000, 1),
        "total_milliseconds": round((time.perf_counter() - started) * 1000, 1),
    }
    return picture, about


def _record_pictures(
    product: Product,
    revision: int,
    image_id: str,
    choice: dict[str, Any],
    picture_key: str,
    about: dict[str, Any],
) -> bool:
    """Store the revision's pictures on the product, unless a newer revision arrived meanwhile."""

    def pictures(current: Product) -> dict[str, Any] | None:
        if current.revision != revision:
            logger.info("images job outdated while it ran", extra={"product_id": product.product_id})
            return None
        return {
            "chosen_main_image_id": image_id,
            "main_choice": {"code": choice["code"], "message": choice["message"]},
            "main_picture_key": picture_key,
            "main_picture": about,
            "thumbnail_key": main_thumbnail_key(picture_key),
            "pictures_revision": revision,
        }

    return store.products.update(product, pictures) is not None
