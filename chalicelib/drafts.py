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
    category, alternatives, category_score = _category(categories, facts, prompt, site)
    if "category" in kept:
        category, category_score = kept["category"], 1.0
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
    )
    usage = dataclasses.replace(usage, milliseconds=round((time.perf_counter() - started) * 1000, 1))
    return Draft(
        title,
        description,
        category,
        alternatives,
        attributes,
        [a for a in required if a not in filled],
        condition,
        facts,
        confidence,
        usage,
    )


def _category(
    categories: CategorySource, facts: ProductFacts, prompt: str, site: str
) -> tuple[dict[str, Any], list[dict[str, Any]], float]:
    """The first predicted leaf where listing is allowed, the others as alternatives, and how sure."""
    words = [f.value for f in (facts.product, facts.brand, facts.model) if f is not None]
    query = " ".join(words) or prompt
    chosen: dict[str, Any] | None = None
    alternatives: list[dict[str, Any]] = []
    predictions = categories.predict_categories(site, query, 5)
    for prediction in predictions:
        detail = categories.category(prediction["category_id"])
        entry = category_entry(detail)
        if chosen is None and listing_allowed(detail):
            chosen = entry
        else:
            alternatives.append(entry)
    if chosen is None:
        raise ListingWriterFailed(
            "NO_LISTABLE_CATEGORY", "MercadoLibre suggested no category where this can be listed"
        )
    # Sure when the product's own words name the category; less when only the brand or model led there.
    named = facts.product is not None and any(
        word[:5] in fold(chosen["name"] + " " + chosen["path"])
        for word in fold(facts.product.value).split()
        if len(word) > 3
    )
    rival = len(predictions) > 1 and predictions[0].get("domain_id") != predictions[1].get("domain_id")
    return chosen, alternatives, category_confidence(named=named, rival=rival)


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
