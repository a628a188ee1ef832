"""The pipeline's shared moves: what runs next for a product once its photos change.

Both the API (a photo removed, reordered, chosen as main) and the ingest function (a photo
arrived) end with `advance`. It is idempotent: duplicate or concurrent deliveries write the images
job of a revision exactly once (a conditional claim on the product, then an S3 write that only
creates).
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import clock, timeline
from chalicelib.domain.keys import job_key
from chalicelib.domain.product import ProductStatus, move
from chalicelib.observability import logger
from chalicelib.storage import blobs
from chalicelib.storage.models import Image, ListingVersion, Product


def images_of(product_id: str) -> list[Image]:
    return sorted(Image.query(product_id, consistent_read=True), key=lambda image: int(image.position))


def main_image_id(product: Product, images: list[Image]) -> str | None:
    """The seller's explicit choice while that photo is still usable."""
    usable = {image.image_id for image in images if image.status != "rejected"}
    return product.main_image_id if product.main_image_id in usable else None


def status_actions(product: Product, target: ProductStatus) -> list[Any]:
    return [
        Product.status.set(target.value),
        Product.status_sort.set(f"{target.value}#{product.product_id}"),
    ]


def advance(product: Product) -> None:
    product.refresh(consistent_read=True)
    if product.paused:
        return  # the seller is making several changes; resuming runs the pipeline once
    images = images_of(product.product_id)
    if any(image.status == "declared" for image in images):
        return  # photos still on their way: the last one to arrive moves the product on
    accepted = [image for image in images if image.status == "accepted"]
    if accepted:
        _start_images_job(product, accepted)
    else:
        _ask_for_photos(product, rejected=len(images))


def _start_images_job(product: Product, accepted: list[Image]) -> None:
    revision = int(product.revision)
    if int(product.images_job_revision) < revision:
        target = move(ProductStatus(product.status), ProductStatus.PROCESSING)
        try:
            product.update(
                actions=[
                    *status_actions(product, target),
                    Product.images_job_revision.set(revision),
                    Product.attention.remove(),
                    Product.updated_at.set(clock.now()),
                ],
                condition=(Product.revision == revision) & (Product.images_job_revision < revision),
            )
        except UpdateError:
            product.refresh(consistent_read=True)
            if int(product.revision) != revision:
                return  # a newer revision took over; its own advance writes its job
            if int(product.images_job_revision) != revision:
                raise  # changed for another reason: let the delivery be retried
    if blobs.write_json_once(
        job_key("images", product.product_id, revision), images_manifest(product, accepted)
    ):
        logger.info("images job written", extra={"product_id": product.product_id, "revision": revision})
        timeline.record(
            product.product_id,
            "images",
            "PHOTOS_RECEIVED",
            f"all {len(accepted)} photo(s) are in; analysing them",
            {"count": len(accepted)},
            percent=10,
        )


def images_manifest(product: Product, accepted: list[Image]) -> dict[str, Any]:
    """The images job of the product's current revision: its accepted photos and the seller's choice."""
    return {
        "product_id": product.product_id,
        "user_id": product.user_id,
        "revision": int(product.revision),
        "prompt": product.prompt,
        "main_image_id": main_image_id(product, accepted),
        "images": [
            {
                "image_id": image.image_id,
                "key": image.original_key,
                "position": int(image.position),
                "format": image.format,
                "width": image.width,
                "height": image.height,
                "sha256": image.sha256,
            }
            for image in accepted
        ],
    }


def _ask_for_photos(product: Product, rejected: int) -> None:
    code = "ALL_PHOTOS_REJECTED" if rejected else "NO_PHOTOS"
    if (product.attention or {}).get("code") == code and product.status == ProductStatus.UPLOADING.value:
        return  # already asked
    message = "every photo was rejected; add another photo" if rejected else "add at least one photo"
    attention = {"code": code, "message": message, "params": {"rejected": rejected}}
    current = ProductStatus(product.status)
    actions: list[Any] = [Product.attention.set(attention), Product.updated_at.set(clock.now())]
    if current is not ProductStatus.UPLOADING:
        actions += status_actions(product, move(current, ProductStatus.UPLOADING))
    try:
        product.update(actions=actions)
    except UpdateError:
        # Photos judged at once each end here and the row moved under us: look again (asked already?).
        advance(product)
        return
    timeline.record(product.product_id, "upload", code, message, {"rejected": rejected})


def fail(
    product: Product, stage: str, code: str, message: str, params: dict[str, Any], revision: int | None = None
) -> bool:
    """The product cannot go on: `failed` with the reason on it and on the timeline; whatever listing it
    had stays current. With `revision`, only while the product is still on that revision."""
    if product.status == ProductStatus.FAILED.value:
        return False  # a redelivered job of the step that failed it: the first reason stands
    try:
        product.update(
            actions=[
                *status_actions(product, move(ProductStatus(product.status), ProductStatus.FAILED)),
                Product.attention.set({"code": code, "message": message, "params": params}),
                Product.updated_at.set(clock.now()),
            ],
            condition=(Product.revision == revision) if revision is not None else None,
        )
    except UpdateError:
        product.refresh(consistent_read=True)
        if revision is not None and int(product.revision) != revision:
            return False  # a newer revision took over
        if product.status == ProductStatus.FAILED.value:
            return False  # another delivery of the same step failed it first
        # Only the row's version moved (the seller paused, another delivery wrote): fail it anyway,
        # or the product would wait in its working state for ever.
        return fail(product, stage, code, message, params, revision)
    timeline.record(product.product_id, stage, code, message, params)
    return True


def current_version(product: Product) -> ListingVersion | None:
    """The listing version the seller sees, if the product has one yet."""
    if not int(product.current_version):
        return None
    try:
        return ListingVersion.get(product.product_id, int(product.current_version), consistent_read=True)
    except DoesNotExist:
        return None


def product_for_job(job: dict[str, Any], key: str) -> Product | None:
    """The product a step's job is for, or None when the job no longer applies (said in the log)."""
    try:
        product = Product.get(job["user_id"], job["product_id"], consistent_read=True)
    except DoesNotExist:
        logger.info("job dropped: the product is gone", extra={"key": key})
        return None
    if int(product.revision) != int(job["revision"]):
        logger.info("job dropped: stale revision", extra={"key": key, "current": int(product.revision)})
        return None
    if product.status == ProductStatus.FAILED.value:
        # failed only moves on by the seller's retry (failed -> processing), which writes a job of its
        # own: a late or redelivered copy would be an illegal failed -> ready (or failed -> failed).
        logger.info("job dropped: the product failed; it waits for a retry", extra={"key": key})
        return None
    return product
