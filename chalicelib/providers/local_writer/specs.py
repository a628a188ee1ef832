"""Specs with units: measures found in text ("1 litro", "128gb", "talle 42"), numbers as sellers
write them, and conversion into one of a sheet's allowed units."""

from __future__ import annotations

import re

from chalicelib.domain.search import fold
from chalicelib.providers.listing import Fact

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


def find_specs(text: str, source: str, confidence: float) -> list[tuple[str, Fact, tuple[int, int]]]:
    """(spec, fact, span) for every measure in the text: "1 litro", "128gb", "4 GB RAM", "talle 42"."""
    found = []
    for match in SPEC.finditer(text):
        number, written, ram = match.group(1), match.group(2).lower(), match.group(3)
        unit, key = UNIT_WORDS[written]
        if written == "g" and parse_amount(number) < 10:
            continue  # "4g", "5G": mobile networks, not grams
        if key == "storage" and ram:
            key = "ram"
        found.append((key, Fact(number_text(parse_amount(number)), source, unit, confidence), match.span()))
    for match in SIZE.finditer(text):
        found.append(("size", Fact(match.group(1).upper(), source, None, confidence), match.span()))
    return sorted(found, key=lambda item: item[2])


def parse_amount(text: str) -> float:
    """A number as sellers write it: "1,5" and "1.5" are 1.5; "4.500" and "1.299,99" have thousands."""
    marks = [i for i, c in enumerate(text) if c in ".,"]
    if not marks:
        return float(text)
    last = marks[-1]
    if len(text) - last - 1 == 3:
        return float(re.sub(r"[.,]", "", text))  # three digits after the last mark: a thousands mark
    whole = re.sub(r"[.,]", "", text[:last])
    return float(f"{whole}.{text[last + 1 :]}")


def number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.3f}".rstrip("0").rstrip(".")


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
    amount = parse_amount(value) * measure[1] / UNITS[fold(target)][1]
    return f"{number_text(round(amount, 3))} {target}"


def same_measure(a: Fact, b: Fact) -> bool:
    if a.unit is None or b.unit is None:
        return fold(a.value) == fold(b.value)
    return convert(b.value, b.unit, [a.unit]) == f"{a.value} {a.unit}"
