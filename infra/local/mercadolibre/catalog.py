"""MercadoLibre's category trees and technical sheets, as the sandbox serves them.

Two sites, from the real data under `data/` (see data/README.md):

- MLB: the genuine `/sites/MLB/categories/all` dump of July 2023, every category with its real
  `settings` (listing_allowed, max_title_length, minimum_price, item_conditions...).
- MLA: the January 2024 Argentine tree (genuine ids, names and paths, no settings). Its settings are
  the documented defaults below: listing allowed on leaves only, 60-character titles, ARS.

Attribute definitions (`/categories/{id}/attributes`) are the real API responses kept in
`data/attributes/` for the categories that have one; every other leaf gets `default_attributes()`.
"""

from __future__ import annotations

import copy
import csv
import gzip
import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
SITES = ("MLA", "MLB")
SITE_CURRENCY = {"MLA": "ARS", "MLB": "BRL"}
# The listing types open to marketplace items today ("free, gold_special, gold_pro", from the
# tipos-de-publicacion page); the older gold/silver/bronze ids are no longer accepted.
LISTING_TYPES = ("gold_special", "gold_pro", "free")

# MLA categories carry no settings in the data: these mirror a typical MLB leaf of the same dump.
MLA_DEFAULT_SETTINGS: dict[str, Any] = {
    "adult_content": False,
    "buying_allowed": True,
    "buying_modes": ["buy_it_now"],
    "currencies": ["ARS"],
    "immediate_payment": "required",
    "item_conditions": ["new", "used"],
    "max_description_length": 50000,
    "max_pictures_per_item": 12,
    "max_pictures_per_item_var": 10,
    "max_sub_title_length": 70,
    "max_title_length": 60,
    "max_variations_allowed": 100,
    "maximum_price": None,
    "minimum_price": None,
    "price": "required",
    "stock": "required",
    "status": "enabled",
    "vip_subdomain": "articulo",
}

# Domains the documentation names for MLA categories (domain_discovery example "celular iphone"; the
# /categories/MLA3530 example, "Otras categorías > Otros", has catalog_domain MLA-UNCLASSIFIED_PRODUCTS);
# other MLA domains are derived from the category name, MLB ones come from settings.catalog_domain.
DOCUMENTED_MLA_DOMAINS = {
    "MLA1055": ("MLA-CELLPHONES", "Celulares"),
    "MLA3530": ("MLA-UNCLASSIFIED_PRODUCTS", "Otros"),
}

# Real /categories/{id}/attributes responses kept in data/attributes/.
REAL_ATTRIBUTE_FILES = {
    "MLA1055": "MLA1055_celulares_attributes_2019.json",
    "MLA1652": "MLA1652_notebooks_attributes_2019.json",
    # A documentation example for a brand sub-category (Microondas > BGH) that the 2024 tree no longer
    # has: its sheet is served, but nothing can be listed under it.
    "MLA125703": "docs_MLA125703_microondas_attributes.json",
}


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    parent_id: str | None
    path: tuple[tuple[str, str], ...]  # (id, name) from the root down to this category
    settings: dict[str, Any]
    domain_id: str
    domain_name: str
    total_items: int = 0
    children: list[str] = field(default_factory=list)

    @property
    def site_id(self) -> str:
        return self.id[:3]

    @property
    def listing_allowed(self) -> bool:
        return bool(self.settings.get("listing_allowed"))

    @property
    def max_title_length(self) -> int:
        return int(self.settings.get("max_title_length") or 60)


def fold(text: str) -> str:
    """Lower case without accents: how sellers type and how the predictor compares."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def derived_domain_id(site_id: str, name: str) -> str:
    return f"{site_id}-" + re.sub(r"[^A-Z0-9]+", "_", fold(name).upper()).strip("_")


class Catalog:
    """Both sites' trees, looked up by category id."""

    def __init__(self, categories: dict[str, Category]) -> None:
        self.categories = categories

    def get(self, category_id: str) -> Category | None:
        return self.categories.get(category_id)

    def listable(self, site_id: str) -> list[Category]:
        return [c for c in self.categories.values() if c.site_id == site_id and c.listing_allowed]

    def category_json(self, category: Category) -> dict[str, Any]:
        """The `/categories/{id}` response."""
        return {
            "id": category.id,
            "name": category.name,
            "picture": None,
            "permalink": None,
            "total_items_in_this_category": category.total_items,
            "path_from_root": [{"id": id_, "name": name} for id_, name in category.path],
            "children_categories": [
                {
                    "id": child.id,
                    "name": child.name,
                    "total_items_in_this_category": child.total_items,
                }
                for child in (self.categories[child_id] for child_id in category.children)
            ],
            "attribute_types": "attributes",
            "settings": category.settings,
            "channels_settings": [],
            "meta_categ_id": None,
            "attributable": False,
            "date_created": None,
        }

    def attributes(self, category_id: str) -> list[dict[str, Any]] | None:
        """The `/categories/{id}/attributes` response; None when the category is unknown."""
        if category_id in REAL_ATTRIBUTE_FILES:
            return copy.deepcopy(real_attributes(category_id))
        if category_id not in self.categories:
            return None
        return default_attributes(self.categories[category_id].site_id)


@cache
def real_attributes(category_id: str) -> list[dict[str, Any]]:
    path = DATA_DIR / "attributes" / REAL_ATTRIBUTE_FILES[category_id]
    attributes: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return attributes


def _attribute(category_id: str, attribute_id: str) -> dict[str, Any]:
    return next(a for a in real_attributes(category_id) if a["id"] == attribute_id)


def default_attributes(site_id: str) -> list[dict[str, Any]]:
    """A generic technical sheet for leaves whose real sheet is not in the data: these are defaults.

    The shape, tags and value ids follow the real MLA1055 sheet: BRAND is `required` free text; MODEL is
    free text that only catalog listings need (`catalog_required`, as in the real sheets: groceries
    and many goods have no model), ITEM_CONDITION a `hidden` list, GTIN `conditional_required`,
    MAIN_COLOR a list, IS_KIT a boolean, UNITS_PER_PACK a number, NET_WEIGHT a number_unit and
    PACKAGE_WEIGHT `read_only`.
    """
    portuguese = site_id == "MLB"
    group = {
        "attribute_group_id": "MAIN",
        "attribute_group_name": "Principais" if portuguese else "Principales",
    }
    others = {"attribute_group_id": "OTHERS", "attribute_group_name": "Outros" if portuguese else "Otros"}
    return [
        {
            "id": "BRAND",
            "name": "Marca",
            "tags": {"required": True, "catalog_required": True},
            "value_type": "string",
            "value_max_length": 255,
            **group,
        },
        {
            "id": "MODEL",
            "name": "Modelo",
            "tags": {"catalog_required": True},
            "value_type": "string",
            "value_max_length": 255,
            **group,
        },
        {
            "id": "ITEM_CONDITION",
            "name": "Condição do item" if portuguese else "Condición del ítem",
            "tags": {"hidden": True},
            "value_type": "list",
            "values": [
                {"id": "2230284", "name": "Novo" if portuguese else "Nuevo"},
                {"id": "2230581", "name": "Usado"},
                {"id": "2230582", "name": "Recondicionado" if portuguese else "Reacondicionado"},
            ],
            **others,
        },
        {
            "id": "GTIN",
            "name": "Código universal de produto" if portuguese else "Código universal de producto",
            "tags": {"multivalued": True, "variation_attribute": True, "conditional_required": True},
            "type": "product_identifier",
            "value_type": "string",
            "value_max_length": 60,
            **others,
        },
        {
            "id": "SELLER_SKU",
            "name": "SKU",
            "tags": {"hidden": True, "variation_attribute": True},
            "value_type": "string",
            "value_max_length": 255,
            **others,
        },
        {
            "id": "MAIN_COLOR",
            "name": "Cor principal" if portuguese else "Color principal",
            "tags": {"variation_attribute": True},
            "type": "color",
            "value_type": "list",
            # The real value ids of MLA1055's MAIN_COLOR (Spanish names on both sites).
            "values": copy.deepcopy(_attribute("MLA1055", "MAIN_COLOR")["values"]),
            **others,
        },
        {
            "id": "IS_KIT",
            "name": "É kit" if portuguese else "Es kit",
            "tags": {"hidden": True},
            "value_type": "boolean",
            "values": [
                {"id": "242084", "name": "Não" if portuguese else "No", "metadata": {"value": False}},
                {"id": "242085", "name": "Sim" if portuguese else "Sí", "metadata": {"value": True}},
            ],
            **others,
        },
        {
            "id": "UNITS_PER_PACK",
            "name": "Unidades por kit" if portuguese else "Unidades por pack",
            "tags": {},
            "value_type": "number",
            "value_max_length": 18,
            **others,
        },
        {
            "id": "NET_WEIGHT",
            "name": "Peso líquido" if portuguese else "Peso neto",
            "tags": {},
            "value_type": "number_unit",
            "value_max_length": 255,
            "allowed_units": [{"id": unit, "name": unit} for unit in ("g", "kg", "mg", "lb", "oz")],
            "default_unit": "g",
            **others,
        },
        {
            "id": "PACKAGE_WEIGHT",
            "name": "Peso da embalagem" if portuguese else "Peso del paquete",
            "tags": {"hidden": True, "read_only": True},
            "value_type": "number_unit",
            "value_max_length": 255,
            "allowed_units": [{"id": unit, "name": unit} for unit in ("g", "kg")],
            "default_unit": "g",
            **others,
        },
    ]


def _mla_categories() -> dict[str, Category]:
    path = DATA_DIR / "categories" / "MLA_category_tree_2024-01_derived.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = {row["id"]: row["name"] for row in rows}
    parents = {row["id"]: row["parent_id"] or None for row in rows}
    categories: dict[str, Category] = {}
    for row in rows:
        lineage = [row["id"]]
        while (parent := parents[lineage[0]]) is not None:
            lineage.insert(0, parent)
        leaf = row["leaf"] == "True"
        domain_id, domain_name = DOCUMENTED_MLA_DOMAINS.get(
            row["id"], (derived_domain_id("MLA", row["name"]), row["name"])
        )
        categories[row["id"]] = Category(
            id=row["id"],
            name=row["name"],
            parent_id=parents[row["id"]],
            path=tuple((id_, names[id_]) for id_ in lineage),
            settings={**MLA_DEFAULT_SETTINGS, "listing_allowed": leaf, "catalog_domain": domain_id},
            domain_id=domain_id,
            domain_name=domain_name,
        )
    for category in categories.values():
        if category.parent_id:
            categories[category.parent_id].children.append(category.id)
    return categories


def _mlb_categories() -> dict[str, Category]:
    path = DATA_DIR / "categories" / "MLB_categories_all_2023-07.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        dump: dict[str, dict[str, Any]] = json.load(handle)
    categories: dict[str, Category] = {}
    for raw in dump.values():
        path_from_root = tuple((node["id"], node["name"]) for node in raw["path_from_root"])
        domain_id = raw["settings"].get("catalog_domain") or derived_domain_id("MLB", raw["name"])
        categories[raw["id"]] = Category(
            id=raw["id"],
            name=raw["name"],
            parent_id=path_from_root[-2][0] if len(path_from_root) > 1 else None,
            path=path_from_root,
            settings=raw["settings"],
            domain_id=domain_id,
            domain_name=raw["name"],
            total_items=int(raw.get("total_items_in_this_category") or 0),
            children=[child["id"] for child in raw["children_categories"]],
        )
    return categories


@cache
def load_catalog() -> Catalog:
    """Both trees, parsed once per process (about a second)."""
    return Catalog({**_mla_categories(), **_mlb_categories()})
