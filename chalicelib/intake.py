"""Receiving uploaded photos: what the ingest function does with each new object under uploads/."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.domain.uploads import UploadKey
from chalicelib.observability import logger, metrics
from chalicelib.storage.models import Product


def receive_upload(key: str) -> None:
    upload = UploadKey.parse(key)
    if upload is None:
        _drop(key, "not an upload key")
        return
    try:
        Product.get(upload.user_id, upload.product_id)
    except Product.DoesNotExist:
        _drop(key, "no such product (deleted, or never created)")
        return
    logger.info("upload received", extra={"key": key})


def _drop(key: str, reason: str) -> None:
    # Dropping is the safe answer for stray objects: retrying would never succeed.
    logger.warning("upload dropped", extra={"key": key, "reason": reason})
    metrics.add_metric(name="UploadsDropped", unit=MetricUnit.Count, value=1)
