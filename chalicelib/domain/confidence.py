"""Confidence bands as the seller sees them: green > 85 %, yellow 70-85 %, red < 70 %."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

GREEN_ABOVE = 0.85
RED_BELOW = 0.70


class Band(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def band(confidence: float) -> Band:
    if confidence > GREEN_ABOVE:
        return Band.GREEN
    if confidence >= RED_BELOW:
        return Band.YELLOW
    return Band.RED


# -- how sure the generated listing is -------------------------------------------------------------

# A named category with a rival falls below 0.7, where the seller is told to check it.
RIVAL_PENALTY = 0.25
# A fact below this is a guess (read by OCR alone, or a word the seller did not mark as the brand):
# a listing resting on a guess is never green, and never publishes by itself.
SURE_FACT = 0.9
GUESSES = frozenset(
    (
        "BRAND_UNSURE",
        "BRAND_NOT_ON_PHOTOS",
        "MODEL_NOT_ON_PHOTOS",
        "CATEGORY_UNSURE",
        "CATEGORY_NOT_THE_PRODUCT",
    )
)
WEIGHTS = {"category": 0.25, "attributes": 0.3, "title": 0.15, "description": 0.1, "main_image": 0.2}


@dataclass(frozen=True)
class Reason:
    part: str
    code: str
    message: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Confidence:
    overall: float
    parts: dict[str, float]
    reasons: list[Reason]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Confidence:
        return cls(
            float(data["overall"]),
            {name: float(value) for name, value in data["parts"].items()},
            [Reason(**reason) for reason in data.get("reasons", [])],
        )

    def to_json(self) -> dict[str, Any]:
        return {"overall": self.overall, "parts": self.parts, "reasons": [asdict(r) for r in self.reasons]}

    @property
    def rests_on_a_guess(self) -> bool:
        """A brand or a category the evidence does not settle: the seller checks it before it is listed."""
        return any(reason.code in GUESSES for reason in self.reasons)


def _scored(parts: dict[str, float], reasons: list[Reason]) -> Confidence:
    """The weighted parts, kept out of green while any reason is a guess."""
    overall = round(sum(WEIGHTS[name] * value for name, value in parts.items()), 4)
    scored = Confidence(overall, parts, reasons)
    return Confidence(min(overall, GREEN_ABOVE), parts, reasons) if scored.rests_on_a_guess else scored


def _missing_attributes(missing: list[str]) -> Reason:
    return Reason(
        "attributes",
        "REQUIRED_ATTRIBUTES_MISSING",
        f"{len(missing)} required attribute(s) missing: {', '.join(missing)}",
        {"count": len(missing), "attributes": missing},
    )


def category_confidence(*, named: bool, rival: bool) -> float:
    """How sure the predicted category is. Sure when the product's own words name it, less when only its
    brand or model led there; less again when MercadoLibre's next prediction is another domain: its
    answer lists the likely predictions, most likely first, so a rival there means it was torn."""
    return (0.9 if named else 0.65) - (RIVAL_PENALTY if rival else 0.0)


def listing_confidence(
    *,
    category: float,
    required: list[str],
    filled: set[str],
    title_problems: int,
    title_has_brand: bool,
    description_problems: int,
    templated_description: bool,
    main_image_quality: float | None,
    brand: tuple[str, float, bool] | None = None,
    brand_withheld: str | None = None,
    model: tuple[str, float] | None = None,
    misfit: tuple[str, str] | None = None,
) -> Confidence:
    """0-1 overall and per part; every low part says why, in words a seller can act on.

    `brand`: the brand, how sure its evidence is, and whether the seller typed it (else the photos
    showed it); `brand_withheld`: a word one photo showed that was not enough to be the brand;
    `model`: the model the seller typed and how sure it is; `misfit`: the category's name and the
    product it does not name ("Cremas Depilatorias", "Crema agria"). A guessed brand or model or a
    disputed category keeps the listing out of green, whatever the other parts say."""
    reasons: list[Reason] = []
    if brand is not None and brand[1] < SURE_FACT:
        name, _, typed = brand
        if typed:
            reason = Reason(
                "title",
                "BRAND_NOT_ON_PHOTOS",
                f"the brand '{name}' is not printed on the photos: check it (write 'marca {name}' if it is)",
                {"brand": name},
            )
        else:
            reason = Reason(
                "title",
                "BRAND_UNSURE",
                f"the brand '{name}' was read from the photos, not confirmed: check it",
                {"brand": name},
            )
        reasons.append(reason)
    if model is not None and model[1] < SURE_FACT:
        # Where the seller's brand ends and the model begins is only their words' order until the
        # photos print it ("god morgon": brand God, model Morgon, or brand God Morgon?).
        reasons.append(
            Reason(
                "title",
                "MODEL_NOT_ON_PHOTOS",
                f"the model '{model[0]}' is not printed on the photos: check the brand and the model",
                {"model": model[0]},
            )
        )
    if brand is None and brand_withheld is not None:
        reasons.append(
            Reason(
                "title",
                "BRAND_NOT_LEGIBLE",
                f"the brand is not legible: only '{brand_withheld}' was read (on one photo, or in "
                "pieces); add the brand to your line",
                {"word": brand_withheld},
            )
        )
    if misfit is not None:
        reasons.append(
            Reason(
                "category",
                "CATEGORY_NOT_THE_PRODUCT",
                f"the category '{misfit[0]}' does not name what this is ('{misfit[1]}'): check it or "
                "choose one of the alternatives",
                {"category": misfit[0], "product": misfit[1]},
            )
        )
    elif category < RED_BELOW:
        reasons.append(
            Reason("category", "CATEGORY_UNSURE", "check the category: the prediction is not sure")
        )
    missing = [attribute for attribute in required if attribute not in filled]
    attributes = 1.0 - len(missing) / len(required) if required else 1.0
    if missing:
        reasons.append(_missing_attributes(missing))
    title = 1.0
    if not title_has_brand:
        title -= 0.3
        if brand_withheld is None:  # else BRAND_NOT_LEGIBLE has said it
            reasons.append(
                Reason(
                    "title", "TITLE_WITHOUT_BRAND", "the brand is unknown: add it to the title if it has one"
                )
            )
    if title_problems:
        title -= 0.4
        reasons.append(Reason("title", "TITLE_RULES", "the title breaks MercadoLibre's rules: edit it"))
    description = 0.95
    if templated_description:
        # The local writer fills templates: honest, but plain; a person should read it.
        description = 0.7
        reasons.append(
            Reason("description", "DESCRIPTION_TEMPLATE", "written from a template: read it and improve it")
        )
    if description_problems:
        description = 0.3
        reasons.append(
            Reason("description", "DESCRIPTION_RULES", "the description breaks MercadoLibre's rules")
        )
    image = main_image_quality if main_image_quality is not None else 0.5
    if image < 0.7:
        reasons.append(
            Reason("main_image", "MAIN_PHOTO_WEAK", "the main photo is weak: a sharper, brighter one helps")
        )
    parts = {
        "category": category,
        "attributes": attributes,
        "title": max(0.0, title),
        "description": description,
        "main_image": image,
    }
    parts = {name: round(max(0.0, min(1.0, value)), 4) for name, value in parts.items()}
    return _scored(parts, reasons)


def after_seller_edit(base: Confidence, edited: set[str], missing: list[str], required: int) -> Confidence:
    """What the seller saved counts as checked; required attributes still missing still count against it."""
    parts = dict(base.parts)
    for name in ("title", "description", "category"):
        if name in edited:
            parts[name] = 1.0
    parts["attributes"] = round(1 - len(missing) / required, 4) if required else 1.0
    # The brand is in the title and in the sheet: the seller saving either has seen it.
    checked = edited | ({"title"} if "attributes" in edited else set())
    reasons = [r for r in base.reasons if r.part not in checked and r.code != "REQUIRED_ATTRIBUTES_MISSING"]
    if missing:
        reasons.append(_missing_attributes(missing))
    return _scored(parts, reasons)
