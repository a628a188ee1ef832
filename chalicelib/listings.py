"""The seller's side of a listing: review it, edit it, restore a version, change the prompt, approve it,
and once it is on MercadoLibre, change its item (price, stock, pause, reactivate, close).

Every edit is a new listing version by the seller (the fields they touched stay theirs through later
regenerations); a stale edit is refused with the current version so nothing typed is lost. On a
published product the title and the description may still change, and each change is published
again (a publish job updates the item); the category, technical sheet, condition and prompt stay as
published, since the item keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib import clock, pipeline, store, timeline
from chalicelib.domain.confidence import Confidence, after_seller_edit
from chalicelib.domain.errors import ChangedMeanwhile, Conflict, Invalid, NotFound
from chalicelib.domain.jobs import ITEM_STATUSES
from chalicelib.domain.listing_rules import (
    DEFAULT_TITLE_LIMIT,
    Problem,
    attribute_entry,
    category_entry,
    description_problems,
    listing_allowed,
    normalise_value,
    required_ids,
    title_problems,
)
from chalicelib.domain.product import ProductStatus
from chalicelib.domain.records import ListingVersion, Product
from chalicelib.domain.sites import currency_of
from chalicelib.marketplace import catalog, items
from chalicelib.products import ProductDetail, detail, get, owned


@dataclass(frozen=True)
class ListingDetail:
    """A listing version with its category's technical sheet as the panel renders it."""

    version: ListingVersion
    sheet: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class AttributeValue:
    id: str
    value_id: str | None = None
    value_name: str | None = None


@dataclass(frozen=True)
class ListingChange:
    """The seller's field edits on `version` (the one they were looking at)."""

    version: int
    title: str | None = None
    description: str | None = None
    category_id: str | None = None
    attributes: list[AttributeValue] | None = None
    condition: str | None = None
    reset: list[str] = field(default_factory=list)  # fields handed back to the generator


class ListingChanged(ChangedMeanwhile):
    """The listing moved on since the seller opened it; `current` is what it is now."""

    def __init__(self, current: ListingVersion) -> None:
        super().__init__("the listing changed since you opened it; here is the current version")
        self.current = current


# -- reading -------------------------------------------------------------------------------------------


def _version(product: Product, number: int | None = None) -> ListingVersion:
    if number is None and not product.current_version:
        raise NotFound("LISTING_NOT_READY", "the listing is still being written; watch the timeline")
    wanted = number if number is not None else product.current_version
    version = store.versions.get(product.product_id, wanted) if wanted > 0 else None
    if version is None:
        raise NotFound("VERSION_NOT_FOUND", "no such version", {"version": wanted})
    return version


def _sheet(category_id: str) -> list[dict[str, Any]]:
    """The category's attributes as the panel renders them: required markers and allowed values."""
    schema = catalog.category_attributes(category_id)
    required = set(required_ids(schema))
    sheet = []
    for definition in schema:
        tags = definition.get("tags") or {}
        if tags.get("hidden") or tags.get("read_only"):
            continue
        sheet.append(
            {
                "id": definition["id"],
                "name": definition.get("name", definition["id"]),
                "value_type": definition.get("value_type", "string"),
                "required": definition["id"] in required,
                "values": [{"id": v["id"], "name": v["name"]} for v in definition.get("values") or []],
                "allowed_units": [
                    u.get("name") or u.get("id") for u in definition.get("allowed_units") or []
                ],
            }
        )
    return sheet


def current(user_id: str, product_id: str) -> ListingDetail:
    version = _version(owned(user_id, product_id))
    return ListingDetail(version, _sheet(version.category["id"]))


def history(user_id: str, product_id: str) -> tuple[Product, list[ListingVersion]]:
    product = owned(user_id, product_id)
    return product, store.versions.of(product_id)


# -- editing -------------------------------------------------------------------------------------------


def edit(user_id: str, product_id: str, change: ListingChange) -> ListingDetail:
    product = owned(user_id, product_id)
    touched = [
        name
        for name, value in (
            ("title", change.title),
            ("description", change.description),
            ("category", change.category_id),
            ("attributes", change.attributes),
            ("condition", change.condition),
        )
        if value is not None
    ]
    _editable(product, *touched, *(["reset"] if change.reset else []))  # no regeneration once listed
    base = _version(product)
    if base.version != change.version:
        raise ListingChanged(base)
    category = base.category
    schema = catalog.category_attributes(category["id"])
    edited = set(base.edited)
    attributes = list(base.attributes)
    problems: list[Problem] = []
    new_category = bool(change.category_id and change.category_id != category["id"])
    if new_category:
        # Values still valid there come along now; the generator then fills the new sheet.
        category, schema, attributes = _new_category(str(change.category_id), attributes)
        edited.add("category")
    if change.attributes is not None:
        attributes, attribute_problems = _edited_attributes(schema, attributes, change.attributes)
        problems += attribute_problems
        edited.add("attributes")
    title = change.title if change.title is not None else base.title
    if change.title is not None:
        edited.add("title")
    problems += title_problems(title, int(category.get("title_limit", DEFAULT_TITLE_LIMIT)))
    description = change.description if change.description is not None else base.description
    if change.description is not None:
        problems += description_problems(description)
        edited.add("description")
    if change.condition is not None:
        edited.add("condition")
    edited -= set(change.reset)
    if problems:
        first = problems[0]
        raise Invalid(
            "VALIDATION_ERROR",
            first.message,
            {"field": first.field, "reason": first.code, "problems": [p.__dict__ for p in problems]},
        )
    filled = {a["id"] for a in attributes}
    required = required_ids(schema)
    missing = [a for a in required if a not in filled]
    confidence = after_seller_edit(Confidence.from_json(base.confidence), edited, missing, len(required))
    version = _save_version(
        product,
        base,
        source="seller",
        title=title,
        description=description,
        category=category,
        attributes=attributes,
        missing_required=missing,
        condition=change.condition or base.condition,
        edited=sorted(edited),
        confidence=confidence.to_json(),
    )
    if product.item:
        # On MercadoLibre already: the edit goes to the item.
        pipeline.publish_again(owned(user_id, product_id), version, touched)
    elif change.reset:
        _regenerate(
            product, "REWRITING_FIELDS", f"writing {', '.join(change.reset)} again", {"fields": change.reset}
        )
    elif new_category and "attributes" not in edited:
        _regenerate(
            product,
            "FILLING_SHEET",
            f"filling the technical sheet of {category['name']}",
            {"category": category["name"]},
        )
    return ListingDetail(version, _sheet(category["id"]))


def restore(user_id: str, product_id: str, number: int) -> ListingDetail:
    product = owned(user_id, product_id)
    _editable(product, "version")
    old = _version(product, number)
    # A restored version is the seller's choice: every field of it survives later regenerations.
    version = _save_version(
        product,
        _version(product),
        source="restored",
        title=old.title,
        description=old.description,
        category=old.category,
        attributes=old.attributes,
        missing_required=old.missing_required,
        condition=old.condition,
        edited=["attributes", "category", "condition", "description", "title"],
        confidence=old.confidence,
    )
    timeline.record(product_id, "edit", "VERSION_RESTORED", f"version {number} restored", {"version": number})
    return ListingDetail(version, _sheet(version.category["id"]))


def change_prompt(user_id: str, product_id: str, prompt: str) -> ProductDetail:
    product = owned(user_id, product_id)
    _editable(product, "prompt")
    _regenerate(product, "PROMPT_CHANGED", "prompt changed: writing the listing again", prompt=prompt)
    return get(user_id, product_id)


def set_paused(user_id: str, product_id: str, paused: bool) -> ProductDetail:
    product = store.products.change(owned(user_id, product_id), paused=paused)
    if paused:
        timeline.record(product_id, "edit", "PAUSED", "automatic updates paused while you edit")
    else:
        timeline.record(product_id, "edit", "RESUMED", "automatic updates resumed")
        pipeline.advance(product)
    return get(user_id, product_id)


# -- approving -----------------------------------------------------------------------------------------


def approve(
    user_id: str,
    product_id: str,
    *,
    price: float,
    quantity: int,
    currency: str | None = None,
    listing_type: str | None = None,
    condition: str | None = None,
) -> ProductDetail:
    """The seller approves the current version: recorded (who, when, which), then the publish job."""
    product = owned(user_id, product_id)
    if product.status not in (ProductStatus.READY, ProductStatus.FAILED) or not product.current_version:
        raise Conflict(
            "NOT_READY_TO_PUBLISH", f"a product that is {product.status.value} cannot be published now"
        )
    account = store.accounts.get(user_id)
    if account is None:
        raise Conflict(
            "MERCADOLIBRE_NOT_CONNECTED",
            "connect your MercadoLibre account before publishing (GET /ml/connect)",
        )
    site_currency = currency_of(account.site)
    if currency and currency != site_currency:
        raise Invalid(
            "VALIDATION_ERROR",
            f"currency: {account.site} sells in {site_currency}",
            {"field": "currency", "expected": site_currency},
        )
    seller = store.sellers.get(user_id)
    pipeline.start_publishing(
        product,
        _version(product),
        by=user_id,
        price=price,
        currency=site_currency,
        quantity=quantity,
        listing_type=listing_type or (seller.listing_type if seller else "gold_special"),
        condition=condition,
    )
    return get(user_id, product_id)


# -- on MercadoLibre ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemChange:
    """What the seller changes of a published product's item: its price, its stock, its status."""

    price: float | None = None
    quantity: int | None = None
    status: str | None = None  # active | paused | closed


def opened(user_id: str, product_id: str) -> ProductDetail:
    """The product as the seller opens it: with its item's status read back from MercadoLibre. The
    product is read once: the refresh hands back the row it wrote, or the one it was given."""
    return detail(items.refresh(owned(user_id, product_id)))


def change_item(user_id: str, product_id: str, change: ItemChange) -> ProductDetail:
    """A new price or stock, a pause, a reactivation or a close: approved again, and the publish job
    makes the item match (the same job, the same idempotency as publishing it)."""
    product = owned(user_id, product_id)
    item = _live_item(product)
    if change.status is not None and change.status not in ITEM_STATUSES:
        raise Invalid("VALIDATION_ERROR", "status: active, paused or closed", {"field": "status"})
    if change.status == "active" and item.get("status") in ("under_review", "inactive"):
        raise Conflict(
            "ITEM_UNDER_REVIEW",
            "MercadoLibre is reviewing the item: fix what it asks for and it comes back by itself",
            {"item_id": item["id"], "sub_status": item.get("sub_status") or []},
        )
    terms = {
        name: value
        for name, value in (("price", change.price), ("quantity", change.quantity), ("status", change.status))
        if value is not None
    }
    if not terms:
        raise Invalid("VALIDATION_ERROR", "send the price, the quantity or the status", {"field": "body"})
    pipeline.publish_again(product, _version(product), list(terms), **terms)
    return get(user_id, product_id)


def _live_item(product: Product) -> dict[str, Any]:
    """The product's item on MercadoLibre while it can still change, or why not."""
    if product.status is ProductStatus.PUBLISHING:
        raise Conflict("PRODUCT_BUSY", "the product is being published; try again when it finishes")
    if not product.item or product.approval is None:
        raise Conflict("NOT_PUBLISHED", "the product is not on MercadoLibre yet: publish it first")
    if product.item.get("status") == "closed":
        raise Conflict(
            "ITEM_CLOSED", "the item is closed on MercadoLibre, for good", {"item_id": product.item["id"]}
        )
    return product.item


# -- helpers -------------------------------------------------------------------------------------------

# What may still change on a published product: the item takes these.
PUBLISHED_EDITABLE = frozenset({"title", "description"})


def _regenerate(
    product: Product,
    code: str,
    message: str,
    params: dict[str, Any] | None = None,
    **changes: Any,
) -> None:
    """A new revision: the pipeline writes the listing again, keeping only what is still edited."""
    written = store.products.update(product, lambda current: {**changes, "revision": current.revision + 1})
    timeline.record(product.product_id, "edit", code, message, params)
    pipeline.advance(written or product)


def _editable(product: Product, *touched: str) -> None:
    """Refused while publishing; on MercadoLibre already, only what its item can take."""
    if product.status is ProductStatus.PUBLISHING:
        raise Conflict("PRODUCT_BUSY", "the product is being published; try again when it finishes")
    if not product.item:
        return
    _live_item(product)
    locked = [name for name in touched if name not in PUBLISHED_EDITABLE]
    if locked:
        raise Conflict(
            "PUBLISHED_LISTING_LOCKED",
            f"{locked[0]}: stays as published on MercadoLibre; the title, the description, the photos, "
            "the price and the stock can change",
            {"field": locked[0]},
        )


def _new_category(
    category_id: str, attributes: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    detail = catalog.category(category_id)
    if not listing_allowed(detail):
        raise Invalid(
            "VALIDATION_ERROR",
            "category_id: listing is not allowed in this category",
            {"field": "category_id", "reason": "CATEGORY_NOT_LISTABLE"},
        )
    schema = catalog.category_attributes(category_id)
    by_id = {d["id"]: d for d in schema}
    kept = []
    for attribute in attributes:  # values still valid in the new category come along
        definition = by_id.get(attribute["id"])
        if definition is None:
            continue
        value_id, value_name, problem = normalise_value(
            definition, attribute.get("value_id"), attribute.get("value_name")
        )
        if problem is None:
            kept.append({**attribute, "value_id": value_id, "value_name": value_name})
    return category_entry(detail), schema, kept


def _edited_attributes(
    schema: list[dict[str, Any]], attributes: list[dict[str, Any]], values: list[AttributeValue]
) -> tuple[list[dict[str, Any]], list[Problem]]:
    by_id = {d["id"]: d for d in schema}
    current_values = {a["id"]: a for a in attributes}
    problems: list[Problem] = []
    for value in values:
        definition = by_id.get(value.id)
        if definition is None:
            problems.append(
                Problem(value.id, "ATTRIBUTE_UNKNOWN", f"{value.id} is not in this category's sheet")
            )
            continue
        if not value.value_id and not value.value_name:
            current_values.pop(value.id, None)  # emptied by the seller
            continue
        value_id, value_name, problem = normalise_value(definition, value.value_id, value.value_name)
        if problem is not None:
            problems.append(problem)
            continue
        current_values[value.id] = attribute_entry(definition, value_id, value_name, "seller", 1.0)
    return list(current_values.values()), problems


def _save_version(product: Product, base: ListingVersion, **fields: Any) -> ListingVersion:
    """The seller's version, made current only while `base` still is: else ListingChanged."""
    version = store.versions.add(
        ListingVersion(
            product_id=product.product_id,
            version=0,
            revision=product.revision,
            facts=base.facts,
            category_alternatives=base.category_alternatives,
            other_titles=base.other_titles,
            main_picture_key=base.main_picture_key,
            usage={"provider": "seller", "model": ""},
            created_at=clock.now(),
            **fields,
        )
    )

    def make_current(latest: Product) -> dict[str, Any] | None:
        if version is None or latest.current_version != base.version:
            return None
        return {"current_version": version.version, "title": version.title, "confidence": version.overall}

    if version is None or store.products.update(product, make_current) is None:
        raise ListingChanged(_version(owned(product.user_id, product.product_id)))
    return version
