"""A published product's item on MercadoLibre: its status read back, MercadoLibre's notifications
about it, and closing it when the seller deletes the product.

`GET /items/{id}` is public (publica-productos), so reading an item's status back needs no token:
when the seller opens the product, and when MercadoLibre notifies a change of the `items` topic
(productos-recibe-notificaciones). A notification is only acted on once checked: our application
id, the `items` topic, a connected seller's user id, an item of that seller that one of their
products published (its SELLER_SKU is the product id). What it changes is only ever MercadoLibre's
own answer about the item, read from MercadoLibre.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chalicelib import clock, store, timeline
from chalicelib.config import required
from chalicelib.domain.errors import Conflict, DomainError, Upstream
from chalicelib.domain.product import ProductStatus
from chalicelib.domain.records import Product
from chalicelib.marketplace import connection
from chalicelib.marketplace.mercadolibre import SELLER_ACTIONS, MercadoLibreError, Problem, get_mercadolibre
from chalicelib.observability import logger

_RESOURCE = re.compile(r"/items/([A-Z]{3}\d+)")
# What the public read says about an item that the product shows (stock only shows to the owner).
_SEEN = ("status", "sub_status", "title", "family_name", "permalink", "price", "sold_quantity")


def refresh(product: Product, seen: dict[str, Any] | None = None) -> Product:
    """The product with its item as MercadoLibre shows it now (`seen`: an answer already read). A
    status that changed goes on the timeline. MercadoLibre not answering changes nothing."""
    item = product.item
    if not item or product.status not in (ProductStatus.PUBLISHED, ProductStatus.FAILED):
        return product  # nothing listed, or a run is changing it right now
    if seen is None:
        try:
            seen = get_mercadolibre().item(str(item["id"]), glance=True)
        except MercadoLibreError as error:
            logger.info("item status not read back", extra={"item_id": item["id"], "status": error.status})
            return product
    fresh = {name: seen.get(name) for name in _SEEN if name in seen}
    if all(item.get(name) == value for name, value in fresh.items()):
        return product
    checked = clock.now().isoformat()

    def decide(latest: Product) -> dict[str, Any] | None:
        if (
            not latest.item
            or latest.item.get("id") != item["id"]
            or latest.status is ProductStatus.PUBLISHING
        ):
            return None
        return {"item": {**latest.item, **fresh, "checked_at": checked}}

    written = store.products.update(product, decide)
    if written is None:
        return product
    if (item.get("status"), item.get("sub_status")) != (fresh.get("status"), fresh.get("sub_status")):
        status, sub_status = fresh.get("status"), fresh.get("sub_status") or []
        reasons = f" ({', '.join(sub_status)})" if sub_status else ""
        timeline.record(
            product.product_id,
            "mercadolibre",
            "ITEM_STATUS_CHANGED",
            f"on MercadoLibre the item is now {status}{reasons}",
            {"status": status, "sub_status": sub_status},
        )
    return written


@dataclass(frozen=True)
class Outcome:
    """What a notification led to: `refreshed`, or `ignored` and why (a code)."""

    outcome: str
    reason: str | None = None
    product_id: str | None = None


def notified(notification: dict[str, Any]) -> Outcome:
    """One notification from MercadoLibre, checked before anything is read or written."""
    if str(notification.get("application_id")) != required("MERCADOLIBRE_CLIENT_ID"):
        return _ignored("NOT_OUR_APPLICATION", notification)
    if notification.get("topic") != "items":
        return _ignored("NOT_THE_ITEMS_TOPIC", notification)
    resource = _RESOURCE.fullmatch(str(notification.get("resource") or ""))
    if resource is None:
        return _ignored("NOT_AN_ITEM", notification)
    try:
        ml_user_id = int(notification.get("user_id") or 0)
    except (TypeError, ValueError):
        return _ignored("NOT_OUR_SELLER", notification)
    account = store.accounts.by_ml_user(ml_user_id)
    if account is None or account.status != "connected":
        return _ignored("NOT_OUR_SELLER", notification)
    item_id = resource.group(1)
    try:
        seen = get_mercadolibre().item(item_id, glance=True)
    except MercadoLibreError as error:
        return _ignored("MERCADOLIBRE_UNAVAILABLE" if error.status != 404 else "NOT_AN_ITEM", notification)
    sku = next(
        (a.get("value_name") for a in seen.get("attributes") or [] if a.get("id") == "SELLER_SKU"), None
    )
    product = (
        store.products.get(account.user_id, str(sku)) if sku and seen.get("seller_id") == ml_user_id else None
    )
    if product is None or not product.item or product.item.get("id") != item_id:
        return _ignored("NOT_OUR_ITEM", notification)
    refresh(product, seen)
    return Outcome("refreshed", product_id=product.product_id)


def _ignored(reason: str, notification: dict[str, Any]) -> Outcome:
    logger.info(
        "MercadoLibre notification ignored",
        extra={"reason": reason, "resource": notification.get("resource")},
    )
    return Outcome("ignored", reason)


def close(product: Product) -> None:
    """Close the product's item on MercadoLibre (final: it cannot be reactivated), if it is open."""
    item = product.item
    if not item or item.get("status") == "closed":
        return
    used = connection.credentials(product.user_id)
    client = get_mercadolibre()
    try:
        try:
            client.update_item(used.access_token, str(item["id"]), {"status": "closed"})
        except MercadoLibreError as error:
            if error.problem is not Problem.TOKEN:
                raise
            again = connection.credentials(product.user_id, refused=used.access_token)
            client.update_item(again.access_token, str(item["id"]), {"status": "closed"})
    except MercadoLibreError as error:
        raise refused(product, error) from None
    logger.info(
        "item closed on MercadoLibre", extra={"item_id": item["id"], "product_id": product.product_id}
    )


def refused(product: Product, error: MercadoLibreError) -> DomainError:
    """What the seller sees when MercadoLibre refuses a change made while they wait (not in a job)."""
    if error.problem is Problem.TOKEN:
        return connection.lost(product.user_id)
    code, message, retry = SELLER_ACTIONS[error.problem]
    params = {
        "status": error.status,
        "error": error.error,
        "retry": retry,
        "mercadolibre_request_id": error.request_id,
    }
    if error.problem is Problem.VALIDATION:
        params["causes"] = [
            {"code": c.code, "message": c.message, "fields": c.references} for c in error.errors
        ]
    kind = Conflict if error.problem is Problem.VALIDATION else Upstream
    return kind(code, f"{message}: {error.message}", params)
