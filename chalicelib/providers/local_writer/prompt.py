"""The seller's words, parsed with patterns: product, brand, model, condition, specs with units,
price, quantity, colour."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.domain.evidence import BRAND_MARKERS, PROMPT_STATED
from chalicelib.domain.search import fold
from chalicelib.domain.sites import currency_of
from chalicelib.providers.listing import Fact, ProductFacts
from chalicelib.providers.local_writer.brand import brand_and_model
from chalicelib.providers.local_writer.claims import find_claims, flavour, units_per_pack_span
from chalicelib.providers.local_writer.specs import find_specs, number_text, parse_amount
from chalicelib.providers.local_writer.words import (
    ADJECTIVE_ENDINGS,
    COLOURS,
    CONDITIONS,
    FUNCTION_WORDS,
    GENERIC_WORDS,
    JOINERS,
)

CURRENCY_WORDS = {"r$": "BRL", "reais": "BRL", "brl": "BRL", "us$": "USD", "ars": "ARS", "mxn": "MXN"}
# A number is only tried from the start of its run (the lookbehind): linear in the text.
PRICE = re.compile(
    r"(R\$|US\$|\$)\s*(\d[\d.,]*\d|\d)|(?<![\d.,])(\d[\d.,]*\d|\d)\s*(pesos|reais|reales|ars|brl|mxn)\b",
    re.I,
)
QUANTITY = re.compile(
    r"(?<![\w])x\s?(\d{1,3})\b|\b(\d{1,3})\s*(?:unidades|unidade|unidad|unid\.?|uds?\.?|u\.)(?!\w)", re.I
)


@dataclass(frozen=True)
class Prompt:
    """What the seller's hint says, before the photos are read."""

    product: list[str]  # the leading noun phrase, as typed
    brand_slot: list[str]  # the words after it that name the product: brand, then model
    facts: ProductFacts
    # The seller marked the slot as a name: "marca arla", or "Arla" capitalised where the product's
    # words are not. Unmarked, a slot word is the seller's brand but a guess until the photos print it.
    marked: bool = False


def parse_prompt(prompt: str, site: str) -> Prompt:
    """Patterns only: a word either fills a slot or is ignored."""
    text = " ".join(prompt.split())[:500]
    taken: list[tuple[int, int]] = []
    specs: dict[str, Fact] = {}
    price = _price(text, site, taken)
    pack = units_per_pack_span(text)
    taken += [pack] if pack else []
    quantity = _quantity(text, taken)
    for key, fact, span in find_specs(text, "prompt", PROMPT_STATED):
        taken.append(span)
        specs.setdefault(key, fact)
    for key, fact in find_claims(text, "prompt", PROMPT_STATED):
        specs.setdefault(key, fact)
    words: list[str] = []  # "" where a measure, price or quantity was: it ends a run of names
    for match in re.finditer(r"[^\s,;:()!¡?¿]+", text):
        start, end = match.span()
        if any(a < end and start < b for a, b in taken):
            if words and words[-1]:
                words.append("")
        elif word := match.group().strip(".-/"):
            words.append(word)
    condition = next((CONDITIONS[fold(w)] for w in words if fold(w) in CONDITIONS), None)
    product, rest = _product_phrase(words)
    if (taste := flavour(product, PROMPT_STATED)) is not None:
        specs.setdefault("flavour", taste)
    colour = next((c for c in map(_colour, rest) if c), None)
    slot: list[str] = []
    rest = rest[1:] if rest[:1] == [""] else rest
    marked = bool(rest) and fold(rest[0]) in BRAND_MARKERS
    rest = rest[1:] if marked else rest
    for word in rest:
        folded = fold(word)
        if not word or folded in FUNCTION_WORDS or folded in CONDITIONS or _colour(word):
            break  # a sentence, or the end of the names: what follows is not a brand or a model
        if slot or word.isalpha():  # a brand is a word: "4g" in "celular 4g motorola" is not one
            slot.append(word)
    capitalised = bool(slot) and slot[0][:1].isupper() and not all(w[:1].isupper() for w in product)
    marked = marked or capitalised
    brand, model = brand_and_model(slot, [], marked=marked)
    facts = ProductFacts(
        brand=brand,
        model=model,
        product=Fact(_sentence_case(" ".join(product)), "prompt", confidence=PROMPT_STATED)
        if product
        else None,
        condition=Fact(condition, "prompt", confidence=PROMPT_STATED) if condition else None,
        specs=specs,
        colour=Fact(colour, "prompt", confidence=PROMPT_STATED) if colour else None,
        price=price,
        quantity=quantity,
    )
    return Prompt(product, slot, facts, marked)


def _colour(word: str) -> str | None:
    """The colour a word names, singular: "negros" -> "Negro", "azules" -> "Azul"."""
    folded = fold(word)
    if folded in COLOURS:
        return word.capitalize()  # as typed, accents and all
    return next((c.capitalize() for c in (folded[:-1], folded[:-2]) if c in COLOURS), None)


def _sentence_case(text: str) -> str:
    text = text.lower() if text.isupper() else text
    return text[:1].upper() + text[1:]


def _product_phrase(words: list[str]) -> tuple[list[str], list[str]]:
    """The leading noun phrase ("leche de avena", "zapatillas") and the words after it."""
    phrase: list[str] = []
    i = 0
    while i < len(words):
        word, folded = words[i], fold(words[i])
        if not word or any(c.isdigit() for c in word) or folded in CONDITIONS or _colour(word):
            break
        if not phrase:
            if folded in FUNCTION_WORDS:
                break
            phrase.append(word)
        elif folded in JOINERS and i + 1 < len(words) and fold(words[i + 1]) not in FUNCTION_WORDS:
            following = words[i + 1]
            if not following or any(c.isdigit() for c in following) or fold(following) in CONDITIONS:
                break
            phrase += [word, following]
            i += 1
        elif _describes(word):
            phrase.append(word)
        else:
            break
        i += 1
    return phrase, words[i:]


def _describes(word: str) -> bool:
    """A word that says what the product is like, never who makes it: a descriptor or a packaging word
    (GENERIC_WORDS holds the descriptors) in either number ("frescos", "arandanos", "agria"), or shaped
    like an adjective ("inalámbricos"). Exact words: the seller typed them, no misread to forgive."""
    folded = fold(word)
    singular = {folded, folded[:-1], folded[:-2]} if folded.endswith("s") else {folded}
    return bool(singular & GENERIC_WORDS) or (len(folded) > 4 and folded.endswith(ADJECTIVE_ENDINGS))


def _price(text: str, site: str, taken: list[tuple[int, int]]) -> Fact | None:
    match = PRICE.search(text)
    if match is None:
        return None
    taken.append(match.span())
    symbol, amount = (match.group(1), match.group(2)) if match.group(2) else (match.group(4), match.group(3))
    currency = CURRENCY_WORDS.get(symbol.casefold()) or currency_of(site)
    value = parse_amount(amount)
    return Fact(
        number_text(value) if value == int(value) else f"{value:.2f}", "prompt", currency, PROMPT_STATED
    )


def _quantity(text: str, taken: list[tuple[int, int]]) -> Fact | None:
    """How many the seller offers ("x3", "3 unidades"); not the units inside one pack."""
    match = next(
        (m for m in QUANTITY.finditer(text) if not any(a < m.end() and m.start() < b for a, b in taken)),
        None,
    )
    if match is None or int(match.group(1) or match.group(2)) < 1:
        return None
    taken.append(match.span())
    return Fact(str(int(match.group(1) or match.group(2))), "prompt", None, PROMPT_STATED)
