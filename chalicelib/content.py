"""The content step: what the content function does with `jobs/content/{product}/{revision}.json`.

Reads the product (photos, packaging text, prompt), drafts its listing (chalicelib.drafts) and saves
it as a new listing version; the pipeline then makes it ready or publishes it. The seller's edited
fields survive a regeneration. A failed provider leaves the last good version current and the
product `failed` with a reason and a retry; a job for an older revision is dropped; a duplicate
delivery writes no second version.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import partial

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError
from PIL import Image

from chalicelib import clock, pipeline, store, timeline
from chalicelib.domain.errors import DomainError
from chalicelib.domain.jobs import ContentJob, JobPhoto
from chalicelib.domain.records import ListingVersion, Product
from chalicelib.drafts import compose_listing
from chalicelib.imaging import full_decode
from chalicelib.marketplace import catalog
from chalicelib.observability import count, logger
from chalicelib.providers.listing import ListingWriterFailed, Photo, PhotoGone, listing_writer
from chalicelib.store import blobs

READ_SIDE = 1024  # photos go to the writer at this long side: enough to read a label, cheap in tokens
MAX_PHOTOS = 4
_STEPS = {"CHOOSING_CATEGORY": ("choosing the category", 78), "WRITING_TITLE": ("writing your title", 88)}


def process_content_job(key: str) -> None:
    job = pipeline.read_job(key)
    assert isinstance(job, ContentJob)
    product = store.products.for_job(job, key)
    if product is None:
        return
    done = store.versions.generated_for(product.product_id, job.revision)
    if done:
        logger.info("content job already done; duplicate delivery", extra={"key": key})
        if product.current_version < done[0].version:
            pipeline.ready_or_publish(product, done[0])  # the delivery that wrote it stopped before this
        return
    if pipeline.lacks_settings(product, "content", job.revision):
        return  # before Gemini is paid for a listing that MercadoLibre's client could not finish
    timeline.record(
        product.product_id, "content", "READING_PRODUCT", "reading your photos and prompt", percent=70
    )
    try:
        version = _write_listing(product, job)
    except ListingWriterFailed as error:
        pipeline.fail(product, "content", error.code, str(error), {"retry": error.retryable}, job.revision)
        return
    except DomainError as error:  # MercadoLibre's categories did not answer
        pipeline.fail(product, "content", error.code, error.message, {"retry": True}, job.revision)
        return
    if version is None:
        logger.info("content job already done; duplicate delivery", extra={"key": key})
        return
    count("ListingsGenerated", 1, MetricUnit.Count, source=version.usage["provider"])
    # The writer's calls for this listing (Gemini's tokens at the configured prices; 0 for local).
    count("AiCostUsd", float(version.usage["cost_usd"]), MetricUnit.NoUnit)
    if pipeline.ready_or_publish(product, version):
        _count_upload_to_ready(product.product_id, version)


def _photos(job: ContentJob) -> list[Photo]:
    """The photos the writer may read, each fetched and decoded only if it does."""
    photos = []
    main_cutout = full_decode(blobs.read(job.main_picture_key), READ_SIDE)
    chosen = sorted(job.images, key=lambda i: (i.image_id != job.main_image_id, i.position))[:MAX_PHOTOS]
    for item in chosen:
        is_main = item.image_id == job.main_image_id
        photos.append(Photo(item.image_id, partial(_decode, item), is_main, main_cutout if is_main else None))
    return photos


def _decode(item: JobPhoto) -> Image.Image:
    try:
        return full_decode(blobs.read(item.key, item.etag), READ_SIDE)
    except (ClientError, blobs.ObjectChanged) as error:
        logger.info(
            "photo gone or replaced since the images step; reading the others", extra={"key": item.key}
        )
        raise PhotoGone(item.key) from error


def _write_listing(product: Product, job: ContentJob) -> ListingVersion | None:
    """The revision's generated version, saved; None when another delivery of the job saved it first."""
    previous = pipeline.current_version(product)
    edited = list(previous.edited) if previous is not None else []
    kept = {name: getattr(previous, name) for name in edited} if previous is not None else {}
    seller = store.sellers.get(product.user_id)
    site = seller.site if seller is not None else "MLA"

    def say(step: str) -> None:
        timeline.record(product.product_id, "content", step, _STEPS[step][0], percent=_STEPS[step][1])

    draft = compose_listing(
        listing_writer(),
        catalog,
        product.prompt,
        _photos(job),
        site,
        main_quality=job.main_quality,
        kept=kept,
        on_step=say,
    )
    version = store.versions.add(
        ListingVersion(
            product_id=product.product_id,
            version=0,
            revision=job.revision,
            source="generated",
            title=draft.title,
            description=draft.description,
            category=draft.category,
            category_alternatives=draft.alternatives,
            other_titles=draft.other_titles,
            attributes=draft.attributes,
            missing_required=draft.missing_required,
            condition=draft.condition,
            facts=_plain(asdict(draft.facts)),
            confidence=draft.confidence.to_json(),
            edited=edited,
            main_picture_key=job.main_picture_key,
            usage=asdict(draft.usage),
            created_at=clock.now(),
        )
    )
    if version is None:
        return None
    # Two deliveries running at once both pass the check at the start and save consecutive numbers:
    # the lowest number for the revision is the one, a later one steps back.
    if store.versions.generated_for(product.product_id, job.revision)[0].version < version.version:
        store.versions.delete(version)
        return None
    return version


def _plain(facts: dict[str, object]) -> dict[str, object]:
    """The facts as JSON keeps them (tuples become lists), so a version reads back equal."""
    return json.loads(json.dumps(facts))  # type: ignore[no-any-return]


def _count_upload_to_ready(product_id: str, version: ListingVersion) -> None:
    """UploadToReadySeconds: from the last photo received to this listing being ready. Only when a
    photo arrived since the version before: a prompt edit or a restore is not an upload's wait."""
    received = [
        i.received_at for i in store.images.of(product_id) if i.status == "accepted" and i.received_at
    ]
    if not received:
        return
    last = max(received)
    before = store.versions.get(product_id, version.version - 1) if version.version > 1 else None
    if before is not None and before.created_at >= last:
        return
    count("UploadToReadySeconds", (clock.now() - last).total_seconds(), MetricUnit.Seconds)
