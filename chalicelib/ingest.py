"""The ingest step: what the ingest function does with each new object under uploads/.

Nothing the client declared is trusted: the size comes from S3, the format from the bytes, the
dimensions from decoding them. A rejected photo is deleted and explained; the product stays usable.
"""

from __future__ import annotations

from chalicelib import clock, pipeline, store, timeline
from chalicelib.domain.keys import UploadKey
from chalicelib.domain.photos import PhotoFacts, Rejection, check_size
from chalicelib.domain.records import Image
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
    else:
        logger.info("photo already received; duplicate event", extra={"key": key})
    # Always, even for a duplicate: an earlier delivery may have stopped before this step.
    pipeline.advance(product)


def _judge(image: Image) -> None:
    size = blobs.size_of(image.original_key)
    if size is None:
        logger.warning("upload vanished before it was read", extra={"key": image.original_key})
        return
    # Refuse oversized objects from their size alone, before reading a byte.
    verdict = check_size(size, image.declared_bytes) or inspect_photo(
        blobs.read(image.original_key), image.declared_bytes
    )
    if isinstance(verdict, Rejection):
        _reject(image, verdict)
    else:
        _accept(image, verdict)


def _accept(image: Image, facts: PhotoFacts) -> None:
    accepted = store.images.update(
        image.product_id,
        image.image_id,
        only_if_status="declared",
        status="accepted",
        format=facts.format,
        bytes=facts.bytes,
        width=facts.width,
        height=facts.height,
        orientation=facts.orientation,
        sha256=facts.sha256,
        received_at=clock.now(),
    )
    if accepted is None:
        return  # a concurrent delivery of the same upload got there first
    count("PhotosAccepted")
    timeline.record(
        image.product_id,
        "upload",
        "PHOTO_RECEIVED",
        f"{image.file_name} received ({facts.width}x{facts.height})",
        {"file_name": image.file_name, "width": facts.width, "height": facts.height},
    )


def _reject(image: Image, rejection: Rejection) -> None:
    reason = {"code": rejection.code, "message": rejection.message, "params": rejection.params}
    rejected = store.images.update(
        image.product_id,
        image.image_id,
        only_if_status="declared",
        status="rejected",
        rejection=reason,
        received_at=clock.now(),
    )
    if rejected is None:
        return
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


def _drop(key: str, reason: str) -> None:
    # A stray object can never succeed on retry: delete it, say why, and move on.
    logger.warning("upload dropped", extra={"key": key, "reason": reason})
    count("UploadsDropped")
    blobs.delete(key)
