"""The publish step: make the product's MercadoLibre item match what the seller approved.

The first run for a product creates the item, the product id as its `SELLER_SKU` attribute (the one
the publishing guide counts, and `seller_sku=` finds: items-y-busquedas). Every later run (a new
price or stock, a pause, a reactivation, a close, an edited title or description, new photos)
updates that item, sending only what changed since the last run that got through, plus whatever
the seller changed this time. Never two items for one product: before creating, a run looks the
SKU up and takes the item it finds; and a create whose answer never came (no answer at all, or a
5xx) has an unknown outcome, so the run looks the SKU up again before anything else.

A failure leaves the product `failed` with what the seller should do about it, from the kind of
problem MercadoLibre answered (`Problem`): complete the account data, check the app's
permissions, fix the fields it names, connect again (token problems only), or try again (429, 5xx,
no answer only); what MercadoLibre could not read at all is our defect, logged with both request
ids. The seller's retry approves again and goes on from where it stopped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib import clock, pipeline, store, timeline
from chalicelib.domain.errors import DomainError
from chalicelib.domain.jobs import Approval, PublishJob
from chalicelib.domain.product import ProductStatus, move
from chalicelib.domain.records import ListingVersion, Product
from chalicelib.domain.sites import site
from chalicelib.marketplace import connection
from chalicelib.marketplace.mercadolibre import (
    SELLER_ACTIONS,
    MercadoLibreClient,
    MercadoLibreError,
    Problem,
    Unreachable,
    get_mercadolibre,
)
from chalicelib.observability import count, logger
from chalicelib.store import blobs


@dataclass(frozen=True)
class Listed:
    """What a run left on MercadoLibre: the item as the product keeps it, and what the run did."""

    item: dict[str, Any]
    first: bool  # the product's first publication (the item created now, or by a run that stopped)
    changed: list[str] = field(default_factory=list)  # what this run sent
    kept: list[str] = field(default_factory=list)  # what MercadoLibre does not let change any more


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
        listed = _with_fresh_token(
            product.user_id, lambda credentials: _publish(product, version, job.approval, credentials)
        )
    except MercadoLibreError as error:
        _fail(product, error)
        return
    except DomainError as error:  # the account needs reconnecting, or its refresh is busy
        pipeline.fail(product, "publish", error.code, error.message, {"retry": True})
        count("PublishFailed", 1, MetricUnit.Count, cause=error.code)
        return
    store.products.change(product, status=move(product.status, ProductStatus.PUBLISHED), item=listed.item)
    _say(product, listed)
    count("PublishSucceeded", 1, MetricUnit.Count)


def _with_fresh_token(user_id: str, run: Callable[[connection.Credentials], Listed]) -> Listed:
    used = connection.credentials(user_id)
    try:
        return run(used)
    except MercadoLibreError as error:
        if error.problem is not Problem.TOKEN:
            raise
    # The token expired early (revoked, or MercadoLibre's clock): refresh once and go on. Runs are
    # idempotent, so going on from the start is going on from where it stopped.
    return run(connection.credentials(user_id, refused=used.access_token))


def _publish(
    product: Product, version: ListingVersion, approval: Approval, credentials: connection.Credentials
) -> Listed:
    client = get_mercadolibre()
    item_id = (product.item or {}).get("id") or _find(client, credentials, product.product_id)
    if item_id is None:
        return _create(client, product, version, approval, credentials)
    return _update(client, product, version, approval, credentials, str(item_id))


def _find(client: MercadoLibreClient, credentials: connection.Credentials, sku: str) -> str | None:
    found = client.find_items_by_sku(credentials.access_token, credentials.ml_user_id, sku)
    if len(found) > 1:
        logger.warning("more than one item with this SKU; keeping the first", extra={"items": found})
    return found[0] if found else None


# -- the first run: the item -------------------------------------------------------------------------


def _create(
    client: MercadoLibreClient,
    product: Product,
    version: ListingVersion,
    approval: Approval,
    credentials: connection.Credentials,
) -> Listed:
    token = credentials.access_token
    body = _new_item(version, approval, product.product_id, credentials.user_products)
    assert version.main_picture_key is not None  # a generated listing always has its picture
    picture = client.upload_picture(token, blobs.read(version.main_picture_key))
    body["pictures"] = [{"id": picture["id"]}]
    timeline.record(
        product.product_id, "publish", "VALIDATING", "MercadoLibre is checking the listing", percent=30
    )
    client.validate_item(token, body)  # field-level reasons before anything is created
    timeline.record(product.product_id, "publish", "CREATING_ITEM", "creating the listing", percent=60)
    try:
        item = client.create_item(token, body)
    except MercadoLibreError as error:
        if not (isinstance(error, Unreachable) or error.status >= 500):
            raise  # MercadoLibre said no before creating anything
        # No answer, or a 5xx: the item may exist. Look before anything else.
        timeline.record(
            product.product_id,
            "publish",
            "OUTCOME_UNKNOWN",
            "MercadoLibre did not say whether it created the listing; looking for it",
            {"status": error.status},
            percent=65,
        )
        found = _find(client, credentials, product.product_id)
        if found is None:
            raise  # not there: the seller's retry looks again before creating it
        logger.info("item created although the answer was lost", extra={"item_id": found})
        item = client.item(found, token)
    _describe(client, token, item["id"], version.description)
    sent = _sent(version, approval, "active")
    if approval.status != "active":
        item = client.update_item(token, item["id"], {"status": approval.status})
        sent["status"] = approval.status
    return Listed(_record(item, sent, clock.now().isoformat()), first=True)


def _new_item(version: ListingVersion, approval: Approval, sku: str, user_products: bool) -> dict[str, Any]:
    attributes = [
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
        if a["id"] != "SELLER_SKU"
    ]
    # The SKU goes in the SELLER_SKU attribute: the only one the publishing guide takes into account.
    attributes.append({"id": "SELLER_SKU", "value_name": sku})
    # A User Products seller names the family; MercadoLibre writes the title (precio-variacion).
    name = {"family_name": version.title} if user_products else {"title": version.title}
    return {
        **name,
        "category_id": version.category["id"],
        "price": approval.price,
        "currency_id": approval.currency,
        "available_quantity": approval.quantity,
        "buying_mode": "buy_it_now",
        "listing_type_id": approval.listing_type,
        "condition": approval.condition,
        "attributes": attributes,
    }


# -- every later run: the changes --------------------------------------------------------------------


def _update(
    client: MercadoLibreClient,
    product: Product,
    version: ListingVersion,
    approval: Approval,
    credentials: connection.Credentials,
    item_id: str,
) -> Listed:
    token = credentials.access_token
    known = product.item or {}
    sent: dict[str, Any] = dict(known.get("sent") or {})  # none: found by its SKU, everything goes
    current = client.item(item_id, token)  # the owner's view: its stock and sales too
    published_at = str(known.get("published_at") or clock.now().isoformat())
    if current["status"] == "closed":
        return Listed(_record(current, sent, published_at), first=not known, kept=["closed"])
    wanted = _sent(version, approval, approval.status)

    def due(name: str) -> bool:
        """Sent when it differs from what MercadoLibre last got, or when the seller asked for it now."""
        return wanted[name] != sent.get(name) or name in approval.changes

    changes: dict[str, Any] = {}
    changed: list[str] = []
    kept: list[str] = []
    # A User Products item is named by its family name, and MercadoLibre writes the title from it.
    name = "family_name" if current.get("family_name") is not None else "title"
    if wanted["title"] != sent.get("title") and wanted["title"] != current.get(name):
        if int(current.get("sold_quantity") or 0) > 0:
            kept.append("title")  # MercadoLibre keeps the title once the item has sales
        else:
            changes[name] = wanted["title"]
    if due("price") and wanted["price"] != current.get("price"):
        changes["price"] = wanted["price"]
    if due("quantity") and wanted["quantity"] != current.get("available_quantity"):
        changes["available_quantity"] = wanted["quantity"]
    if due("picture_key"):
        assert version.main_picture_key is not None
        picture = client.upload_picture(token, blobs.read(version.main_picture_key))
        changes["pictures"] = [{"id": picture["id"]}]
    if changes:
        current = client.update_item(token, item_id, changes)
        changed += [_CHANGED.get(name, name) for name in changes]
    if due("description") and _describe(client, token, item_id, version.description):
        changed.append("description")
    if due("status") and wanted["status"] != current["status"]:
        current = client.update_item(token, item_id, {"status": wanted["status"]})
        changed.append("status")
    return Listed(_record(current, wanted, published_at), first=not known, changed=changed, kept=kept)


_CHANGED = {"available_quantity": "quantity", "family_name": "title"}


def _describe(client: MercadoLibreClient, token: str, item_id: str, text: str) -> bool:
    """The item's description made `text` (a first POST, a PUT after); False when it already was."""
    current = client.description(token, item_id)
    if current == text:
        return False
    if current is None:
        try:
            client.add_description(token, item_id, text)
            return True
        except MercadoLibreError as error:
            if error.error != "item.description.invalid":
                raise
            # it has one after all (an earlier run's POST got through unanswered): MercadoLibre wants PUT
    client.replace_description(token, item_id, text)
    return True


def _sent(version: ListingVersion, approval: Approval, status: str) -> dict[str, Any]:
    """The listing as handed to MercadoLibre: what the next run compares against."""
    return {
        "title": version.title,
        "price": approval.price,
        "quantity": approval.quantity,
        "status": status,
        "picture_key": version.main_picture_key,
        "description": hashlib.sha256(version.description.encode()).hexdigest()[:16],
    }


def _record(item: dict[str, Any], sent: dict[str, Any], published_at: str) -> dict[str, Any]:
    """The item as the product keeps it: what MercadoLibre shows, and what was sent to it."""
    return {
        "id": item["id"],
        "permalink": item.get("permalink"),
        "title": item.get("title"),
        "family_name": item.get("family_name"),
        "status": item.get("status"),
        "sub_status": list(item.get("sub_status") or []),
        "price": item.get("price"),
        "available_quantity": item.get("available_quantity"),
        "sold_quantity": item.get("sold_quantity"),
        "published_at": published_at,
        "checked_at": clock.now().isoformat(),
        "sent": sent,
    }


def _say(product: Product, listed: Listed) -> None:
    item = listed.item
    if listed.first:
        timeline.record(
            product.product_id,
            "publish",
            "PUBLISHED",
            "published on MercadoLibre",
            {"id": item["id"], "permalink": item["permalink"], "status": item["status"]},
            percent=100,
        )
        return
    kept = " (MercadoLibre keeps the title once the item has sales)" if "title" in listed.kept else ""
    timeline.record(
        product.product_id,
        "publish",
        "ITEM_UPDATED",
        f"updated on MercadoLibre: {', '.join(listed.changed) or 'nothing to change'}{kept}",
        {"id": item["id"], "changed": listed.changed, "kept": listed.kept, "status": item["status"]},
        percent=100,
    )


# -- failures ----------------------------------------------------------------------------------------


def _fail(product: Product, error: MercadoLibreError) -> None:
    problem = error.problem
    code, message, retry = SELLER_ACTIONS[problem]
    params: dict[str, Any] = {
        "status": error.status,
        "retry": retry,
        "error": error.error,
        "mercadolibre_request_id": error.request_id,
        "request_id": logger.get_current_keys().get("request_id"),
    }
    if problem is Problem.VALIDATION:
        params["causes"] = [
            {"code": c.code, "message": c.message, "fields": c.references} for c in error.errors
        ]
        message = f"{message}: " + "; ".join(c.message for c in error.errors)
    elif problem is Problem.ACCOUNT:
        account = store.accounts.get(product.user_id)
        params["missing"] = [c.code for c in error.causes]
        params["account_url"] = site(account.site if account else "MLA").account_url
        message = f"{message} ({', '.join(params['missing'])}): {params['account_url']}"
    elif problem is Problem.TOKEN:
        connection.lost(product.user_id)  # even a fresh token was refused
    elif problem is Problem.REFUSED:
        message = f"{message}: {error.message}"
    log = logger.error if problem is Problem.DEFECT else logger.warning
    log(
        "MercadoLibre refused the publish step",
        extra={
            "product_id": product.product_id,
            "code": code,
            "status": error.status,
            "error": error.error,
            "mercadolibre_message": error.message,
            "mercadolibre_request_id": error.request_id,
            "causes": [c.code for c in error.causes],
        },
    )
    pipeline.fail(product, "publish", code, message, params)
    count("PublishFailed", 1, MetricUnit.Count, cause=code)  # one of SELLER_ACTIONS' codes, never text
