"""The arithmetic the benchmarks share: percentiles, ratios, and a listing's cost from recorded usage."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), linear between the closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(value: float, baseline: float) -> str:
    """`value` against the baseline measured in the same run, as `1.23x`."""
    return f"{value / baseline:.2f}x" if baseline else "n/a"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


# -- cost --------------------------------------------------------------------------------------------

# Gemini 2.x counts an image of at most 384x384 as 258 tokens; a larger one is cut into 768x768 tiles
# of 258 tokens each (ai.google.dev/gemini-api/docs/tokens, "Multimodal tokens").
IMAGE_TILE = 768
TOKENS_PER_TILE = 258
SMALL_IMAGE_SIDE = 384


def image_tokens(width: int, height: int) -> int:
    if width <= SMALL_IMAGE_SIDE and height <= SMALL_IMAGE_SIDE:
        return TOKENS_PER_TILE
    return math.ceil(width / IMAGE_TILE) * math.ceil(height / IMAGE_TILE) * TOKENS_PER_TILE


def text_tokens(text: str) -> int:
    """Gemini's rule of thumb: about 4 characters a token."""
    return math.ceil(len(text) / 4)


@dataclass(frozen=True)
class Prices:
    """USD, from configuration: per million Gemini tokens (input, output) and per PhotoRoom call."""

    input_per_mtok: float
    output_per_mtok: float
    photoroom_per_call: float


@dataclass(frozen=True)
class ListingUsage:
    """What one listing used, as recorded: Gemini tokens (all calls summed) and PhotoRoom calls."""

    product: str
    input_tokens: int
    output_tokens: int
    photoroom_calls: int


def listing_cost(usage: ListingUsage, prices: Prices) -> dict[str, float]:
    gemini = (
        usage.input_tokens * prices.input_per_mtok + usage.output_tokens * prices.output_per_mtok
    ) / 1_000_000
    photoroom = usage.photoroom_calls * prices.photoroom_per_call
    return {"gemini": gemini, "photoroom": photoroom, "total": gemini + photoroom}


def total_cost(usages: Iterable[ListingUsage], prices: Prices) -> dict[str, float]:
    totals = {"gemini": 0.0, "photoroom": 0.0, "total": 0.0}
    for usage in usages:
        for name, value in listing_cost(usage, prices).items():
            totals[name] += value
    return totals
