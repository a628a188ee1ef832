"""Failures no step could report itself: an event given up on, a product that stopped moving.

Every product is always in progress (and moving), ready, published, or failed with a code, words for
the seller and a way on. A step that raises is retried (by Lambda, or by the local event runtime);
when the retries run out its event lands here (`step_gave_up`: Lambda's on-failure destination in AWS,
the runtime's dead-lettering locally) and the product fails with the step and a retry. A product
that sat in a working state past its step's deadline (a crash between two writes that no retry
reached) is failed the same way by the watchdog (`fail_stuck`: a scheduled function in AWS, the
runtime locally).
"""

from __future__ import annotations

from datetime import timedelta

from botocore.exceptions import ClientError

from chalicelib import clock, pipeline, store
from chalicelib.domain.jobs import PublishJob
from chalicelib.domain.keys import UploadKey
from chalicelib.domain.product import WORKING_STATES, ProductStatus
from chalicelib.domain.records import Product
from chalicelib.observability import count, logger
from chalicelib.store import blobs

# How long a product may sit in one working state before the watchdog fails it. Uploading waits for
# the seller's phone (the upload forms last 15 minutes); the pipeline's steps each take seconds to a
# couple of minutes, with their retries well inside these.
DEADLINES = {
    ProductStatus.UPLOADING: timedelta(minutes=30),
    ProductStatus.PROCESSING: timedelta(minutes=20),
    ProductStatus.PUBLISHING: timedelta(minutes=20),
}


def step_gave_up(key: str, reason: str) -> None:
    """The event for `key` failed every retry: say so on its product, with a retry that works."""
    logger.error("a step gave up on its event", extra={"key": key, "reason": reason[:500]})
    count("StepsGivenUp")
    upload = UploadKey.parse(key)
    if upload is not None:
        _photo_gave_up(upload)
        return
    try:
        job = pipeline.read_job(key)
    except (ClientError, KeyError, ValueError, IndexError):
        logger.warning("given-up event names no job; nothing to fail", extra={"key": key})
        return
    product = store.products.get(job.user_id, job.product_id)
    if product is None:
        return
    if isinstance(job, PublishJob):
        applies = product.status is ProductStatus.PUBLISHING and (
            product.approval is not None and product.approval.version == job.approval.version
        )
    else:
        applies = product.revision == job.revision and product.status in WORKING_STATES
    if applies:
        _fail(product, job.kind, None if isinstance(job, PublishJob) else job.revision)


def _photo_gave_up(upload: UploadKey) -> None:
    """Intake could not judge the photo: it is set aside with a reason, and the product goes on
    with the others (or fails asking for a photo)."""
    image = store.images.get(upload.product_id, upload.image_id)
    product = store.products.get(upload.user_id, upload.product_id)
    if image is None or product is None:
        return
    reason = {
        "code": "IMAGE_NOT_PROCESSED",
        "message": "this photo could not be processed; upload it again or add another",
        "params": {},
    }
    if store.images.update(
        image.product_id,
        image.image_id,
        only_if={"status": "declared"},
        status="rejected",
        rejection=reason,
        received_at=clock.now(),
    ):
        blobs.delete(image.original_key)  # as intake does with a photo it will never use
    pipeline.advance(product)


def _fail(product: Product, stage: str, revision: int | None) -> None:
    pipeline.fail(
        product,
        stage,
        "STEP_FAILED",
        f"the {stage} step failed; try again",
        {"stage": stage, "retry": True},
        revision,
    )


def fail_stuck(now_epoch: float | None = None) -> int:
    """Fail every product that sat in a working state past its deadline; how many it failed."""
    now = clock.at(now_epoch) if now_epoch is not None else clock.now()
    failed = 0
    for status, deadline in DEADLINES.items():
        for product in store.products.idle_since(status, now - deadline):
            if _stuck(product, status):
                failed += 1
    if failed:
        count("ProductsUnstuck", failed)
    return failed


def _stuck(product: Product, status: ProductStatus) -> bool:
    """Move on, or fail, one product still in `status`; False when it moved meanwhile or the seller
    holds it (paused)."""
    if product.paused:
        return False
    logger.warning(
        "product idle past its deadline", extra={"product_id": product.product_id, "status": status}
    )
    if status is ProductStatus.UPLOADING:
        # Photos that never arrived are set aside; the ones that did go on, else the seller is asked.
        _set_aside_missing_photos(product)
        if any(image.status == "accepted" for image in store.images.of(product.product_id)):
            pipeline.advance(product)
            return True
        return pipeline.fail(
            product,
            "upload",
            "PHOTOS_NEVER_ARRIVED",
            "the photos never arrived; add them again",
            {"retry": False},
            product.revision,
        )
    stage = "publish" if status is ProductStatus.PUBLISHING else _processing_stage(product)
    return pipeline.fail(
        product,
        stage,
        "STEP_TIMED_OUT",
        f"the {stage} step stopped; try again",
        {"stage": stage, "retry": True},
        product.revision,
    )


def _processing_stage(product: Product) -> str:
    return "content" if product.pictures_revision == product.revision else "images"


def _set_aside_missing_photos(product: Product) -> None:
    for image in store.images.of(product.product_id):
        if image.status == "declared" and store.images.update(
            image.product_id,
            image.image_id,
            only_if={"status": "declared"},
            status="rejected",
            rejection={
                "code": "IMAGE_NEVER_ARRIVED",
                "message": "this photo never arrived; upload it again",
                "params": {},
            },
        ):
            blobs.delete(image.original_key)  # a late upload of it would be an orphan
