"""fill_attributes: the facts mapped onto the category's sheet by rules (value names matched without
case or accents, specs converted into an allowed unit). Nothing the facts do not say."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.domain.evidence import READ_ON_ONE_PHOTO
from chalicelib.domain.search import fold
from chalicelib.providers.listing import AttributeGuess, Fact, ProductFacts
from chalicelib.providers.local_writer.specs import UNITS, convert

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

YES = frozenset({"si", "sim", "yes"})
NO = frozenset({"no", "nao"})
NEGATIONS = frozenset({"sin", "sem", "without", "no", "nao"})
CONDITION_NAMES = {"new": {"nuevo", "novo", "new"}, "used": {"usado", "used"}}
SIZE_NAMES = frozenset({"talle", "talla", "tamanho", "tamano", "size"})
FLAVOUR_NAMES = frozenset({"sabor", "sabores", "flavor", "flavour"})
PACK_NAMES = frozenset({"unidades por pack", "unidades por kit", "unidades por pacote", "units per pack"})
# A yes/no attribute about a claim, told by a word of its name ("Es libre de gluten", "É orgânico").
CLAIM_NAME_WORDS = {
    "organic": ("organic",),
    "gluten_free": ("gluten",),
    "lactose_free": ("lactos",),
    "sugar_free": ("azucar", "acucar", "sugar"),
}


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
    name = fold(str(attribute.get("name", "")))
    if attribute_id == "FLAVOR" or name in FLAVOUR_NAMES:
        return _named(attribute, facts.specs.get("flavour"))
    pack = facts.specs.get("units_per_pack")
    if pack is not None and (attribute_id == "UNITS_PER_PACK" or name in PACK_NAMES) and kind == "number":
        return AttributeGuess(attribute_id, None, pack.value, pack.source, pack.confidence)
    if kind == "boolean":
        return _claimed(facts, attribute) or _stated_feature(facts, attribute)
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


def _claimed(facts: ProductFacts, attribute: dict[str, Any]) -> AttributeGuess | None:
    """Yes for a claim the seller or the package makes ("sin gluten"); nothing when none is made."""
    name = fold(str(attribute.get("name", "")))
    for claim, words in CLAIM_NAME_WORDS.items():
        fact = facts.specs.get(claim)
        if fact is None or not any(word in name for word in words):
            continue
        value = next((v for v in attribute.get("values") or [] if fold(str(v["name"])) in YES), None)
        if value is not None:
            return _chosen(str(attribute["id"]), value, fact)
    return None


def _stated_feature(facts: ProductFacts, attribute: dict[str, Any]) -> AttributeGuess | None:
    """Yes or no only when the seller or the package says it: "dual sim", "sin bluetooth"."""
    name = fold(str(attribute.get("name", "")))
    feature = re.sub(r"^(?:con|com|es|e|tiene|tem|with|is|has)\s+", "", name)
    if len(feature) < 3:
        return None
    said = [(fact.value, fact.source, fact.confidence) for fact in (facts.product, facts.model) if fact]
    said += [(line, "packaging", READ_ON_ONE_PHOTO) for line in facts.packaging_text]
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
