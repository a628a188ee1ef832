"""Approving and publishing: the seller's approval writes a publish job; the publish function lists it.

Never two listings for one approval: the item carries the product id as its seller SKU, and every run
first asks MercadoLibre for an item with that SKU, finishing the remaining steps (description) on it
instead of creating another. Failures leave the product `failed` with MercadoLibre's causes in words
a seller can act on, and a retry (approve again) goes on from where it stopped.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import clock, timeline
from chalicelib.api.schemas import ProductOut, PublishRequest
from chalicelib.domain.keys import job_key
from chalicelib.domain.product import ProductStatus, move
from chalicelib.domain.sites import currency_of
from chalicelib.http import ApiError
from chalicelib.marketplace import accounts
from chalicelib.marketplace.mercadolibre import MercadoLibreError, get_mercadolibre
from chalicelib.observability import count, logger
from chalicelib.pipeline import fail, status_actions
from chalicelib.products import get, owned
from chalicelib.storage import blobs
from chalicelib.storage.models import ListingVersion, MarketplaceAccount, Product, User


def approve(user_id: str, product_id: str, request: PublishRequest) -> ProductOut:
    """The seller approves the current version: recorded (who, when, which), then the publish job."""
    product = owned(user_id, product_id)
    status = ProductStatus(product.status)
    if status not in (ProductStatus.READY, ProductStatus.FAILED) or not int(product.current_version):
        raise ApiError(
            409, "NOT_READY_TO_PUBLISH", f"a product that is {status.value} cannot be published now"
        )
    account = _account(user_id)
    currency = currency_of(account.site)
    if request.currency and request.currency != currency:
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            f"currency: {account.site} sells in {currency}",
            {"field": "currency", "expected": currency},
        )
    version = ListingVersion.get(product_id, int(product.current_version))
    user = User.get(user_id)
    try:
        record_approval(
            product,
            version,
            by=user_id,
            price=request.price,
            currency=currency,
            quantity=request.quantity,
            listing_type=request.listing_type or user.listing_type,
            condition=request.condition,
        )
    except UpdateError:
        raise ApiError(409, "CONFLICT", "the product changed meanwhile; reload and try again") from None
    return get(user_id, product_id)


def _account(user_id: str) -> MarketplaceAccount:
    try:
        return MarketplaceAccount.get(user_id)
    except DoesNotExist:
        raise ApiError(
            409,
            "MERCADOLIBRE_NOT_CONNECTED",
            "connect your MercadoLibre account before publishing (GET /ml/connect)",
        ) from None


def record_approval(
    product: Product,
    version: ListingVersion,
    *,
    by: str,
    price: float,
    currency: str,
    quantity: int,
    listing_type: str,
    condition: str | None,
) -> None:
    """Approval by the seller or by auto-publish, the same way: recorded on the product, then the job."""
    attempt = int(product.publish_attempts) + 1
    approval = {
        "version": int(version.version),
        "by": by,
        "at": clock.now().isoformat(),
        "price": price,
        "currency": currency,
        "quantity": quantity,
        "listing_type": listing_type,
        "condition": condition or version.condition or "new",
    }
    product.update(
        actions=[
            *status_actions(product, move(ProductStatus(product.status), ProductStatus.PUBLISHING)),
            Product.approval.set(approval),
            Product.publish_attempts.set(attempt),
            Product.attention.remove(),
            Product.updated_at.set(clock.now()),
        ]
    )
    job = {"product_id": product.product_id, "user_id": product.user_id, "attempt": attempt, **approval}
    blobs.write_json_once(job_key("publish", product.product_id, int(version.version), attempt), job)
    who = "automatically (above your threshold)" if by == "auto-publish" else "by you"
    timeline.record(
        product.product_id,
        "publish",
        "APPROVED",
        f"version {version.version} approved {who}; publishing",
        {"version": int(version.version), "by": by},
        percent=0,
    )


def process_publish_job(key: str) -> None:
    job = json.loads(blobs.read(key))
    try:
        product = Product.get(job["user_id"], job["product_id"], consistent_read=True)
    except DoesNotExist:
        logger.info("publish job dropped: the product is gone", extra={"key": key})
        return
    if product.item and product.status == ProductStatus.PUBLISHED.value:
        logger.info("publish job already done; duplicate delivery", extra={"key": key})
        return
    if int((product.approval or {}).get("version", -1)) != int(job["version"]):
        logger.info("publish job dropped: not the approved version", extra={"key": key})
        return
    version = ListingVersion.get(product.product_id, int(job["version"]))
    if product.status == ProductStatus.FAILED.value:
        # A redelivered job after a failed run: it is still the approved one, so it goes on.
        product.update(actions=status_actions(product, ProductStatus.PUBLISHING))
    try:
        used = accounts.credentials(product.user_id)
        try:
            item = _publish(product, version, job, used)
        except MercadoLibreError as error:
            if error.status != 401:
                raise
            # The token expired early (revoked, or MercadoLibre's clock): refresh once and go on.
            item = _publish(
                product, version, job, accounts.credentials(product.user_id, refused=used.access_token)
            )
    except MercadoLibreError as error:
        _fail(product, error)
        return
    except ApiError as error:  # the account needs reconnecting
        fail(product, "publish", error.code, error.message, {"retry": True})
        count("PublishFailed", 1, MetricUnit.Count, cause=error.code)
        return
    product.update(
        actions=[
            *status_actions(product, move(ProductStatus(product.status), ProductStatus.PUBLISHED)),
            Product.item.set(item),
            Product.updated_at.set(clock.now()),
        ]
    )
    timeline.record(
        product.product_id, "publish", "PUBLISHED", "published on MercadoLibre", item, percent=100
    )
    count("PublishSucceeded", 1, MetricUnit.Count)


def _publish(
    product: Product, version: ListingVersion, job: dict[str, Any], credentials: accounts.Credentials
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
        item = _item(version, job, sku)
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


def _item(version: ListingVersion, job: dict[str, Any], sku: str) -> dict[str, Any]:
    return {
        "title": version.title,
        "category_id": version.category["id"],
        "price": job["price"],
        "currency_id": job["currency"],
        "available_quantity": job["quantity"],
        "buying_mode": "buy_it_now",
        "listing_type_id": job["listing_type"],
        "condition": job["condition"],
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
            for a in version.attributes or []
        ],
        "seller_custom_field": sku,
    }


def _describe(client: Any, token: str, item_id: str, text: str) -> None:
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
    fail(product, "publish", code, message, {"causes": causes, "status": error.status, "retry": True})
    count("PublishFailed", 1, MetricUnit.Count, cause=code)  # one of the three codes above, never text
