"""The embedded listing writer: OCR, the seller's words and templates, on this machine, no keys.

- read: the prompt is parsed with patterns (product, brand, model, condition, specs with units,
  price, quantity, colour); the packaging is read with rapidocr (PP-OCRv6 on onnxruntime, the models
  shipped inside the wheel), and the brand is chosen from the text's own structure: logo-sized
  words, words seen on several photos, agreement with the prompt, standing alone, not a generic
  packaging word. The prompt guides and corrects: a brand the seller typed wins, OCR confirms it.
- fill_attributes: the facts mapped onto the category's sheet by rules (value names matched without
  case or accents, specs converted into an allowed unit). Nothing the facts do not say.
- write: a template title (brand + model + product + up to 3 key specs) and a plain-text
  description in the site's language.

The prompt and the packaging text are data: they only ever fill patterns, so text that reads like
an instruction matches nothing and changes nothing.

numpy and rapidocr are local extras (`requirements-local.txt`), never Lambda requirements: rapidocr
is imported on first use, and its absence is a LOCAL_OCR_MISSING failure.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from PIL import Image

from chalicelib.domain.search import fold
from chalicelib.domain.sites import currency_of, language_of
from chalicelib.observability import provider_call
from chalicelib.providers.listing import (
    AttributeGuess,
    Copy,
    Fact,
    ListingWriterFailed,
    Photo,
    ProductFacts,
    Usage,
)

INSTALL_HINT = "run `make` to install the local extras"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


OCR_SIDE = 1024  # long side the OCR sees: PP-OCRv6 reads packaging well there, ~0.5 s a photo
MIN_TEXT_SCORE = 0.6  # recogniser confidence below which a line is noise, not packaging text
MIN_BRAND_SCORE = 0.7  # a brand is read from confidently recognised words only
MAX_PACKAGING_LINES = 40
MAX_TITLE_SPECS = 3

# How sure a fact is, by where it came from: the seller's word, confirmed by the packaging, is best.
PROMPT_CONFIRMED = 0.97
PROMPT_STATED = 0.9
PROMPT_GUESSED = 0.8  # a word the prompt's shape suggests (the brand slot), not confirmed by the photos
OCR_SEEN_TWICE = 0.75
OCR_SEEN_ONCE = 0.6

# -- the seller's words ------------------------------------------------------------------------------

# Joins a product phrase to its complement: "leche de avena", "funda para celular".
JOINERS = _words("de del da do das dos para con com sin sem of for with en em")
# Words that carry no name: a brand or model is never one of them.
FUNCTION_WORDS = JOINERS | _words(
    "el la los las lo un una unos unas y e o ou u a al the an and or que se por mi mis"
)
CONDITIONS = {
    **dict.fromkeys(_words("nuevo nueva nuevos nuevas novo nova novos novas"), "new"),
    **dict.fromkeys(_words("usado usada usados usadas"), "used"),
}
# Colour words sellers type, Spanish and Portuguese; matched to a sheet's values by their stem.
COLOURS = _words(
    """
    negro negra blanco blanca rojo roja azul verde amarillo amarilla gris rosa violeta celeste marron
    beige dorado dorada plateado plateada naranja bordo fucsia lila turquesa
    preto preta branco branca vermelho vermelha amarelo amarela cinza roxo roxa marrom dourado dourada
    prateado prateada laranja
    """
)
# Words that describe a product rather than name it: they extend the product phrase, never a brand.
DESCRIPTORS = _words(
    """
    entera entero descremada descremado semidescremada parcialmente integral natural light original
    clasico clasica tradicional organico organica vegetal sin zero extra premium fresco fresca
    desnatado desnatada semidesnatado inteiro inteira classico organic classic whole skimmed fresh
    """
)
# Endings of Spanish and Portuguese adjectives ("inalámbricos", "recargable"): part of the product.
ADJECTIVE_ENDINGS = tuple(
    _words("ico ica icos icas ble bles oso osa osos osas ivo iva ivos ivas ado ada ados adas ido ida idos")
    | _words("ante antes ente entes")
)

# Generic packaging words (Spanish, Portuguese, English, Swedish): what a product is, its flavour or
# a claim; large on a package and never its brand. Swedish compounds end in them ("sommarmjölk").
GENERIC_WORDS = DESCRIPTORS | _words(
    """
    leche jugo zumo bebida bebidas yogur yoghurt yogurt postre queso crema agua cafe avena soja soya
    almendra almendras arroz coco naranja manzana vainilla frutilla fresa durazno limon chocolate
    sabor sabores azucar calcio vitaminas receta contenido neto ingredientes envase litro litros
    producto exprimido nuevo nueva
    leite suco iogurte queijo creme aveia amendoa laranja maca baunilha morango pessego limao acucar
    conteudo liquido embalagem produto novo nova
    milk juice drink drinks cream water coffee oat oats soy almond rice coconut orange apple vanilla
    strawberry raspberry peach banana lemon flavour flavor sugar free added with without the and
    calcium vitamins pressed new recipe net content ingredients plant based not
    mjolk dryck havre havredryck apelsin vanilj jordgubb jordgubbar hallon ekologisk eko farsk farska
    fett mellanmjolk standardmjolk laktosfri berikad naturell socker utan med och svensk svenska
    sverige originalet fruktdryck filmjolk graddfil bra pris jfr
    """
)

CURRENCY_WORDS = {"r$": "BRL", "reais": "BRL", "brl": "BRL", "us$": "USD", "ars": "ARS", "mxn": "MXN"}
NUMBER = r"\d+(?:[.,]\d+)?"
# Unit words as written -> (canonical unit, spec it measures).
UNIT_WORDS = {
    **dict.fromkeys(["ml", "cc"], ("ml", "volume")),
    "cl": ("cl", "volume"),
    **dict.fromkeys(["l", "lt", "lts", "litro", "litros", "liter", "litre"], ("l", "volume")),
    **dict.fromkeys(["kg", "kgs", "kilo", "kilos"], ("kg", "weight")),
    **dict.fromkeys(["g", "gr", "grs", "gramo", "gramos", "gramas"], ("g", "weight")),
    "mg": ("mg", "weight"),
    "gb": ("GB", "storage"),
    "tb": ("TB", "storage"),
    "mb": ("MB", "storage"),
    "mah": ("mAh", "battery"),
    **dict.fromkeys(["w", "watt", "watts"], ("W", "power")),
    "kw": ("kW", "power"),
    "cm": ("cm", "length"),
    "mm": ("mm", "length"),
    **dict.fromkeys(['"', "”", "''", "pulgadas", "pulg", "polegadas"], ('"', "screen")),
}
_UNIT_ALTERNATIVES = "|".join(sorted((re.escape(u) for u in UNIT_WORDS), key=len, reverse=True))
SPEC = re.compile(rf"(?<![\w.,])({NUMBER})\s*({_UNIT_ALTERNATIVES})(?![\w])(\s*(?:de\s+)?ram\b)?", re.I)
SIZE = re.compile(
    rf"\b(?:talle|talla|tamanho|tam\.|numero|número|nro\.?|n°)\s*({NUMBER}|xxxl|xxl|xl|xs|s|m|l)\b", re.I
)
PRICE = re.compile(
    r"(R\$|US\$|\$)\s*(\d[\d.,]*\d|\d)|(\d[\d.,]*\d|\d)\s*(pesos|reais|reales|ars|brl|mxn)\b", re.I
)
QUANTITY = re.compile(
    r"(?<![\w])x\s?(\d{1,3})\b|\b(\d{1,3})\s*(?:unidades|unidade|unidad|unid\.?|uds?\.?|u\.)(?!\w)", re.I
)
TITLE_SPEC_ORDER = ("size", "storage", "ram", "screen", "volume", "weight", "battery", "power", "length")


@dataclass(frozen=True)
class Prompt:
    """What the seller's hint says, before the photos are read."""

    product: list[str]  # the leading noun phrase, as typed
    brand_slot: list[str]  # the words after it that name the product: brand, then model
    facts: ProductFacts


def parse_prompt(prompt: str, site: str) -> Prompt:
    """Patterns only: a word either fills a slot or is ignored."""
    text = " ".join(prompt.split())[:500]
    taken: list[tuple[int, int]] = []
    specs: dict[str, Fact] = {}
    price = _price(text, site, taken)
    quantity = _quantity(text, taken)
    for key, fact, span in find_specs(text, "prompt", PROMPT_STATED):
        taken.append(span)
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
    colour = next((c for c in map(_colour, rest) if c), None)
    slot: list[str] = []
    for word in rest[1:] if rest[:1] == [""] else rest:
        folded = fold(word)
        if not word or folded in FUNCTION_WORDS or folded in CONDITIONS or _colour(word):
            break  # a sentence, or the end of the names: what follows is not a brand or a model
        if slot or word.isalpha():  # a brand is a word: "4g" in "celular 4g motorola" is not one
            slot.append(word)
    brand, model = _brand_and_model(slot, [])
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
    return Prompt(product, slot, facts)


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
        elif folded in DESCRIPTORS or (len(folded) > 4 and folded.endswith(ADJECTIVE_ENDINGS)):
            phrase.append(word)
        else:
            break
        i += 1
    return phrase, words[i:]


def find_specs(text: str, source: str, confidence: float) -> list[tuple[str, Fact, tuple[int, int]]]:
    """(spec, fact, span) for every measure in the text: "1 litro", "128gb", "4 GB RAM", "talle 42"."""
    found = []
    for match in SPEC.finditer(text):
        number, written, ram = match.group(1), match.group(2).lower(), match.group(3)
        unit, key = UNIT_WORDS[written]
        if written == "g" and _amount(number) < 10:
            continue  # "4g", "5G": mobile networks, not grams
        if key == "storage" and ram:
            key = "ram"
        found.append((key, Fact(_number(_amount(number)), source, unit, confidence), match.span()))
    for match in SIZE.finditer(text):
        found.append(("size", Fact(match.group(1).upper(), source, None, confidence), match.span()))
    return sorted(found, key=lambda item: item[2])


def _price(text: str, site: str, taken: list[tuple[int, int]]) -> Fact | None:
    match = PRICE.search(text)
    if match is None:
        return None
    taken.append(match.span())
    symbol, amount = (match.group(1), match.group(2)) if match.group(2) else (match.group(4), match.group(3))
    currency = CURRENCY_WORDS.get(symbol.casefold()) or currency_of(site)
    value = _amount(amount)
    return Fact(_number(value) if value == int(value) else f"{value:.2f}", "prompt", currency, PROMPT_STATED)


def _quantity(text: str, taken: list[tuple[int, int]]) -> Fact | None:
    match = QUANTITY.search(text)
    if match is None or int(match.group(1) or match.group(2)) < 1:
        return None
    taken.append(match.span())
    return Fact(str(int(match.group(1) or match.group(2))), "prompt", None, PROMPT_STATED)


def _amount(text: str) -> float:
    """A number as sellers write it: "1,5" and "1.5" are 1.5; "4.500" and "1.299,99" have thousands."""
    marks = [i for i, c in enumerate(text) if c in ".,"]
    if not marks:
        return float(text)
    last = marks[-1]
    if len(text) - last - 1 == 3:
        return float(re.sub(r"[.,]", "", text))  # three digits after the last mark: a thousands mark
    whole = re.sub(r"[.,]", "", text[:last])
    return float(f"{whole}.{text[last + 1 :]}")


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.3f}".rstrip("0").rstrip(".")


# -- the packaging -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextBox:
    """One line of text the OCR found on a photo."""

    text: str
    score: float  # the recogniser's confidence, 0-1
    height: float  # the text's height as a share of the photo's long side
    image_id: str


@dataclass(frozen=True)
class BrandCandidate:
    name: str  # as printed, calmed: "Bravo" for "BRAVO", "Alpro" for "alpro"
    score: float
    confidence: float
    source: str  # "photo:<image_id>" of its largest appearance
    in_prompt: bool  # the seller typed it too


@dataclass
class _Seen:
    forms: list[str]
    photos: set[str]
    sizes: dict[str, float]  # largest appearance per photo, relative to that photo's largest text
    alone: bool = False  # printed as a line of its own, as logos are
    recognised: float = 0.0  # the recogniser's best confidence in it


def is_generic(word: str) -> bool:
    """A packaging word that names no brand: in the list, a misread of one, or a compound of one."""
    folded = fold(word)
    if folded in GENERIC_WORDS:
        return True
    if any(len(g) >= 4 and folded.endswith(g) for g in GENERIC_WORDS):
        return True  # Swedish compounds: "sommarmjölk", "fruktdryck"
    # OCR misreads, a letter or two off: "Onginalet", "ORIGNAL" (but "mango" is not "morango")
    return len(folded) >= 5 and any(
        len(g) >= 5 and abs(len(g) - len(folded)) <= 1 and _similar(folded, g) >= 0.8 for g in GENERIC_WORDS
    )


def brand_candidates(
    boxes: list[TextBox], brand_slot: Iterable[str] = (), product_words: Iterable[str] = ()
) -> list[BrandCandidate]:
    """Brand candidates on the packaging, best first, each with a 0-1 score and a confidence.

    The score weighs the text's own structure: size relative to the photo's largest text (logos are
    big), the share of photos it appears on, repetition, standing alone on its line, a calm case
    (brands are rarely all capitals, descriptions often are) and the recogniser's confidence.
    A word the seller typed in the brand slot is strong evidence; a word of the product phrase
    ("vainilla" for "Vanilj") names what the product is, not who makes it.
    """
    slot = [fold(w) for w in brand_slot]
    described = [fold(w) for w in product_words if fold(w) not in FUNCTION_WORDS]
    tallest: dict[str, float] = {}
    for box in boxes:
        tallest[box.image_id] = max(tallest.get(box.image_id, 0.0), box.height)
    photos_with_text = max(1, len(tallest))
    seen: dict[str, _Seen] = {}
    for box in boxes:
        if box.score < MIN_BRAND_SCORE:
            continue
        words = [w.strip(".,:;!?¡¿'\"()*®™") for w in box.text.split()]
        for word in words:
            folded = fold(word)
            if not re.fullmatch(r"[a-z]{3,}", folded) or is_generic(word):
                continue
            if any(_similar(folded, d) >= 0.75 for d in described):
                continue
            entry = seen.setdefault(folded, _Seen([], set(), {}))
            entry.forms.append(word)
            entry.photos.add(box.image_id)
            size = box.height / tallest[box.image_id]
            entry.sizes[box.image_id] = max(entry.sizes.get(box.image_id, 0.0), size)
            entry.alone = entry.alone or len(words) == 1
            entry.recognised = max(entry.recognised, box.score)
    scored = []
    for key, entry in _merge_misreads(seen).items():
        form = max(entry.forms, key=lambda f: (entry.forms.count(f), not f.isupper(), len(f)))
        score = (
            0.4 * max(entry.sizes.values())
            + 0.25 * len(entry.photos) / photos_with_text
            + 0.1 * min(len(entry.forms), 3) / 3
            + 0.1 * entry.alone
            + 0.05 * (not form.isupper())
            + 0.1 * entry.recognised
        )
        in_prompt = any(_similar(key, s) >= 0.8 for s in slot)
        largest = max(entry.sizes, key=lambda image_id: entry.sizes[image_id])
        scored.append((in_prompt, round(score, 3), _calm(form), f"photo:{largest}", len(entry.photos)))
    scored.sort(reverse=True)
    candidates = []
    for rank, (in_prompt, score, name, source, photos) in enumerate(scored):
        # OCR alone is never sure: capped by how often it was seen, lowered when a rival scores close.
        rival = max((s for i, (_, s, *_) in enumerate(scored) if i != rank), default=0.0)
        margin = max(0.0, score - rival) / score if score else 0.0
        ceiling = OCR_SEEN_TWICE if photos > 1 else OCR_SEEN_ONCE
        confidence = PROMPT_CONFIRMED if in_prompt else round(ceiling * score * (0.6 + 0.4 * margin), 2)
        candidates.append(BrandCandidate(name, score, confidence, source, in_prompt))
    return candidates


def _merge_misreads(seen: dict[str, _Seen]) -> dict[str, _Seen]:
    """One entry per word however the OCR cut or misread it: "alio" and "Valio", "BRAVOBRA" and "BRAVO"."""
    merged: dict[str, _Seen] = {}
    for key in sorted(seen, key=lambda k: (len(seen[k].forms), len(k)), reverse=True):
        entry = seen[key]
        home = next((k for k in merged if _same_word(k, key)), None)
        if home is None:
            merged[key] = _Seen(
                list(entry.forms), set(entry.photos), dict(entry.sizes), entry.alone, entry.recognised
            )
            continue
        target = merged[home]
        target.photos |= entry.photos
        for image_id, size in entry.sizes.items():
            target.sizes[image_id] = max(target.sizes.get(image_id, 0.0), size)
        target.alone = target.alone or entry.alone
        target.recognised = max(target.recognised, entry.recognised)
        target.forms += [merged[home].forms[0]] * len(entry.forms)  # counts as the stronger spelling
    return merged


def _same_word(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    if len(short) >= 4 and short in long and len(short) / len(long) >= 0.5:
        return True  # cut or run together: "alio" in "valio", "bravo" in "bravobravo"
    if len(short) >= 3 and long.startswith(short) and len(short) / len(long) >= 0.5:
        return True  # cut at the photo's edge: "alp" for "alpro"
    return _similar(a, b) >= 0.8


def _similar(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def _calm(word: str) -> str:
    """A brand as sellers write it: "BRAVO" and "alpro" capitalised, "ProViva" kept."""
    if word.isupper() or word.islower():
        return word.capitalize()
    return word


def read_facts(prompt: Prompt, boxes: list[TextBox]) -> ProductFacts:
    """The prompt's facts, completed and confirmed by the packaging text."""
    facts = prompt.facts
    candidates = brand_candidates(boxes, prompt.brand_slot, prompt.product)
    brand, model = _brand_and_model(prompt.brand_slot, candidates)
    specs = dict(facts.specs)
    for box in boxes:
        if box.score < MIN_TEXT_SCORE:
            continue
        for key, fact, _ in find_specs(box.text, f"photo:{box.image_id}", OCR_SEEN_ONCE):
            stated = specs.get(key)
            if stated is None:
                specs[key] = fact
            elif stated.source == "prompt" and _same_measure(stated, fact):
                specs[key] = replace(stated, confidence=PROMPT_CONFIRMED)
    return replace(facts, brand=brand, model=model, specs=specs, packaging_text=packaging_text(boxes))


def _brand_and_model(
    brand_slot: list[str], candidates: list[BrandCandidate]
) -> tuple[Fact | None, Fact | None]:
    """The brand the seller typed (confirmed when the packaging shows it too), else the packaging's."""
    confirmed = next((c for c in candidates if c.in_prompt), None)
    if confirmed is not None:
        at = next((i for i, w in enumerate(brand_slot) if _similar(fold(w), fold(confirmed.name)) >= 0.8), 0)
        brand = Fact(_calm(brand_slot[at]), "prompt", confidence=PROMPT_CONFIRMED)
        model_words = brand_slot[at + 1 :]
    elif brand_slot:
        brand = Fact(_calm(brand_slot[0]), "prompt", confidence=PROMPT_GUESSED)
        model_words = brand_slot[1:]
    elif candidates:
        best = candidates[0]
        brand = Fact(best.name, best.source, confidence=best.confidence)
        model_words = []
    else:
        return None, None
    model = (
        Fact(" ".join(map(_title_word, model_words)), "prompt", confidence=PROMPT_GUESSED)
        if model_words
        else None
    )
    return brand, model


def packaging_text(boxes: list[TextBox]) -> list[str]:
    """The readable lines, in reading order (photo by photo, top to bottom), each once."""
    lines: list[str] = []
    seen: set[str] = set()
    for box in boxes:
        line = " ".join(box.text.split())
        key = fold(line)
        if box.score < MIN_TEXT_SCORE or sum(c.isalnum() for c in line) < 2 or key in seen:
            continue
        seen.add(key)
        lines.append(line)
        if len(lines) == MAX_PACKAGING_LINES:
            break
    return lines


# -- units -------------------------------------------------------------------------------------------

# Folded unit -> (what it measures, size in that measure's base unit).
UNITS: dict[str, tuple[str, float]] = {
    "ml": ("volume", 1),
    "cc": ("volume", 1),
    "cl": ("volume", 10),
    "l": ("volume", 1000),
    "mcg": ("mass", 1e-6),
    "mg": ("mass", 1e-3),
    "g": ("mass", 1),
    "kg": ("mass", 1000),
    "oz": ("mass", 28.349523125),
    "lb": ("mass", 453.59237),
    "kb": ("data", 1e-6),
    "mb": ("data", 1e-3),
    "gb": ("data", 1),
    "tb": ("data", 1000),  # decimal, as storage is sold
    "mah": ("charge", 1),
    "ah": ("charge", 1000),
    "w": ("power", 1),
    "kw": ("power", 1000),
    "mm": ("length", 0.1),
    "cm": ("length", 1),
    "m": ("length", 100),
    "in": ("length", 2.54),
    '"': ("length", 2.54),
    "pulgadas": ("length", 2.54),
}
# Spec -> (what it measures, words one of which the attribute id must have, words it must not have).
SPEC_ATTRIBUTES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "volume": ("volume", (), ("PACKAGE",)),
    "weight": ("mass", (), ("PACKAGE",)),
    "storage": ("data", (), ("RAM", "VIDEO", "CARD", "MAXIMUM")),
    "ram": ("data", ("RAM",), ("MAXIMUM",)),
    "battery": ("charge", (), ()),
    "power": ("power", (), ()),
    "screen": ("length", ("DISPLAY", "SCREEN"), ()),
    "length": ("length", ("LENGTH",), ("PACKAGE",)),
}


def convert(value: str, unit: str, allowed: list[str], default: str | None = None) -> str | None:
    """ "1" l into one of the allowed units ("1000 ml" when only ml is allowed), or None if none fits."""
    measure = UNITS.get(fold(unit))
    if measure is None:
        return None
    fitting = [u for u in allowed if UNITS.get(fold(u), ("", 0))[0] == measure[0]]
    if not fitting:
        return None
    same = next((u for u in fitting if fold(u) == fold(unit)), None)
    target = same or next((u for u in fitting if default and fold(u) == fold(default)), fitting[0])
    amount = _amount(value) * measure[1] / UNITS[fold(target)][1]
    return f"{_number(round(amount, 3))} {target}"


def _same_measure(a: Fact, b: Fact) -> bool:
    if a.unit is None or b.unit is None:
        return fold(a.value) == fold(b.value)
    return convert(b.value, b.unit, [a.unit]) == f"{a.value} {a.unit}"


# -- the category's sheet ----------------------------------------------------------------------------

YES = frozenset({"si", "sim", "yes"})
NO = frozenset({"no", "nao"})
NEGATIONS = frozenset({"sin", "sem", "without", "no", "nao"})
CONDITION_NAMES = {"new": {"nuevo", "novo", "new"}, "used": {"usado", "used"}}
SIZE_NAMES = frozenset({"talle", "talla", "tamanho", "tamano", "size"})


def fill(facts: ProductFacts, attributes: list[dict[str, Any]]) -> list[AttributeGuess]:
    """Values for the sheet from the facts alone; an attribute they say nothing about is left out."""
    guesses: list[AttributeGuess] = []
    used_specs: set[str] = set()
    for attribute in attributes:
        tags = attribute.get("tags") or {}
        if tags.get("read_only") or tags.get("fixed"):
            continue  # MercadoLibre sets these itself
        guess = _guess(facts, attribute, used_specs)
        if guess is not None:
            guesses.append(guess)
    return guesses


def _guess(facts: ProductFacts, attribute: dict[str, Any], used_specs: set[str]) -> AttributeGuess | None:
    attribute_id = str(attribute["id"])
    kind = attribute.get("value_type")
    if attribute_id == "BRAND":
        return _named(attribute, facts.brand)
    if attribute_id == "MODEL":
        return _named(attribute, facts.model)
    if attribute_id == "LINE":
        return _line(attribute, facts.model)
    if attribute_id in ("COLOR", "MAIN_COLOR"):
        return _named(attribute, facts.colour, by_stem=True)
    if attribute_id == "ITEM_CONDITION" and facts.condition is not None:
        names = CONDITION_NAMES.get(facts.condition.value, set())
        value = next((v for v in attribute.get("values") or [] if fold(str(v["name"])) in names), None)
        return _chosen(attribute_id, value, facts.condition) if value else None
    if kind == "boolean":
        return _stated_feature(facts, attribute)
    if kind == "number_unit":
        return _measure(facts, attribute, used_specs)
    size = facts.specs.get("size")
    if size is not None and (attribute_id == "SIZE" or fold(str(attribute.get("name", ""))) in SIZE_NAMES):
        return _named(attribute, size)
    return None


def _named(attribute: dict[str, Any], fact: Fact | None, by_stem: bool = False) -> AttributeGuess | None:
    """A text fact as one of the sheet's values when it is one, else as free text if the sheet allows."""
    if fact is None or not fact.value:
        return None
    values = attribute.get("values") or []
    key = _stem(fact.value) if by_stem else fold(fact.value)
    value = next((v for v in values if (_stem(v["name"]) if by_stem else fold(str(v["name"]))) == key), None)
    if value is not None:
        return _chosen(str(attribute["id"]), value, fact)
    if attribute.get("value_type") == "list":
        return None  # a list takes only its own values
    return AttributeGuess(str(attribute["id"]), None, fact.value, fact.source, fact.confidence)


def _line(attribute: dict[str, Any], model: Fact | None) -> AttributeGuess | None:
    """The product line: a listed line the model starts with, else the model's leading word ("Galaxy")."""
    if model is None:
        return None
    folded = fold(model.value)
    listed = [v for v in attribute.get("values") or [] if folded.startswith(fold(str(v["name"])) + " ")]
    if listed:
        return _chosen(str(attribute["id"]), max(listed, key=lambda v: len(str(v["name"]))), model)
    words = model.value.split()
    if len(words) < 2 or not words[0].isalpha() or attribute.get("value_type") == "list":
        return None
    return AttributeGuess(
        str(attribute["id"]), None, words[0].capitalize(), model.source, model.confidence * 0.6
    )


def _stem(name: Any) -> str:
    """Colour names without gender or number: "Negra" and "negro" are one colour."""
    return " ".join(word.rstrip("s").rstrip("ao") or word for word in fold(str(name)).split())


def _chosen(attribute_id: str, value: dict[str, Any], fact: Fact) -> AttributeGuess:
    return AttributeGuess(attribute_id, str(value["id"]), str(value["name"]), fact.source, fact.confidence)


def _measure(facts: ProductFacts, attribute: dict[str, Any], used_specs: set[str]) -> AttributeGuess | None:
    words = set(str(attribute["id"]).split("_"))
    allowed = [str(u.get("name") or u.get("id")) for u in attribute.get("allowed_units") or []]
    for spec, (measure, needs, refuses) in SPEC_ATTRIBUTES.items():
        fact = facts.specs.get(spec)
        if fact is None or fact.unit is None or spec in used_specs:
            continue
        if (needs and not words & set(needs)) or words & set(refuses):
            continue
        if not any(UNITS.get(fold(u), ("", 0))[0] == measure for u in allowed):
            continue
        value = convert(fact.value, fact.unit, allowed, attribute.get("default_unit"))
        if value is not None:
            used_specs.add(spec)
            return AttributeGuess(str(attribute["id"]), None, value, fact.source, fact.confidence)
    return None


def _stated_feature(facts: ProductFacts, attribute: dict[str, Any]) -> AttributeGuess | None:
    """Yes or no only when the seller or the package says it: "dual sim", "sin bluetooth"."""
    name = fold(str(attribute.get("name", "")))
    feature = re.sub(r"^(?:con|com|es|e|tiene|tem|with|is|has)\s+", "", name)
    if len(feature) < 3:
        return None
    said = [(fact.value, fact.source, fact.confidence) for fact in (facts.product, facts.model) if fact]
    said += [(line, "packaging", OCR_SEEN_ONCE) for line in facts.packaging_text]
    for text, source, confidence in said:
        match = re.search(rf"(?:(\w+)\s+)?{re.escape(feature)}(?!\w)", fold(text))
        if match is None:
            continue
        wanted = NO if match.group(1) in NEGATIONS else YES
        value = next((v for v in attribute.get("values") or [] if fold(str(v["name"])) in wanted), None)
        if value is not None:
            return AttributeGuess(
                str(attribute["id"]), str(value["id"]), str(value["name"]), source, confidence
            )
    return None


# -- the copy ----------------------------------------------------------------------------------------

WORDING = {
    "es": {
        "of_brand": "de la marca",
        "model": "modelo",
        "features": "Características principales",
        "box": "Qué incluye",
        "details": "Detalles técnicos",
        "units": ("unidad", "unidades"),
        "colour": "Color",
        "condition": "Condición",
        "new": "Nuevo",
        "used": "Usado",
        "volume": "Volumen",
        "weight": "Peso",
        "storage": "Almacenamiento",
        "ram": "Memoria RAM",
        "battery": "Batería",
        "power": "Potencia",
        "screen": "Pantalla",
        "length": "Largo",
        "size": "Talle",
        "BRAND": "Marca",
        "MODEL": "Modelo",
        "LINE": "Línea",
        "COLOR": "Color",
        "MAIN_COLOR": "Color principal",
        "ITEM_CONDITION": "Condición del ítem",
    },
    "pt": {
        "of_brand": "da marca",
        "model": "modelo",
        "features": "Características principais",
        "box": "O que está incluído",
        "details": "Detalhes técnicos",
        "units": ("unidade", "unidades"),
        "colour": "Cor",
        "condition": "Condição",
        "new": "Novo",
        "used": "Usado",
        "volume": "Volume",
        "weight": "Peso",
        "storage": "Armazenamento",
        "ram": "Memória RAM",
        "battery": "Bateria",
        "power": "Potência",
        "screen": "Tela",
        "length": "Comprimento",
        "size": "Tamanho",
        "BRAND": "Marca",
        "MODEL": "Modelo",
        "LINE": "Linha",
        "COLOR": "Cor",
        "MAIN_COLOR": "Cor principal",
        "ITEM_CONDITION": "Condição do item",
    },
}
PROMO_WORDS = _words("envio envios gratis frete oferta ofertas promo promocion promocao descuento desconto")


def compose_title(facts: ProductFacts, category_name: str, site: str, title_limit: int) -> str:
    """Brand + model + product + up to 3 key specs, Title Case, within the limit, never a word cut.

    Over the limit, specs go first (the least important last), then model words from the end.
    """
    brand = _title_words(facts.brand)
    model = _title_words(facts.model)
    named = {fold(w) for w in brand + model}
    product = [w for w in _title_words(facts.product) if fold(w) not in named]
    if not (brand or model or product):
        product = [_title_word(w) for w in category_name.split()]
    specs = [_spec_text(key, facts.specs[key], site) for key in TITLE_SPEC_ORDER if key in facts.specs]
    specs = specs[:MAX_TITLE_SPECS]
    while True:
        title = " ".join(brand + model + product + specs)
        if len(title) <= title_limit:
            return title
        if specs:
            specs.pop()
        elif model:
            model.pop()
        elif len(product) > 1:
            product.pop()
        elif brand and product:
            brand = []
        else:
            kept: list[str] = []
            for word in title.split():
                if len(" ".join([*kept, word])) > title_limit:
                    break
                kept.append(word)
            return " ".join(kept)


def _title_words(fact: Fact | None) -> list[str]:
    if fact is None:
        return []
    words = [w for w in fact.value.split() if fold(w) not in CONDITIONS and fold(w) not in PROMO_WORDS]
    return [_title_word(w) for w in words]


def _title_word(word: str) -> str:
    if any(c.isdigit() for c in word):
        return word.upper()  # model codes: "A54", "5G"
    if word[1:] != word[1:].lower() and word[1:] != word[1:].upper():
        return word  # written that way on purpose: "ProViva", "iPhone"
    return word.capitalize()


def _spec_text(key: str, fact: Fact, site: str) -> str:
    value = fact.value.replace(".", ",")  # decimal comma in Spanish and Portuguese copy
    if key == "size":
        return f"{WORDING[language_of(site)]['size']} {value}"
    unit = "L" if fact.unit == "l" else fact.unit or ""
    return f"{value}{unit}" if unit == '"' else f"{value} {unit}".strip()


def compose_description(
    facts: ProductFacts,
    category_name: str,
    attributes: list[AttributeGuess],
    names: dict[str, str],
    site: str,
) -> str:
    """Plain-text sections: what it is, key features, what is included (when known), technical details."""
    words = WORDING[language_of(site)]
    product = facts.product.value if facts.product else category_name
    opening = product
    if facts.brand:
        opening += f" {words['of_brand']} {facts.brand.value}"
    if facts.model:
        opening += f", {words['model']} {facts.model.value}"
    sections = [f"{opening}."]
    features = [
        f"- {words[key]}: {_spec_text(key, facts.specs[key], site)}"
        for key in TITLE_SPEC_ORDER
        if key in facts.specs and key != "size"
    ]
    if "size" in facts.specs:
        features.append(f"- {_spec_text('size', facts.specs['size'], site).replace(' ', ': ', 1)}")
    if facts.colour:
        features.append(f"- {words['colour']}: {facts.colour.value}")
    if facts.condition:
        features.append(f"- {words['condition']}: {words[facts.condition.value]}")
    if features:
        sections.append("\n".join([f"{words['features']}:", *features]))
    if facts.quantity:
        count = int(facts.quantity.value)
        sections.append(f"{words['box']}:\n- {count} {words['units'][count != 1]}")
    details = [
        f"{names.get(guess.id) or words.get(guess.id)}: {guess.value_name}"
        for guess in attributes
        if guess.value_name and (names.get(guess.id) or guess.id in words)
    ]
    if details:
        sections.append("\n".join([f"{words['details']}:", *details]))
    return "\n\n".join(sections)


# -- the writer --------------------------------------------------------------------------------------


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
        if photos:
            engine, version = _engine()
            model = f"rapidocr-{version}+rules"
            # The main photo first: its cut-out is the product alone, without the shelf around it.
            for photo in sorted(photos, key=lambda p: not p.is_main):
                boxes += read_text(engine, photo)
        facts = read_facts(parsed, boxes)
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
        copy = Copy(
            title=compose_title(facts, category_name, site, title_limit),
            description=compose_description(facts, category_name, attributes, self._attribute_names, site),
        )
        return copy, _usage("rules", started)


def _usage(model: str, started: float) -> Usage:
    return Usage("local", model, milliseconds=(time.perf_counter() - started) * 1000)


# -- OCR ---------------------------------------------------------------------------------------------


def read_text(engine: Any, photo: Photo) -> list[TextBox]:
    """The text lines on a photo (its cut-out when there is one), in rapidocr's reading order."""
    import numpy as np

    image = photo.product_only or photo.image
    if image.mode in ("RGBA", "LA", "P"):
        white = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(white, image.convert("RGBA"))
    image = image.convert("RGB")
    if max(image.size) > OCR_SIDE:
        image = image.copy()
        image.thumbnail((OCR_SIDE, OCR_SIDE), Image.Resampling.LANCZOS)
    result = engine(np.asarray(image))
    if result.boxes is None:
        return []
    side = float(max(image.size))
    boxes = []
    for corners, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
        top, left = np.linalg.norm(corners[1] - corners[0]), np.linalg.norm(corners[3] - corners[0])
        # The shorter side is the text's height, for vertical text too.
        boxes.append(TextBox(str(text), float(score), float(min(top, left)) / side, photo.image_id))
    return boxes


def _missing(what: str) -> ListingWriterFailed:
    return ListingWriterFailed(
        "LOCAL_OCR_MISSING", f"The local listing writer cannot read photos ({what}); {INSTALL_HINT}.", False
    )


def _engine() -> tuple[Any, str]:
    try:
        import numpy  # noqa: F401  (imported here so its absence has a clear message)
        import rapidocr
    except ImportError as error:
        raise _missing(f"{error.name or 'rapidocr'} is not installed") from error
    return _cached_engine(str(Path(rapidocr.__file__).parent / "models"))


@lru_cache(maxsize=1)
def _cached_engine(models: str) -> tuple[Any, str]:
    """One engine per process: its ONNX sessions load on first use (~0.5 s) and stay."""
    from rapidocr import RapidOCR

    # The wheel ships PP-OCRv6 detection and recognition; naming the files means rapidocr never
    # goes looking for weights to download.
    paths = {task: Path(models) / name for task, name in BUNDLED_MODELS.items()}
    absent = [str(path) for path in paths.values() if not path.is_file()]
    if absent:
        raise _missing(f"the rapidocr wheel's models are absent: {', '.join(absent)}")
    engine = RapidOCR(
        params={
            "Global.log_level": "error",
            # The text-direction classifier only turns lines upside down; products are held upright,
            # and on these photos it flipped more right lines than wrong ones.
            "Global.use_cls": False,
            "Det.model_path": str(paths["Det"]),
            "Rec.model_path": str(paths["Rec"]),
            # Small thread pools, as the background remover's: several photos may be read side by side.
            "EngineConfig.onnxruntime.intra_op_num_threads": 2,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )
    return engine, metadata.version("rapidocr")


BUNDLED_MODELS = {"Det": "PP-OCRv6_det_small.onnx", "Rec": "PP-OCRv6_rec_small.onnx"}
