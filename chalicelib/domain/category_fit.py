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


def names_the_product(leaf_name: str, evidence: list[str]) -> bool:
    """Whether the leaf names the product: every word of one of the things it names is said by the
    evidence (the seller's line, the product, its model), singular or plural alike."""
    said = {form for text in evidence for word in _words(text) for form in _forms(word)}
    for thing in _ALTERNATIVES.split(fold(leaf_name)):
        words = _words(thing)
        if words and all(_forms(word) & said for word in words):
            return True
    return False
