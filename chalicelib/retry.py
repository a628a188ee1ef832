"""The seller's retry: a failed product runs the step that failed again, at the same revision.

Which step failed is read from what the product already has, not from the failure's message: an
approved product whose listing is of the current revision got as far as publishing; else the
revision's content job written means the images step is done, so content failed; else images.

Nothing is made twice. Only a `failed` product can be retried, and the move out of `failed` is a
conditional write, so two retries at once start one run. Images and content run again from a job
of their own (`job_key(..., attempt)`): the first job is still in the bucket and would not fire
again. Whatever those steps write is keyed by revision (one main picture, one generated listing
version per revision). Publishing is the seller's approval again, on the publisher's own path, which
finds an earlier run's item by its SKU instead of creating a second one.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import clock, pipeline, timeline
from chalicelib.api.schemas import ProductOut
from chalicelib.domain.keys import job_key
from chalicelib.domain.product import ProductStatus, move
from chalicelib.http import ApiError
from chalicelib.products import get, owned
from chalicelib.publisher import record_approval
from chalicelib.storage import blobs
from chalicelib.storage.models import Product

STAGES = ("images", "content", "publish")


def retry(user_id: str, product_id: str) -> ProductOut:
    product = owned(user_id, product_id)
    if product.status != ProductStatus.FAILED.value:
        raise ApiError(
            409,
            "NOT_FAILED",
            f"only a failed product can be retried; this one is {product.status}",
            {"status": product.status},
        )
    stage = failed_stage(product)
    if stage == "publish":
        _publish_again(product)
    else:
        _run_again(product, stage)
    return get(user_id, product_id)


def failed_stage(product: Product) -> str:
    """The step a failed product stopped at (one of STAGES), from what it already has."""
    revision = int(product.revision)
    current = pipeline.current_version(product)
    if product.approval and current is not None and int(current.revision) == revision:
        return "publish"
    if blobs.size_of(job_key("content", product.product_id, revision)) is not None:
        return "content"
    return "images"


def _publish_again(product: Product) -> None:
    """As if the seller approved again: the current version (edited since, when MercadoLibre asked for
    changes), with the approval's price and quantity."""
    approval = product.approval
    version = pipeline.current_version(product)
    assert approval and version is not None  # failed_stage said so
    try:
        record_approval(
            product,
            version,
            by=product.user_id,
            price=float(approval["price"]),
            currency=str(approval["currency"]),
            quantity=int(approval["quantity"]),
            listing_type=str(approval["listing_type"]),
            condition=approval.get("condition"),
        )
    except UpdateError:
        raise _conflict() from None
    _say(product, "publish")


def _run_again(product: Product, stage: str) -> None:
    revision = int(product.revision)
    job = _job(product, stage)
    try:
        # The claim: out of `failed` once, and only while nothing started a newer revision.
        product.update(
            actions=[
                *pipeline.status_actions(
                    product, move(ProductStatus(product.status), ProductStatus.PROCESSING)
                ),
                Product.attention.remove(),
                Product.updated_at.set(clock.now()),
            ],
            condition=Product.revision == revision,
        )
    except UpdateError:
        raise _conflict() from None
    _say(product, stage)
    attempt = 2
    while not blobs.write_json_once(job_key(stage, product.product_id, revision, attempt), job):
        attempt += 1  # an earlier retry of this revision took that key


def _job(product: Product, stage: str) -> dict[str, Any]:
    """The step's job for the current revision: content's as the images step wrote it (it names the
    main picture); images' from the photos, as the pipeline writes it."""
    if stage == "content":
        return json.loads(blobs.read(job_key("content", product.product_id, int(product.revision))))  # type: ignore[no-any-return]
    accepted = [i for i in pipeline.images_of(product.product_id) if i.status == "accepted"]
    return pipeline.images_manifest(product, accepted)


def _say(product: Product, stage: str) -> None:
    timeline.record(product.product_id, stage, "RETRYING", f"trying the {stage} step again", {"stage": stage})


def _conflict() -> ApiError:
    return ApiError(409, "CONFLICT", "the product changed meanwhile; reload and try again")
