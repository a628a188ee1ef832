"""The seller's review loop: see the listing, edit it, browse and restore versions, change the prompt.

Every save is a new version; what the seller edited is flagged per field and survives regenerations.
Edits are checked with the same rules the generator follows. Two edits from the same version: the
second gets 409 with the current version, never a silent overwrite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import clock, pipeline, timeline
from chalicelib.api.schemas import (
    ListingAttribute,
    ListingConfidence,
    ListingEdit,
    ListingHistory,
    ListingOut,
    ListingVersionSummary,
    ProductOut,
)
from chalicelib.domain.confidence import WEIGHTS, band
from chalicelib.domain.listing import (
    DEFAULT_TITLE_LIMIT,
    Problem,
    attribute_entry,
    description_problems,
    normalise_value,
    required_ids,
    title_problems,
)
from chalicelib.domain.product import ProductStatus
from chalicelib.domain.search import search_text
from chalicelib.http import ApiError
from chalicelib.marketplace import catalog
from chalicelib.products import get, owned
from chalicelib.storage.models import ListingVersion, Product


def _version(product: Product, number: int | None = None) -> ListingVersion:
    wanted = number if number is not None else int(product.current_version)
    if not wanted:
        raise ApiError(404, "LISTING_NOT_READY", "the listing is still being written; watch the timeline")
    try:
        return ListingVersion.get(product.product_id, wanted, consistent_read=True)
    except DoesNotExist:
        raise ApiError(404, "VERSION_NOT_FOUND", "no such version", {"version": wanted}) from None


def listing_out(version: ListingVersion, sheet: list[dict[str, Any]] | None = None) -> ListingOut:
    confidence = version.confidence
    return ListingOut(
        version=int(version.version),
        revision=int(version.revision),
        source=version.source,
        title=version.title,
        description=version.description,
        category=version.category,
        category_alternatives=version.category_alternatives or [],
        attributes=[ListingAttribute(**a) for a in version.attributes or []],
        missing_required=version.missing_required or [],
        condition=version.condition,
        confidence=ListingConfidence(
            overall=confidence["overall"],
            band=band(confidence["overall"]),
            parts=confidence["parts"],
            reasons=confidence.get("reasons", []),
        ),
        edited=version.edited or [],
        provider=str((version.usage or {}).get("provider", "seller")),
        model=str((version.usage or {}).get("model", "")),
        created_at=version.created_at,
        sheet=sheet,
    )


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


def current(user_id: str, product_id: str) -> ListingOut:
    version = _version(owned(user_id, product_id))
    return listing_out(version, _sheet(version.category["id"]))


def history(user_id: str, product_id: str) -> ListingHistory:
    product = owned(user_id, product_id)
    return ListingHistory(
        versions=[
            ListingVersionSummary(
                version=int(v.version),
                revision=int(v.revision),
                source=v.source,
                title=v.title,
                confidence=float(v.confidence["overall"]),
                edited=v.edited or [],
                created_at=v.created_at,
                current=int(v.version) == int(product.current_version),
            )
            for v in ListingVersion.query(product_id, scan_index_forward=False)
        ]
    )


def edit(user_id: str, product_id: str, change: ListingEdit) -> ListingOut:
    product = owned(user_id, product_id)
    _editable(product)
    base = _version(product)
    if int(base.version) != change.version:
        raise _conflict(base)
    category = base.category
    schema = catalog.category_attributes(category["id"])
    edited = set(base.edited or [])
    attributes = list(base.attributes or [])
    problems: list[Problem] = []
    new_category = bool(change.category_id and change.category_id != category["id"])
    if new_category:
        # Values still valid there come along now; the generator then fills the new sheet.
        category, schema, attributes = _new_category(str(change.category_id), attributes)
        edited.add("category")
    if change.attributes is not None:
        attributes, attribute_problems = _edited_attributes(schema, attributes, change)
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
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            first.message,
            {"field": first.field, "reason": first.code, "problems": [p.__dict__ for p in problems]},
        )
    filled = {a["id"] for a in attributes}
    required = required_ids(schema)
    missing = [a for a in required if a not in filled]
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
        confidence=_seller_confidence(base, edited, missing, len(required)),
    )
    if change.reset:
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
    return listing_out(version, _sheet(category["id"]))


def restore(user_id: str, product_id: str, number: int) -> ListingOut:
    product = owned(user_id, product_id)
    _editable(product)
    old = _version(product, number)
    # A restored version is the seller's choice: every field of it survives later regenerations.
    version = _save_version(
        product,
        _version(product),
        source="restored",
        title=old.title,
        description=old.description,
        category=old.category,
        attributes=old.attributes or [],
        missing_required=old.missing_required or [],
        condition=old.condition,
        edited=["attributes", "category", "condition", "description", "title"],
        confidence=old.confidence,
    )
    timeline.record(product_id, "edit", "VERSION_RESTORED", f"version {number} restored", {"version": number})
    return listing_out(version, _sheet(version.category["id"]))


def change_prompt(user_id: str, product_id: str, prompt: str) -> ProductOut:
    product = owned(user_id, product_id)
    _editable(product)
    _regenerate(
        product,
        "PROMPT_CHANGED",
        "prompt changed: writing the listing again",
        changes=[Product.prompt.set(prompt), Product.search_text.set(search_text(prompt, product.title))],
    )
    return get(user_id, product_id)


def _regenerate(
    product: Product,
    code: str,
    message: str,
    params: dict[str, Any] | None = None,
    changes: Sequence[Action] = (),
) -> None:
    """A new revision: the pipeline writes the listing again, keeping only what is still edited."""
    # The update answers with the whole item, so the pipeline sees the new revision.
    product.update(actions=[*changes, Product.revision.add(1), Product.updated_at.set(clock.now())])
    timeline.record(product.product_id, "edit", code, message, params)
    pipeline.advance(product)


def set_paused(user_id: str, product_id: str, paused: bool) -> ProductOut:
    product = owned(user_id, product_id)
    product.update(actions=[Product.paused.set(paused), Product.updated_at.set(clock.now())])
    if paused:
        timeline.record(product_id, "edit", "PAUSED", "automatic updates paused while you edit")
    else:
        timeline.record(product_id, "edit", "RESUMED", "automatic updates resumed")
        pipeline.advance(product)
    return get(user_id, product_id)


# -- helpers -------------------------------------------------------------------------------------------


def _editable(product: Product) -> None:
    status = ProductStatus(product.status)
    if status is ProductStatus.PUBLISHING:
        raise ApiError(409, "PRODUCT_BUSY", "the product is being published; try again when it finishes")
    if status is ProductStatus.PUBLISHED:
        raise ApiError(409, "PUBLISHED_EDITS_UNSUPPORTED", "published listings cannot be edited here yet")


def _conflict(current_version: ListingVersion) -> ApiError:
    return ApiError(
        409,
        "CONFLICT",
        "the listing changed since you opened it; here is the current version",
        {"current": listing_out(current_version).model_dump(mode="json")},
    )


def _new_category(
    category_id: str, attributes: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    detail = catalog.category(category_id)
    settings = detail.get("settings") or {}
    if not settings.get("listing_allowed", True):
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "category_id: listing is not allowed in this category",
            {"field": "category_id", "reason": "CATEGORY_NOT_LISTABLE"},
        )
    category = {
        "id": detail["id"],
        "name": detail["name"],
        "path": " > ".join(p["name"] for p in detail.get("path_from_root", [])),
        "title_limit": int(settings.get("max_title_length") or DEFAULT_TITLE_LIMIT),
    }
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
    return category, schema, kept


def _edited_attributes(
    schema: list[dict[str, Any]], attributes: list[dict[str, Any]], change: ListingEdit
) -> tuple[list[dict[str, Any]], list[Problem]]:
    by_id = {d["id"]: d for d in schema}
    current_values = {a["id"]: a for a in attributes}
    problems: list[Problem] = []
    for value in change.attributes or []:
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
    number = (
        int(next(iter(ListingVersion.query(product.product_id, scan_index_forward=False, limit=1))).version)
        + 1
    )
    confidence = fields["confidence"]
    version = ListingVersion(
        product_id=product.product_id,
        version=number,
        revision=int(product.revision),
        facts=base.facts,
        category_alternatives=base.category_alternatives,
        main_picture_key=base.main_picture_key,
        usage={"provider": "seller", "model": ""},
        created_at=clock.now(),
        **fields,
    )
    try:
        version.save(condition=ListingVersion.version.does_not_exist())
        product.update(
            actions=[
                Product.current_version.set(number),
                Product.title.set(version.title),
                Product.confidence.set(float(confidence["overall"])),
                Product.search_text.set(search_text(product.prompt, version.title)),
                Product.updated_at.set(clock.now()),
            ],
            condition=Product.current_version == int(base.version),
        )
    except (PutError, UpdateError):
        raise _conflict(_version(owned(product.user_id, product.product_id))) from None
    return version


def _seller_confidence(
    base: ListingVersion, edited: set[str], missing: list[str], required: int
) -> dict[str, Any]:
    """What the seller saved counts as checked; required attributes still missing still count against it."""
    parts = dict(base.confidence["parts"])
    for name in ("title", "description", "category"):
        if name in edited:
            parts[name] = 1.0
    parts["attributes"] = round(1 - len(missing) / required, 4) if required else 1.0
    reasons = [
        r
        for r in base.confidence.get("reasons", [])
        if r.get("part") not in edited and r.get("code") != "REQUIRED_ATTRIBUTES_MISSING"
    ]
    if missing:
        reasons.append(
            {
                "part": "attributes",
                "code": "REQUIRED_ATTRIBUTES_MISSING",
                "message": f"{len(missing)} required attribute(s) missing: {', '.join(missing)}",
                "params": {"count": len(missing), "attributes": missing},
            }
        )
    overall = round(sum(WEIGHTS[name] * value for name, value in parts.items()), 4)
    return {"overall": overall, "parts": parts, "reasons": reasons}
