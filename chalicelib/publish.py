"""The publish step: what the publish function does with a publish job an approval wrote.

Never two listings for one approval: the item carries the product id as its seller SKU, and every run
first asks MercadoLibre for an item with that SKU, finishing the remaining steps (description) on it
instead of creating another. Failures leave the product `failed` with MercadoLibre's causes in words
a seller can act on, and a retry (approve again) goes on from where it stopped.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib import clock, pipeline, store, timeline
from chalicelib.domain.errors import DomainError
from chalicelib.domain.jobs import Approval, PublishJob
from chalicelib.domain.product import ProductStatus, move
from chalicelib.domain.records import ListingVersion, Product
from chalicelib.marketplace import connection
from chalicelib.marketplace.mercadolibre import MercadoLibreClient, MercadoLibreError, get_mercadolibre
from chalicelib.observability import count, logger
from chalicelib.store import blobs


def process_publish_job(key: str) -> None:
    job = pipeline.read_job(key)
    assert isinstance(job, PublishJob)
    product = store.products.for_job(job, key)
    if product is None or pipeline.lacks_settings(product, "publish"):
        return
    version = store.versions.get(product.product_id, job.approval.version)
    if version is None:
        logger.info("publish job dropped: the approved version is gone", extra={"key": key})
        return
    if product.status is ProductStatus.FAILED:
        # A redelivered job after a failed run: it is still the approved one, so it goes on.
        product = store.products.change(product, status=ProductStatus.PUBLISHING)
    try:
        used = connection.credentials(product.user_id)
        try:
            item = _publish(product, version, job.approval, used)
        except MercadoLibreError as error:
            if error.status != 401:
                raise
            # The token expired early (revoked, or MercadoLibre's clock): refresh once and go on.
            again = connection.credentials(product.user_id, refused=used.access_token)
            item = _publish(product, version, job.approval, again)
    except MercadoLibreError as error:
        _fail(product, error)
        return
    except DomainError as error:  # the account needs reconnecting, or its refresh is busy
        pipeline.fail(product, "publish", error.code, error.message, {"retry": True})
        count("PublishFailed", 1, MetricUnit.Count, cause=error.code)
        return
    store.products.change(product, status=move(product.status, ProductStatus.PUBLISHED), item=item)
    timeline.record(
        product.product_id, "publish", "PUBLISHED", "published on MercadoLibre", item, percent=100
    )
    count("PublishSucceeded", 1, MetricUnit.Count)


def _publish(
    product: Product, version: ListingVersion, approval: Approval, credentials: connection.Credentials
) -> dict[str, Any]:
    client = get_mercadolibre()
    token = credentials.access_token
    sku = product.product_id
    existing = client.find_items_by_sku(token, credentials.ml_user_id, sku)
    if existing:
        # An earlier run created it (and then stopped): finish it, never create a second one.
        created = client.item(token, existing[0])
        logger.info("item found by SKU; finishing it", extra={"item_id": created["id"]})
    else:
        item = _item(version, approval, sku)
        assert version.main_picture_key is not None  # a generated listing always has its picture
        picture = client.upload_picture(token, blobs.read(version.main_picture_key))
        item["pictures"] = [{"id": picture["id"]}]
        timeline.record(
            product.product_id, "publish", "VALIDATING", "MercadoLibre is checking the listing", percent=30
        )
        client.validate_item(token, item)  # field-level reasons before anything is created
        timeline.record(product.product_id, "publish", "CREATING_ITEM", "creating the listing", percent=60)
        created = client.create_item(token, item)
    _describe(client, token, created["id"], version.description)
    return {
        "id": created["id"],
        "permalink": created.get("permalink"),
        "status": created.get("status", "active"),
        "published_at": clock.now().isoformat(),
    }


def _item(version: ListingVersion, approval: Approval, sku: str) -> dict[str, Any]:
    return {
        "title": version.title,
        "category_id": version.category["id"],
        "price": approval.price,
        "currency_id": approval.currency,
        "available_quantity": approval.quantity,
        "buying_mode": "buy_it_now",
        "listing_type_id": approval.listing_type,
        "condition": approval.condition,
        "attributes": [
            {
                k: v
                for k, v in (
                    ("id", a["id"]),
                    ("value_id", a.get("value_id")),
                    ("value_name", a.get("value_name")),
                )
                if v
            }
            for a in version.attributes
        ],
        "seller_custom_field": sku,
    }


def _describe(client: MercadoLibreClient, token: str, item_id: str, text: str) -> None:
    try:
        client.add_description(token, item_id, text)
    except MercadoLibreError as error:
        if error.status != 400:
            raise
        client.replace_description(token, item_id, text)  # it already has one: MercadoLibre wants PUT


def _fail(product: Product, error: MercadoLibreError) -> None:
    causes = [
        {"code": c.code, "message": c.message, "fields": c.references}
        for c in error.causes
        if c.type == "error"
    ]
    if error.status == 400 and causes:
        code, message = (
            "MERCADOLIBRE_VALIDATION",
            "MercadoLibre asks for changes: "
            + "; ".join(c.message for c in error.causes if c.type == "error"),
        )
    elif error.status in (401, 403):
        code, message = (
            "MERCADOLIBRE_RECONNECT",
            "MercadoLibre refused the connection: connect your account again",
        )
    else:
        code, message = (
            "MERCADOLIBRE_UNAVAILABLE",
            "MercadoLibre did not answer; try publishing again in a moment",
        )
    pipeline.fail(
        product, "publish", code, message, {"causes": causes, "status": error.status, "retry": True}
    )
    count("PublishFailed", 1, MetricUnit.Count, cause=code)  # one of the three codes above, never text
