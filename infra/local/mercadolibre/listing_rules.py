"""What `POST /items/validate` and `POST /items` check, and the item they create.

Cause codes, ids and messages are MercadoLibre's own where the validaciones page documents them
(126, 109, 129, 147, 154, 173, 201, 204, 398, 3510, 3707, 3708); the others are the codes real
clients handle (item.title.length.invalid, item.currency_id.invalid, item.condition.invalid,
item.available_quantity.invalid, item.buying_mode.invalid, item.listing_type_id.invalid,
item.site_id.invalid, item.pictures.invalid).

Two kinds of seller (precio-variacion, user-products): a classic one sends `title`; one tagged
`user_product_seller` sends `family_name` and no `title` (nor `variations`), and MercadoLibre writes
the title. A seller whose account data is incomplete cannot list at all (`seller.unable_to_list`).
Checks the sandbox does not make: variations, shipping, sale terms, `conditional_required`
(MercadoLibre decides those through /categories/{id}/attributes/conditional) and
`catalog_required` (catalog listings only).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.local.mercadolibre.catalog import LISTING_TYPES, SITE_CURRENCY, Catalog, Category, fold
from infra.local.mercadolibre.errors import ApiError, cause, invalid_fields, unable_to_list, validation_error
from infra.local.mercadolibre.pictures import picture_json
from infra.local.mercadolibre.state import USER_PRODUCTS, SandboxState, Seller

MAX_PRICE = 9_999_999_999
NOT_APPLICABLE = "-1"  # value_id a seller sends for an attribute that does not apply
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "title": (str,),
    "family_name": (str,),
    "category_id": (str,),
    "price": (int, float),
    "currency_id": (str,),
    "available_quantity": (int,),
    "buying_mode": (str,),
    "listing_type_id": (str,),
    "condition": (str,),
    "site_id": (str,),
    "seller_custom_field": (str, type(None)),
    "pictures": (list,),
    "attributes": (list,),
    "sale_terms": (list,),
    "shipping": (dict,),
    "description": (dict,),
}
REQUIRED_FIELDS = (
    "category_id",
    "price",
    "currency_id",
    "available_quantity",
    "buying_mode",
    "listing_type_id",
    "condition",
)
JSON_TYPE_NAMES = {
    str: "String",
    int: "Number",
    float: "Number",
    bool: "Boolean",
    list: "JSONArray",
    dict: "Map",
}


def check_body(body: Any) -> dict[str, Any]:
    """The body-level refusals, before any rule: not an object, or fields of the wrong JSON type."""
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "body.invalid")
    problems = []
    for name, types in FIELD_TYPES.items():
        value = body.get(name)
        if name in body and (not isinstance(value, types) or isinstance(value, bool)):
            expected = JSON_TYPE_NAMES.get(types[0], types[0].__name__)
            actual = "Null" if value is None else JSON_TYPE_NAMES.get(type(value), type(value).__name__)
            problems.append(
                f"invalid property type: [{name}] expected {expected} but was {actual} value: {value}"
            )
    for index, picture in enumerate(body.get("pictures") or []):
        if not isinstance(picture, dict):
            problems.append(f"invalid property type: [pictures[{index}]] expected Map but was {picture!r}")
    for index, attribute in enumerate(body.get("attributes") or []):
        if not isinstance(attribute, dict) or not isinstance(attribute.get("id"), str):
            problems.append(f"invalid property type: [attributes[{index}]] expected Map with an id")
    if problems:
        # The shape of the documented body.invalid_field_types answer: the list is in `error`.
        raise ApiError(400, "[" + ",\n".join(problems) + "]", "body.invalid_field_types")
    return body


def check_seller(body: dict[str, Any], seller: Seller) -> None:
    """What is refused for who the seller is, before any rule about the item itself."""
    if seller.list_codes:
        raise unable_to_list(seller.list_codes)
    # A User Products seller names the family; MercadoLibre writes the title (precio-variacion).
    refused = ["title", "variations"] if seller.kind == USER_PRODUCTS else ["family_name"]
    present = [name for name in refused if name in body]
    if present:
        raise invalid_fields(present)


def validate(
    body: dict[str, Any], seller: Seller, catalog: Catalog, state: SandboxState
) -> tuple[Category | None, list[dict[str, Any]]]:
    """The error causes for this item (empty when it can be listed), and its category when known."""
    causes: list[dict[str, Any]] = []
    named_by = "family_name" if seller.kind == USER_PRODUCTS else "title"
    missing = [name for name in (named_by, *REQUIRED_FIELDS) if body.get(name) in (None, "")]
    if missing:
        causes.append(
            cause(
                "body.required_fields",
                f"The body does not contains some or none of the following properties [{', '.join(missing)}]",
                [f"item.{name}" for name in missing],
            )
        )
    category = _category(body, seller, catalog, causes)
    if category is not None:
        _title(body, named_by, category, causes)
        _price(body, category, causes)
        _condition(body, category, causes)
        _attributes(body, category, catalog, causes)
        causes += picture_problems(
            body.get("pictures") or [], seller, category, state, body.get("listing_type_id")
        )
    currency = body.get("currency_id")
    site_currency = SITE_CURRENCY[seller.site_id]
    if currency and currency != site_currency:
        message = f"Currency {currency} is not valid for site {seller.site_id}. Use {site_currency}."
        causes.append(cause("item.currency_id.invalid", message, ["item.currency_id"]))
    quantity = body.get("available_quantity")
    if quantity is not None and quantity < 1:
        message = "The available_quantity must be at least 1."
        causes.append(cause("item.available_quantity.invalid", message, ["item.available_quantity"]))
    buying_mode = body.get("buying_mode")
    if buying_mode and buying_mode != "buy_it_now":
        message = f"Buying mode {buying_mode} is not valid. The only buying mode allowed is buy_it_now."
        causes.append(cause("item.buying_mode.invalid", message, ["item.buying_mode"]))
    listing_type = body.get("listing_type_id")
    if listing_type and listing_type not in LISTING_TYPES:
        message = f"Listing type {listing_type} is not valid. Use one of: {', '.join(LISTING_TYPES)}."
        causes.append(cause("item.listing_type_id.invalid", message, ["item.listing_type_id"]))
    return category, causes


def _category(
    body: dict[str, Any], seller: Seller, catalog: Catalog, causes: list[dict[str, Any]]
) -> Category | None:
    category_id = body.get("category_id")
    if not category_id:
        return None
    category = catalog.get(category_id)
    if category is None or not category.listing_allowed:
        message = (
            f"Is not allowed to post in category {category_id}. Make sure you're posting in a leaf category"
            if category
            else f"Category {category_id} does not exist."
        )
        causes.append(cause("item.category_id.invalid", message, ["item.category_id"], 126))
        return None
    site_id = body.get("site_id") or category.site_id
    if site_id != category.site_id or site_id != seller.site_id:
        message = (
            f"The seller lists on site {seller.site_id}; category {category_id} is on {category.site_id}."
        )
        causes.append(cause("item.site_id.invalid", message, ["item.site_id", "item.category_id"]))
        return None
    return category


def _title(body: dict[str, Any], name: str, category: Category, causes: list[dict[str, Any]]) -> None:
    # The family name is held to the same limit as a title (user-products FAQ: max_title_length).
    title = body.get(name) or ""
    if len(title) > category.max_title_length:
        message = (
            f"Category {category.id} does not support titles greater than "
            f"{category.max_title_length} characters long."
        )
        causes.append(cause(f"item.{name}.length.invalid", message, [f"item.{name}"]))


def _price(body: dict[str, Any], category: Category, causes: list[dict[str, Any]]) -> None:
    price = body.get("price")
    if price is None:
        return
    minimum = category.settings.get("minimum_price") or 0
    if price <= 0 or price < minimum:
        message = (
            f"The category {category.id} requires a minimum price of {minimum}."
            if minimum
            else "The price must be greater than 0."
        )
        causes.append(cause("item.price.invalid", message, ["item.price"], 109))
    elif price > MAX_PRICE:
        causes.append(
            cause("item.price.invalid", f"Price must be less than {MAX_PRICE}.", ["item.price"], 129)
        )


def _condition(body: dict[str, Any], category: Category, causes: list[dict[str, Any]]) -> None:
    condition = body.get("condition")
    conditions = category.settings.get("item_conditions") or ["new", "used"]
    if condition and condition not in conditions:
        supported = ", ".join(conditions)
        message = f"Category {category.id} for channel marketplace only supports conditions: [{supported}]"
        causes.append(cause("item.condition.invalid", message, ["item.condition"]))


def _attributes(
    body: dict[str, Any], category: Category, catalog: Catalog, causes: list[dict[str, Any]]
) -> None:
    definitions = {d["id"]: d for d in catalog.attributes(category.id) or []}
    given = {a["id"]: a for a in body.get("attributes") or []}
    for attribute_id, attribute in given.items():
        definition = definitions.get(attribute_id)
        if definition is not None:
            problem = attribute_problem(attribute, definition)
            if problem is not None:
                causes.append(problem)
    required = []
    for attribute_id, definition in definitions.items():
        tags = definition.get("tags") or {}
        needed = tags.get("required") or (tags.get("new_required") and body.get("condition") == "new")
        if (
            needed
            and not (tags.get("hidden") or tags.get("read_only"))
            and not has_value(given.get(attribute_id))
        ):
            required.append(attribute_id)
    if required:
        message = (
            f"The attributes [{', '.join(required)}] are required for category {category.id} and channel "
            "marketplace. Check the attribute is present in the attributes list or in all variation's "
            "attributes_combination or attributes."
        )
        causes.append(cause("item.attributes.missing_required", message, ["item.attributes"], 147))


def has_value(attribute: dict[str, Any] | None) -> bool:
    if attribute is None:
        return False
    return bool(
        attribute.get("value_id")
        or str(attribute.get("value_name") or "").strip()
        or attribute.get("value_struct")
    )


def attribute_problem(attribute: dict[str, Any], definition: dict[str, Any]) -> dict[str, Any] | None:
    """The cause for one attribute value that the category's definition does not accept."""
    value_id = attribute.get("value_id")
    value_name = attribute.get("value_name")
    if value_id == NOT_APPLICABLE or not has_value(attribute):
        return None
    attribute_id = definition["id"]
    value_type = definition.get("value_type")
    if value_type in ("list", "boolean"):
        values = definition.get("values") or []
        known = any(
            (value_id and value["id"] == str(value_id))
            or (not value_id and fold(str(value_name)).strip() == fold(value["name"]))
            for value in values
        )
        if not known:
            message = f"Attribute [{attribute_id}] is not valid, item values [({value_id},{value_name})]"
            return cause("item.attributes.invalid", message, ["item.attributes"], 3510, "structured-data")
    elif value_type in ("number", "number_unit"):
        if not number_is_valid(attribute, definition):
            unit = f" {definition.get('default_unit', '')}" if value_type == "number_unit" else ""
            message = f"The value you entered in {attribute_id} is incorrect. An example is: 10{unit}."
            return cause("item.attribute.number_invalid_format", message, ["item.attributes"], 3708)
    elif value_name is not None and len(str(value_name)) > int(definition.get("value_max_length") or 255):
        maximum = definition.get("value_max_length") or 255
        message = f"Invalid value length for attribute {attribute_id}. Maximum length is {maximum}."
        return cause("item.attributes.invalid_length", message, ["item.attributes"], 154)
    return None


NUMBER_UNIT = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*(\S.*?)?\s*$")


def number_is_valid(attribute: dict[str, Any], definition: dict[str, Any]) -> bool:
    units = {unit["id"] for unit in definition.get("allowed_units") or []}
    struct = attribute.get("value_struct")
    if isinstance(struct, dict):
        number, unit = struct.get("number"), struct.get("unit")
        numeric = isinstance(number, int | float) and not isinstance(number, bool)
    else:
        match = NUMBER_UNIT.match(str(attribute.get("value_name") or ""))
        if match is None:
            return False
        numeric, unit = True, match.group(2)
    if definition.get("value_type") == "number":
        return numeric and not unit
    return numeric and unit in units


def picture_problems(
    pictures: list[dict[str, Any]],
    seller: Seller,
    category: Category,
    state: SandboxState,
    listing_type: str | None,
) -> list[dict[str, Any]]:
    """The causes against these pictures (by id, the seller's own uploads), on creating or replacing."""
    causes: list[dict[str, Any]] = []
    if not pictures:
        message = f"Item pictures are mandatory for listing type {listing_type or 'gold_special'}."
        causes.append(cause("item.listing_type_id.requiresPictures", message, ["item.pictures"], 173))
        return causes
    maximum = int(category.settings.get("max_pictures_per_item") or 12)
    if len(pictures) > maximum:
        message = f"Items in category {category.id} cannot exceeds {maximum} pictures."
        causes.append(cause("item.pictures.max", message, ["item.pictures"], 201))
    for index, picture in enumerate(pictures):
        picture_id = picture.get("id")
        if not picture_id:
            # The sandbox has no internet to fetch `source` URLs: upload the file first.
            message = "The local sandbox only accepts pictures by id; upload them to /pictures/items/upload."
            causes.append(cause("item.pictures.invalid", message, [f"item.pictures[{index}]"]))
            continue
        with state.lock:
            stored = state.pictures.get(picture_id)
        if stored is None or stored.seller_id != seller.id:
            message = f"Picture id {picture_id} does not exist."
            causes.append(cause("item.pictures.picture_not_found", message, [f"item.pictures[{index}]"], 204))
    return causes


def item_pictures(pictures: list[dict[str, Any]], state: SandboxState, base_url: str) -> dict[str, Any]:
    """The item's picture fields for these (checked) pictures."""
    with state.lock:
        found = [picture_json(state.pictures[p["id"]], base_url) for p in pictures]
    return {
        "thumbnail_id": found[0]["id"],
        "thumbnail": found[0]["variations"][-1]["url"],
        "secure_thumbnail": found[0]["variations"][-1]["secure_url"],
        "pictures": [
            {
                "id": picture["id"],
                "url": picture["variations"][0]["url"],
                "secure_url": picture["variations"][0]["secure_url"],
                "size": picture["max_size"],
                "max_size": picture["max_size"],
                "quality": "",
            }
            for picture in found
        ],
    }


# -- the item ---------------------------------------------------------------------------------------


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(title)).strip("-")


def new_item(
    body: dict[str, Any],
    seller: Seller,
    category: Category,
    catalog: Catalog,
    state: SandboxState,
    base_url: str,
) -> dict[str, Any]:
    """The `POST /items` response body for a valid item (not yet stored)."""
    digits = f"{secrets.randbelow(9 * 10**9) + 10**9}"
    item_id = f"{category.site_id}{digits}"
    host = "articulo.mercadolibre.com.ar" if category.site_id == "MLA" else "produto.mercadolivre.com.br"
    created = datetime.fromtimestamp(state.clock(), UTC)
    now = created.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    # gold_special and gold_pro last 7300 days (tipos-de-publicacion: duration_days.buy_it_now).
    stop = (created + timedelta(days=7300)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    definitions = {d["id"]: d for d in catalog.attributes(category.id) or []}
    attributes = [
        {
            "id": attribute["id"],
            "name": definitions.get(attribute["id"], {}).get(
                "name", NAMES.get(attribute["id"], attribute["id"])
            ),
            "value_id": attribute.get("value_id"),
            "value_name": attribute.get("value_name"),
            "value_struct": attribute.get("value_struct"),
        }
        for attribute in body.get("attributes") or []
    ]
    family_name = body.get("family_name")
    title = (
        user_product_title(family_name, attributes, category.max_title_length)
        if family_name
        else body["title"]
    )
    tags = ["test_item", "immediate_payment", *(["user_product_listing"] if family_name else [])]
    return {
        "id": item_id,
        "site_id": category.site_id,
        "title": title,
        "family_name": family_name,
        "seller_id": seller.id,
        "category_id": category.id,
        "user_product_id": f"{category.site_id}U{secrets.randbelow(9 * 10**8) + 10**8}",
        "official_store_id": None,
        "price": body["price"],
        "base_price": body["price"],
        "original_price": None,
        "inventory_id": None,
        "currency_id": body["currency_id"],
        "initial_quantity": body["available_quantity"],
        "available_quantity": body["available_quantity"],
        "sold_quantity": 0,
        "sale_terms": body.get("sale_terms") or [],
        "buying_mode": body["buying_mode"],
        "listing_type_id": body["listing_type_id"],
        "start_time": now,
        "stop_time": stop,
        "end_time": stop,
        "condition": body["condition"],
        "permalink": f"https://{host}/{category.site_id}-{digits}-{slug(title)}-_JM",
        **item_pictures(body["pictures"], state, base_url),
        "video_id": None,
        "descriptions": [],
        "accepts_mercadopago": True,
        "non_mercado_pago_payment_methods": [],
        # An item's shipping when it says none (publica-productos); Mercado Envíos is not modelled.
        "shipping": {
            "mode": "not_specified",
            "local_pick_up": False,
            "free_shipping": False,
            "methods": [],
            "dimensions": None,
            "tags": [],
            "logistic_type": "not_specified",
            "store_pick_up": False,
        },
        "international_delivery_mode": "none",
        "seller_address": {"id": 0},
        "seller_contact": None,
        "location": {},
        "coverage_areas": [],
        "attributes": attributes,
        "listing_source": "",
        "variations": [],
        "status": "active",
        "sub_status": [],
        "tags": tags,
        "warranty": warranty(body.get("sale_terms") or []),
        "catalog_product_id": None,
        "domain_id": category.domain_id,
        "seller_custom_field": body.get("seller_custom_field"),
        "parent_item_id": None,
        "deal_ids": [],
        "automatic_relist": False,
        "date_created": now,
        "last_updated": now,
        "health": None,
        "catalog_listing": False,
        "item_relations": [],
        "channels": ["marketplace"],
    }


def warranty(sale_terms: list[dict[str, Any]]) -> str | None:
    """ "Garantía del vendedor: 90 días", from the WARRANTY_TYPE and WARRANTY_TIME sale terms."""
    terms = {term.get("id"): term.get("value_name") for term in sale_terms if isinstance(term, dict)}
    if not terms.get("WARRANTY_TYPE"):
        return None
    return (
        f"{terms['WARRANTY_TYPE']}: {terms['WARRANTY_TIME']}"
        if terms.get("WARRANTY_TIME")
        else str(terms["WARRANTY_TYPE"])
    )


# Names of attributes every category has although its sheet does not list them.
NAMES = {"SELLER_SKU": "SKU"}  # as items show it (precio-por-cantidad's example)


def user_product_title(family_name: str, attributes: list[dict[str, Any]], limit: int) -> str:
    """The title MercadoLibre writes for a User Products item: the family name and what tells this
    variant apart (the color, as in precio-variacion's example "Apple iPhone 256GB Rojo")."""
    title = family_name.strip()
    color = next((a.get("value_name") for a in attributes if a.get("id") == "COLOR"), None)
    if color and color.casefold() not in title.casefold():
        title = f"{title} {color}"
    return title[:limit].strip()


def description_json(plain_text: str, state: SandboxState, created: str | None = None) -> dict[str, Any]:
    now = datetime.fromtimestamp(state.clock(), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "text": "",
        "plain_text": plain_text,
        "last_updated": now,
        "date_created": created or now,
        "snapshot": {"url": None, "width": 0, "height": 0, "status": ""},
    }


def check_description(body: Any, category: Category) -> str:
    if not isinstance(body, dict) or not isinstance(body.get("plain_text"), str):
        raise ApiError(
            400, "[invalid property type: [plain_text] expected String]", "body.invalid_field_types"
        )
    plain_text: str = body["plain_text"]
    # descripcion-de-articulos: plain text only; its example refuses the emoji of "< br > 😀" at
    # plain_text[7] (the tag-like text passes). Characters past the Basic Multilingual Plane, then.
    wrong = next((index for index, char in enumerate(plain_text) if ord(char) > 0xFFFF), None)
    if wrong is not None:
        raise validation_error(
            [
                cause(
                    "item.description.type.invalid",
                    "The description must be in plain text",
                    [f"plain_text[{wrong}]"],
                    398,
                )
            ]
        )
    maximum = int(category.settings.get("max_description_length") or 50000)
    if len(plain_text) > maximum:
        message = f"You exceeded the {maximum} character limit. Shorten the description."
        raise ApiError(
            400,
            "validation_error",
            "Validation error",
            [cause("item.descriptions.length_exceeded", message, ["plain_text"], 3707)],
        )
    return plain_text
