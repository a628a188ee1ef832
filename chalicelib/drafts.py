"""A listing draft from a product's photos and prompt: read, categorise, fill the sheet, write, score.

Used by the content step (with the cached catalog) and by `make eval` (with the bare client). The
writer may be Gemini or the local writer; whatever it says, the listing rules
(chalicelib.domain.listing_rules) are applied after it, and the confidence is scored here.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.domain.category_fit import belongs, names_the_product
from chalicelib.domain.confidence import Confidence, category_confidence, listing_confidence
from chalicelib.domain.listing_rules import (
    attribute_entry,
    category_entry,
    description_problems,
    listing_allowed,
    normalise_value,
    required_ids,
    tidy_description,
    tidy_title,
    title_problems,
)
from chalicelib.domain.search import fold
from chalicelib.observability import logger
from chalicelib.providers.listing import (
    AttributeGuess,
    ListingWriter,
    ListingWriterFailed,
    Photo,
    ProductFacts,
    Usage,
)


@dataclass
class Draft:
    """A listing before it is saved: what the writer and the rules made of the product."""

    title: str
    description: str
    category: dict[str, Any]
    alternatives: list[dict[str, Any]]
    other_titles: list[str]
    attributes: list[dict[str, Any]]
    missing_required: list[str]
    condition: str | None
    facts: ProductFacts
    confidence: Confidence
    usage: Usage


class CategorySource(Protocol):
    """MercadoLibre's categories: the cached catalog in the functions, the bare client in `make eval`."""

    def predict_categories(self, site: str, query: str, limit: int = 5) -> list[dict[str, Any]]: ...

    def category(self, category_id: str) -> dict[str, Any]: ...

    def category_attributes(self, category_id: str) -> list[dict[str, Any]]: ...


def compose_listing(
    writer: ListingWriter,
    categories: CategorySource,
    prompt: str,
    photos: list[Photo],
    site: str,
    *,
    main_quality: float | None = None,
    kept: dict[str, Any] | None = None,
    on_step: Callable[[str], None] = lambda step: None,
) -> Draft:
    """Read, categorise, fill the sheet, write, apply the rules, score. `kept`: the seller's edited
    fields (by name), which stay theirs until they ask for them to be regenerated."""
    started = time.perf_counter()
    kept = kept or {}
    facts, usage = writer.read(prompt, photos, site)
    on_step("CHOOSING_CATEGORY")
    category, alternatives, category_score, fits = _category(categories, facts, prompt, site)
    if "category" in kept:
        category, category_score, fits = kept["category"], 1.0, True
    # A measure only the photos give must be one this kind of product has (no inches on a yoghurt).
    path = (category.get("path") or category["name"]).split(" > ")
    facts = dataclasses.replace(
        facts,
        specs={
            key: fact for key, fact in facts.specs.items() if fact.source == "prompt" or belongs(key, path)
        },
    )
    schema = categories.category_attributes(category["id"])
    guesses, more = writer.fill_attributes(facts, schema, photos, site)
    usage = usage.plus(more)
    attributes = kept.get("attributes") or valid_attributes(schema, guesses)
    on_step("WRITING_TITLE")
    copy, more = writer.write(
        facts,
        category["name"],
        [
            AttributeGuess(**{k: a[k] for k in ("id", "value_id", "value_name", "source", "confidence")})
            for a in attributes
        ],
        site,
        category["title_limit"],
    )
    usage = usage.plus(more)
    names = [fact.value for fact in (facts.brand, facts.model) if fact is not None]
    title = kept.get("title") or tidy_title(copy.title, category["title_limit"], names)
    others = _other_titles([copy.title, *copy.other_titles], title, category["title_limit"], names)
    description = kept.get("description") or tidy_description(copy.description)
    condition = kept.get("condition") or (facts.condition.value if facts.condition else None)
    required = required_ids(schema)
    filled = {a["id"] for a in attributes}
    confidence = listing_confidence(
        category=category_score,
        required=required,
        filled=filled,
        title_problems=len(title_problems(title, category["title_limit"])),
        title_has_brand=facts.brand is not None and fold(facts.brand.value) in fold(title),
        description_problems=len(description_problems(description)),
        templated_description=usage.provider == "local" and "description" not in kept,
        main_image_quality=main_quality,
        brand=None
        if facts.brand is None
        else (facts.brand.value, facts.brand.confidence, facts.brand.source == "prompt"),
        brand_withheld=facts.withheld["brand"].value if "brand" in facts.withheld else None,
        # Only a typed model can split the seller's words wrongly; one read from the photos was legible.
        model=(facts.model.value, facts.model.confidence)
        if facts.model is not None and facts.model.source == "prompt"
        else None,
        misfit=None if fits else (category["name"], facts.product.value if facts.product else prompt),
    )
    usage = dataclasses.replace(usage, milliseconds=round((time.perf_counter() - started) * 1000, 1))
    return Draft(
        title,
        description,
        category,
        alternatives,
        others,
        attributes,
        [a for a in required if a not in filled],
        condition,
        facts,
        confidence,
        usage,
    )


def _category(
    categories: CategorySource, facts: ProductFacts, prompt: str, site: str
) -> tuple[dict[str, Any], list[dict[str, Any]], float, bool]:
    """The first predicted leaf where listing is allowed that names the product (else the first one),
    the others as alternatives (those that name it first), how sure, and whether it names the product.

    MercadoLibre's prediction ranks leaves by words: "crema agria" comes back as depilatory creams.
    A leaf whose name the seller's words and the facts do not say is a kind nothing showed."""
    words = [f.value for f in (facts.product, facts.brand, facts.model) if f is not None]
    query = " ".join(words) or prompt
    predictions = categories.predict_categories(site, query, 5)
    evidence = [prompt, *words]
    listable: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for prediction in predictions:
        detail = categories.category(prediction["category_id"])
        (listable if listing_allowed(detail) else others).append(category_entry(detail))
    if not listable:
        raise ListingWriterFailed(
            "NO_LISTABLE_CATEGORY", "MercadoLibre suggested no category where this can be listed"
        )
    product = facts.product.value if facts.product else None
    recognised = {p["category_id"] for p in predictions if _recognised(p, evidence)}
    fitting = [
        entry
        for entry in listable
        if entry["id"] in recognised
        or names_the_product((entry["path"] or entry["name"]).split(" > "), evidence, product)
    ]
    chosen = fitting[0] if fitting else listable[0]
    alternatives = sorted(
        (entry for entry in listable + others if entry is not chosen), key=lambda e: e not in fitting
    )
    # Torn when MercadoLibre's next prediction is another domain, or when it put another leaf first.
    rival = chosen is not listable[0] or (
        len(predictions) > 1 and predictions[0].get("domain_id") != predictions[1].get("domain_id")
    )
    return chosen, alternatives, category_confidence(named=bool(fitting), rival=rival), bool(fitting)


def _recognised(prediction: dict[str, Any], evidence: list[str]) -> bool:
    """MercadoLibre's answer names the product line or model the seller said ("iphone 13": LINE
    iPhone of Celulares y Smartphones): the category is the product's, whatever its name says."""
    said = fold(" ".join(evidence)).split()
    return any(
        attribute.get("id") in ("LINE", "MODEL")
        and fold(str(attribute.get("value_name") or "")).split()
        and all(word in said for word in fold(str(attribute.get("value_name"))).split())
        for attribute in prediction.get("attributes") or []
    )


def _other_titles(written: list[str], title: str, limit: int, names: list[str]) -> list[str]:
    """The writer's titles the listing does not use, each within the rules, once each."""
    seen = {fold(title)}
    others = []
    for candidate in written:
        tidy = tidy_title(candidate, limit, names)
        if tidy and fold(tidy) not in seen and not title_problems(tidy, limit):
            seen.add(fold(tidy))
            others.append(tidy)
    return others


def valid_attributes(schema: list[dict[str, Any]], guesses: list[AttributeGuess]) -> list[dict[str, Any]]:
    """The guesses this category's sheet takes, normalised; anything else is dropped, never invented."""
    by_id = {d["id"]: d for d in schema}
    kept: dict[str, dict[str, Any]] = {}
    for guess in guesses:
        definition = by_id.get(guess.id)
        if definition is None or guess.id in kept:
            continue  # not in this category's sheet: nothing invented
        value_id, value_name, problem = normalise_value(definition, guess.value_id, guess.value_name)
        if problem is not None:
            logger.info("attribute value dropped", extra={"attribute": guess.id, "code": problem.code})
            continue
        kept[guess.id] = attribute_entry(definition, value_id, value_name, guess.source, guess.confidence)
    return list(kept.values())
