"""Confidence bands as the seller sees them: green > 85 %, yellow 70-85 %, red < 70 %."""

from __future__ import annotations

from enum import StrEnum

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
