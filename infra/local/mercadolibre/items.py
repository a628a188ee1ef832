"""An item's life after `POST /items`: who sees what, `PUT /items/{id}`, its statuses, the seller's search.

- `GET /items/{id}` is public; `initial_quantity`, `available_quantity` and `channels` only show to
  the owner's token (publica-productos, "No aparece sin token propietario").
- `PUT /items/{id}` (producto-sincroniza-modifica-publicaciones): `status` active/paused/closed, in
  lower case; a closed item is final; `available_quantity` 0 pauses it `out_of_stock` (new items
  that are not `free` only), more stock brings an out-of-stock item back; price; pictures (replaced,
  by id); the title only while `sold_quantity` is 0, never on a User Products item, whose
  `family_name` changes instead, while it has no sales (precio-variacion). Fields the sandbox does
  not model answer `body.invalid_fields` (publica-productos, Errores).
- Statuses MercadoLibre itself sets (under_review with its sub-statuses, inactive, paused by a
  moderation) come from the harness, `POST /_sandbox/items/{id}/status`, as do sales
  (`POST /_sandbox/items/{id}/sales`).
- `GET /users/{id}/items/search` (items-y-busquedas): `sku` searches `seller_custom_field`,
  `seller_sku` the `SELLER_SKU` attribute, `status` one status; `limit` at most 100.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from infra.local.mercadolibre.catalog import Catalog
from infra.local.mercadolibre.errors import ApiError, bad_request, cause, invalid_fields, validation_error
from infra.local.mercadolibre.listing_rules import (
    MAX_PRICE,
    item_pictures,
    picture_problems,
    user_product_title,
)
from infra.local.mercadolibre.state import SandboxState, Seller

OWNER_ONLY = ("initial_quantity", "available_quantity", "channels")
SELLER_STATUSES = ("active", "paused", "closed")
# Statuses and sub-statuses as the flujo-y-estados section lists them; what the harness may set.
SUB_STATUSES = {
    "active": (),
    "paused": ("out_of_stock", "paused_by_seller", "picture_download_pending"),
    "closed": ("expired", "deleted", "suspended", "freezed", "waiting_for_patch", "held"),
    "under_review": (
        "warning",
        "waiting_for_patch",
        "held",
        "pending_documentation",
        "forbidden",
        "picture_download_pending",
    ),
    "inactive": (),
    "payment_required": (),
}
UPDATABLE = ("status", "price", "available_quantity", "pictures", "title", "family_name")
SEARCH_STATUSES = ("pending", "not_yet_active", "programmed", "active", "paused", "closed", "under_review")
MAX_SEARCH_LIMIT = 100


def now_iso(state: SandboxState) -> str:
    return (
        datetime.fromtimestamp(state.clock(), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def public_view(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in OWNER_ONLY}


def refused(code: str, message: str, reference: str) -> ApiError:
    return validation_error([cause(code, message, [reference])])


# -- PUT /items/{id} --------------------------------------------------------------------------------


def update(
    item: dict[str, Any],
    body: Any,
    seller: Seller,
    catalog: Catalog,
    state: SandboxState,
    base_url: str,
) -> dict[str, Any]:
    """The item after the seller's changes (a new dict), or the error MercadoLibre answers."""
    if not isinstance(body, dict) or not body:
        raise ApiError(400, "bad_request", "body.invalid")
    unknown = [name for name in body if name not in UPDATABLE]
    if unknown:
        raise invalid_fields(unknown)
    user_product = item.get("family_name") is not None
    if "title" in body and user_product:
        raise invalid_fields(["title"])  # precio-variacion: modifying the title is a bad request
    if "family_name" in body and not user_product:
        raise invalid_fields(["family_name"])
    if item["status"] == "closed" and set(body) - {"status"}:
        raise refused("item.status.closed", "A closed item cannot be modified; relist it.", "item.status")
    changed = dict(item)
    category = catalog.get(item["category_id"])
    assert category is not None
    causes: list[dict[str, Any]] = []
    sold = int(item.get("sold_quantity") or 0)
    for name in ("title", "family_name"):
        if name in body:
            value = body[name]
            if not isinstance(value, str) or not value.strip():
                raise _wrong_type(name, "String", value)
            if sold:
                causes.append(
                    cause(
                        f"item.{name}.not_modifiable",
                        f"The {name} cannot be modified once the item has sales.",
                        [f"item.{name}"],
                    )
                )
            elif len(value) > category.max_title_length:
                causes.append(
                    cause(
                        f"item.{name}.length.invalid",
                        f"Category {category.id} does not support titles greater than "
                        f"{category.max_title_length} characters long.",
                        [f"item.{name}"],
                    )
                )
            else:
                changed[name] = value
                if name == "family_name":
                    changed["title"] = user_product_title(
                        value, item["attributes"], category.max_title_length
                    )
    if "price" in body:
        price = body["price"]
        if not isinstance(price, int | float) or isinstance(price, bool):
            raise _wrong_type("price", "Number", price)
        minimum = category.settings.get("minimum_price") or 0
        if price <= 0 or price < minimum or price > MAX_PRICE:
            causes.append(
                cause("item.price.invalid", f"The price {price} is not valid.", ["item.price"], 109)
            )
        else:
            changed["price"] = changed["base_price"] = price
    if "pictures" in body:
        pictures = body["pictures"]
        if not isinstance(pictures, list) or not all(isinstance(p, dict) for p in pictures):
            raise _wrong_type("pictures", "JSONArray of Map", pictures)
        problems = picture_problems(pictures, seller, category, state, item["listing_type_id"])
        if problems:
            causes += problems
        else:
            changed.update(item_pictures(pictures, state, base_url))
    if "available_quantity" in body:
        _quantity(changed, body["available_quantity"], causes)
    if causes:
        raise validation_error(causes)
    if "status" in body:
        _status(changed, body["status"])
    changed["last_updated"] = now_iso(state)
    return changed


def _wrong_type(name: str, expected: str, value: Any) -> ApiError:
    actual = "Null" if value is None else type(value).__name__
    return ApiError(
        400,
        f"[invalid property type: [{name}] expected {expected} but was {actual} value: {value}]",
        "body.invalid_field_types",
    )


def _quantity(item: dict[str, Any], quantity: Any, causes: list[dict[str, Any]]) -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise _wrong_type("available_quantity", "Number", quantity)
    if quantity < 0:
        causes.append(
            cause(
                "item.available_quantity.invalid",
                "The available_quantity must be >= 0.",
                ["item.available_quantity"],
            )
        )
        return
    if quantity == 0:
        # Only a new item that is not `free` can be paused by running out of stock.
        if item["condition"] != "new" or item["listing_type_id"] == "free":
            message = "Only new items that are not free listings can have an available_quantity of 0."
            causes.append(cause("item.available_quantity.invalid", message, ["item.available_quantity"]))
            return
        item["available_quantity"] = 0
        if item["status"] == "active":
            item["status"], item["sub_status"] = "paused", ["out_of_stock"]
        return
    item["available_quantity"] = quantity
    if item["status"] == "paused" and item["sub_status"] == ["out_of_stock"]:
        item["status"], item["sub_status"] = "active", []


def _status(item: dict[str, Any], wanted: Any) -> None:
    if wanted not in SELLER_STATUSES:  # case-sensitive, as the page warns
        message = f"Status {wanted} is not valid. Use one of: {', '.join(SELLER_STATUSES)}."
        raise refused("item.status.invalid", message, "item.status")
    current = item["status"]
    if current == wanted:
        if wanted == "paused":
            item["sub_status"] = ["paused_by_seller"]  # paused again by the seller: stays paused
        return
    if current == "closed":
        raise refused(
            "item.status.closed", "A closed item cannot be activated or paused; relist it.", "item.status"
        )
    if current in ("under_review", "inactive") and wanted != "closed":
        message = f"The item is {current}: fix what MercadoLibre asks for; it cannot be {wanted} meanwhile."
        raise refused("item.status.under_review", message, "item.status")
    if wanted == "active" and item.get("available_quantity", 0) == 0:
        raise refused(
            "item.status.out_of_stock", "Add stock (available_quantity) to activate the item.", "item.status"
        )
    item["status"] = wanted
    item["sub_status"] = {"active": [], "paused": ["paused_by_seller"], "closed": []}[wanted]
    if wanted == "active" and "moderation_penalty" in item["tags"]:
        item["tags"] = [tag for tag in item["tags"] if tag != "moderation_penalty"]


# -- harness: what MercadoLibre does to an item ---------------------------------------------------


def set_status(item: dict[str, Any], body: Any, state: SandboxState) -> dict[str, Any]:
    """A status MercadoLibre sets (a moderation, an expiry...): `{"status", "sub_status", "tags"}`."""
    if not isinstance(body, dict) or body.get("status") not in SUB_STATUSES:
        raise bad_request(f"status: one of {', '.join(SUB_STATUSES)}")
    sub_status = body.get("sub_status") or []
    allowed = SUB_STATUSES[body["status"]]
    if not isinstance(sub_status, list) or any(s not in allowed for s in sub_status):
        raise bad_request(f"sub_status of {body['status']}: any of {', '.join(allowed) or 'none'}")
    tags = body.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise bad_request("tags: a list of strings")
    changed = {**item, "status": body["status"], "sub_status": list(sub_status)}
    changed["tags"] = [*item["tags"], *(t for t in tags if t not in item["tags"])]
    changed["last_updated"] = now_iso(state)
    return changed


def sell(item: dict[str, Any], body: Any, state: SandboxState) -> dict[str, Any]:
    """A buyer bought `quantity` units: stock down, sales up; sold out pauses it out of stock."""
    quantity = body.get("quantity", 1) if isinstance(body, dict) else None
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise bad_request("quantity: an integer >= 1")
    if item["status"] != "active" or quantity > item["available_quantity"]:
        raise bad_request("only an active item with that much stock can sell")
    changed = dict(item)
    changed["available_quantity"] = item["available_quantity"] - quantity
    changed["sold_quantity"] = int(item.get("sold_quantity") or 0) + quantity
    if changed["available_quantity"] == 0:
        changed["status"], changed["sub_status"] = "paused", ["out_of_stock"]
    changed["last_updated"] = now_iso(state)
    return changed


# -- GET /users/{id}/items/search ------------------------------------------------------------------


def seller_sku(item: dict[str, Any]) -> str | None:
    return next((a.get("value_name") for a in item["attributes"] if a["id"] == "SELLER_SKU"), None)


def search(items: list[dict[str, Any]], user_id: int, args: dict[str, str]) -> dict[str, Any]:
    status = args.get("status")
    if status is not None and status not in SEARCH_STATUSES:
        raise bad_request(f"status must be one of {', '.join(SEARCH_STATUSES)}")
    try:
        offset = int(args.get("offset", "0"))
        limit = int(args.get("limit", "50"))
    except ValueError:
        raise bad_request("offset and limit must be integers") from None
    if offset < 0 or not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise bad_request(f"offset must be >= 0 and limit between 1 and {MAX_SEARCH_LIMIT}")
    found = [
        item["id"]
        for item in items
        if item["seller_id"] == user_id
        and (status is None or item["status"] == status)
        and ("sku" not in args or item.get("seller_custom_field") == args["sku"])
        and ("seller_sku" not in args or seller_sku(item) == args["seller_sku"])
    ]
    return {
        "seller_id": str(user_id),
        "query": None,
        "paging": {"limit": limit, "offset": offset, "total": len(found)},
        "results": found[offset : offset + limit],
        "orders": [{"id": "stop_time_asc", "name": "Order by stop time ascending"}],
        "available_orders": [
            {"id": f"{field}_{way}", "name": f"Order by {field.replace('_', ' ')} {way}ending"}
            for field in ("stop_time", "start_time", "available_quantity", "price", "last_updated")
            for way in ("asc", "desc")
        ],
    }
