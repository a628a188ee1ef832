"""Receiving uploaded photos: what the ingest function does with each new object under uploads/.

Nothing the client declared is trusted: the size comes from S3, the format from the bytes, the
dimensions from decoding them. A rejected photo is deleted and explained; the product stays usable.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import clock, pipeline, timeline
from chalicelib.domain.keys import UploadKey
from chalicelib.domain.photos import PhotoFacts, Rejection, check_size
from chalicelib.observability import count, logger
from chalicelib.photos import inspect_photo
from chalicelib.storage import blobs
from chalicelib.storage.models import Image, Product


def receive_upload(key: str) -> None:
    upload = UploadKey.parse(key)
    if upload is None:
        _drop(key, "not an upload key")
        return
    try:
        product = Product.get(upload.user_id, upload.product_id, consistent_read=True)
        image = Image.get(upload.product_id, upload.image_id, consistent_read=True)
    except DoesNotExist:
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
    verdict = check_size(size, int(image.declared_bytes)) or inspect_photo(
        blobs.read(image.original_key), int(image.declared_bytes)
    )
    if isinstance(verdict, Rejection):
        _reject(image, verdict)
    else:
        _accept(image, verdict)


def _accept(image: Image, facts: PhotoFacts) -> None:
    try:
        image.update(
            actions=[
                Image.status.set("accepted"),
                Image.format.set(facts.format),
                Image.bytes.set(facts.bytes),
                Image.width.set(facts.width),
                Image.height.set(facts.height),
                Image.orientation.set(facts.orientation),
                Image.sha256.set(facts.sha256),
                Image.received_at.set(clock.now()),
            ],
            condition=Image.status == "declared",
        )
    except UpdateError:
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
    try:
        image.update(
            actions=[
                Image.status.set("rejected"),
                Image.rejection.set(reason),
                Image.received_at.set(clock.now()),
            ],
            condition=Image.status == "declared",
        )
    except UpdateError:
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
