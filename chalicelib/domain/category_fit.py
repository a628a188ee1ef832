"""Does a category name what the product is? A leaf names a kind of thing ("Cremas Depilatorias",
"Soja Texturizada"); the listing's evidence (the seller's line, the product the facts name) says
what this product is ("crema agria"). The leaf fits when one of the things it names ("Celulares y
Smartphones" names two) has every word said by the evidence: "Cremas" alone would fit a sour cream,
"Cremas Depilatorias" is a narrower kind nothing said, so a food is not filed there unchecked."""

from __future__ import annotations

import re

from chalicelib.domain.search import fold

# Words that join the words of a category's name and name nothing themselves.
_JOINERS = frozenset(
    {"de", "del", "da", "do", "das", "dos", "para", "con", "com", "sin", "sem", "en", "em", "por"}
    | {"el", "la", "los", "las", "a", "al", "y", "e", "o", "ou", "u"}
)
_ALTERNATIVES = re.compile(r",|\s(?:y|e|o|ou|u)\s|/")


def _forms(word: str) -> set[str]:
    """The word and what it is without a plural ending: "perfumes" -> perfume, "yogures" -> yogur."""
    return {word} | {
        word[: -len(end)] for end in ("s", "es") if word.endswith(end) and len(word) > len(end) + 2
    }


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", fold(text)) if w not in _JOINERS]


def names_the_product(path: list[str], evidence: list[str], product: str | None = None) -> bool:
    """Whether the leaf (last of `path`) names the product: every word of one of the things it names
    is said by the evidence (the seller's line, the product, its model), singular or plural alike;
    and the product's own noun, its first word, is named by the leaf or its parent ("Bebida de
    avena" is not the leaf "Avena" under "Cereales y Barras"; "Funda para celular" is "Fundas")."""
    said = {form for text in evidence for word in _words(text) for form in _forms(word)}
    things = [_words(thing) for thing in _ALTERNATIVES.split(fold(path[-1]))]
    if not any(words and all(_forms(word) & said for word in words) for words in things):
        return False
    nouns = _words(product or "")[:1]
    near = {form for word in _words(" ".join(path[-2:])) for form in _forms(word)}
    return not nouns or bool(_forms(nouns[0]) & near)


# What a food or a drink is measured in: its net content, and the claims and counts of its package.
# A screen size, a storage size or a power read on a carton is noise (a yoghurt has no inches).
_FOOD_ROOTS = frozenset({"alimentos y bebidas", "alimentos e bebidas"})
_FOOD_MEASURES = frozenset(
    {"volume", "weight", "flavour", "units_per_pack", "organic", "gluten_free", "lactose_free", "sugar_free"}
)


def belongs(measure: str, path: list[str]) -> bool:
    """Whether a measure the photos alone give can belong to a product of this category."""
    return not path or fold(path[0]) not in _FOOD_ROOTS or measure in _FOOD_MEASURES
