"""The ingest step: what the ingest function does with each new object under uploads/.

Nothing the client declared is trusted: the size comes from S3, the format from the bytes, the
dimensions from decoding them. A rejected photo is deleted and explained; the product stays usable.
The judged bytes' ETag is recorded, and the later steps read exactly those bytes: a presigned form
posted again (it works for 15 minutes) replaces the object, its event arrives here, and the new
bytes are judged like a new upload; until then nothing uses them.
"""

from __future__ import annotations

from typing import Any

from chalicelib import clock, pipeline, store, timeline
from chalicelib.domain.keys import UploadKey
from chalicelib.domain.photos import PhotoFacts, Rejection, check_size
from chalicelib.domain.product import ProductStatus
from chalicelib.domain.records import Image, Product
from chalicelib.imaging import inspect_photo
from chalicelib.observability import count, logger
from chalicelib.store import blobs


def receive_upload(key: str) -> None:
    upload = UploadKey.parse(key)
    if upload is None:
        _drop(key, "not an upload key")
        return
    product = store.products.get(upload.user_id, upload.product_id)
    image = store.images.get(upload.product_id, upload.image_id)
    if product is None or image is None:
        _drop(key, "no such product or photo (deleted, or never created)")
        return
    if image.original_key != key or image.user_id != upload.user_id:
        _drop(key, "the key does not match the photo it names")
        return
    if image.status == "declared":
        _judge(image)
    elif _posted_again(image):
        _judge_again(product, image)
    else:
        logger.info("photo already received; duplicate event", extra={"key": key})
    # Always, even for a duplicate: an earlier delivery may have stopped before this step.
    pipeline.advance(product)


def _verdict(image: Image) -> tuple[PhotoFacts | Rejection, str] | None:
    """What the object now under the photo's key is worth, and its ETag; None when it is gone."""
    found = blobs.head(image.original_key)
    if found is None:
        logger.warning("upload vanished before it was read", extra={"key": image.original_key})
        return None
    # Refuse oversized objects from their size alone, before reading a byte.
    too_big = check_size(found.size, image.declared_bytes)
    if too_big is not None:
        return too_big, found.etag
    try:
        data, sha256 = blobs.read_hashed(image.original_key, found.etag)
    except blobs.ObjectChanged:
        return None  # posted again while we looked: that upload's own event judges it
    return inspect_photo(data, image.declared_bytes, sha256), found.etag


def _judge(image: Image) -> None:
    judged = _verdict(image)
    if judged is None:
        return
    verdict, etag = judged
    if isinstance(verdict, Rejection):
        _reject(image, verdict, {"status": "declared"})
    else:
        _accept(image, verdict, etag, {"status": "declared"})


def _posted_again(image: Image) -> bool:
    """Other bytes under a judged photo's key than the ones judged (the form was posted again)."""
    found = blobs.head(image.original_key)
    return found is not None and found.etag != image.etag


def _judge_again(product: Product, image: Image) -> None:
    """New bytes under a photo already judged: judged like a new upload, and, as the photos changed,
    a new revision (work in flight for the old bytes is then dropped when it lands)."""
    if product.status is ProductStatus.PUBLISHING:
        return  # publishing uses the listing's own picture; the seller's next change judges them
    judged = _verdict(image)
    if judged is None:
        return
    verdict, etag = judged
    was = {"status": image.status, "etag": image.etag}
    changed = (
        _reject(image, verdict, was) if isinstance(verdict, Rejection) else _accept(image, verdict, etag, was)
    )
    if changed:
        store.products.update(product, lambda current: {"revision": current.revision + 1})
        timeline.record(
            image.product_id,
            "upload",
            "PHOTO_REPLACED",
            f"{image.file_name} was uploaded again; checking it like a new photo",
            {"file_name": image.file_name},
        )


def _accept(image: Image, facts: PhotoFacts, etag: str, was: dict[str, Any]) -> bool:
    accepted = store.images.update(
        image.product_id,
        image.image_id,
        only_if=was,
        status="accepted",
        format=facts.format,
        bytes=facts.bytes,
        width=facts.width,
        height=facts.height,
        orientation=facts.orientation,
        sha256=facts.sha256,
        etag=etag,
        rejection=None,
        received_at=clock.now(),
    )
    if accepted is None:
        return False  # a concurrent delivery of the same upload got there first
    count("PhotosAccepted")
    timeline.record(
        image.product_id,
        "upload",
        "PHOTO_RECEIVED",
        f"{image.file_name} received ({facts.width}x{facts.height})",
        {"file_name": image.file_name, "width": facts.width, "height": facts.height},
    )
    return True


def _reject(image: Image, rejection: Rejection, was: dict[str, Any]) -> bool:
    reason = {"code": rejection.code, "message": rejection.message, "params": rejection.params}
    rejected = store.images.update(
        image.product_id,
        image.image_id,
        only_if=was,
        status="rejected",
        rejection=reason,
        etag=None,
        received_at=clock.now(),
    )
    if rejected is None:
        return False
    blobs.delete(image.original_key)  # nothing keeps a photo we will never use
    logger.info("photo rejected", extra={"key": image.original_key, "code": rejection.code})
    count("PhotosRejected")
    timeline.record(
        image.product_id,
        "upload",
        rejection.code,
        f"{image.file_name} was rejected: {rejection.message}",
        {"file_name": image.file_name, **rejection.params},
    )
    return True


def _drop(key: str, reason: str) -> None:
    # A stray object can never succeed on retry: delete it, say why, and move on.
    logger.warning("upload dropped", extra={"key": key, "reason": reason})
    count("UploadsDropped")
    blobs.delete(key)
