"""The pipeline's shared moves: what runs next for a product, and the jobs that hand work on.

Jobs are read and written here only. Both the API (a photo removed, reordered, chosen as main) and
the ingest function (a photo arrived) end with `advance`; the content step ends with
`ready_or_publish`; an approval (the seller's or auto-publish's) is `start_publishing`. Every move is
idempotent: duplicate or concurrent deliveries write a revision's job exactly once (a claim on the
product, then an S3 write that only creates).
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib import clock, config, store, timeline
from chalicelib.domain.confidence import Confidence
from chalicelib.domain.jobs import JOB_TYPES, Approval, ImagesJob, Job, JobPhoto, PublishJob
from chalicelib.domain.keys import job_key
from chalicelib.domain.product import ProductStatus, can_move, move
from chalicelib.domain.records import Image, ListingVersion, Product
from chalicelib.domain.sites import currency_of
from chalicelib.observability import logger
from chalicelib.store import blobs

# -- jobs ----------------------------------------------------------------------------------------------


def read_job(key: str) -> Job:
    """The job behind `jobs/{kind}/...`, typed by its kind."""
    kind = key.split("/")[1]
    return JOB_TYPES[kind].from_json(json.loads(blobs.read(key)))


def write_job(job: Job, attempt: int = 1) -> bool:
    """Create the job's manifest, which starts its step; False when that key was written already.

    Images and content jobs are keyed by revision, publish jobs by listing version; a later attempt
    of the same work (a seller's retry, another approval) gets a key of its own, so it fires.
    """
    number = job.approval.version if isinstance(job, PublishJob) else job.revision
    return blobs.write_json_once(job_key(job.kind, job.product_id, number, attempt), job.to_json())


def write_retry_job(job: Job) -> None:
    """The job again under the first attempt number not taken yet (the first job is still there)."""
    attempt = 2
    while not write_job(job, attempt):
        attempt += 1


# -- photos -> images job ------------------------------------------------------------------------------


def seller_main_choice(product: Product, images: list[Image]) -> str | None:
    """The seller's explicit choice of main photo, while that photo is still usable."""
    usable = {image.image_id for image in images if image.status != "rejected"}
    return product.main_image_id if product.main_image_id in usable else None


def advance(product: Product) -> None:
    """What runs next now that the product's photos changed: wait for photos still on their way,
    start the images job of the current revision, or ask for photos when none is usable."""
    fresh = store.products.get(product.user_id, product.product_id)
    if fresh is None or fresh.paused:
        return  # gone; or the seller is making several changes, and resuming runs the pipeline once
    images = store.images.of(fresh.product_id)
    if any(image.status == "declared" for image in images):
        return  # photos still on their way: the last one to arrive moves the product on
    accepted = [image for image in images if image.status == "accepted"]
    if accepted:
        _start_images_job(fresh, accepted)
    else:
        _ask_for_photos(fresh, rejected=len(images))


def images_job(product: Product, accepted: list[Image]) -> ImagesJob:
    """The images job of the product's current revision: its accepted photos and the seller's choice."""
    return ImagesJob(
        product_id=product.product_id,
        user_id=product.user_id,
        revision=product.revision,
        prompt=product.prompt,
        main_image_id=seller_main_choice(product, accepted),
        images=[
            JobPhoto(
                image_id=image.image_id,
                key=image.original_key,
                position=image.position,
                format=image.format,
                width=int(image.width or 0),
                height=int(image.height or 0),
                sha256=image.sha256,
                etag=image.etag,
            )
            for image in accepted
        ],
    )


def _start_images_job(product: Product, accepted: list[Image]) -> None:
    revision = product.revision

    def claim(current: Product) -> dict[str, Any] | None:
        if current.revision != revision or current.images_job_revision >= revision:
            return None  # a newer revision took over, or another delivery claimed this one
        return {
            "status": move(current.status, ProductStatus.PROCESSING),
            "images_job_revision": revision,
            "attention": None,
        }

    claimed = store.products.update(product, claim) or store.products.get(product.user_id, product.product_id)
    if claimed is None or claimed.revision != revision or claimed.images_job_revision != revision:
        return  # a newer revision took over; its own advance writes its job
    if write_job(images_job(claimed, accepted)):
        logger.info("images job written", extra={"product_id": product.product_id, "revision": revision})
        timeline.record(
            product.product_id,
            "images",
            "PHOTOS_RECEIVED",
            f"all {len(accepted)} photo(s) are in; analysing them",
            {"count": len(accepted)},
            percent=10,
        )


def _ask_for_photos(product: Product, rejected: int) -> None:
    """No photo the pipeline can use: the product fails with what the seller must do (add a photo;
    `retry` false, since running a step again cannot help). Adding a photo brings it back."""
    code = "ALL_PHOTOS_REJECTED" if rejected else "NO_PHOTOS"
    message = "every photo was rejected; add another photo" if rejected else "add at least one photo"
    params = {"rejected": rejected, "retry": False}

    def ask(current: Product) -> dict[str, Any] | None:
        if current.revision != product.revision:
            return None  # the seller changed the photos again: that revision decides
        if current.status is ProductStatus.FAILED and (current.attention or {}).get("code") == code:
            return None  # already said (another photo of the batch got here first)
        attention = {"code": code, "message": message, "params": params}
        if current.status is not ProductStatus.FAILED and not can_move(current.status, ProductStatus.FAILED):
            return {"attention": attention}  # published: its item stays as it is on MercadoLibre
        return {"status": ProductStatus.FAILED, "attention": attention}

    if store.products.update(product, ask) is not None:
        timeline.record(product.product_id, "upload", code, message, params)


# -- failing -------------------------------------------------------------------------------------------


def fail(
    product: Product, stage: str, code: str, message: str, params: dict[str, Any], revision: int | None = None
) -> bool:
    """The product cannot go on: `failed` with the reason on it and on the timeline; whatever listing it
    had stays current. With `revision`, only while the product is still on that revision."""

    def decide(current: Product) -> dict[str, Any] | None:
        if current.status is ProductStatus.FAILED:
            return None  # another delivery of the step that failed it: the first reason stands
        if revision is not None and current.revision != revision:
            return None  # a newer revision took over
        return {
            "status": move(current.status, ProductStatus.FAILED),
            "attention": {"code": code, "message": message, "params": params},
        }

    if store.products.update(product, decide) is None:
        return False
    timeline.record(product.product_id, stage, code, message, params)
    return True


def lacks_settings(product: Product, step: str, revision: int | None = None) -> bool:
    """A deployed step checks every setting its function needs (config.missing_for: SSM parameters
    read) before it does anything that costs: when one is missing the product fails with
    SETTING_MISSING (or SETTING_INVALID) naming it, and the seller's retry runs the step again once
    the operator has set it. `step` is also the function's name."""
    problems = config.missing_for(step)
    if not problems:
        return False
    first = problems[0]
    logger.error(
        "a setting this function needs is missing",
        extra={"function": step, "problems": [str(problem) for problem in problems]},
    )
    names = [problem.setting for problem in problems]
    message = f"the service is missing a setting ({', '.join(names)}); the operator has been told"
    fail(
        product,
        step,
        first.code,
        message,
        {"setting": first.setting, "settings": names, "retry": True},
        revision,
    )
    return True


# -- listings ------------------------------------------------------------------------------------------


def current_version(product: Product) -> ListingVersion | None:
    """The listing version the seller sees, if the product has one yet."""
    return (
        store.versions.get(product.product_id, product.current_version) if product.current_version else None
    )


def ready_or_publish(product: Product, version: ListingVersion) -> bool:
    """The listing is ready for the seller; or, at or above the seller's auto-publish threshold, approved
    the same way a seller approves (price from the prompt; quantity from the prompt or their default).
    False when the version came too late to be the product's current one."""

    def ready(current: Product) -> dict[str, Any] | None:
        if current.status is ProductStatus.FAILED:
            # Another delivery of this job failed the product meanwhile: the seller's retry applies it.
            logger.info(
                "listing saved; the product failed meanwhile", extra={"product_id": product.product_id}
            )
            return None
        if current.revision != version.revision or current.current_version >= version.version:
            logger.info("listing outdated while it was written", extra={"product_id": product.product_id})
            return None
        return {
            "status": move(current.status, ProductStatus.READY),
            "current_version": version.version,
            "title": version.title,
            "confidence": version.overall,
            "attention": None,
        }

    written = store.products.update(product, ready)
    if written is None:
        return False
    timeline.record(
        product.product_id,
        "content",
        "LISTING_READY",
        f"your listing is ready to review ({round(version.overall * 100)} % confidence)",
        {"version": version.version, "confidence": version.overall},
        percent=100,
    )
    if written.item and written.approval and written.item.get("status") != "closed":
        # Listed already: the new listing (new photos, say) goes to the item, on the terms it had.
        publish_again(written, version, ["photos"])
        return True
    seller = store.sellers.get(product.user_id)
    if seller is None or not seller.auto_publish or version.overall < seller.publish_threshold:
        return True
    if Confidence.from_json(version.confidence).rests_on_a_guess:
        attention = {
            "code": "AUTO_PUBLISH_HELD",
            "message": "not published by itself: the brand, the model or the category is a guess, check them",
            "params": {"confidence": version.overall},
        }
        store.products.change(written, attention=attention)
        return True
    price = (version.facts.get("price") or {}).get("value")
    quantity = (version.facts.get("quantity") or {}).get("value") or seller.default_quantity
    account = store.accounts.get(product.user_id)
    if account is None or not price or not quantity:
        missing = "connect your MercadoLibre account" if account is None else "add the price and quantity"
        attention = {
            "code": "AUTO_PUBLISH_WAITING",
            "message": f"ready to publish by itself: {missing}",
            "params": {"confidence": version.overall, "account": account is not None},
        }
        store.products.change(written, attention=attention)
        return True
    start_publishing(
        written,
        version,
        by="auto-publish",
        price=float(str(price).replace(",", ".")),
        quantity=int(float(quantity)),
        currency=currency_of(account.site),
        listing_type=seller.listing_type,
        condition=version.condition,
    )
    return True


def start_publishing(
    product: Product,
    version: ListingVersion,
    *,
    by: str,
    price: float,
    currency: str,
    quantity: int,
    listing_type: str,
    condition: str | None,
    status: str | None = None,
    changes: list[str] | None = None,
) -> Product:
    """Approval by the seller or by auto-publish, the same way: recorded on the product (who, when,
    which, on what terms, the item's status wanted: as approved before unless said), then the
    publish job, which creates the item or makes the one on MercadoLibre match. `changes` names what
    the seller changed on a published product, for the timeline. ChangedMeanwhile when the product
    moved under it."""
    attempt = product.publish_attempts + 1
    approval = Approval(
        version=version.version,
        by=by,
        at=clock.now().isoformat(),
        price=price,
        currency=currency,
        quantity=quantity,
        listing_type=listing_type,
        condition=condition or version.condition or "new",
        status=status or (product.approval.status if product.approval else "active"),
        changes=tuple(changes or ()),
    )
    approved = store.products.change(
        product,
        status=move(product.status, ProductStatus.PUBLISHING),
        approval=approval,
        publish_attempts=attempt,
        attention=None,
    )
    write_job(PublishJob(product.product_id, product.user_id, attempt, approval), attempt)
    if product.item:
        changed = changes or ["listing"]
        timeline.record(
            product.product_id,
            "publish",
            "UPDATING_ITEM",
            f"updating the item on MercadoLibre: {', '.join(changed)}",
            {"version": version.version, "by": by, "changes": changed},
            percent=0,
        )
        return approved
    who = "automatically (above your threshold)" if by == "auto-publish" else "by you"
    timeline.record(
        product.product_id,
        "publish",
        "APPROVED",
        f"version {version.version} approved {who}; publishing",
        {"version": version.version, "by": by},
        percent=0,
    )
    return approved


def publish_again(product: Product, version: ListingVersion, changes: list[str], **terms: Any) -> Product:
    """A published product's change goes to MercadoLibre: approved again on the terms it had, but
    for the `terms` the seller changed (price, quantity, status)."""
    approval = product.approval
    assert approval is not None  # a published product was approved
    current = {
        "price": approval.price,
        "currency": approval.currency,
        "quantity": approval.quantity,
        "listing_type": approval.listing_type,
        "condition": approval.condition,
        "status": approval.status,
    }
    return start_publishing(product, version, by=product.user_id, changes=changes, **{**current, **terms})
