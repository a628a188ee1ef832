"""How good a photo is for a listing, and which one becomes the main picture.

Pure: the measurements come from chalicelib.imaging (a reduced decode with Pillow). Scores are
0-1; each part is kept so the panel can show why, and low parts carry a short reason with a code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Variance of the Laplacian on a 512 px grey copy: a sharp packaging shot is in the hundreds to
# thousands, a visibly blurred one under ~60 (measured on the grocery photos blurred by 5 px).
# The log scale keeps detail-rich shots from dominating.
SHARP_REFERENCE = 400.0
BLURRY_BELOW = 60.0
# MercadoLibre recommends 1200x1200; the short side is what limits a square main picture.
RESOLUTION_REFERENCE = 1200
WEIGHTS = {"sharpness": 0.4, "exposure": 0.25, "resolution": 0.15, "framing": 0.2}
# Scores this close are a tie: then a shot that shows the whole product beats a close-up, and a shot
# without a hand beats one with a hand.
TIE = 0.05
# Photos cut out besides the main one, at most, looking for one without a hand: each is a remover call
# (seconds, and a PhotoRoom credit).
HAND_FREE_TRIES = 2


@dataclass(frozen=True)
class Measurements:
    width: int
    height: int
    sharpness: float  # variance of the Laplacian, 512 px grey copy
    mean_luma: float  # 0-255
    clipped_dark: float  # share of pixels at or below 5
    clipped_bright: float  # share of pixels at or above 250
    fill: float | None  # share of the frame the product's box covers, 0-1; None: background too busy to tell
    whole: bool | None  # the product's box does not touch the frame's edges; None: cannot tell


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    params: dict[str, float | int] = field(default_factory=dict)  # the numbers, for any language


@dataclass(frozen=True)
class Quality:
    score: float
    parts: dict[str, float]
    findings: list[Finding] = field(default_factory=list)


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def assess(m: Measurements) -> Quality:
    findings: list[Finding] = []
    sharpness = _clamp(math.log1p(m.sharpness) / math.log1p(SHARP_REFERENCE))
    if m.sharpness < BLURRY_BELOW:
        findings.append(Finding("BLURRY", "blurry", {"sharpness": round(m.sharpness, 1)}))

    # Exposure: a mean far from mid-grey or many clipped pixels both cost.
    distance = max(0.0, abs(m.mean_luma - 128) - 40) / 88
    clipped = max(0.0, m.clipped_dark - 0.05) + max(0.0, m.clipped_bright - 0.15)
    exposure = _clamp(1 - distance - 2 * clipped)
    if m.mean_luma < 70 or m.clipped_dark > 0.3:
        findings.append(Finding("TOO_DARK", "too dark"))
    elif m.mean_luma > 215 and m.clipped_bright > 0.5 and (m.fill or 0) < 0.05:
        findings.append(Finding("TOO_BRIGHT", "too bright: the product is washed out"))

    resolution = _clamp(min(m.width, m.height) / RESOLUTION_REFERENCE)
    if resolution < 0.7:
        findings.append(
            Finding(
                "LOW_RESOLUTION",
                f"low resolution for a {RESOLUTION_REFERENCE}x{RESOLUTION_REFERENCE} main picture",
                {"width": m.width, "height": m.height, "reference": RESOLUTION_REFERENCE},
            )
        )

    # Framing: the product should fill a good part of the frame without being cut off.
    if m.fill is None:
        framing = 0.8  # unknown: neither rewarded nor punished against a known good framing
    elif m.fill < 0.08:
        framing = m.fill / 0.08 * 0.5
        findings.append(
            Finding("PRODUCT_TOO_SMALL", "product too small in frame", {"fill_percent": round(m.fill * 100)})
        )
    elif m.fill > 0.97 and not m.whole:
        framing = 0.6
        findings.append(Finding("PRODUCT_CUT_OFF", "the product fills the frame and may be cut off"))
    else:
        framing = 1.0 if m.whole else 0.8
    parts = {
        "sharpness": sharpness,
        "exposure": exposure,
        "resolution": resolution,
        "framing": _clamp(framing),
    }
    score = sum(WEIGHTS[name] * value for name, value in parts.items())
    return Quality(round(score, 4), {k: round(v, 4) for k, v in parts.items()}, findings)


@dataclass(frozen=True)
class Candidate:
    image_id: str
    position: int
    quality: Quality
    whole: bool | None


@dataclass(frozen=True)
class MainChoice:
    image_id: str
    code: str
    message: str


def choose_main(candidates: list[Candidate], seller_choice: str | None) -> MainChoice | None:
    """The seller's explicit choice wins; else the best score, whole shots first within a tie."""
    if not candidates:
        return None
    by_id = {c.image_id: c for c in candidates}
    if seller_choice in by_id:
        return MainChoice(seller_choice, "SELLER_CHOICE", "you chose this photo")
    best = max(c.quality.score for c in candidates)
    close = [c for c in candidates if best - c.quality.score <= TIE]
    whole = [c for c in close if c.whole is True]
    pool = whole or close
    chosen = max(pool, key=lambda c: (c.quality.score, -c.position))
    if len(candidates) == 1:
        return MainChoice(chosen.image_id, "ONLY_PHOTO", "the only usable photo")
    if whole and len(whole) < len(close):
        return MainChoice(chosen.image_id, "WHOLE_PRODUCT", "the sharpest shot that shows the whole product")
    return MainChoice(chosen.image_id, "BEST_SCORE", f"the best photo (score {chosen.quality.score:.2f})")


def hand_free_tries(candidates: list[Candidate], choice: MainChoice) -> list[str]:
    """The photos to cut out when the chosen one shows a hand: those tied with it, best first.

    None when the seller chose the photo: the seller's choice stands, hand or not.
    """
    if choice.code == "SELLER_CHOICE":
        return []
    chosen = next(c for c in candidates if c.image_id == choice.image_id)
    tied = [c for c in candidates if c is not chosen and chosen.quality.score - c.quality.score <= TIE]
    tied.sort(key=lambda c: (c.whole is not True, -c.quality.score, c.position))
    return [c.image_id for c in tied[:HAND_FREE_TRIES]]


def without_hand(image_id: str) -> MainChoice:
    return MainChoice(image_id, "NO_HAND", "the best photo without a hand holding the product")


def with_hand(choice: MainChoice) -> MainChoice:
    """Every photo tried shows a hand: the best stays, and the seller is told a hand-free shot is better."""
    if choice.code == "SELLER_CHOICE":
        return choice
    return MainChoice(
        choice.image_id,
        "MAIN_PHOTO_HAND",
        "a hand shows in the main picture: a photo of the product alone is better",
    )
