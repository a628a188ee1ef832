"""What a food's package or the seller says besides its measure: the flavour, units per pack, and
claims (organic, gluten-free, lactose-free, sugar-free), each a fact with its source, in `specs`
beside the measures. Only what is said: no claim is ever inferred from a product's kind."""

from __future__ import annotations

import re

from chalicelib.domain.search import fold
from chalicelib.providers.listing import Fact
from chalicelib.providers.local_writer.words import word_set

# Claims as sellers and packages write them (Spanish, Portuguese, English, Swedish), folded.
CLAIMS = {
    "organic": r"organic[oa]s?|organic|ekologisk|organico",
    "gluten_free": r"(?:sin|sem|libre de|livre de)\s+gluten|gluten[\s-]?free|glutenfri",
    "lactose_free": r"(?:sin|sem|libre de|livre de)\s+lactos[ae]|deslactosad[oa]|lactose[\s-]?free|laktosfri",
    "sugar_free": r"(?:sin|sem)\s+a[cz]ucar(?:es)?|sugar[\s-]?free|utan\s+socker",
}
_CLAIM = {key: re.compile(rf"(?<!\w)(?:{pattern})(?!\w)") for key, pattern in CLAIMS.items()}
# "pack x 6", "caja de 12", "6 unidades por pack": how many units one pack holds (not how many packs).
UNITS_PER_PACK = re.compile(
    r"\b(?:pack|caja|paquete|fardo|bandeja|kit)\s*(?:x|de|por|com|c/)\s*(\d{1,3})\b"
    r"|\b(\d{1,3})\s*(?:unidades|unidad|unid|u)\.?\s*(?:por|x|p/)\s*(?:pack|caja|paquete|fardo)\b",
    re.I,
)
# Flavours a product's name carries after "de" or "sabor": "yogur de vainilla", "jugo sabor naranja".
FLAVOURS = word_set(
    """
    vainilla frutilla fresa chocolate naranja manzana durazno limon coco pomelo mandarina arandanos
    anana pina mango banana cereza frambuesa menta cafe dulce
    baunilha morango laranja maca pessego limao abacaxi cereja framboesa
    """
)


def find_claims(text: str, source: str, confidence: float) -> list[tuple[str, Fact]]:
    """(claim, fact) for every claim the text makes, and the units per pack it states."""
    folded = fold(text)
    found = [
        (key, Fact("yes", source, confidence=confidence)) for key, rx in _CLAIM.items() if rx.search(folded)
    ]
    pack = UNITS_PER_PACK.search(text)
    if pack is not None and int(pack.group(1) or pack.group(2)) > 1:
        found.append(
            ("units_per_pack", Fact(str(int(pack.group(1) or pack.group(2))), source, confidence=confidence))
        )
    return found


def units_per_pack_span(text: str) -> tuple[int, int] | None:
    """Where the text says the units per pack: those words are not the quantity offered."""
    pack = UNITS_PER_PACK.search(text)
    return pack.span() if pack is not None else None


def flavour(product: list[str], confidence: float) -> Fact | None:
    """The flavour the product's name carries: the flavour word after "de"/"sabor" ("yogur de
    vainilla"), not the first word ("naranja" alone is the fruit, not a flavour)."""
    folded = [fold(word) for word in product]
    for i, word in enumerate(folded[1:], start=1):
        if word in FLAVOURS and folded[i - 1] in ("de", "sabor", "sabores", "com", "con"):
            return Fact(product[i].capitalize(), "prompt", confidence=confidence)
    return None
