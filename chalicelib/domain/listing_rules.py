"""The rules a MercadoLibre listing follows, whoever wrote it (the generator or the seller).

Title: brand + model + product + 1-3 key specs, within the category's limit, no condition, price,
shipping or promotional words, no shouting. Description: plain text only (MercadoLibre takes no
HTML), no links, contact details or prices. Attributes: values of the right type, from the allowed
list, with an allowed unit. Confidence: a 0-1 score with the parts a seller can act on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from chalicelib.domain.search import fold

DEFAULT_TITLE_LIMIT = 60

# Words MercadoLibre's listing practice keeps out of titles (condition, price, shipping, promotion).
BANNED_TITLE_WORDS = {
    "nuevo",
    "nueva",
    "nuevos",
    "nuevas",
    "usado",
    "usada",
    "novo",
    "nova",
    "oferta",
    "ofertas",
    "promo",
    "promocion",
    "promocao",
    "descuento",
    "desconto",
    "liquidacion",
    "envio",
    "envios",
    "gratis",
    "frete",
    "precio",
    "preco",
    "cuotas",
    "sale",
    "off",
    "barato",
    "barata",
    "imperdible",
    "oportunidad",
}
# Every pattern here runs in time linear in the text (tests/unit/test_text_rules_linear.py): a number
# is only tried from the start of its run of digits and separators, an e-mail from the start of its
# word (the lookbehinds), so a long run of "1," is read once, not once per digit. No possessive
# quantifiers: the panel runs the same patterns in JavaScript (web/src/lib/api/listing_rules.json).
PRICE = re.compile(
    r"(?:R\$|US\$|\$)\s*\d[\d.,]*"
    r"|(?<![\d.,])[.,]?\d[\d.,]*\s*(?:pesos|reais|ars|brl)\b"
    r"|\b\d{1,3}\s*%\s*off\b",
    re.I,
)
URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
EMAIL = re.compile(r"(?<![\w.+-])[.+-]*\w[\w.+-]*@[\w-]+\.[\w.]+\b")
PHONE = re.compile(r"(?:\+?\d[\d\s().-]{7,}\d)")
TAG = re.compile(r"<[^>]{1,200}>")
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([^\d\s].*)?$")


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    message: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)


# -- title -------------------------------------------------------------------------------------------


def _is_shouting(words: list[str]) -> bool:
    letters = [w for w in words if sum(c.isalpha() for c in w) > 3]
    return bool(letters) and sum(w.isupper() for w in letters) / len(letters) > 0.5


# Units as Spanish and Portuguese copy writes them, whatever case they came in.
UNITS = {
    unit.lower(): unit
    for unit in ("g", "kg", "mg", "L", "ml", "cc", "cm", "mm", "m", "GB", "TB", "MB", "W", "V", "mAh", "Hz")
}


def _is_code(word: str) -> bool:
    """A model code or a number with its unit ("A54", "510bt", "128GB"): written as it came."""
    return any(c.isdigit() for c in word)


def _is_title_case(words: list[str], names: Iterable[str]) -> bool:
    """Every common word capitalised ("Leche De Avena"): English habit, not Spanish or Portuguese."""
    named = {fold(word) for name in names for word in name.split()}
    common = [
        w
        for w in words
        if sum(c.isalpha() for c in w) > 1 and not _is_code(w) and not w.isupper() and fold(w) not in named
    ]
    return len(common) >= 2 and all(w[:1].isupper() for w in common)


def sentence_case(words: list[str], names: Iterable[str] = ()) -> list[str]:
    """Words as a Spanish or Portuguese title writes them: the first capitalised, brands and models
    (`names`) as they are spelled, codes as written, units as units, everything else in lower case.
    Short capitals ("TV", "USB") are kept unless the whole title shouts."""
    spelled = {fold(word): word for name in names for word in name.split()}
    shouting = _is_shouting(words)
    out: list[str] = []
    for word in words:
        key = fold(word)
        if key in spelled:
            out.append(spelled[key])
        elif _is_code(word) or (word.isupper() and len(word) <= 3 and not shouting and key not in UNITS):
            out.append(word)
        else:
            out.append(UNITS.get(key, word.lower()))
    if out and fold(words[0]) not in spelled and not _is_code(out[0]):
        out[0] = out[0][:1].upper() + out[0][1:]
    return out


def tidy_title(title: str, limit: int = DEFAULT_TITLE_LIMIT, names: Iterable[str] = ()) -> str:
    """The generator's title made to follow the rules: banned words out, no shouting and no Title Case
    (brands and models in `names` keep their spelling), within the limit."""
    title = PRICE.sub(" ", title)
    words = [w for w in re.split(r"\s+", title.replace("|", " ").strip()) if w]
    words = [w for w in words if fold(w.strip(".,;:!-")) not in BANNED_TITLE_WORDS and w not in {"-", "!"}]
    words = [w.strip("!") for w in words if w.strip("!")]
    if _is_shouting(words) or _is_title_case(words, names):
        words = sentence_case(words, names)
    kept: list[str] = []
    for word in words:
        if len(" ".join([*kept, word])) > limit:
            break  # never a word cut in half
        kept.append(word)
    return " ".join(kept).strip(" -,.;:")


def title_problems(title: str, limit: int = DEFAULT_TITLE_LIMIT) -> list[Problem]:
    """Why a seller's title cannot be published as it is (empty when it can)."""
    problems = []
    stripped = title.strip()
    if not stripped:
        problems.append(Problem("title", "TITLE_EMPTY", "the title is empty"))
    if len(stripped) > limit:
        problems.append(
            Problem(
                "title",
                "TITLE_TOO_LONG",
                f"the title has {len(stripped)} characters; this category allows {limit}",
                {"limit": limit, "actual": len(stripped)},
            )
        )
    banned = sorted({w for w in re.findall(r"[\w$%]+", stripped) if fold(w) in BANNED_TITLE_WORDS})
    if banned or PRICE.search(stripped):
        problems.append(
            Problem(
                "title",
                "TITLE_FORBIDDEN_WORDS",
                "titles cannot mention condition, price, shipping or offers: "
                + ", ".join(banned or ["price"]),
                {"words": ", ".join(banned)},
            )
        )
    if _is_shouting(stripped.split()):
        problems.append(Problem("title", "TITLE_ALL_CAPS", "write the title in normal case, not in capitals"))
    return problems


# -- description -------------------------------------------------------------------------------------


def tidy_description(text: str) -> str:
    """Plain text only: no HTML, links, e-mails, phone numbers or prices; tidy blank lines."""
    # Until nothing changes: removing one piece (a tag, a bracket, a link) can join its neighbours
    # into another.
    previous = None
    while previous != text:
        previous = text
        text = TAG.sub("", text)
        text = text.replace("<", "").replace(">", "")  # plain text needs no angle brackets
        for pattern in (URL, EMAIL, PRICE, PHONE):
            text = pattern.sub("", text)
        lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.replace("\r", "").split("\n")]
        tidy: list[str] = []
        for line in lines:
            if line or (tidy and tidy[-1]):
                tidy.append(line)
        text = "\n".join(tidy).strip()
    return text[:50_000]


def description_problems(text: str) -> list[Problem]:
    problems = []
    if not text.strip():
        problems.append(Problem("description", "DESCRIPTION_EMPTY", "the description is empty"))
    if TAG.search(text):
        problems.append(
            Problem("description", "DESCRIPTION_HTML", "MercadoLibre takes plain text only, no HTML")
        )
    if URL.search(text) or EMAIL.search(text) or PHONE.search(text):
        problems.append(
            Problem("description", "DESCRIPTION_CONTACT", "links, e-mails and phone numbers are not allowed")
        )
    if PRICE.search(text):
        problems.append(
            Problem("description", "DESCRIPTION_PRICE", "the price goes in its own field, not here")
        )
    return problems


# -- attributes --------------------------------------------------------------------------------------


def category_entry(detail: dict[str, Any]) -> dict[str, Any]:
    """A category as a listing version keeps it, from MercadoLibre's /categories/{id} answer."""
    settings = detail.get("settings") or {}
    return {
        "id": detail["id"],
        "name": detail["name"],
        "path": " > ".join(p["name"] for p in detail.get("path_from_root", [])),
        "title_limit": int(settings.get("max_title_length") or DEFAULT_TITLE_LIMIT),
    }


def listing_allowed(detail: dict[str, Any]) -> bool:
    return bool((detail.get("settings") or {}).get("listing_allowed", True))


def is_required(definition: dict[str, Any]) -> bool:
    tags = definition.get("tags") or {}
    return bool(tags.get("required")) and not tags.get("hidden") and not tags.get("read_only")


def required_ids(schema: Iterable[dict[str, Any]]) -> list[str]:
    return [d["id"] for d in schema if is_required(d)]


def normalise_value(
    definition: dict[str, Any], value_id: str | None, value_name: str | None
) -> tuple[str | None, str | None, Problem | None]:
    """(value_id, value_name) as MercadoLibre takes it for this attribute, or the problem with it."""
    attribute = definition["id"]
    label = definition.get("name", attribute)
    kind = definition.get("value_type", "string")
    allowed = definition.get("values") or []
    name = (value_name or "").strip()
    if kind in ("list", "boolean") and allowed:
        by_id = {str(v["id"]): v for v in allowed}
        if value_id and str(value_id) in by_id:
            return str(value_id), str(by_id[str(value_id)]["name"]), None
        match = next((v for v in allowed if name and fold(str(v["name"])) == fold(name)), None)
        if match is None:
            return (
                None,
                None,
                Problem(
                    attribute,
                    "ATTRIBUTE_VALUE_NOT_ALLOWED",
                    f"{label}: '{name}' is not one of the allowed values",
                    {"attribute": attribute, "value": name},
                ),
            )
        return str(match["id"]), str(match["name"]), None
    if not name:
        return (
            None,
            None,
            Problem(attribute, "ATTRIBUTE_EMPTY", f"{label} has no value", {"attribute": attribute}),
        )
    if kind in ("number", "number_unit"):
        parsed = _NUMBER.match(name.replace(",", "."))
        if parsed is None:
            return (
                None,
                None,
                Problem(
                    attribute, "ATTRIBUTE_NOT_A_NUMBER", f"{label} must be a number", {"attribute": attribute}
                ),
            )
        number, unit = parsed.group(1), (parsed.group(2) or "").strip()
        if kind == "number":
            return None, number, None
        units = {str(u.get("name") or u.get("id")) for u in definition.get("allowed_units") or []}
        unit = unit or str(definition.get("default_unit") or "")
        by_fold = {fold(u): u for u in units}
        if units and fold(unit) not in by_fold:
            allowed_units = ", ".join(sorted(units))
            return (
                None,
                None,
                Problem(
                    attribute,
                    "ATTRIBUTE_UNIT_NOT_ALLOWED",
                    f"{label}: unit '{unit}' is not allowed ({allowed_units})",
                    {"attribute": attribute, "unit": unit},
                ),
            )
        return None, f"{number} {by_fold.get(fold(unit), unit)}".strip(), None
    return None, name[: int(definition.get("value_max_length") or 255)], None


def attribute_entry(
    definition: dict[str, Any], value_id: str | None, value_name: str | None, source: str, confidence: float
) -> dict[str, Any]:
    """One filled attribute as a listing version keeps it."""
    return {
        "id": definition["id"],
        "name": definition.get("name", definition["id"]),
        "value_id": value_id,
        "value_name": value_name,
        "source": source,
        "confidence": confidence,
    }
