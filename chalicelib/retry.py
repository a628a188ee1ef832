"""The seller's retry: a failed product runs the step that failed again, at the same revision.

Which step failed is read from what the product already has, not from the failure's message: an
approved product whose listing is of the current revision got as far as publishing; else the
revision's content job written means the images step is done, so content failed; else images.

Nothing is made twice. Only a `failed` product can be retried, and the move out of `failed` is a
conditional write, so two retries at once start one run. Images and content run again from a job
of their own (`job_key(..., attempt)`): the first job is still in the bucket and would not fire
again. Whatever those steps write is keyed by revision (one main picture, one generated listing
version per revision). Publishing is the seller's approval again, on the publish step's own path, which
finds an earlier run's item by its SKU instead of creating a second one.
"""

from __future__ import annotations

from chalicelib import pipeline, store, timeline
from chalicelib.domain.errors import Conflict
from chalicelib.domain.jobs import Job
from chalicelib.domain.keys import job_key
from chalicelib.domain.product import ProductStatus, move
from chalicelib.domain.records import Product
from chalicelib.products import ProductDetail, get, owned
from chalicelib.store import blobs

STAGES = ("images", "content", "publish")


def retry(user_id: str, product_id: str) -> ProductDetail:
    product = owned(user_id, product_id)
    if product.status is not ProductStatus.FAILED:
        raise Conflict(
            "NOT_FAILED",
            f"only a failed product can be retried; this one is {product.status.value}",
            {"status": product.status.value},
        )
    if not any(image.status == "accepted" for image in store.images.of(product_id)):
        raise Conflict("NEEDS_PHOTOS", "no photo can be used: add one, and the product goes on by itself")
    stage = failed_stage(product)
    if stage == "publish":
        _publish_again(product)
    else:
        _run_again(product, stage)
    return get(user_id, product_id)


def failed_stage(product: Product) -> str:
    """The step a failed product stopped at (one of STAGES), from what it already has."""
    current = pipeline.current_version(product)
    if product.approval and current is not None and current.revision == product.revision:
        return "publish"
    if blobs.head(job_key("content", product.product_id, product.revision)) is not None:
        return "content"
    return "images"


def _publish_again(product: Product) -> None:
    """As if the seller approved again: the current version (edited since, when MercadoLibre asked for
    changes), with the approval's price and quantity."""
    approval = product.approval
    version = pipeline.current_version(product)
    assert approval and version is not None  # failed_stage said so
    pipeline.start_publishing(
        product,
        version,
        by=product.user_id,
        price=approval.price,
        currency=approval.currency,
        quantity=approval.quantity,
        listing_type=approval.listing_type,
        condition=approval.condition,
    )
    _say(product, "publish")


def _run_again(product: Product, stage: str) -> None:
    job = _job(product, stage)
    # The claim: out of `failed` once, and only while nothing started a newer revision (the lock).
    store.products.change(product, status=move(product.status, ProductStatus.PROCESSING), attention=None)
    _say(product, stage)
    pipeline.write_retry_job(job)


def _job(product: Product, stage: str) -> Job:
    """The step's job for the current revision: content's as the images step wrote it (it names the
    main picture); images' from the photos, as the pipeline writes it."""
    if stage == "content":
        return pipeline.read_job(job_key("content", product.product_id, product.revision))
    accepted = [i for i in store.images.of(product.product_id) if i.status == "accepted"]
    return pipeline.images_job(product, accepted)


def _say(product: Product, stage: str) -> None:
    timeline.record(product.product_id, stage, "RETRYING", f"trying the {stage} step again", {"stage": stage})
