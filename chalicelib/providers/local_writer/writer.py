"""The LocalWriter: the prompt and the packaging read into facts, the sheet filled, the copy written."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from chalicelib.domain.evidence import PROMPT_CONFIRMED, READ_ON_ONE_PHOTO, legible
from chalicelib.domain.search import fold
from chalicelib.observability import provider_call
from chalicelib.providers.listing import (
    AttributeGuess,
    Copy,
    Fact,
    Photo,
    PhotoGone,
    ProductFacts,
    Usage,
)
from chalicelib.providers.local_writer.brand import brand_and_model, brand_candidates
from chalicelib.providers.local_writer.claims import find_claims
from chalicelib.providers.local_writer.ocr import (
    MIN_TEXT_SCORE,
    TextBox,
    ocr_engine,
    packaging_text,
    read_text,
)
from chalicelib.providers.local_writer.prompt import Prompt, parse_prompt
from chalicelib.providers.local_writer.sheet import fill
from chalicelib.providers.local_writer.specs import find_specs, same_measure
from chalicelib.providers.local_writer.wording import compose_description, compose_titles


class LocalWriter:
    name = "local"

    def __init__(self) -> None:
        # Attribute names from the sheets this writer filled, for the description's technical details.
        self._attribute_names: dict[str, str] = {}

    @provider_call("local_writer")
    def read(self, prompt: str, photos: list[Photo], site: str) -> tuple[ProductFacts, Usage]:
        started = time.perf_counter()
        parsed = parse_prompt(prompt, site)
        boxes: list[TextBox] = []
        model = "rules"
        facts = read_facts(parsed, boxes)
        if photos:
            engine, version = ocr_engine()
            model = f"rapidocr-{version}+rules"
            # The main photo first: its cut-out is the product alone, without the shelf around it.
            for photo in sorted(photos, key=lambda p: not p.is_main):
                try:
                    boxes += read_text(engine, photo)
                except PhotoGone:
                    continue
                facts = read_facts(parsed, boxes)
                if settled(facts):
                    break  # reading the other photos (~0.5 s each) would change nothing a listing needs
        return facts, _usage(model, started)

    @provider_call("local_writer")
    def fill_attributes(
        self, facts: ProductFacts, attributes: list[dict[str, Any]], photos: list[Photo], site: str
    ) -> tuple[list[AttributeGuess], Usage]:
        started = time.perf_counter()
        self._attribute_names.update({str(a["id"]): str(a["name"]) for a in attributes if a.get("name")})
        return fill(facts, attributes), _usage("rules", started)

    @provider_call("local_writer")
    def write(
        self,
        facts: ProductFacts,
        category_name: str,
        attributes: list[AttributeGuess],
        site: str,
        title_limit: int,
    ) -> tuple[Copy, Usage]:
        started = time.perf_counter()
        title, *others = compose_titles(facts, category_name, site, title_limit)
        copy = Copy(
            title=title,
            description=compose_description(facts, category_name, attributes, self._attribute_names, site),
            other_titles=tuple(others),
        )
        return copy, _usage("rules", started)


def _usage(model: str, started: float) -> Usage:
    return Usage("local", model, milliseconds=(time.perf_counter() - started) * 1000)


def settled(facts: ProductFacts) -> bool:
    """The seller's brand confirmed by the packaging, and the seller's own measure (a volume, a weight,
    a storage size): more photos would only add packaging lines. A brand read by OCR alone is not
    enough, even on two photos: on the sample products a misread ("Aipro") was then read on two."""
    confirmed = facts.brand is not None and facts.brand.confidence >= PROMPT_CONFIRMED
    return confirmed and any(fact.source == "prompt" for fact in facts.specs.values())


def _printed(words: str, boxes: list[TextBox]) -> bool:
    """Every word of `words` printed on the photos, as a word of a line the OCR read."""
    seen = {fold(w) for box in boxes if box.score >= MIN_TEXT_SCORE for w in box.text.split()}
    return all(fold(w) in seen for w in words.split())


def read_facts(prompt: Prompt, boxes: list[TextBox]) -> ProductFacts:
    """The prompt's facts, completed and confirmed by the packaging text."""
    facts = prompt.facts
    with_text = len({box.image_id for box in boxes})
    candidates = brand_candidates(boxes, prompt.brand_slot, prompt.product)
    brand, model = brand_and_model(
        prompt.brand_slot, candidates, marked=prompt.marked, photos_with_text=with_text
    )
    if model is not None and _printed(model.value, boxes):
        model = replace(model, confidence=PROMPT_CONFIRMED)
    withheld: dict[str, Fact] = {}
    if brand is None and candidates:
        best = candidates[0]  # printed on one photo only, or in pieces: said, not used
        withheld["brand"] = Fact(best.pieces or best.name, best.source, confidence=best.confidence)
    specs = dict(facts.specs)
    # A measure or a claim only the photos give must be legible as a brand must: one photo's "28\"" on
    # a juice is noise, not its screen.
    printed: dict[tuple[str, str, str | None], list[Fact]] = {}
    for box in boxes:
        if box.score < MIN_TEXT_SCORE:
            continue
        source = f"photo:{box.image_id}"
        read = [(key, fact) for key, fact, _ in find_specs(box.text, source, READ_ON_ONE_PHOTO)]
        for key, fact in read + find_claims(box.text, source, READ_ON_ONE_PHOTO):
            stated = specs.get(key)
            if stated is None:
                printed.setdefault((key, fact.value, fact.unit), []).append(fact)
            elif stated.source == "prompt" and same_measure(stated, fact):
                specs[key] = replace(stated, confidence=PROMPT_CONFIRMED)
    for (key, _, _), seen in printed.items():
        if key not in specs and legible(len({fact.source for fact in seen}), with_text):
            specs[key] = seen[0]
    return replace(
        facts,
        brand=brand,
        model=model,
        specs=specs,
        withheld=withheld,
        packaging_text=packaging_text(boxes),
    )
