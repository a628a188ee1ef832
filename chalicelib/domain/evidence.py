"""How sure a fact is, by its evidence: one set of rules for both listing writers.

A fact comes from the seller's note, from the photos, or from both. The seller's word is best when the
photos print it too. What the photos alone show must be printed on two of them where several were read:
one photo's word is as often a neighbour on the shelf or noise as it is the logo. A reader's own
certainty (the OCR's score, Gemini's number) may lower a value, never raise it past what its evidence
allows; what the photos alone show stays below SURE_FACT, so it never makes a listing green.
"""

from __future__ import annotations

PROMPT_CONFIRMED = 0.97  # the seller's word, printed on the photos too
PROMPT_STATED = 0.9  # the seller's word, marked as a name ("marca arla", "Arla") or a stated measure
PROMPT_GUESSED = 0.8  # a word the prompt's shape suggests (the brand slot), not confirmed by the photos
READ_ON_PHOTOS = 0.75  # read from the photos alone, on two or more of them
READ_ON_ONE_PHOTO = 0.6

BRAND_MARKERS = frozenset(("marca", "brand"))


def legible(photos: int, photos_with_text: int) -> bool:
    """Printed on two photos, or on the only one with text: what the photos alone must show before a
    brand or a measure is taken from them."""
    return photos >= min(2, photos_with_text)


def read_on_photos(photos: int) -> float:
    """The most a value read from the photos alone can be: more for two photos that agree."""
    return READ_ON_PHOTOS if photos > 1 else READ_ON_ONE_PHOTO


def sellers_word(*, printed: bool, marked: bool) -> float:
    """The seller's word: confirmed when the photos print it, stated when marked, else a guess."""
    if printed:
        return PROMPT_CONFIRMED
    return PROMPT_STATED if marked else PROMPT_GUESSED
